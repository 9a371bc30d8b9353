/**
 * The in-process L1 + L2 harness of the L2 benches (bench/l2.ts, bench/committee.ts): Hardhat's
 * in-process L1 (EDR) with the suite deployed, the enclave's own in-process EDR L2 chain driven by the
 * real Sequencer, the chain's RPC and the store's fsync'd appends timed per step, funded senders, and
 * the ETH-transfer throughput step whose "EDR alone (sendRawTransaction + mine)" figure is the ceiling
 * the L2 engine puts on the node.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { BrowserProvider, type TypedDataDomain, hexlify, parseEther, randomBytes } from "ethers";
import { network } from "hardhat";

import { DerivationLabels, derive } from "../enclave/crypto/derive.js";
import { L2Chain } from "../enclave/execution/l2-chain.js";
import { L1Reader } from "../enclave/l1/reader.js";
import type { SealedBatch } from "../enclave/rollup/batch.js";
import type { RollupSigningEnclave } from "../enclave/rollup/builder.js";
import { decodeSigned } from "../enclave/sequencer/mempool.js";
import { Sequencer, type SequencerSettings } from "../enclave/sequencer/sequencer.js";
import { SequencerStore } from "../enclave/sequencer/store.js";
import { rollupRegistryDomain, signRollupHeader } from "../protocol/rollup.js";
import { at } from "../testing/defined.js";
import { type Veilnet, deployVeilnet, initializeGenesis } from "../testing/veilnet.js";
import { silentLogger } from "../platform/logger.js";
import { L2Account } from "./l2-account.js";

const logger = silentLogger();
const GWEI = 10n ** 9n;
/** Batch interval of the harness's Sequencer settings (produceBatch is called directly, except in loops). */
export const BATCH_INTERVAL_MS = 1000;
const round = (x: number, digits = 0): number => Number(x.toFixed(digits));

/** A fresh random address (a recipient no transaction touched before). */
export const freshAddress = (): string => hexlify(randomBytes(20));
/** A transfer amount as people type them: up to four significant digits (0.000001–0.009999 ETH). */
export const amount = (): bigint => BigInt(1 + Math.floor(Math.random() * 9999)) * 10n ** 12n;

export type RpcProfile = Record<string, { calls: number; ms: number }>;

/** Where one measured step spent its time: RPC into EDR per method, the store's fsync'd appends, the rest. */
export interface StepProfile {
  txs: number;
  seconds: number;
  rpc: RpcProfile;
  rpcMs: number;
  /** SequencerStore appends (mempool journal lines and sealed batches): their time on the main thread (a journal line's fsync is a group commit in the thread pool). */
  journal: { calls: number; ms: number };
  /** JavaScript: decoding, selection, bookkeeping. */
  otherMs: number;
}

// --- L1 + L2 harness ---------------------------------------------------------------------------

export interface Harness {
  v: Veilnet;
  enclave: RollupSigningEnclave;
  domain: TypedDataDomain;
  dir: string;
  chain: L2Chain;
  store: SequencerStore;
  sequencer: Sequencer;
  settings: SequencerSettings;
  /** Next batch sequence number not rolled up on L1 yet. */
  rolledUpTo: bigint;
  /** Times the chain's RPC per method and the store's appends while `on` is set. */
  profile: { on: boolean; rpc: RpcProfile; journal: { calls: number; ms: number } };
  close(): Promise<void>;
}

export async function openHarness(): Promise<Harness> {
  const connection = await network.create();
  const v = await deployVeilnet(connection);
  const genesis = await initializeGenesis(v);
  const enclave: RollupSigningEnclave = {
    derive: (label) => derive(genesis.secret, label),
    address: genesis.address,
    signRollupHeader: (domain, header) => signRollupHeader(genesis.wallet, domain, header),
  };
  const chain = await L2Chain.create({ l1Bridge: v.addresses.Bridge, l1FeeRecipient: v.addresses.FeeVault });
  const profile = { on: false, rpc: {} as RpcProfile, journal: { calls: 0, ms: 0 } };
  const inner = chain.rpc.bind(chain);
  chain.rpc = async (method: string, params: unknown[] = []): Promise<unknown> => {
    if (!profile.on) return inner(method, params);
    const t = performance.now();
    try {
      return await inner(method, params);
    } finally {
      const entry = (profile.rpc[method] ??= { calls: 0, ms: 0 });
      entry.calls++;
      entry.ms += performance.now() - t;
    }
  };
  const dir = mkdtempSync(join(tmpdir(), "veilnet-bench-l2-"));
  const store = new SequencerStore(dir);
  const timed =
    <A extends unknown[], R>(append: (...args: A) => R) =>
    (...args: A): R => {
      if (!profile.on) return append(...args);
      const t = performance.now();
      try {
        return append(...args);
      } finally {
        profile.journal.calls++;
        profile.journal.ms += performance.now() - t;
      }
    };
  store.accepted = timed(store.accepted.bind(store));
  store.removed = timed(store.removed.bind(store));
  store.appendBatch = timed(store.appendBatch.bind(store));
  const settings: SequencerSettings = {
    batchIntervalMs: BATCH_INTERVAL_MS,
    maxTxsPerBatch: 100_000, // the block gas limit and the byte budget bound a batch
    maxBatchBytes: 100_000, // the node's default MAX_BATCH_BYTES
    maxL1MessagesPerBatch: 256,
    maxGapArrivals: 100_000,
  };
  const sequencer = await Sequencer.open({
    chain,
    store,
    l1: l1Reader(v),
    entropy: (seq) => enclave.derive(DerivationLabels.batchEntropy(seq)),
    l1BaseFee: async () => (await v.connection.ethers.provider.getBlock("latest"))!.baseFeePerGas ?? 0n,
    mempool: { minPriorityFee: GWEI / 1000n },
    settings,
    logger,
  });
  return {
    v,
    enclave,
    domain: rollupRegistryDomain(v.chainId, v.addresses.RollupRegistry),
    dir,
    chain,
    store,
    sequencer,
    settings,
    rolledUpTo: 0n,
    profile,
    async close() {
      await sequencer.stop();
      await chain.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
      await connection.close();
    },
  };
}

/** An L1 reader from block 0 over ethers' own provider class (no block-number cache, static network). */
export function l1Reader(v: Veilnet): L1Reader {
  return new L1Reader({
    provider: new BrowserProvider(v.connection.provider, Number(v.chainId), { staticNetwork: true, cacheTimeout: -1 }),
    messageBus: v.addresses.MessageBus,
    rollupRegistry: v.addresses.RollupRegistry,
    fromBlock: 0,
    confirmations: 0,
  });
}

/** Seals batches until the mempool is empty; returns the batches. Throws if a transaction was dropped. */
export async function drain(h: Harness): Promise<SealedBatch[]> {
  const batches: SealedBatch[] = [];
  while (h.sequencer.mempool.size > 0) {
    const batch = await h.sequencer.produceBatch();
    if (batch === undefined) throw new Error(`${h.sequencer.mempool.size} transactions pending but no batch sealed`);
    batches.push(batch);
  }
  return batches;
}

export async function admit(h: Harness, raws: readonly string[]): Promise<string[]> {
  const hashes: string[] = [];
  for (const raw of raws) hashes.push(await h.sequencer.mempool.add(raw));
  return hashes;
}

export function expectIncluded(h: Harness, hashes: readonly string[], what: string): void {
  const missing = hashes.filter((x) => h.sequencer.mempool.status(x)?.status !== "included");
  const [first] = missing;
  if (first !== undefined) {
    const s = h.sequencer.mempool.status(first);
    throw new Error(
      `${what}: ${missing.length} of ${hashes.length} transactions not included (first: ${JSON.stringify(s)})`,
    );
  }
}

/** Admits `raws` and seals them (setup steps, not measured). */
export async function run(h: Harness, raws: readonly string[], what: string): Promise<SealedBatch[]> {
  const hashes = await admit(h, raws);
  const batches = await drain(h);
  expectIncluded(h, hashes, what);
  return batches;
}

/** Runs `body` over `txs` transactions with the chain's RPC and the store timed; records it in `profiles` under `name`. */
export async function profiled<T>(
  h: Harness,
  profiles: Record<string, StepProfile>,
  name: string,
  txs: number,
  body: () => Promise<T>,
): Promise<{ result: T; seconds: number }> {
  h.profile.rpc = {};
  h.profile.journal = { calls: 0, ms: 0 };
  h.profile.on = true;
  const t = performance.now();
  const result = await body();
  const ms = performance.now() - t;
  h.profile.on = false;
  const rpcMs = Object.values(h.profile.rpc).reduce((n, e) => n + e.ms, 0);
  const rpc = Object.fromEntries(
    Object.entries(h.profile.rpc)
      .sort((a, b) => b[1].ms - a[1].ms)
      .map(([m, e]) => [m, { calls: e.calls, ms: round(e.ms) }]),
  );
  const journal = { calls: h.profile.journal.calls, ms: round(h.profile.journal.ms) };
  profiles[name] = {
    txs,
    seconds: round(ms / 1000, 3),
    rpc,
    rpcMs: round(rpcMs),
    journal,
    otherMs: round(ms - rpcMs - h.profile.journal.ms),
  };
  return { result, seconds: ms / 1000 };
}

/** Deposits to a root account, then a two-level tree: 64 distributors fund `count` senders (64 each at 4,096). */
export async function fundSenders(
  h: Harness,
  perSender: bigint,
  count: number,
): Promise<{ root: L2Account; senders: L2Account[] }> {
  const root = L2Account.random();
  const distributors = Array.from({ length: 64 }, () => L2Account.random());
  const senders = Array.from({ length: count }, () => L2Account.random());
  const perDistributor = perSender * BigInt(Math.ceil(count / 64)) + parseEther("0.1");
  const depositor = h.v.users[0];
  await (
    await h.v.bridge.connect(depositor).depositNative(root.address, { value: perDistributor * 64n + parseEther("10") })
  ).wait();
  await h.sequencer.produceBatch(); // delivers the deposit
  await run(
    h,
    distributors.map((d) => root.sign(d.address, perDistributor)),
    "funding distributors",
  );
  await run(
    h,
    senders.map((s, i) => at(distributors, i % distributors.length, "distributor").sign(s.address, perSender)),
    "funding senders",
  );
  return { root, senders };
}

// --- throughput ------------------------------------------------------------------------------------

/** Senders of the throughput runs (64 × 64: funded through a two-level distribution tree). */
export const THROUGHPUT_SENDERS = 4096;

/** What one throughput run measured. */
export interface ThroughputRun {
  txs: number;
  /** Mempool.add of every transaction, s. */
  admissionSeconds: number;
  /** Sequencer.produceBatch until the pool is empty, s. */
  executionSeconds: number;
  /** Batches the execution sealed. */
  batches: number;
  /** decodeSigned (decode + native sender recovery) of every transaction alone, ms. */
  decodeMs: number;
  /** Of the execution, the time spent in the L2 engine: eth_sendRawTransaction + evm_mine, ms. */
  engineMs: number;
}

/**
 * Admits `raws` (Mempool.add, timed and profiled as "<name>: admission (Mempool.add)"), then seals them
 * (Sequencer.produceBatch until the pool is empty, as "<name>: execution (Sequencer.produceBatch)");
 * throws if one was not included.
 */
export async function throughputRun(
  h: Harness,
  profiles: Record<string, StepProfile>,
  name: string,
  raws: readonly string[],
): Promise<ThroughputRun> {
  const n = raws.length;
  const decodeStart = performance.now();
  for (const raw of raws) decodeSigned(raw);
  const decodeMs = performance.now() - decodeStart;
  const admission = await profiled(h, profiles, `${name}: admission (Mempool.add)`, n, () => admit(h, raws));
  const execName = `${name}: execution (Sequencer.produceBatch)`;
  const execution = await profiled(h, profiles, execName, n, () => drain(h));
  expectIncluded(h, admission.result, name);
  const rpc = profiles[execName]?.rpc ?? {};
  return {
    txs: n,
    admissionSeconds: admission.seconds,
    executionSeconds: execution.seconds,
    batches: execution.result.length,
    decodeMs,
    engineMs: (rpc.eth_sendRawTransaction?.ms ?? 0) + (rpc.evm_mine?.ms ?? 0),
  };
}

/** "EDR alone (sendRawTransaction + mine)": transactions per second of the L2 engine's share of a run. */
export const edrAlonePerSecond = (r: ThroughputRun): number => r.txs / (r.engineMs / 1000);

/** The ETH transfers of the throughput run: two per sender, each to a fresh recipient. */
export const transferPair = (s: L2Account): string[] => [
  s.sign(freshAddress(), amount()),
  s.sign(freshAddress(), amount()),
];

/**
 * The "EDR alone" ceiling of bench/l2.ts on its own: a fresh harness, 4,096 funded senders, the ETH
 * transfer throughput run (8,192 transfers), closed again.
 */
export async function measureTransferThroughput(): Promise<{
  run: ThroughputRun;
  profiles: Record<string, StepProfile>;
}> {
  const h = await openHarness();
  try {
    const { senders } = await fundSenders(h, parseEther("0.1"), THROUGHPUT_SENDERS);
    const profiles: Record<string, StepProfile> = {};
    const run = await throughputRun(h, profiles, "transfers", senders.flatMap(transferPair));
    return { run, profiles };
  } finally {
    await h.close();
  }
}
