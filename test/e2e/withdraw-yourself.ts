/**
 * End to end, with every worker stopped (no event-subscriber, no withdrawal-processor): an L1 node in
 * another process, the sequencer (L2 chain, sequencer loop, the node's L2 JSON-RPC with its withdrawal
 * methods, and its rollup-producer) and a gateway in this process. A user withdraws on L2 through the
 * gateway (L2Bridge.withdrawNative), the rollup-producer puts the batch in a rollup on L1, and the user
 * withdraws on L1 alone: `veilnet withdraw` (before the challenge period: says when; after: relays;
 * again: already relayed), the library and `npx hardhat veil:withdraw` with `wait` (relay once L1 time
 * passes the period). Another
 * account asking for the proof is refused like for an unknown transaction. A validator replaying the
 * rollups from L1 answers veil_getRollupMessages exactly as the sequencer does.
 */
import { spawn } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import { HDNodeWallet, JsonRpcProvider, Wallet, hexlify, parseEther, parseUnits, randomBytes } from "ethers";
import pino from "pino";
import { Redis } from "ioredis";
import { Registry } from "prom-client";

import { DerivationLabels } from "../../enclave/crypto/derive.js";
import { L2Chain } from "../../enclave/execution/l2-chain.js";
import { epochKey } from "../../enclave/rollup/builder.js";
import { RollupProducer } from "../../enclave/rollup-producer/producer.js";
import { RollupIndex } from "../../enclave/rpc/rollup-index.js";
import { L2RpcServer } from "../../enclave/rpc/server.js";
import { Validator } from "../../enclave/validator/validator.js";
import type { Gateway } from "../../gateway/gateway.js";
import { connectL1 } from "../../platform/chain.js";
import { silentLogger } from "../../platform/logger.js";
import { TxSender } from "../../platform/tx-sender/tx-sender.js";
import { L2Nodes, gatewayRpcUrl, withdraw } from "../../platform/withdrawals/index.js";
import { L2Predeploys } from "../../protocol/predeploys.js";
import { L2Bridge__factory } from "../../types/ethers-contracts/index.js";
import { at } from "../../testing/defined.js";
import { type Stack, joinAndBind, rpc, startStack, until } from "../../testing/gateway-stack.js";
import { type L1Node, startL1Node } from "../../testing/l1-node.js";
import { testL1Reader } from "../../testing/l2-sequencer.js";
import { CHALLENGE_PERIOD } from "../../testing/veilnet.js";
import {
  deleteKeys,
  deploymentOf,
  deploymentsDir,
  root as projectRoot,
  spawnVeilnet,
} from "../../testing/worker-process.js";

const REDIS_URL = "redis://127.0.0.1:6379";
const L2_BRIDGE = L2Bridge__factory.createInterface();

describe("e2e: withdraw yourself, every worker stopped", function () {
  this.timeout(240_000);
  let l1: L1Node;
  let stack: Stack;
  let gateway: Gateway;
  let producer: RollupProducer;
  let sender: TxSender;
  let redis: Redis;
  let dir: string;
  const prefix = `t-self-${hexlify(randomBytes(4)).slice(2)}`;
  const cleanups: Array<() => Promise<void>> = [];

  before(async function () {
    l1 = await startL1Node();
    stack = await startStack(await l1.connect());
    gateway = await stack.gateway();
    dir = deploymentsDir(await deploymentOf(stack.v));
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    // The node's rollup-producer (part of the sequencer node): its own funded L1 key, through a TxSender.
    const key = Wallet.createRandom();
    await (await stack.v.admin.sendTransaction({ to: key.address, value: parseEther("10") })).wait();
    const { provider } = await connectL1(l1.url);
    cleanups.push(async () => provider.destroy());
    sender = new TxSender({
      provider,
      signer: key.privateKey,
      redis,
      keyPrefix: prefix,
      logger: silentLogger(),
      metrics: new Registry(),
      maxFeePerGas: parseUnits("1000", "gwei"),
      pollIntervalMs: 50,
    });
    producer = new RollupProducer({
      chainId: Number(stack.v.chainId),
      source: { sealedBatches: (from, max) => Promise.resolve(stack.sequencer.sealedBatches(from, max)) },
      enclave: stack.enclave,
      writer: sender,
      contracts: { rollupRegistry: stack.v.rollupRegistry },
      provider,
      logger: silentLogger(),
      metrics: new Registry(),
      settings: { rollupIntervalMs: 500, maxRollupBytes: 120_000, bindingDepth: 1, pollMs: 100 },
    });
    await producer.start();
  });

  after(async function () {
    await producer?.stop();
    await sender?.stop();
    for (const c of cleanups.splice(0).reverse()) await c();
    await stack?.close();
    if (redis !== undefined) {
      await deleteKeys(REDIS_URL, prefix);
      redis.disconnect();
    }
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    await l1?.stop();
  });

  /** A user: an L1 key with ETH for gas, the same account funded on L2, signed in to the gateway. */
  async function user(): Promise<{ wallet: HDNodeWallet; l2: JsonRpcProvider; rpcUrl: string }> {
    const wallet = Wallet.createRandom().connect(stack.v.connection.ethers.provider);
    await (await stack.v.admin.sendTransaction({ to: wallet.address, value: parseEther("1") })).wait();
    await stack.fund(wallet.address, parseEther("5"));
    const rpcUrl = `${gateway.url}/v1/?token=${await joinAndBind(gateway, [wallet])}`;
    const l2 = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
    cleanups.push(async () => l2.destroy());
    return { wallet, l2, rpcUrl };
  }

  /** `wallet` withdraws `amount` to `to` on L2 (through the gateway); the L2 transaction hash. */
  async function withdrawOnL2(u: { wallet: HDNodeWallet; l2: JsonRpcProvider }, to: string, amount: bigint) {
    const tx = await u.wallet.connect(u.l2).sendTransaction({
      to: L2Predeploys.bridge,
      data: L2_BRIDGE.encodeFunctionData("withdrawNative", [to]),
      value: amount,
    });
    const receipt = await tx.wait();
    expect(receipt?.status).to.equal(1);
    return tx.hash;
  }

  /** Waits until the node reports the transaction's rollup on L1 (the proof names it). */
  async function inRollup(rpcUrl: string, txHash: string) {
    const nodes = new L2Nodes([rpcUrl]);
    return until(
      `a rollup with ${txHash} on L1`,
      async () => {
        const proof = await nodes.withdrawalProof(txHash);
        return proof?.rollup !== undefined ? proof : undefined;
      },
      60_000,
      200,
    );
  }

  function cli(args: string[], key: string) {
    return spawnVeilnet(["withdraw", ...args], {
      L1_RPC_URL: l1.url,
      VEILNET_DEPLOYMENTS_DIR: dir,
      SIGNER_PRIVATE_KEY: key,
    });
  }

  it("`veilnet withdraw`: says when before the challenge period ends, relays after it, then says it is done", async function () {
    const alice = await user();
    const recipient = Wallet.createRandom().address;
    const amount = parseEther("1.25");
    const txHash = await withdrawOnL2(alice, recipient, amount);
    const proof = await inRollup(alice.rpcUrl, txHash);
    expect(proof.rollup!.status).to.equal("pending");
    expect(proof.messages).to.have.length(1);

    const early = cli(["--gateway", gateway.url, "--tx", txHash], alice.wallet.privateKey);
    const earlyExit = await early.waitForExit(60_000);
    expect(earlyExit.code, early.describe()).to.equal(0);
    expect(early.stdout()).to.contain(`challenge period ends at L1 time ${proof.rollup!.activatesAt}`);
    expect(await stack.v.connection.ethers.provider.getBalance(recipient)).to.equal(0n);

    await stack.v.connection.networkHelpers.time.increase(CHALLENGE_PERIOD + 1n);
    // The key from a file this time (--key-file).
    const keyFile = path.join(stack.tempDir(), "key");
    writeFileSync(keyFile, `${alice.wallet.privateKey}\n`, { mode: 0o600 });
    const relay = spawnVeilnet(["withdraw", "--gateway", gateway.url, "--tx", txHash, "--key-file", keyFile], {
      L1_RPC_URL: l1.url,
      VEILNET_DEPLOYMENTS_DIR: dir,
    });
    const relayExit = await relay.waitForExit(60_000);
    expect(relayExit.code, relay.describe()).to.equal(0);
    const l1Tx = /relayed on L1, tx (0x[0-9a-f]{64})/.exec(relay.stdout())?.[1];
    expect(l1Tx, relay.stdout()).to.not.equal(undefined);
    const receipt = await stack.v.connection.ethers.provider.getTransactionReceipt(l1Tx!);
    expect(receipt?.from).to.equal(alice.wallet.address);
    expect(await stack.v.connection.ethers.provider.getBalance(recipient)).to.equal(amount);
    const message = at(proof.messages, 0, "message of the withdrawal");
    expect(await stack.v.messenger.isRelayed(message.sequence)).to.equal(true);

    const again = cli(["--gateway", gateway.url, "--tx", txHash], alice.wallet.privateKey);
    const againExit = await again.waitForExit(60_000);
    expect(againExit.code, again.describe()).to.equal(0);
    expect(again.stdout()).to.contain("was already relayed on L1");
    expect(await stack.v.connection.ethers.provider.getBalance(recipient)).to.equal(amount);
  });

  it("the library with `wait`: relays as soon as L1 time passes the challenge period", async function () {
    const carol = await user();
    const recipient = Wallet.createRandom().address;
    const amount = parseEther("0.5");
    const txHash = await withdrawOnL2(carol, recipient, amount);
    const progress: string[] = [];
    const running = withdraw({
      nodes: new L2Nodes([await gatewayRpcUrl(gateway.url, carol.wallet)]),
      txHash,
      signer: carol.wallet,
      messenger: stack.v.addresses.CrossChainMessenger,
      wait: true,
      pollMs: 100,
      timeoutMs: 120_000,
      onProgress: (line) => progress.push(line),
    });
    await until("the withdrawal to wait for the challenge period", () =>
      progress.some((l) => l.includes("waiting for the challenge period")),
    );
    await stack.v.connection.networkHelpers.time.increase(CHALLENGE_PERIOD + 1n);
    const result = await running;
    expect(result.kind).to.equal("relayed");
    if (result.kind !== "relayed") return;
    expect(result.relays.map((r) => r.result.kind)).to.deep.equal(["relayed"]);
    expect(await stack.v.connection.ethers.provider.getBalance(recipient)).to.equal(amount);
  });

  it("`npx hardhat veil:withdraw --wait`: the network's first account relays its own withdrawal", async function () {
    // The L1 node's first account (Hardhat's default mnemonic), the task's signer, withdraws on L2.
    const first = HDNodeWallet.fromPhrase(
      "test test test test test test test test test test test junk",
      undefined,
      "m/44'/60'/0'/0/0",
    ).connect(stack.v.connection.ethers.provider);
    expect(first.address).to.equal(await stack.v.admin.getAddress());
    await stack.fund(first.address, parseEther("2"));
    const rpcUrl = `${gateway.url}/v1/?token=${await joinAndBind(gateway, [first])}`;
    const l2 = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
    cleanups.push(async () => l2.destroy());
    const recipient = Wallet.createRandom().address;
    const amount = parseEther("0.75");
    const txHash = await withdrawOnL2({ wallet: first, l2 }, recipient, amount);

    const child = spawn(
      "npx",
      [
        "hardhat",
        "veil:withdraw",
        "--network",
        "localhost",
        "--gateway",
        gateway.url,
        "--tx",
        txHash,
        "--wait",
        "--poll-ms",
        "100",
        "--deployments-dir",
        dir,
      ],
      { cwd: projectRoot, env: { ...process.env, L1_RPC_URL: l1.url }, stdio: "pipe" },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    cleanups.push(async () => void child.kill("SIGKILL"));
    await until(
      "the task to wait for the challenge period",
      () => out.includes("waiting for the challenge period"),
      120_000,
    );
    await stack.v.connection.networkHelpers.time.increase(CHALLENGE_PERIOD + 1n);
    expect(await exited, out).to.equal(0);
    expect(out).to.match(/relayed on L1, tx 0x[0-9a-f]{64}/);
    expect(await stack.v.connection.ethers.provider.getBalance(recipient)).to.equal(amount);
  });

  it("refuses the proof to anyone but the sender, as for an unknown transaction", async function () {
    const dave = await user();
    const erin = await user();
    const txHash = await withdrawOnL2(dave, Wallet.createRandom().address, parseEther("0.1"));
    await inRollup(dave.rpcUrl, txHash);

    // Through the gateway as erin: the answer of an unknown hash, and the same as for its receipt.
    const asErin = await rpc(erin.rpcUrl, "veil_getWithdrawalProof", [txHash]);
    const unknown = await rpc(erin.rpcUrl, "veil_getWithdrawalProof", [hexlify(randomBytes(32))]);
    const receipt = await rpc(erin.rpcUrl, "eth_getTransactionReceipt", [txHash]);
    for (const answer of [asErin, unknown, receipt]) {
      expect(answer.error).to.equal(undefined);
      expect(answer.result).to.equal(null);
    }
    // Dave, the sender, gets it.
    expect((await rpc(dave.rpcUrl, "veil_getWithdrawalProof", [txHash])).result).to.not.equal(null);
    expect(await new L2Nodes([erin.rpcUrl]).withdrawalProof(txHash)).to.equal(undefined);
    // Not in plain on the node either.
    const plain = await rpc(stack.node.url, "veil_getWithdrawalProof", [txHash]);
    expect(plain.error?.message).to.contain("is not served in plain");

    // Erin's `veilnet withdraw` of dave's transaction: exit 1, saying what is wrong.
    const refused = cli(["--gateway", gateway.url, "--tx", txHash], erin.wallet.privateKey);
    const exit = await refused.waitForExit(60_000);
    expect(exit.code, refused.describe()).to.equal(1);
    expect(refused.stderr()).to.contain(`L2 transaction ${txHash} is unknown, or not yours`);
    expect(refused.stderr()).to.contain(erin.wallet.address);
  });

  it("a validator that replayed the rollups from L1 answers veil_getRollupMessages as the sequencer does", async function () {
    const frank = await user();
    const txHash = await withdrawOnL2(frank, Wallet.createRandom().address, parseEther("0.2"));
    const proof = await inRollup(frank.rpcUrl, txHash);
    const rollupHash = proof.rollup!.hash;

    // A validator: its own chain and enclave (holding the network secret), replaying from L1.
    const peer = stack.peerEnclave();
    const chain = await L2Chain.create({
      l1Bridge: stack.v.addresses.Bridge,
      l1FeeRecipient: stack.v.addresses.FeeVault,
    });
    cleanups.push(() => chain.close());
    const validator = new Validator({
      chain,
      l1: testL1Reader(stack.v),
      entropy: (seq) => peer.derive(DerivationLabels.batchEntropy(seq)),
      epochKey: (epoch) => epochKey(peer, epoch),
      logger: pino({ level: "silent" }),
    });
    const server = new L2RpcServer({
      provider: chain.provider,
      minPriorityFee: 0n,
      clientVersion: "validator-test",
      rollups: new RollupIndex({
        provider: stack.v.connection.ethers.provider,
        rollupRegistry: stack.v.addresses.RollupRegistry,
        messageBus: stack.v.addresses.MessageBus,
        fromBlock: 0,
      }),
    });
    const url = await server.listen(0);
    cleanups.push(() => server.close());
    await until(
      "the validator to replay the rollup",
      async () => {
        await validator.step();
        expect(validator.refused).to.equal(undefined);
        return validator.replayedRollups().some((r) => r.hash.toLowerCase() === rollupHash);
      },
      60_000,
      100,
    );

    const fromSequencer = await rpc(stack.node.url, "veil_getRollupMessages", [rollupHash]);
    const fromValidator = await rpc(url, "veil_getRollupMessages", [rollupHash]);
    expect(fromSequencer.error).to.equal(undefined);
    expect(fromValidator).to.deep.equal(fromSequencer);
    const byRoot = await rpc(url, "veil_getRollupMessages", [proof.rollup!.messageRoot]);
    expect(byRoot).to.deep.equal(fromSequencer);
    // Read through the library from both, the validator first: the messages build the rollup's root.
    const answer = await new L2Nodes([url, stack.node.url]).rollupMessages(rollupHash);
    expect(answer?.messages.map((m) => m.sequence)).to.include(
      at(proof.messages, 0, "message of the withdrawal").sequence,
    );
    // A node that is down is skipped for the next one; when all fail, each is named.
    const down = "http://127.0.0.1:9";
    expect((await new L2Nodes([down, url]).rollupMessages(rollupHash))?.rollup.hash).to.equal(rollupHash);
    const error = await new L2Nodes([down]).rollupMessages(rollupHash).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).to.match(/no L2 node answered \(http:\/\/127\.0\.0\.1:9: /);
  });
});
