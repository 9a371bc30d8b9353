/**
 * `npx veilnet decrypt`: a rollup built by the enclave's rollup builder from signed L2 transactions and
 * added to a Hardhat node (over HTTP, so the command runs as a child process as users run it), decrypted
 * before (refused, with the block its key becomes public) and after its epoch key is revealed on L1.
 */
import { rmSync } from "node:fs";

import { expect } from "chai";
import { JsonRpcProvider, Wallet, hexlify, keccak256, parseEther, parseUnits, randomBytes } from "ethers";

import { derive } from "../../enclave/crypto/derive.js";
import type { SealedBatch } from "../../enclave/rollup/batch.js";
import { type BuiltRollup, buildRollup, epochKey } from "../../enclave/rollup/builder.js";
import { blobCommitments, kzg, toBlobs } from "../../protocol/blobs.js";
import { L2_CHAIN_ID } from "../../protocol/predeploys.js";
import {
  EPOCH_LENGTH,
  revealableAt,
  rollupHash,
  rollupRegistryDomain,
  signRollupHeader,
} from "../../protocol/rollup.js";
import { IERC20Metadata__factory, RollupRegistry__factory } from "../../types/ethers-contracts/index.js";
import {
  type DecodedTransaction,
  DecryptError,
  type DecryptedRollup,
  EpochKeyNotRevealedError,
  decryptRollup,
} from "../../cli/decrypt/index.js";
import { at, only, take } from "../../testing/defined.js";
import { type L1Node, startL1Node } from "../../testing/l1-node.js";
import { GENESIS_COMMITTEE_ID } from "../../platform/committee.js";
import {
  REVELATION_PERIOD,
  type Veilnet,
  deployVeilnet,
  initializeGenesis,
  nextRollupHeader,
  signRollup,
  rollupArgs,
} from "../../testing/veilnet.js";
import { type VeilnetProcess, deploymentOf, deploymentsDir, spawnVeilnet } from "../../testing/worker-process.js";

/** What the test expects of each L2 transaction it put in the rollup. */
interface Sent {
  raw: string;
  hash: string;
  from: string;
  to: string | null;
  value: bigint;
  nonce: number;
  gasLimit: bigint;
  dataLength: number;
  selector?: string;
}

const erc20 = IERC20Metadata__factory.createInterface();

/** Signs L2 transactions of several kinds: an EIP-1559 transfer, a legacy ERC-20 call, a creation. */
async function l2Transactions(): Promise<Sent[]> {
  const alice = Wallet.createRandom();
  const bob = Wallet.createRandom();
  const token = Wallet.createRandom().address;
  const txs = [
    {
      signer: alice,
      tx: {
        type: 2,
        chainId: L2_CHAIN_ID,
        nonce: 0,
        to: bob.address,
        value: parseEther("1.25"),
        gasLimit: 21_000n,
        maxFeePerGas: parseUnits("2", "gwei"),
        maxPriorityFeePerGas: parseUnits("1", "gwei"),
      },
    },
    {
      signer: bob,
      tx: {
        type: 0,
        chainId: L2_CHAIN_ID,
        nonce: 7,
        to: token,
        value: 0n,
        gasLimit: 60_000n,
        gasPrice: parseUnits("1", "gwei"),
        data: erc20.encodeFunctionData("transfer", [alice.address, 123_456n]),
      },
    },
    {
      signer: alice,
      tx: {
        type: 2,
        chainId: L2_CHAIN_ID,
        nonce: 1,
        to: null,
        value: 0n,
        gasLimit: 500_000n,
        maxFeePerGas: parseUnits("2", "gwei"),
        maxPriorityFeePerGas: parseUnits("1", "gwei"),
        data: hexlify(randomBytes(300)),
      },
    },
  ];
  return Promise.all(
    txs.map(async ({ signer, tx }) => {
      const raw = await signer.signTransaction(tx);
      const data = (tx as { data?: string }).data ?? "0x";
      const dataLength = (data.length - 2) / 2;
      return {
        raw,
        hash: keccak256(raw),
        from: signer.address,
        to: tx.to,
        value: tx.value,
        nonce: tx.nonce,
        gasLimit: tx.gasLimit,
        dataLength,
        selector: dataLength >= 4 && tx.to !== null ? data.slice(0, 10) : undefined,
      };
    }),
  );
}

function batch(seq: bigint, txs: string[]): SealedBatch {
  return {
    seq,
    hash: hexlify(randomBytes(32)),
    timestamp: 1_800_000_000n + seq,
    l1BaseFee: 1_000_000_000n + seq,
    l1MessagesTo: seq,
    l1Block: 0n,
    txs,
    messages: [],
  };
}

describe("veilnet decrypt", function () {
  this.timeout(120_000);

  let node: L1Node;
  let v: Veilnet;
  let provider: JsonRpcProvider;
  let deployments: string;
  let deploymentBlock: number;
  let genesis: Awaited<ReturnType<typeof initializeGenesis>>;
  let sent: Sent[];
  let rollup: BuiltRollup;
  const running: VeilnetProcess[] = [];

  const env = () => ({ L1_RPC_URL: node.url, VEILNET_DEPLOYMENTS_DIR: deployments });
  const run = async (args: string[]) => {
    const p = spawnVeilnet(["decrypt", ...args], env());
    running.push(p);
    const { code } = await p.waitForExit(60_000);
    return { code, stdout: p.stdout(), stderr: p.stderr() };
  };
  const deps = () => ({
    provider,
    registry: RollupRegistry__factory.connect(v.addresses.RollupRegistry, provider),
    fromBlock: deploymentBlock,
  });

  before(async () => {
    node = await startL1Node();
    v = await deployVeilnet(await node.connect());
    provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    const deployment = await deploymentOf(v);
    deploymentBlock = deployment.deploymentBlock;
    deployments = deploymentsDir(deployment);
    genesis = await initializeGenesis(v);

    // Two batches: the signed transactions, then one the decoder cannot read (rollups carry it anyway).
    sent = await l2Transactions();
    const latest = (await provider.getBlock("latest"))!;
    rollup = await buildRollup({
      enclave: {
        derive: (label) => derive(genesis.secret, label),
        address: genesis.address,
        signRollupHeader: (domain, header) => signRollupHeader(genesis.wallet, domain, header),
      },
      batches: [
        batch(
          0n,
          sent.map((s) => s.raw),
        ),
        batch(1n, ["0xdeadbeef"]),
      ],
      binding: { number: BigInt(latest.number), hash: latest.hash! },
      domain: rollupRegistryDomain(v.chainId, v.addresses.RollupRegistry),
      previousBatchHash: await v.rollupRegistry.lastBatchHash(),
    });
    await (await v.rollupRegistry.addRollup(...rollupArgs(rollup.header, rollup.payload, rollup.committee))).wait();
    expect(rollup.header.revelationEpoch).to.equal(0n);
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed") for (const p of running) console.log(p.describe());
    await Promise.all(running.splice(0).map((p) => p.kill()));
  });

  after(async () => {
    provider?.destroy();
    await node?.stop();
    if (deployments !== undefined) rmSync(deployments, { recursive: true, force: true });
  });

  it("before the reveal: fails naming the epoch, the block its key becomes public at and the head", async () => {
    const at = revealableAt(0n, REVELATION_PERIOD);
    const head = BigInt(await provider.getBlockNumber());
    const message =
      `rollup ${rollup.hash} is in revelation epoch 0, whose key is not revealed yet: ` +
      `it can be revealed from L1 block ${at} (the head is ${head})`;
    let error: unknown;
    await decryptRollup(deps(), rollup.hash).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(EpochKeyNotRevealedError);
    expect((error as Error).message).to.equal(message);
    expect(error).to.include({ epoch: 0n, revealableAt: at, head });

    const cli = await run(["--rollup", rollup.hash]);
    expect(cli.code).to.equal(1);
    expect(cli.stdout).to.equal("");
    expect(cli.stderr).to.equal(`error: ${message}\n`);
  });

  it("an unknown rollup hash and a malformed one are refused clearly", async () => {
    const unknown = hexlify(randomBytes(32));
    let error: unknown;
    await decryptRollup(deps(), unknown).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(DecryptError);
    expect((error as Error).message).to.match(
      new RegExp(`^no rollup ${unknown} on L1: RollupRegistry 0x[0-9a-fA-F]{40} emitted no RollupAdded with that hash`),
    );
    const cli = await run(["--rollup", unknown]);
    expect(cli.code).to.equal(1);
    expect(cli.stderr).to.match(new RegExp(`^error: no rollup ${unknown} on L1: `));

    const bad = await run(["--rollup", "0x1234"]);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.equal(`error: --rollup: "0x1234" is not a rollup hash (0x + 64 hex digits)\n`);
    const missing = await run([]);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.contain("required option '--rollup <hash>' not specified");
  });

  describe("after the reveal", () => {
    let key: string;

    before(async () => {
      const connection = await node.connect();
      await connection.networkHelpers.mineUpTo(revealableAt(0n, REVELATION_PERIOD));
      key = epochKey({ derive: (label) => derive(genesis.secret, label) }, 0n);
      await (await v.rollupRegistry.revealEpochKey(0n, key)).wait();
      expect(await v.rollupRegistry.epochKey(0n)).to.equal(key);
      expect(BigInt(await provider.getBlockNumber())).to.be.greaterThan(EPOCH_LENGTH);
    });

    function expectSent(tx: DecodedTransaction, s: Sent): void {
      expect(tx).to.include({
        hash: s.hash,
        from: s.from,
        to: s.to,
        value: s.value,
        nonce: s.nonce,
        gasLimit: s.gasLimit,
        dataLength: s.dataLength,
        chainId: L2_CHAIN_ID,
      });
      expect(tx.selector).to.equal(s.selector);
    }

    it("lists every batch and transaction of the rollup", async () => {
      const d: DecryptedRollup = await decryptRollup(deps(), rollup.hash);
      expect(d.epoch).to.equal(0n);
      expect(d.key).to.equal(key);
      expect(d.rollup.header).to.deep.equal(rollup.header);
      expect(d.rollup.committeeId).to.equal(GENESIS_COMMITTEE_ID);
      expect(d.rollup.signers).to.deep.equal([genesis.address]);
      expect(d.batches.map((b) => [b.seq, b.timestamp, b.l1BaseFee, b.l1MessagesTo])).to.deep.equal([
        [0n, 1_800_000_000n, 1_000_000_000n, 0n],
        [1n, 1_800_000_001n, 1_000_000_001n, 1n],
      ]);
      const [batch0, batch1] = take(d.batches, 2, "decrypted batches");
      const txs = batch0.transactions as DecodedTransaction[];
      expect(txs).to.have.length(3);
      txs.forEach((tx, i) => expectSent(tx, at(sent, i, "sent transaction")));
      const [tx0, tx1, tx2] = take(txs, 3, "transactions of batch 0");
      expect(tx0).to.include({ type: 2, maxFeePerGas: parseUnits("2", "gwei") });
      expect(tx1).to.include({ type: 0, gasPrice: parseUnits("1", "gwei"), selector: "0xa9059cbb" });
      expect(tx2).to.include({ to: null, dataLength: 300 });
      expect(tx2).not.to.have.property("selector");
      expect(batch1.transactions).to.have.length(1);
      expect(batch1.transactions[0]).to.have.property("raw", "0xdeadbeef");
    });

    it("prints them as text", async () => {
      const cli = await run(["--rollup", rollup.hash]);
      expect(cli.code, cli.stderr).to.equal(0);
      const out = cli.stdout;
      expect(out).to.contain(`rollup ${rollup.hash}\n`);
      expect(out).to.contain(`epoch key:    epoch 0, key ${key} (revealed on L1, matches the commitment)`);
      expect(out).to.contain("transactions: 4");
      expect(out).to.contain(
        "batch 0  timestamp 1800000000 (2027-01-15T08:00:00.000Z), L1 base fee 1000000000 wei, L1 messages below 0, 3 transaction(s)",
      );
      for (const [i, s] of sent.entries()) {
        expect(out).to.contain(`  ${i}  ${s.hash}\n     from ${s.from} to ${s.to ?? "(contract creation)"}\n`);
      }
      expect(out).to.contain(
        `     value ${parseEther("1.25")} wei, nonce 0, gas 21000, max fee 2000000000 wei, priority 1000000000 wei, type 2, data 0 bytes\n`,
      );
      expect(out).to.contain(
        "     value 0 wei, nonce 7, gas 60000, gas price 1000000000 wei, type 0, data 68 bytes (selector 0xa9059cbb)\n",
      );
      expect(out).to.match(/ {2}0 {2}undecodable \(4 bytes\): /);
    });

    it("prints them as JSON with --json", async () => {
      const cli = await run(["--rollup", rollup.hash, "--json"]);
      expect(cli.code, cli.stderr).to.equal(0);
      const json = JSON.parse(cli.stdout) as {
        rollupHash: string;
        epoch: string;
        key: string;
        header: { revelationEpoch: string; keyCommitment: string };
        batches: { seq: string; transactions: Record<string, unknown>[] }[];
      };
      expect(json.rollupHash).to.equal(rollup.hash);
      expect(json.epoch).to.equal("0");
      expect(json.key).to.equal(key);
      expect(json.header.keyCommitment).to.equal(rollup.header.keyCommitment);
      expect(json.batches.map((b) => b.seq)).to.deep.equal(["0", "1"]);
      const [batch0, batch1] = take(json.batches, 2, "batches in the JSON");
      expect(batch0.transactions.map((t) => t.hash)).to.deep.equal(sent.map((s) => s.hash));
      const sent1 = at(sent, 1, "sent transaction");
      expect(batch0.transactions[1]).to.deep.include({
        from: sent1.from,
        to: sent1.to,
        value: "0",
        nonce: 7,
        gasLimit: "60000",
        gasPrice: "1000000000",
        dataLength: 68,
        selector: "0xa9059cbb",
        chainId: L2_CHAIN_ID.toString(),
        type: 0,
      });
      expect(batch0.transactions[2]).to.include({ to: null });
      expect(batch1.transactions[0]).to.include({ raw: "0xdeadbeef" });
    });

    it("refuses a rollup posted as a blob: its payload is not in the calldata", async () => {
      const blobs = toBlobs(randomBytes(1000));
      const { versionedHash } = only(blobCommitments(blobs), "blob commitment");
      const { header } = await nextRollupHeader(v, { payload: "0x", payloadHash: versionedHash });
      const signature = await signRollup(v, genesis, header);
      const blobSender = new Wallet(Wallet.createRandom().privateKey, provider);
      await (await v.admin.sendTransaction({ to: blobSender.address, value: parseEther("1") })).wait();
      const tx = await blobSender.sendTransaction({
        to: v.addresses.RollupRegistry,
        data: v.rollupRegistry.interface.encodeFunctionData("addRollup", rollupArgs(header, "0x", signature)),
        type: 3,
        blobs,
        kzg: kzg(),
        maxFeePerBlobGas: 10n ** 10n,
        gasLimit: 300_000n,
      });
      expect((await tx.wait())?.status).to.equal(1);
      const hash = rollupHash(header);
      const cli = await run(["--rollup", hash]);
      expect(cli.code).to.equal(1);
      expect(cli.stderr).to.equal(
        `error: rollup ${hash} was posted as a blob (versioned hash ${versionedHash}): its payload is not in ` +
          "the calldata, and reading blobs needs a blob archive (not supported)\n",
      );
    });
  });
});
