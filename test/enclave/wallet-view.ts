/**
 * The node's answers as geth and OP Stack nodes give them (issue 10): legacy transactions with their
 * chain id, the pending block numbered and without a hash, the `safe` and `finalized` tags from the
 * rollups on L1, admission refusing what the EVM would refuse for its gas, and the batch entropy, which
 * contracts read as `block.prevrandao` but no RPC answer publishes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { AbiCoder, Interface, Wallet, ZeroHash, keccak256, parseEther, toQuantity } from "ethers";
import hre from "hardhat";

import { DerivationLabels, derive } from "../../enclave/crypto/derive.js";
import type { L2Chain } from "../../enclave/execution/l2-chain.js";
import type { L1Rollup } from "../../enclave/l1/reader.js";
import { blockOfBatch, rollupHeads } from "../../enclave/l1/safe-heads.js";
import { L2RpcServer } from "../../enclave/rpc/server.js";
import type { Sequencer } from "../../enclave/sequencer/sequencer.js";
import type { SequencerStore } from "../../enclave/sequencer/store.js";
import { L2_CHAIN_ID } from "../../protocol/predeploys.js";
import { deployVeilnet, initializeGenesis } from "../../testing/veilnet.js";
import { openTestSequencer } from "../../testing/l2-sequencer.js";
import { waitFor } from "../../testing/worker-process.js";

const MIN_FEE = 1_000_000n;

type Answer = { result?: unknown; error?: { code: number; message: string } };

describe("enclave L2 JSON-RPC: what a wallet sees", function () {
  this.timeout(120_000);

  let chain: L2Chain;
  let store: SequencerStore;
  let sequencer: Sequencer;
  let unfiltered: L2RpcServer;
  let filtered: L2RpcServer;
  let secret: string;
  let dir: string;
  const alice = Wallet.createRandom();
  let nonce = 0;
  const rollups: L1Rollup[] = [];
  let l1Time = 0n;

  const ask = async (server: L2RpcServer, method: string, params: unknown[] = []): Promise<Answer> =>
    (await server.handle({ jsonrpc: "2.0", id: 1, method, params })) as Answer;
  const result = async <T>(method: string, params: unknown[] = []): Promise<T> => {
    const answer = await ask(unfiltered, method, params);
    if (answer.error !== undefined) throw new Error(`${method}: ${answer.error.message}`);
    return answer.result as T;
  };
  const send = async (
    tx: Record<string, unknown>,
  ): Promise<{ blockNumber: string; contractAddress: string | null }> => {
    const raw = await alice.signTransaction({ chainId: L2_CHAIN_ID, nonce: nonce++, gasPrice: MIN_FEE, ...tx });
    const hash = await sequencer.mempool.add(raw);
    return waitFor(
      `receipt ${hash}`,
      async () =>
        (await result<{ blockNumber: string; contractAddress: string | null } | null>("eth_getTransactionReceipt", [
          hash,
        ])) ?? undefined,
      20_000,
      50,
    );
  };

  before(async () => {
    const v = await deployVeilnet(await hre.network.create());
    const genesis = await initializeGenesis(v);
    secret = genesis.secret;
    dir = mkdtempSync(path.join(tmpdir(), "veilnet-view-"));
    ({ chain, store, sequencer } = await openTestSequencer(v, {
      dataDir: dir,
      entropy: (seq) => derive(secret, DerivationLabels.batchEntropy(seq)),
      minPriorityFee: MIN_FEE,
      batchIntervalMs: 100,
    }));
    const deps = {
      provider: chain.provider,
      l1Fees: chain,
      heads: rollupHeads(
        () => rollups,
        () => l1Time,
      ),
      mempool: sequencer.mempool,
      minPriorityFee: MIN_FEE,
      clientVersion: "test",
    };
    unfiltered = new L2RpcServer({ ...deps, unfiltered: true });
    filtered = new L2RpcServer(deps);
    sequencer.start();
    await (await v.bridge.connect(v.users[0]).depositNative(alice.address, { value: parseEther("3") })).wait();
    await waitFor(
      "the deposit",
      async () => BigInt(await result<string>("eth_getBalance", [alice.address, "latest"])) > 0n || undefined,
      20_000,
      50,
    );
  });

  after(async () => {
    await sequencer?.stop();
    store?.close();
    await chain?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a legacy EIP-155 transaction comes back with its chainId", async () => {
    const raw = await alice.signTransaction({
      type: 0,
      chainId: L2_CHAIN_ID,
      nonce: nonce++,
      to: alice.address,
      gasLimit: 21_000,
      gasPrice: MIN_FEE,
    });
    const hash = await sequencer.mempool.add(raw);
    const pending = await result<{ chainId: string }>("eth_getTransactionByHash", [hash]);
    expect(pending.chainId).to.equal(toQuantity(L2_CHAIN_ID));
    await waitFor(
      "inclusion",
      async () => (await result("eth_getTransactionReceipt", [hash])) ?? undefined,
      20_000,
      50,
    );
    const mined = await result<{ chainId?: string; type: string; blockNumber: string }>("eth_getTransactionByHash", [
      hash,
    ]);
    expect(mined.type).to.equal("0x0");
    expect(mined.chainId).to.equal(toQuantity(L2_CHAIN_ID));
    const block = await result<{ transactions: { hash: string; chainId?: string }[] }>("eth_getBlockByNumber", [
      mined.blockNumber,
      true,
    ]);
    expect(block.transactions.find((t) => t.hash === hash)?.chainId).to.equal(toQuantity(L2_CHAIN_ID));
  });

  it("the pending block has a number and no hash, as geth's", async () => {
    const head = BigInt(await result<string>("eth_blockNumber"));
    const pending = await result<{ number: string | null; hash: string | null; nonce: unknown; miner: unknown }>(
      "eth_getBlockByNumber",
      ["pending", false],
    );
    expect(BigInt(pending.number!)).to.be.greaterThan(head);
    expect(pending.hash).to.equal(null);
    expect(pending.nonce).to.equal(null);
    expect(pending.miner).to.equal(null);
  });

  it("admission refuses what the EVM would for its gas: floor, cap, initcode, creation", async () => {
    const refusal = async (tx: Record<string, unknown>) =>
      sequencer.mempool
        .add(await alice.signTransaction({ chainId: L2_CHAIN_ID, nonce, gasPrice: MIN_FEE, ...tx }))
        .then(
          () => "accepted",
          (e: unknown) => (e as Error).message,
        );
    // EIP-7623: 1,000 non-zero bytes need 21,000 + 4,000 tokens × 10 = 61,000 (execution alone: 37,000).
    expect(await refusal({ to: alice.address, data: "0x" + "ff".repeat(1000), gasLimit: 40_000 })).to.equal(
      "insufficient gas for floor data gas cost: have 40000, want 61000",
    );
    expect(await refusal({ to: alice.address, gasLimit: 16_777_217 })).to.equal(
      "transaction gas limit too high (cap: 16777216, tx: 16777217)",
    );
    expect(await refusal({ data: "0x" + "00".repeat(49_153), gasLimit: 5_000_000 })).to.equal(
      "max initcode size exceeded: code size 49153, limit 49152",
    );
    // A creation: 53,000 + 32 zero bytes × 4 + 1 word × 2 = 53,130.
    expect(await refusal({ data: "0x" + "00".repeat(32), gasLimit: 53_100 })).to.equal(
      "intrinsic gas too low: have 53100, want 53130",
    );
  });

  it("safe and finalized follow the rollups on L1 and their challenge period", async () => {
    const genesisHead = toQuantity(1);
    expect((await result<{ number: string }>("eth_getBlockByNumber", ["safe", false])).number).to.equal(genesisHead);
    expect((await result<{ number: string }>("eth_getBlockByNumber", ["finalized", false])).number).to.equal(
      genesisHead,
    );
    const head = BigInt(await result<string>("eth_blockNumber"));
    const seq = head - blockOfBatch(0n);
    rollups.push({ header: { lastBatchSeq: seq }, challengeEndsAt: 1_000n } as unknown as L1Rollup);
    l1Time = 999n;
    expect((await result<{ number: string }>("eth_getBlockByNumber", ["safe", false])).number).to.equal(
      toQuantity(head),
    );
    expect((await result<{ number: string }>("eth_getBlockByNumber", ["finalized", false])).number).to.equal(
      genesisHead,
    );
    l1Time = 1_000n;
    expect((await result<{ number: string }>("eth_getBlockByNumber", ["finalized", false])).number).to.equal(
      toQuantity(head),
    );
    // Block tags are resolved wherever a method takes one, and through the public (filtered) endpoint too.
    const atHead = await result<string>("eth_getBalance", [alice.address, toQuantity(head)]);
    await send({ to: Wallet.createRandom().address, value: 1n, gasLimit: 21_000 });
    expect(await result<string>("eth_getBalance", [alice.address, "finalized"])).to.equal(atHead);
    expect(await result<string>("eth_getBalance", [alice.address, { blockNumber: "safe" }])).to.equal(atHead);
    expect(await result<string>("eth_getBalance", [alice.address, "latest"])).to.not.equal(atHead);
    const publicSafe = await ask(filtered, "eth_getBlockByNumber", ["safe", false]);
    expect((publicSafe.result as { number: string }).number).to.equal(toQuantity(head));
  });

  it("a contract reads the batch entropy as block.prevrandao; no RPC answer publishes it", async () => {
    const artifact = await hre.artifacts.readArtifact("EntropyReader");
    const reader = new Interface(artifact.abi);
    const deployed = await send({ data: artifact.bytecode, gasLimit: 500_000 });
    const target = deployed.contractAddress!;
    const drawn = await send({ to: target, data: reader.encodeFunctionData("draw"), gasLimit: 100_000 });
    const block = BigInt(drawn.blockNumber);
    const entropy = derive(secret, DerivationLabels.batchEntropy(block - blockOfBatch(0n)));
    // The contract saw the derived entropy (it stored its hash).
    const stored = await result<string>("eth_call", [
      { to: target, data: reader.encodeFunctionData("lastDrawHash") },
      "latest",
    ]);
    expect(stored).to.equal(keccak256(AbiCoder.defaultAbiCoder().encode(["uint256"], [entropy])));

    const answers: unknown[] = [];
    for (const server of [unfiltered, filtered]) {
      for (const [method, params] of [
        ["eth_getBlockByNumber", [toQuantity(block), false]],
        ["eth_getBlockByNumber", ["latest", true]],
        ["eth_getBlockByNumber", ["pending", false]],
      ] as const) {
        const answer = await ask(server, method, [...params]);
        expect((answer.result as { mixHash: string }).mixHash, method).to.equal(ZeroHash);
        answers.push(answer);
      }
    }
    const byHash = await ask(unfiltered, "eth_getBlockByHash", [
      (answers[0] as { result: { hash: string } }).result.hash,
      true,
    ]);
    expect((byHash.result as { mixHash: string }).mixHash).to.equal(ZeroHash);
    answers.push(byHash);
    // A call in a mined block's context would read it: refused, as a privacy refusal.
    const peek = { to: target, data: reader.encodeFunctionData("peek") };
    for (const tag of [toQuantity(block), "latest", undefined]) {
      const refused = await ask(unfiltered, "eth_call", tag === undefined ? [peek] : [peek, tag]);
      expect(refused.error?.code, String(tag)).to.equal(4100);
      expect(refused.error?.message).to.match(/prevrandao/);
    }
    // The pending block's prevrandao is public: zero.
    expect(BigInt(await result<string>("eth_call", [peek, "pending"]))).to.equal(0n);
    answers.push(await ask(unfiltered, "eth_estimateGas", [peek]));
    expect(BigInt((answers.at(-1) as { result: string }).result)).to.be.greaterThan(21_000n);
    answers.push(
      await ask(unfiltered, "eth_getTransactionReceipt", [
        keccak256(AbiCoder.defaultAbiCoder().encode(["uint256"], [0])),
      ]),
    );
    const text = JSON.stringify(answers).toLowerCase();
    expect(text).to.not.contain(entropy.slice(2).toLowerCase());
  });
});
