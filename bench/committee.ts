/**
 * Figures of the sequencing committee (issue 12, DESIGN §9), in one run on this machine: real devnets
 * (`startDevnet`: `hardhat node` L1, Redis, workers, gateway, and one `veilnet node` or a committee of
 * `veilnet node --operator` processes deciding every batch with QBFT over libp2p on loopback), on free
 * ports in temporary directories. Prints a table and writes bench/results/committee.json.
 *
 *   npm run bench:committee        (about 3 minutes on a 2-core machine: three devnets, ~25 s to start each)
 *
 * - EDR alone: bench/l2.ts's "EDR alone (sendRawTransaction + mine)" ceiling, measured the same way
 *   (bench/l2-harness.ts: 8,192 ETH transfers from 4,096 senders through the in-process Sequencer, the
 *   time inside the L2 engine's eth_sendRawTransaction + evm_mine), before any devnet starts.
 * - end to end, n = 1 (the plain sequencer devnet) and n = 4 (a committee): 512 fresh L2 senders funded
 *   by L2 transfers from 8 dev accounts (not timed), 4,096 pre-signed ETH transfers (8 per sender,
 *   consecutive nonces) submitted to operator 1's L2 JSON-RPC as eth_sendRawTransaction in JSON-RPC
 *   batches (BATCH_SIZE per request, IN_FLIGHT requests at a time), timed from the first submission until
 *   every one is in an L2 block at operator 1 (blocks watched with eth_getBlockByNumber every 50 ms);
 *   then every receipt is checked (status 1). The wait is capped at WAIT_MS: a run that does not finish
 *   reports "INCOMPLETE", its value being the transactions in a block within the cap / the cap, and
 *   the transactions still out after DRAIN_MS more (n = 4; not timed); its devnet's logs are kept.
 * - decide latency (n = 4), idle and under that load: every member's veilnet_qbft_decide_seconds
 *   histogram scraped before and after, the bucket deltas of all members summed and the quantiles
 *   interpolated as Prometheus' histogram_quantile does; and exact samples from the gossip itself (a
 *   listening libp2p node records every envelope on the consensus and decided topics): per height, from
 *   the sentAtMs of the pre-prepare of the deciding round to the first decided record's sentAtMs.
 * - failover (n = 4), on a fresh idle committee (a third devnet): kill -9 the member whose
 *   veilnet_qbft_is_leader is 1, time until the others decide a higher height (polling their
 *   veilnet_qbft_height every 20 ms, as devnet/committee-drill.ts does); restart it and wait until it
 *   caught up; 3 times.
 * - consensus envelopes validated per second: the envelopes recorded above (real traffic, under load),
 *   replayed through createEnvelopeValidator with the committee gossip's own options and extra check
 *   (wire decode, height and sender match), then also with the QBFT signature checks the driver makes
 *   (ecdsaVerifier on the message and its justifications; certificateProblem on a decided record);
 *   timed per envelope, so the JSON also gives µs per envelope by kind and size.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";

import { generateKeyPair } from "@libp2p/crypto/keys";
import { keccak256, parseEther } from "ethers";
import pino from "pino";
import { Registry } from "prom-client";

import { type Devnet, startDevnet } from "../devnet/index.js";
import { freePort } from "../devnet/ports.js";
import type { CommitteeMemberInfo } from "../devnet/types.js";
import { CommitteeGossip, checkWireEnvelope } from "../enclave/committee/gossip.js";
import { certificateProblem } from "../enclave/consensus/certificate.js";
import { ecdsaVerifier } from "../enclave/consensus/keys.js";
import type { Signed } from "../enclave/consensus/qbft/index.js";
import { type WireMessage, decodeWire } from "../enclave/consensus/wire.js";
import {
  type Envelope,
  type EnvelopeValidatorOptions,
  type P2PNode,
  PeerRecordBook,
  consensusTopic,
  createEnvelopeValidator,
  createP2PNode,
  decidedTopic,
  decodeEnvelope,
} from "../platform/p2p/index.js";
import { L2Account } from "./l2-account.js";
import {
  THROUGHPUT_SENDERS,
  amount,
  edrAlonePerSecond,
  freshAddress,
  measureTransferThroughput,
} from "./l2-harness.js";
import { type Row, formatRows, writeResults } from "./report.js";

const SENDERS = 512;
const TXS_PER_SENDER = 8;
const TXS = SENDERS * TXS_PER_SENDER;
/** Dev accounts (0…7, funded on L2 by the devnet) that fund the senders: 64 each (the mempool's nonce gap). */
const FUNDERS = 8;
const PER_SENDER = parseEther("0.2");
const BATCH_SIZE = 256;
const IN_FLIGHT = 4;
const BATCH_INTERVAL_MS = 1000;
const IDLE_MS = 15_000;
const FAILOVERS = 3;
const COMMITTEE = 4;
/** The committee's id on L1 (the devnet's committee of n is the second, after the genesis committee of one). */
let committeeId = 1n;
const VALIDATION_PASSES = 3;
/** How long the end-to-end runs wait for their transactions; then (n = 4) how long the rest may drain. */
const WAIT_MS = 90_000;
const DRAIN_MS = 30_000;

const rows: Row[] = [];
const round = (x: number, digits = 0): number => Number(x.toFixed(digits));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stdout.write(`${line}\n`);
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s`;

// --- JSON-RPC ----------------------------------------------------------------------------------

interface RpcAnswer {
  id: number;
  result?: unknown;
  error?: { code: number; message: string };
}

/** One JSON-RPC batch request; answers in request order. */
async function rpcBatch(url: string, calls: readonly { method: string; params: unknown[] }[]): Promise<RpcAnswer[]> {
  const body = calls.map((c, id) => ({ jsonrpc: "2.0", id, method: c.method, params: c.params }));
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const answers = (await res.json()) as RpcAnswer[];
  if (!Array.isArray(answers)) throw new Error(`${url}: not a batch answer: ${JSON.stringify(answers)}`);
  return answers.sort((a, b) => a.id - b.id);
}

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const [answer] = await rpcBatch(url, [{ method, params }]);
  if (answer?.error !== undefined) throw new Error(`${method}: ${answer.error.message}`);
  return answer?.result;
}

/** Sends `raws` in JSON-RPC batches of BATCH_SIZE, IN_FLIGHT at a time, in order; throws on a refusal. */
async function submit(url: string, raws: readonly string[]): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < raws.length) {
      const chunk = raws.slice(next, next + BATCH_SIZE);
      next += BATCH_SIZE;
      const answers = await rpcBatch(
        url,
        chunk.map((raw) => ({ method: "eth_sendRawTransaction", params: [raw] })),
      );
      const refused = answers.filter((a) => a.error !== undefined);
      if (refused.length > 0)
        throw new Error(`${refused.length} of ${chunk.length} refused, first: ${refused[0]?.error?.message}`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

/** One L2 block seen while waiting: ms since the start, and how many of the awaited transactions it holds. */
interface BlockSeen {
  block: number;
  ms: number;
  ours: number;
}

/**
 * Watches L2 blocks from `from` on until every hash in `pending` is in one (removing them) or `timeoutMs`
 * passed; the blocks holding any of them.
 */
async function included(url: string, pending: Set<string>, from: number, timeoutMs: number): Promise<BlockSeen[]> {
  let next = from;
  const start = performance.now();
  const seen: BlockSeen[] = [];
  while (pending.size > 0 && performance.now() - start < timeoutMs) {
    const head = Number(await rpc(url, "eth_blockNumber"));
    if (head < next) {
      await sleep(50);
      continue;
    }
    const calls = [];
    for (let n = next; n <= head; n++)
      calls.push({ method: "eth_getBlockByNumber", params: [`0x${n.toString(16)}`, false] });
    const answers = await rpcBatch(url, calls);
    const ms = performance.now() - start;
    for (const [i, answer] of answers.entries()) {
      const block = answer.result as { transactions: string[] } | null;
      let ours = 0;
      for (const hash of block?.transactions ?? []) if (pending.delete(hash.toLowerCase())) ours++;
      if (ours > 0) seen.push({ block: next + i, ms: round(ms), ours });
    }
    next = head + 1;
  }
  return seen;
}

/** Every receipt of `hashes` is there with status 1. */
async function checkReceipts(url: string, hashes: readonly string[]): Promise<void> {
  for (let i = 0; i < hashes.length; i += 1000) {
    const answers = await rpcBatch(
      url,
      hashes.slice(i, i + 1000).map((h) => ({ method: "eth_getTransactionReceipt", params: [h] })),
    );
    const bad = answers.filter((a) => (a.result as { status?: string } | null)?.status !== "0x1");
    if (bad.length > 0) throw new Error(`${bad.length} receipts missing or failed, first ${JSON.stringify(bad[0])}`);
  }
}

// --- metrics -----------------------------------------------------------------------------------

async function metricsText(m: CommitteeMemberInfo): Promise<string> {
  return (await fetch(m.metricsUrl, { signal: AbortSignal.timeout(2000) })).text();
}

/** The value of the first sample of `name` (any labels) in a Prometheus text exposition. */
function sampleIn(text: string, name: string): number | undefined {
  const v = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1];
  return v === undefined ? undefined : Number(v);
}

async function metric(m: CommitteeMemberInfo, name: string): Promise<number | undefined> {
  try {
    return sampleIn(await metricsText(m), name);
  } catch {
    return undefined;
  }
}

/** Cumulative bucket counts of a histogram, by upper bound (+Inf last). */
type Buckets = Map<number, number>;

function parseBuckets(text: string, name: string): Buckets {
  const buckets: Buckets = new Map();
  const re = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`, "gm");
  for (const [, le, v] of text.matchAll(re)) {
    buckets.set(le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le), Number(v));
  }
  return buckets;
}

const DECIDE = "veilnet_qbft_decide_seconds";

/** Every member's decide histogram, summed. */
async function decideHistogram(members: readonly CommitteeMemberInfo[]): Promise<Buckets> {
  const total: Buckets = new Map();
  for (const m of members) {
    for (const [le, v] of parseBuckets(await metricsText(m), DECIDE)) total.set(le, (total.get(le) ?? 0) + v);
  }
  return total;
}

function subtract(after: Buckets, before: Buckets): Buckets {
  return new Map([...after].map(([le, v]) => [le, v - (before.get(le) ?? 0)]));
}

/** Prometheus' histogram_quantile: linear interpolation inside the bucket holding the rank. */
function histogramQuantile(q: number, buckets: Buckets): number {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Number.POSITIVE_INFINITY) return lowerBound; // the highest finite bound, as Prometheus does
      return lowerBound + ((le - lowerBound) * (rank - lowerCount)) / (count - lowerCount);
    }
    lowerBound = le;
    lowerCount = count;
  }
  return lowerBound;
}

const count = (b: Buckets): number => b.get(Number.POSITIVE_INFINITY) ?? 0;

/** Nearest-rank quantile of exact samples. */
function quantile(q: number, samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

// --- the gossip recorder -------------------------------------------------------------------------

interface Recorded {
  topic: string;
  origin: string;
  data: Uint8Array;
  envelope: Envelope;
  at: number;
}

/** A libp2p node following the committee's consensus and decided topics, recording every envelope. */
async function startRecorder(
  devnet: Devnet,
): Promise<{ node: P2PNode; recorded: Recorded[]; recording: { on: boolean } }> {
  const members = devnet.committee ?? [];
  const chainId = devnet.l1.chainId;
  const node = await createP2PNode({
    privateKey: await generateKeyPair("Ed25519"),
    listen: ["/ip4/127.0.0.1/tcp/0"],
    bootstrap: members.map((m) => m.p2p),
    dht: false,
    scoredTopics: CommitteeGossip.topics(chainId, committeeId),
    logger: pino({ level: "silent" }),
    registry: new Registry(),
  });
  const recorded: Recorded[] = [];
  const recording = { on: false };
  for (const topic of [consensusTopic(chainId, committeeId), decidedTopic(chainId)]) {
    node.subscribe(
      topic,
      (origin, data) => {
        let envelope: Envelope;
        try {
          envelope = decodeEnvelope(data);
        } catch {
          return { result: "ignore", reason: "malformed" };
        }
        if (recording.on) recorded.push({ topic, origin, data, envelope, at: Date.now() });
        return { result: "accept", envelope };
      },
      () => {},
    );
  }
  const deadline = Date.now() + 30_000;
  while (node.subscribers(consensusTopic(chainId, committeeId)).length < members.length) {
    if (Date.now() > deadline) throw new Error("the recorder did not see the committee on the consensus topic");
    await sleep(100);
  }
  return { node, recorded, recording };
}

/** Per height: from the deciding round's pre-prepare (sentAtMs) to the first decided record (sentAtMs), ms. */
function exactDecideMs(recorded: readonly Recorded[]): number[] {
  const prePrepare = new Map<string, number>();
  const decided = new Map<number, { round: number; at: number }>();
  for (const r of recorded) {
    let message: WireMessage;
    try {
      message = decodeWire(r.envelope.payload);
    } catch {
      continue;
    }
    const sent = Number(r.envelope.sentAtMs);
    if (message.kind === "qbft" && message.signed.message.type === "pre-prepare") {
      const key = `${message.signed.message.height}/${message.signed.message.round}`;
      prePrepare.set(key, Math.min(prePrepare.get(key) ?? sent, sent));
    } else if (message.kind === "decided") {
      const held = decided.get(message.decided.height);
      if (held === undefined || sent < held.at)
        decided.set(message.decided.height, { round: message.decided.round, at: sent });
    }
  }
  const samples: number[] = [];
  for (const [height, d] of decided) {
    const start = prePrepare.get(`${height}/${d.round}`);
    if (start !== undefined) samples.push(d.at - start);
  }
  return samples;
}

// --- validation replay ---------------------------------------------------------------------------

/** The QBFT signatures the driver checks on a wire message: the message's and its justifications'; a certificate. */
function qbftProblem(
  message: WireMessage,
  committee: readonly number[],
  verifier: ReturnType<typeof ecdsaVerifier>,
): string | undefined {
  const ok = (s: Signed): boolean => verifier.verify(s, s.message.sender);
  if (message.kind === "decided") return certificateProblem(message.decided, committee, verifier);
  if (message.kind !== "qbft") return undefined;
  const { signed } = message;
  if (!ok(signed)) return "bad-qbft-signature";
  const m = signed.message;
  const nested: Signed[] =
    m.type === "pre-prepare"
      ? [
          ...m.prepareJustification,
          ...m.roundChangeJustification,
          ...m.roundChangeJustification.flatMap((rc) => rc.message.prepareJustification),
        ]
      : m.type === "round-change"
        ? [...m.prepareJustification]
        : [];
  return nested.every(ok) ? undefined : "bad-justification-signature";
}

/**
 * Replays `recorded` through the gossip's validators (a fresh one per pass: replays are refused), with
 * the clock and the height window set to each envelope's arrival; returns envelopes per second.
 */
/** The kind of a recorded envelope's wire message (pre-prepare, prepare, commit, round-change, decided, …). */
function kindOf(r: Recorded): string {
  const m = decodeWire(r.envelope.payload);
  return m.kind === "qbft" ? m.signed.message.type : m.kind;
}

/** Validation speed: envelopes per second over all, and per kind the count, mean size and µs per envelope. */
interface ValidationRate {
  perSecond: number;
  byKind: Record<string, { envelopes: number; meanBytes: number; usPerEnvelope: number }>;
}

function validationRate(devnet: Devnet, recorded: readonly Recorded[], withQbft: boolean): ValidationRate {
  const members = devnet.committee ?? [];
  const chainId = devnet.l1.chainId;
  const addresses = new Map(members.map((m) => [m.operatorId, m.enclave]));
  const committee = members.map((m) => m.operatorId);
  const verifier = ecdsaVerifier((id) => addresses.get(id));
  const peerRecords = new PeerRecordBook();
  for (const m of members) peerRecords.bind(BigInt(m.operatorId), m.peerId, 1n);
  let clock = 0;
  let height = 0n;
  // The committee gossip's extra check (enclave/committee/gossip.ts), then the driver's signature checks.
  const wireCheck =
    (requireSender: boolean, decidedOnly: boolean) =>
    (envelope: Envelope): string | undefined => {
      const message = checkWireEnvelope(envelope, requireSender);
      if (typeof message === "string") return message;
      if (decidedOnly && message.kind !== "decided") return "not-a-decided-record";
      return withQbft ? qbftProblem(message, committee, verifier) : undefined;
    };
  const common: Omit<EnvelopeValidatorOptions, "topic" | "check"> = {
    chainId,
    committeeId: committeeId,
    addressOf: (id) => addresses.get(Number(id)),
    peerRecords,
    now: () => clock,
    rateLimit: { perSecond: 1e12, burst: 1e12 }, // a replay at full speed: the per-peer limit is not what is timed
  };
  const consensus = consensusTopic(chainId, committeeId);
  let seconds = 0;
  const times: number[] = [];
  for (let pass = 0; pass < VALIDATION_PASSES; pass++) {
    const validators = {
      [consensus]: createEnvelopeValidator({
        ...common,
        topic: consensus,
        window: { current: () => height, behind: BigInt(Number.MAX_SAFE_INTEGER), ahead: 8n },
        check: wireCheck(true, false),
      }),
      [decidedTopic(chainId)]: createEnvelopeValidator({
        ...common,
        topic: decidedTopic(chainId),
        check: wireCheck(false, true),
      }),
    };
    const refused = new Map<string, number>();
    for (const [i, r] of recorded.entries()) {
      clock = r.at;
      height = r.envelope.height;
      const t = performance.now();
      const verdict = validators[r.topic]!(r.origin, r.data);
      const ms = performance.now() - t;
      times[i] = (times[i] ?? 0) + ms;
      seconds += ms / 1000;
      if (verdict.result !== "accept") refused.set(verdict.reason, (refused.get(verdict.reason) ?? 0) + 1);
    }
    if (refused.size > 0) throw new Error(`replayed envelopes refused: ${JSON.stringify(Object.fromEntries(refused))}`);
  }
  const byKind: ValidationRate["byKind"] = {};
  for (const [i, r] of recorded.entries()) {
    const k = (byKind[kindOf(r)] ??= { envelopes: 0, meanBytes: 0, usPerEnvelope: 0 });
    k.envelopes++;
    k.meanBytes += r.data.length;
    k.usPerEnvelope += ((times[i] ?? 0) * 1000) / VALIDATION_PASSES;
  }
  for (const k of Object.values(byKind)) {
    k.meanBytes = Math.round(k.meanBytes / k.envelopes);
    k.usPerEnvelope = Math.round(k.usPerEnvelope / k.envelopes);
  }
  return { perSecond: (recorded.length * VALIDATION_PASSES) / seconds, byKind };
}

// --- end to end ----------------------------------------------------------------------------------

interface LoadResult {
  /** From the first submission until the last transaction was in a block (or the wait gave up), s. */
  seconds: number;
  /** Until the last eth_sendRawTransaction batch was answered, s. */
  submitSeconds: number;
  txs: number;
  /** Of `txs`, in a block at operator 1 within the wait. */
  included: number;
  fundingSeconds: number;
  blocks: BlockSeen[];
  /** Of the ones not included within the wait, still not in a block after the drain. */
  leftAfterDrain: number;
  drainedSeconds: number;
  /** CPU seconds (user + system, process_cpu_seconds_total) the node processes spent from the first submission until the last inclusion: each, and in all. */
  nodeCpuSeconds: number[];
}

/** The metrics URLs of the devnet's sequencing processes: the sequencer, or every committee member. */
function nodeMetricsUrls(devnet: Devnet): string[] {
  const members = devnet.committee;
  if (members !== undefined) return members.map((m) => m.metricsUrl);
  return [devnet.health.sequencer.replace(/\/healthz$/, "/metrics")];
}

/** process_cpu_seconds_total of each URL. */
async function cpuSeconds(urls: readonly string[]): Promise<number[]> {
  return Promise.all(
    urls.map(async (url) => {
      const text = await (await fetch(url, { signal: AbortSignal.timeout(5000) })).text();
      const v = sampleIn(text, "process_cpu_seconds_total");
      if (v === undefined) throw new Error(`${url}: no process_cpu_seconds_total`);
      return v;
    }),
  );
}

/**
 * Funds SENDERS fresh senders from the dev accounts, then submits TXS transfers and waits (at most
 * `waitMs`) until they are all in a block.
 */
async function load(devnet: Devnet, waitMs: number, drainMs = 0): Promise<LoadResult> {
  const url = devnet.l2Url;
  const fundStart = performance.now();
  const funders = await Promise.all(
    devnet.accounts.slice(0, FUNDERS).map(async (a) => {
      const nonce = Number(await rpc(url, "eth_getTransactionCount", [a.address, "latest"]));
      return L2Account.fromKey(a.privateKey, nonce);
    }),
  );
  const senders = Array.from({ length: SENDERS }, () => L2Account.random());
  const funding = senders.map((s, i) => funders[i % FUNDERS]!.sign(s.address, PER_SENDER));
  const fundHead = Number(await rpc(url, "eth_blockNumber"));
  await submit(url, funding);
  const unfunded = new Set(funding.map((raw) => keccak256(raw)));
  await included(url, unfunded, fundHead + 1, 120_000);
  if (unfunded.size > 0) throw new Error(`${unfunded.size} funding transfers not in a block within 120 s`);
  const fundingSeconds = (performance.now() - fundStart) / 1000;
  // Nonce by nonce, so that every sender's transactions arrive in order.
  const raws: string[] = [];
  for (let k = 0; k < TXS_PER_SENDER; k++) for (const s of senders) raws.push(s.sign(freshAddress(), amount()));
  const hashes = raws.map((raw) => keccak256(raw));
  const pending = new Set(hashes);
  const from = Number(await rpc(url, "eth_blockNumber")) + 1;
  const nodes = nodeMetricsUrls(devnet);
  const cpuBefore = await cpuSeconds(nodes);
  const t = performance.now();
  let submitSeconds = 0;
  const [, blocks] = await Promise.all([
    submit(url, raws).then(() => (submitSeconds = (performance.now() - t) / 1000)),
    included(url, pending, from, waitMs),
  ]);
  const seconds = pending.size === 0 ? (blocks.at(-1)?.ms ?? 0) / 1000 : (performance.now() - t) / 1000;
  const within = raws.length - pending.size;
  const cpuAfter = await cpuSeconds(nodes);
  const nodeCpuSeconds = cpuAfter.map((v, i) => v - (cpuBefore[i] ?? 0));
  // Not measured: what did not make it waits (at most drainMs) so that what follows starts without a backlog.
  const drainStart = performance.now();
  if (pending.size > 0 && drainMs > 0) await included(url, pending, from, drainMs);
  const drainedSeconds = (performance.now() - drainStart) / 1000;
  await checkReceipts(
    url,
    hashes.filter((h) => !pending.has(h)),
  );
  return {
    seconds,
    submitSeconds,
    txs: raws.length,
    included: within,
    fundingSeconds,
    blocks,
    leftAfterDrain: pending.size,
    drainedSeconds,
    nodeCpuSeconds,
  };
}

/** Per member: the consensus and p2p counters that tell a slow height from a stuck one. */
async function diagnostics(members: readonly CommitteeMemberInfo[]): Promise<Record<string, string[]>> {
  const wanted =
    /^(veilnet_qbft_(height|round_changes_total|synced_total|invalid_proposals_total|decided_total)|veilnet_p2p_messages_(rejected|ignored)_total|veilnet_mempool_transactions)\b/;
  const out: Record<string, string[]> = {};
  for (const m of members) {
    try {
      out[`operator ${m.operatorId}`] = (await metricsText(m)).split("\n").filter((l) => wanted.test(l));
    } catch {
      out[`operator ${m.operatorId}`] = ["(metrics unreachable)"];
    }
  }
  return out;
}

/** Runs `body` on a fresh devnet of `n` and stops it; its directory is removed unless `keep` says so (or it failed). */
async function withDevnet<T>(
  n: number,
  body: (devnet: Devnet) => Promise<T>,
  keep: (result: T) => boolean = () => false,
): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), `veilnet-bench-committee-${n}-`));
  log(`${elapsed()}  starting a devnet, ${n === 1 ? "one sequencer" : `a committee of ${n}`} (${dir})`);
  const devnet = await startDevnet({
    dir,
    committee: n === 1 ? undefined : n,
    l1Port: await freePort(),
    l2RpcPort: await freePort(),
    gatewayPort: await freePort(),
    fundAccounts: FUNDERS,
    batchIntervalMs: BATCH_INTERVAL_MS,
    onCrash: (c) => log(`${elapsed()}  (${c.name} exited${n > 1 ? ": expected while a member is killed" : ""})`),
  });
  let ok = false;
  try {
    log(`${elapsed()}  devnet up`);
    if (devnet.operators !== undefined) committeeId = devnet.operators.committeeId;
    const result = await body(devnet);
    ok = !keep(result);
    return result;
  } finally {
    await devnet.stop();
    if (ok) rmSync(dir, { recursive: true, force: true });
    else log(`${elapsed()}  logs kept: ${devnet.logDir}`);
  }
}

/**
 * Kills the leader (kill -9) FAILOVERS times, each time timing until the others decide a higher height,
 * then restarts it and waits until it caught up.
 */
async function failovers(devnet: Devnet): Promise<{ failoverMs: number[]; failoverError: string | undefined }> {
  const members = devnet.committee ?? [];
  const control = devnet.operators;
  if (control === undefined) throw new Error("the devnet runs no committee");
  const failoverMs: number[] = [];
  const height = async (m: CommitteeMemberInfo) => (await metric(m, "veilnet_qbft_height")) ?? -1;
  const maxHeight = async (ms: readonly CommitteeMemberInfo[]) => Math.max(...(await Promise.all(ms.map(height))));
  let failoverError: string | undefined;
  try {
    for (let i = 0; i < FAILOVERS; i++) {
      let leader: CommitteeMemberInfo | undefined;
      const deadline = Date.now() + 10_000;
      while (leader === undefined) {
        if (Date.now() > deadline) throw new Error("no member reports veilnet_qbft_is_leader 1");
        for (const m of members) if ((await metric(m, "veilnet_qbft_is_leader")) === 1) leader = m;
        if (leader === undefined) await sleep(50);
      }
      const others = members.filter((m) => m !== leader);
      const at = await maxHeight(others);
      const killedAt = Date.now();
      await control.kill(leader.operatorId);
      const limit = killedAt + 30_000;
      while ((await maxHeight(others)) <= at) {
        if (Date.now() > limit)
          throw new Error(`no height above ${at} within 30 s of killing operator ${leader.operatorId}`);
        await sleep(20);
      }
      failoverMs.push(Date.now() - killedAt);
      log(
        `${elapsed()}  failover ${i + 1}: killed operator ${leader.operatorId} at height ${at}, next height after ${failoverMs.at(-1)} ms`,
      );
      await control.restart(leader.operatorId);
      const target = await maxHeight(others);
      const catchUp = Date.now() + 60_000;
      while ((await height(leader)) < target) {
        if (Date.now() > catchUp) throw new Error(`operator ${leader.operatorId} did not catch up to ${target}`);
        await sleep(100);
      }
      await sleep(2 * BATCH_INTERVAL_MS); // back in the rotation
    }
  } catch (error) {
    failoverError = (error as Error).message;
    log(`${elapsed()}  failover stopped: ${failoverError}`);
  }
  return { failoverMs, failoverError };
}

// --- the run -------------------------------------------------------------------------------------

log(`${elapsed()}  EDR alone: the in-process throughput run of bench/l2.ts`);
const edr = await measureTransferThroughput();
const edrPerSecond = edrAlonePerSecond(edr.run);
log(`${elapsed()}  EDR alone ${Math.round(edrPerSecond)} tx/s`);

const single = await withDevnet(1, async (devnet) => {
  const r = await load(devnet, WAIT_MS);
  log(
    `${elapsed()}  n = 1: ${r.included} of ${TXS} transfers in ${r.seconds.toFixed(2)} s (submitted in ${r.submitSeconds.toFixed(2)} s)`,
  );
  return r;
});

interface CommitteeResult {
  load: LoadResult;
  afterLoad: Record<string, string[]>;
  idle: Buckets;
  loaded: Buckets;
  exactIdle: number[];
  exactLoaded: number[];
  envelopes: Recorded[];
  validation: ValidationRate;
  validationQbft: ValidationRate;
}

const committee = await withDevnet(
  COMMITTEE,
  async (devnet): Promise<CommitteeResult> => {
    const members = devnet.committee ?? [];
    if (members.length !== COMMITTEE) throw new Error("the devnet runs no committee");
    const recorder = await startRecorder(devnet);
    try {
      // Idle: empty batches every BATCH_INTERVAL_MS.
      let before = await decideHistogram(members);
      recorder.recording.on = true;
      await sleep(IDLE_MS);
      recorder.recording.on = false;
      const idle = subtract(await decideHistogram(members), before);
      const exactIdle = exactDecideMs(recorder.recorded);
      const idleEnvelopes = recorder.recorded.splice(0);
      log(`${elapsed()}  idle: ${count(idle)} decisions observed, ${idleEnvelopes.length} envelopes`);

      // Under load.
      before = await decideHistogram(members);
      recorder.recording.on = true;
      const r = await load(devnet, WAIT_MS, DRAIN_MS);
      recorder.recording.on = false;
      const loaded = subtract(await decideHistogram(members), before);
      const afterLoad = await diagnostics(members);
      const exactLoaded = exactDecideMs(recorder.recorded);
      log(
        `${elapsed()}  n = ${COMMITTEE}: ${r.included} of ${TXS} transfers in ${r.seconds.toFixed(2)} s (submitted in ${r.submitSeconds.toFixed(2)} s; ${r.leftAfterDrain} left after ${r.drainedSeconds.toFixed(0)} s more; ${recorder.recorded.length} envelopes)`,
      );
      const envelopes = [...idleEnvelopes, ...recorder.recorded];
      const validation = validationRate(devnet, envelopes, false);
      const validationQbft = validationRate(devnet, envelopes, true);

      return {
        load: r,
        afterLoad,
        idle,
        loaded,
        exactIdle,
        exactLoaded,
        envelopes,
        validation,
        validationQbft,
      };
    } finally {
      await recorder.node.stop();
    }
  },
  // The logs of a committee that did not take the load are kept for a look.
  (result) => result.load.included < result.load.txs,
);

// Failover on a fresh committee: after the load above the committee is not idle (or has stalled).
const failover = await withDevnet(COMMITTEE, async (devnet) => {
  await sleep(5_000); // every member deciding
  return failovers(devnet);
});

// --- report ----------------------------------------------------------------------------------------

const perSecond1 = single.included / single.seconds;
const perSecond4 = committee.load.included / committee.load.seconds;
const ratio = perSecond4 / perSecond1;
const ofEdr = perSecond1 / edrPerSecond;
const e2eNote = (r: LoadResult): string =>
  (r.included === r.txs
    ? `${r.txs} ETH transfers from ${SENDERS} senders in ${r.seconds.toFixed(2)} s`
    : `INCOMPLETE: ${r.included} of ${r.txs} ETH transfers in a block within ${r.seconds.toFixed(0)} s (value = those / the wait; ${r.leftAfterDrain} still out after ${r.drainedSeconds.toFixed(0)} s more)`) +
  ` (submitted in ${r.submitSeconds.toFixed(2)} s; in ${r.blocks.length} blocks): eth_sendRawTransaction to operator 1 in JSON-RPC batches of ${BATCH_SIZE}, ${IN_FLIGHT} in flight, until all are in a block there; batch every ${BATCH_INTERVAL_MS} ms`;
rows.push({
  figure: "L2 transfers end to end, n = 1 (one sequencer)",
  value: Math.round(perSecond1),
  unit: "tx/s",
  note: e2eNote(single),
});
rows.push({
  figure: `L2 transfers end to end, n = ${COMMITTEE} (committee)`,
  value: Math.round(perSecond4),
  unit: "tx/s",
  note: e2eNote(committee.load),
});
rows.push({
  figure: `end to end n = ${COMMITTEE} / n = 1`,
  value: round(ratio * 100),
  unit: "%",
  target: "≥ 60%",
  ok: ratio >= 0.6,
});
const cpuPerThousand = (r: LoadResult): number =>
  (1000 * r.nodeCpuSeconds.reduce((a, b) => a + b, 0)) / Math.max(1, r.included);
const cpuNote = (r: LoadResult): string =>
  `process_cpu_seconds_total of each node process over the run above: ${r.nodeCpuSeconds.map((c) => c.toFixed(1)).join(" + ")} s for ${r.included} transfers`;
rows.push({
  figure: "node CPU per 1,000 transfers, n = 1 (the sequencer)",
  value: round(cpuPerThousand(single), 2),
  unit: "s",
  note: cpuNote(single),
});
rows.push({
  figure: `node CPU per 1,000 transfers, n = ${COMMITTEE} (all members)`,
  value: round(cpuPerThousand(committee.load), 2),
  unit: "s",
  note: `${cpuNote(committee.load)}; the machine has ${cpus().length} cores for every member, the L1, the workers and this bench`,
});
rows.push({
  figure: "EDR alone (sendRawTransaction + mine), as bench/l2.ts",
  value: Math.round(edrPerSecond),
  unit: "tx/s",
  note: `in-process Sequencer, ${edr.run.txs} transfers from ${THROUGHPUT_SENDERS} senders, ${edr.run.batches} batches; ${((edr.run.engineMs * 1000) / edr.run.txs).toFixed(0)} µs per tx in the engine`,
});
rows.push({
  figure: "end to end n = 1 / EDR alone",
  value: round(ofEdr * 100),
  unit: "%",
  target: "≥ 65%",
  ok: ofEdr >= 0.65,
});
const ms = (s: number): number => round(s * 1000);
for (const [label, buckets, exact] of [
  ["idle", committee.idle, committee.exactIdle],
  ["under load", committee.loaded, committee.exactLoaded],
] as const) {
  const p50 = histogramQuantile(0.5, buckets);
  rows.push({
    figure: `decide latency p50, n = ${COMMITTEE}, ${label}`,
    value: ms(p50),
    unit: "ms",
    target: "≤ 300 ms",
    ok: p50 <= 0.3,
    note: `histogram_quantile over veilnet_qbft_decide_seconds (all ${COMMITTEE} members, scraped before/after, ${count(buckets)} decisions; linear within buckets); exact per height, leader's pre-prepare to first decided record: p50 ${round(quantile(0.5, exact))} ms over ${exact.length} heights`,
  });
  rows.push({
    figure: `decide latency p99, n = ${COMMITTEE}, ${label}`,
    value: ms(histogramQuantile(0.99, buckets)),
    unit: "ms",
    note: `exact (pre-prepare to decided record): p99 ${round(quantile(0.99, exact))} ms, max ${round(Math.max(...exact))} ms`,
  });
}
const sortedFailover = [...failover.failoverMs].sort((a, b) => a - b);
const failoverMedian = quantile(0.5, sortedFailover) / 1000;
const failoverMax = (sortedFailover.at(-1) ?? Number.NaN) / 1000;
rows.push({
  figure: "failover: kill -9 the leader → next height decided (median)",
  value: round(failoverMedian, 2),
  unit: "s",
  target: "≤ 3 s",
  ok: failoverMedian <= 3,
  note:
    `${FAILOVERS} kills (restarted and caught up in between): ${sortedFailover.map((x) => (x / 1000).toFixed(2)).join(", ")} s` +
    (failover.failoverError === undefined ? "" : `; stopped early: ${failover.failoverError}`),
});
rows.push({
  figure: "failover: kill -9 the leader → next height decided (max)",
  value: round(failoverMax, 2),
  unit: "s",
  target: "≤ 3 s",
  ok: failoverMax <= 3,
});
const perKind = (v: ValidationRate): string =>
  Object.entries(v.byKind)
    .map(
      ([k, x]) =>
        `${k} ${x.envelopes} × ${x.meanBytes.toLocaleString("en-US")} B: ${x.usPerEnvelope.toLocaleString("en-US")} µs`,
    )
    .join("; ");
rows.push({
  figure: "consensus envelopes validated per second (envelope check)",
  value: Math.round(committee.validation.perSecond),
  unit: "env/s",
  note: `${committee.envelopes.length} real envelopes recorded from the n = ${COMMITTEE} gossip, idle and under load; createEnvelopeValidator + the gossip's wire check, ${VALIDATION_PASSES} passes; per kind (count × mean size: µs each): ${perKind(committee.validation)}`,
});
rows.push({
  figure: "consensus envelopes validated per second (+ QBFT signatures)",
  value: Math.round(committee.validationQbft.perSecond),
  unit: "env/s",
  note: `and ecdsaVerifier on the QBFT message and its justifications, certificateProblem on decided records, as the driver checks them; per kind: ${perKind(committee.validationQbft)}`,
});
const totalSeconds = (performance.now() - started) / 1000;
rows.push({ figure: "the whole run", value: round(totalSeconds), unit: "s" });

console.log(`\nVeilnet committee — devnets on this machine (${cpus().length} cores), QBFT over libp2p on loopback\n`);
for (const line of formatRows(rows, { value: 8, unit: 6 })) console.log(line);
const histogramJson = (b: Buckets) => Object.fromEntries([...b].map(([le, v]) => [String(le), v]));
const out = writeResults("committee", {
  measuredAt: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
  settings: {
    committee: COMMITTEE,
    batchIntervalMs: BATCH_INTERVAL_MS,
    senders: SENDERS,
    transfers: TXS,
    submission: `eth_sendRawTransaction in JSON-RPC batches of ${BATCH_SIZE}, ${IN_FLIGHT} in flight, to operator 1`,
    inclusion: "eth_getBlockByNumber at operator 1, every 50 ms",
    waitMs: WAIT_MS,
    drainMs: DRAIN_MS,
    idleMs: IDLE_MS,
    failovers: FAILOVERS,
    validationPasses: VALIDATION_PASSES,
  },
  rows,
  decideSeconds: { idle: histogramJson(committee.idle), underLoad: histogramJson(committee.loaded) },
  exactDecideMs: { idle: committee.exactIdle, underLoad: committee.exactLoaded },
  failoverMs: failover.failoverMs,
  blocks: { n1: single.blocks, n4: committee.load.blocks },
  validation: { envelopeCheck: committee.validation, withQbftSignatures: committee.validationQbft },
  committeeAfterLoad: committee.afterLoad,
  edrAlone: edr.profiles,
});
console.log(`\nwritten ${out}`);
