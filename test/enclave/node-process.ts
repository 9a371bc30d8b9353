/**
 * `veilnet node` as operators run it, against a Hardhat node:
 * - the sequencer killed (SIGKILL) while transactions are pending restarts with every accepted
 *   transaction and every sealed batch, and its rollups keep landing;
 * - `veilnet node --validator` with a new enclave obtains the network secret through the on-chain
 *   request/response flow (answered by the secret-responder, which asks the sequencer's enclave host
 *   interface), replays the rollups from L1 and reaches the sequencer's block hash.
 * The sequencer runs with L2_RPC_UNFILTERED (the test reads balances and receipts in plain); the
 * validator with the default endpoint: public methods in plain, and the same RPC key as the sequencer
 * (both derive it from the network secret), each announced under its own attested enclave key.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { JsonRpcProvider, Wallet, hexlify, parseEther, randomBytes } from "ethers";

import { Enclave } from "../../enclave/secret/enclave.js";
import { L2_CHAIN_ID } from "../../protocol/predeploys.js";
import { type RpcKeyAnnouncement, announcementSigner } from "../../protocol/private-rpc.js";
import { defined } from "../../testing/defined.js";
import { type L1Node, freePort, startL1Node } from "../../testing/l1-node.js";
import { type Veilnet, deployVeilnet } from "../../testing/veilnet.js";
import {
  type VeilnetProcess,
  deleteKeys,
  deploymentOf,
  deploymentsDir,
  getHealth,
  opsPort,
  spawnVeilnet,
  waitFor,
} from "../../testing/worker-process.js";

const REDIS_URL = "redis://127.0.0.1:6379";
/** Hardhat's dev accounts 0 (the fixture's admin) and 1 (its attestation service). */
const ADMIN_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const ATTESTATION_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

describe("veilnet node: sequencer crash and restart, validator joining and replaying", function () {
  this.timeout(180_000);

  let node: L1Node;
  let v: Veilnet;
  let dir: string;
  let deployments: string;
  const prefix = `t-node-${hexlify(randomBytes(4)).slice(2)}`;
  const running: VeilnetProcess[] = [];
  const providers: JsonRpcProvider[] = [];

  const run = (args: string[], env: Record<string, string>) => {
    const p = spawnVeilnet(args, env);
    running.push(p);
    return p;
  };
  const l2 = (port: number) => {
    const p = new JsonRpcProvider(`http://127.0.0.1:${port}`, undefined, {
      staticNetwork: true,
      pollingInterval: 100,
      cacheTimeout: -1,
    });
    providers.push(p);
    return p;
  };

  before(async () => {
    node = await startL1Node();
    v = await deployVeilnet(await node.connect());
    deployments = deploymentsDir(await deploymentOf(v));
    dir = mkdtempSync(path.join(tmpdir(), "veilnet-node-"));
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed") for (const p of running) console.log(p.describe());
  });

  after(async () => {
    for (const p of providers) p.destroy();
    await Promise.all(running.splice(0).map((p) => p.kill()));
    await node?.stop();
    await deleteKeys(REDIS_URL, prefix);
    rmSync(dir, { recursive: true, force: true });
    rmSync(deployments, { recursive: true, force: true });
  });

  const common = () => ({
    L1_RPC_URL: node.url,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    VEILNET_DEPLOYMENTS_DIR: deployments,
    METRICS_PORT: "0",
    LOG_LEVEL: "info",
  });

  let sequencerEnv: Record<string, string>;
  let l2Port: number;
  /** The sequencer's enclave host interface, which the secret-responder asks (second test). */
  let hostPort: number;

  it("the sequencer loses no accepted transaction and no sealed batch when killed, and its rollups land", async () => {
    const init = run(["enclave", "init", "-s", path.join(dir, "sequencer.json")], {
      ...common(),
      SIGNER_PRIVATE_KEY: ADMIN_KEY,
      ATTESTATION_SERVICE_KEY: ATTESTATION_KEY,
    });
    expect((await init.waitForExit(60_000)).code, init.describe()).to.equal(0);

    const operator = Wallet.createRandom();
    await (await v.admin.sendTransaction({ to: operator.address, value: parseEther("10") })).wait();
    l2Port = await freePort();
    hostPort = await freePort();
    sequencerEnv = {
      ...common(),
      ENCLAVE_STATE_FILE: path.join(dir, "sequencer.json"),
      SIGNER_PRIVATE_KEY: operator.privateKey,
      L2_RPC_PORT: String(l2Port),
      ENCLAVE_HOST_PORT: String(hostPort),
      L2_RPC_UNFILTERED: "true",
      BATCH_INTERVAL_MS: "300",
      ROLLUP_INTERVAL_MS: "1000",
      L1_CONFIRMATIONS: "0",
      TX_POLL_INTERVAL_MS: "100",
    };
    let sequencer = run(["node"], sequencerEnv);
    await sequencer.waitForLog("L2 JSON-RPC listening", 60_000);
    const rpc = l2(l2Port);

    const alice = Wallet.createRandom();
    const bob = Wallet.createRandom().address;
    await (await v.bridge.connect(v.users[0]).depositNative(alice.address, { value: parseEther("5") })).wait();
    await waitFor("the deposit on L2", async () => (await rpc.getBalance(alice.address)) > 0n, 30_000);

    const hashes: string[] = [];
    for (let nonce = 0; nonce < 20; nonce++) {
      const raw = await alice.signTransaction({
        type: 2,
        chainId: L2_CHAIN_ID,
        nonce,
        to: bob,
        value: 1000n,
        gasLimit: 21_000n,
        maxFeePerGas: 10n ** 7n,
        maxPriorityFeePerGas: 10n ** 7n,
      });
      hashes.push((await rpc.send("eth_sendRawTransaction", [raw])) as string);
    }
    sequencer.child.kill("SIGKILL"); // right after the last acceptance: some are batched, some only journaled
    await sequencer.exited;
    const sealedBefore = readFileSync(path.join(dir, "l2-data", "batches.jsonl"), "utf8")
      .trim()
      .split("\n").length;

    sequencer = run(["node"], sequencerEnv);
    const restored = await sequencer.waitForLog("L2 JSON-RPC listening", 60_000);
    expect(restored.batches as number).to.be.at.least(sealedBefore);
    for (const hash of hashes) {
      const receipt = await waitFor(
        `receipt of ${hash}`,
        async () => (await rpc.getTransactionReceipt(hash)) ?? undefined,
        30_000,
      );
      expect(receipt.status).to.equal(1);
    }
    expect(await rpc.getBalance(bob)).to.equal(20n * 1000n);
    expect(await rpc.getTransactionCount(alice.address)).to.equal(20);

    // The rollups carry every sealed batch to L1.
    const latest = await rpc.getBlockNumber();
    await waitFor(
      "the rollups to reach L2 block " + latest,
      async () => (await v.rollupRegistry.nextBatchSeq()) + 2n > BigInt(latest),
      60_000,
    );
    const health = await getHealth(await opsPort(sequencer));
    expect(defined(health.body.services.sequencer, "the sequencer's health").ok).to.equal(true);
  });

  it("a validator joins through the on-chain secret request, replays the rollups and reaches the sequencer's block hash", async () => {
    const responderKey = Wallet.createRandom();
    const validatorKey = Wallet.createRandom();
    for (const k of [responderKey, validatorKey]) {
      await (await v.admin.sendTransaction({ to: k.address, value: parseEther("10") })).wait();
    }
    run(["workers"], {
      ...common(),
      SIGNER_PRIVATE_KEY: responderKey.privateKey,
      ENCLAVE_HOST_URL: `http://127.0.0.1:${hostPort}`,
      SUBSCRIBER_CONFIRMATIONS: "0",
      SUBSCRIBER_POLL_INTERVAL_MS: "200",
      TX_POLL_INTERVAL_MS: "100",
    });
    const validatorPort = await freePort();
    const validator = run(["node", "--validator", "--bounty", "0.01", "--timeout", "60"], {
      ...common(),
      ENCLAVE_STATE_FILE: path.join(dir, "validator.json"),
      SIGNER_PRIVATE_KEY: validatorKey.privateKey,
      ATTESTATION_SERVICE_KEY: ATTESTATION_KEY,
      L2_RPC_PORT: String(validatorPort),
      L1_CONFIRMATIONS: "0",
      VALIDATOR_POLL_MS: "200",
    });
    await validator.waitForLog("L2 JSON-RPC listening", 90_000);
    const enclave = Enclave.load(path.join(dir, "validator.json"));
    expect(enclave.hasSecret).to.equal(true);
    expect(await v.enclaveRegistry.isAttested(enclave.address)).to.equal(true);

    const sequencerRpc = l2(l2Port);
    const validatorRpc = l2(validatorPort);
    const landed = Number(await v.rollupRegistry.nextBatchSeq()) + 1; // the L2 block of the last landed batch
    const block = await waitFor(
      `the validator at L2 block ${landed}`,
      async () => ((await validatorRpc.getBlockNumber()) >= landed ? validatorRpc.getBlock(landed) : undefined),
      60_000,
    );
    const sequencerBlock = await sequencerRpc.getBlock(landed);
    expect(block!.hash).to.equal(sequencerBlock!.hash);
    expect(block!.stateRoot).to.equal(sequencerBlock!.stateRoot);
    const health = await getHealth(await opsPort(validator));
    expect(defined(health.body.services.validator, "the validator's health").ok).to.equal(true);

    // The validator's endpoint is the default one: blocks (redacted) in plain, balances not.
    expect(block!.transactions).to.deep.equal([]);
    await expect(validatorRpc.send("eth_getBalance", [Wallet.createRandom().address, "latest"])).to.be.rejectedWith(
      /not served in plain/,
    );
    // Both nodes announce the RPC key derived from the network secret, each under its own attested key.
    const fromValidator = (await validatorRpc.send("veil_rpcKey", [])) as RpcKeyAnnouncement;
    const fromSequencer = (await sequencerRpc.send("veil_rpcKey", [])) as RpcKeyAnnouncement;
    expect(fromValidator.publicKey).to.equal(fromSequencer.publicKey);
    expect(announcementSigner(fromValidator)).to.equal(enclave.address);
    expect(announcementSigner(fromSequencer)).to.equal(Enclave.load(path.join(dir, "sequencer.json")).address);
    expect(await v.enclaveRegistry.isAttested(fromValidator.signer)).to.equal(true);
  });
});
