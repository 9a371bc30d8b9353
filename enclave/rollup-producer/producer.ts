/**
 * The rollup-producer (DESIGN §4): turns the enclave's sealed batches into rollups on L1.
 *
 * L1 is the only record of what has landed: every round starts from RollupRegistry.nextBatchSeq(), so a
 * restart, a rollup landed by someone else, or a reorg that removed a landed rollup needs no local
 * bookkeeping (there is no "submitted" flag that could lie). A round:
 *
 * 1. reads nextBatchSeq and the sealed batches from there (at most `maxBatchesPerRollup`);
 * 2. decides: the payload of those batches reaches `maxRollupBytes` (→ the longest run of them that fits,
 *    or a lone batch that is bigger by itself), or there are `maxBatchesPerRollup` of them, or the oldest
 *    has waited `rollupIntervalMs` (→ all of them); otherwise it waits. Either way the rollup stays
 *    within RollupRegistry's batch bounds (at most MAX_BATCHES_PER_ROLLUP = 1,024 batches, and at most
 *    one per payload byte: a run of empty batches that compresses below that is split);
 * 3. binds the rollup to L1 block head − `bindingDepth` (number and hash), chains it to L1's
 *    lastBatchHash, and has the enclave build it (compressed, encrypted under the epoch key, signed by
 *    the enclave as a committee of one: members = [its address], bitmap = 1);
 * 4. sends addRollup through the TxSender under the key `rollup-<chainId>-<first>-<last>-<bindingHash>`, done as soon as L1's nextBatchSeq has
 *    passed the first batch (whoever landed it). Its L2→L1 messages need no copy: every node serves
 *    them from its own chain (enclave/rpc/withdrawals.ts).
 *
 * A guardian rejection reopens the sequence on L1 (nextBatchSeq goes back to the rejected rollup's first
 * batch): the next round reads it and posts those batches again, like after a reorg.
 *
 * One rollup is in flight at a time (a round awaits its transaction). A binding block reorged away or
 * grown too old (BindingBlockHashMismatch / BindingBlockTooOld / BindingBlockNotMined) makes the next
 * round build the rollup again on a new binding; BatchSequenceGap or PreviousBatchHashMismatch means
 * another rollup landed first (the next round re-reads L1). Any other failure is logged and the round retried with backoff: batches
 * are never dropped, since the next round starts from L1 again.
 */
import type { Provider, TypedDataDomain } from "ethers";
import type { Registry } from "prom-client";

import type { SealedBatch } from "../rollup/batch.js";
import { type BuiltRollup, type L1Binding, type RollupSigningEnclave, buildRollup } from "../rollup/builder.js";
import { compress, encodeRollupContent } from "../rollup/codec.js";
import {
  type CommitteeSignatures,
  MAX_BATCHES_PER_ROLLUP,
  encodeAddRollup,
  maxBatchesFor,
  rollupRegistryDomain,
} from "../../protocol/rollup.js";
import type { VeilnetContracts } from "../../platform/chain.js";
import type { Logger } from "../../platform/logger.js";
import { RoundLoop } from "../../platform/rounds.js";
import type { Service } from "../../platform/service.js";
import { TxRevertedError, type TxIntent, type TxOutcome } from "../../platform/tx-sender/types.js";
import { type RollupProducerMetrics, rollupProducerMetrics } from "./metrics.js";

/** Where the producer reads sealed batches (the sequencer). */
export interface SealedBatchSource {
  /** Sealed batches from `from` on, consecutive, at most `max` (fewer or none if not sealed yet). */
  sealedBatches(from: bigint, max: number): Promise<SealedBatch[]>;
}

/** What the producer needs to write to L1: the TxSender's `send` (one nonce owner per key). */
export interface RollupWriter {
  send(intent: TxIntent): Promise<TxOutcome>;
}

export interface RollupProducerSettings {
  /** Time threshold: a rollup is submitted once its oldest batch has waited this long, ms. */
  rollupIntervalMs: number;
  /** Size threshold: payload bytes (compressed and encrypted) at which a rollup is submitted at once. */
  maxRollupBytes: number;
  /** The binding block is the L1 head minus this many blocks. */
  bindingDepth: number;
  /** Pause between rounds when there is nothing to do, ms. */
  pollMs: number;
  /** Most batches in one rollup (and read per round). Default 1000, at most MAX_BATCHES_PER_ROLLUP (1,024). */
  maxBatchesPerRollup?: number;
  /** Longest pause after failed rounds (the pause doubles from `pollMs`), ms. Default 30 000. */
  maxBackoffMs?: number;
  /** health() reports a failure once this many rounds in a row failed. Default 5. */
  unhealthyAfter?: number;
  /**
   * A committee member's turn: how much longer than the thresholds this producer waits before it
   * submits the rollup starting at `firstBatchSeq` (0 for the member whose turn it is, a multiple of
   * the failover delay for the others, so they post only when it does not). Default: no wait.
   */
  turnDelayMs?: (firstBatchSeq: bigint) => number;
}

export interface RollupProducerDeps {
  chainId: number;
  source: SealedBatchSource;
  enclave: RollupSigningEnclave;
  writer: RollupWriter;
  /** The deployment's contracts, read-only (only the RollupRegistry is used). */
  contracts: Pick<VeilnetContracts, "rollupRegistry">;
  /** Reads the L1 head and the binding block. */
  provider: Provider;
  logger: Logger;
  metrics: Registry;
  settings: RollupProducerSettings;
  /** Wall clock in ms (tests pass their own). */
  clock?: () => number;
  /**
   * A committee member's rollups need a quorum of the committee's signatures (enclave/committee/
   * cosigner.ts): gathers them for `built` (its own included), or rejects — with RollupSupersededError
   * once `landed()` says another rollup took its place. Default: the enclave alone (a committee of one).
   */
  cosign?: (built: BuiltRollup, landed: () => Promise<boolean>) => Promise<CommitteeSignatures>;
}

/** A rollup the producer built and sent. */
export interface SentRollup {
  hash: string;
  firstBatchSeq: bigint;
  lastBatchSeq: bigint;
  batches: number;
  /** Payload bytes (compressed and encrypted). */
  bytes: number;
  binding: L1Binding;
  /** The TxSender intent key. */
  key: string;
}

/** What one round did. */
export type ProducerRound =
  /** No sealed batch beyond what L1 holds. */
  | { kind: "idle"; nextBatchSeq: bigint }
  /** Batches below both thresholds: the time threshold is reached in `waitMs`. */
  | { kind: "waiting"; nextBatchSeq: bigint; batches: number; waitMs: number }
  /** The rollup is on L1: mined now, or `already-done` (an earlier run or someone else landed it). */
  | { kind: "landed"; rollup: SentRollup; outcome: TxOutcome }
  /** The binding block was reorged away or is too old: the next round builds the rollup again. */
  | { kind: "rebind"; rollup: SentRollup; reason: string }
  /** Another rollup took the sequence first (BatchSequenceGap): the next round re-reads L1. */
  | { kind: "superseded"; rollup: SentRollup; reason: string };

/** Key of the TxSender intent submitting batches `first`…`last` bound to `bindingHash` (no ":"). */
export function rollupIntentKey(chainId: number, first: bigint, last: bigint, bindingHash: string): string {
  return `rollup-${chainId}-${first}-${last}-${bindingHash.toLowerCase()}`;
}

/** Matches `rollupIntentKey`: groups chain id, first and last batch, binding hash. */
export const ROLLUP_INTENT_KEY = /^rollup-(\d+)-(\d+)-(\d+)-(0x[0-9a-f]{64})$/;

/** A rollup being signed was overtaken: L1 accepted another one for its first batch. */
export class RollupSupersededError extends Error {
  constructor(firstBatchSeq: bigint) {
    super(`L1 moved past batch ${firstBatchSeq} while the committee signed the rollup starting there`);
    this.name = "RollupSupersededError";
  }
}

/** The source broke its contract (a gap, or batches not starting where asked). */
export class BatchSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BatchSourceError";
  }
}

/** addRollup reverts meaning the binding block is no longer usable: bind again. */
const BINDING_ERRORS = new Set(["BindingBlockHashMismatch", "BindingBlockTooOld", "BindingBlockNotMined"]);
/** Version byte, AES-GCM nonce and tag around the compressed content (codec.ts). */
const PAYLOAD_OVERHEAD = 1 + 12 + 16;

/** Most bytes brotli can make of `n` bytes (stored meta-blocks cost a few bytes each; measured: +5 per MB). */
function compressedAtMost(n: number): number {
  return n + 16 + 4 * Math.ceil(n / 65_536);
}

/** The first of `batches`: a rollup holds at least one batch, and the producer never builds an empty one. */
function firstBatch(batches: readonly SealedBatch[]): SealedBatch {
  const [first] = batches;
  if (first === undefined) throw new Error("a rollup needs at least one batch, got none");
  return first;
}

function contentOf(batches: readonly SealedBatch[]) {
  return {
    firstSeq: firstBatch(batches).seq,
    batches: batches.map((b) => ({
      timestamp: b.timestamp,
      l1BaseFee: b.l1BaseFee,
      l1MessagesTo: b.l1MessagesTo,
      txs: b.txs,
    })),
  };
}

export class RollupProducer implements Service {
  readonly name = "rollup-producer";
  private readonly log: Logger;
  private readonly metrics: RollupProducerMetrics;
  private readonly settings: Required<RollupProducerSettings>;
  private readonly now: () => number;
  private domain?: TypedDataDomain;
  /** The oldest batch not on L1 and when this producer first saw it. */
  private oldest?: { seq: bigint; seenAt: number };
  /** Exact payload sizes of runs from the oldest batch, by `<first seq>-<count>` (compressing is slow). */
  private sizes = new Map<string, number>();
  /** L1's nextBatchSeq as last read (to notice rollups reorged out of L1). */
  private landed?: bigint;
  private readonly loop = new RoundLoop(() => this.step());
  /** Rounds in a row that failed (errors and rebinds), and those that threw (for the backoff). */
  private failures = 0;
  private errors = 0;
  private lastError?: string;

  constructor(private readonly deps: RollupProducerDeps) {
    this.log = deps.logger.child({ service: this.name });
    this.metrics = rollupProducerMetrics(deps.metrics);
    this.settings = {
      maxBatchesPerRollup: 1000,
      maxBackoffMs: 30_000,
      unhealthyAfter: 5,
      turnDelayMs: () => 0,
      ...deps.settings,
    };
    this.now = deps.clock ?? Date.now;
    if (this.settings.maxRollupBytes <= PAYLOAD_OVERHEAD) {
      throw new Error(`maxRollupBytes ${this.settings.maxRollupBytes} is too small to hold a rollup`);
    }
    if (this.settings.bindingDepth < 0) throw new Error("bindingDepth must not be negative");
    const maxBatches = this.settings.maxBatchesPerRollup;
    if (!Number.isInteger(maxBatches) || maxBatches < 1 || maxBatches > MAX_BATCHES_PER_ROLLUP) {
      throw new Error(
        `maxBatchesPerRollup must be 1…${MAX_BATCHES_PER_ROLLUP} (RollupRegistry.MAX_BATCHES_PER_ROLLUP)`,
      );
    }
  }

  /** Starts the loop of rounds (the first one at once). */
  start(): Promise<void> {
    if (this.loop.start()) {
      this.log.info(this.settings, "rollup-producer started");
    }
    return Promise.resolve();
  }

  /** Stops after the current round (which may be waiting for its transaction). */
  async stop(): Promise<void> {
    if (await this.loop.stop()) this.log.info("rollup-producer stopped");
  }

  /** Healthy unless the last `unhealthyAfter` rounds all failed (threw, or lost their binding block). */
  health(): Promise<{ ok: boolean; detail?: string }> {
    if (this.failures >= this.settings.unhealthyAfter) {
      return Promise.resolve({ ok: false, detail: `last ${this.failures} rollup rounds failed: ${this.lastError}` });
    }
    return Promise.resolve({ ok: true });
  }

  /** One round of the loop; never throws. Returns the pause before the next one. */
  private async step(): Promise<number> {
    const { pollMs, maxBackoffMs } = this.settings;
    try {
      const round = await this.round();
      this.errors = 0;
      if (round.kind === "rebind") {
        this.failures++;
        this.lastError = round.reason;
        return pollMs;
      }
      this.failures = 0;
      if (round.kind === "landed") return 0; // more may be ready
      if (round.kind === "waiting") return Math.min(pollMs, round.waitMs);
      return pollMs;
    } catch (err) {
      this.failures++;
      this.errors++;
      this.lastError = (err as Error).message;
      this.metrics.failures.inc();
      const delay = Math.min(maxBackoffMs, pollMs * 2 ** (this.errors - 1));
      this.log.error({ err, failures: this.failures, retryInMs: delay }, "rollup round failed; retrying");
      return delay;
    }
  }

  /**
   * One round: reads L1, submits a rollup if a threshold is reached and waits for it. Throws on RPC
   * failures and unexpected reverts (nothing is lost: the next round starts from L1 again). The loop of
   * start() calls it; tests and tools may call it directly instead (never two at once).
   */
  round(): Promise<ProducerRound> {
    return this.loop.exclusive("a rollup round is already running (one rollup in flight at a time)", () =>
      this.roundOnce(),
    );
  }

  private async roundOnce(): Promise<ProducerRound> {
    const registry = this.deps.contracts.rollupRegistry;
    const next = await registry.nextBatchSeq();
    this.observeLanded(next);
    const batches = await this.deps.source.sealedBatches(next, this.settings.maxBatchesPerRollup);
    batches.forEach((b, i) => {
      if (b.seq !== next + BigInt(i)) {
        throw new BatchSourceError(`batch source returned batch ${b.seq} at position ${i} of a read from ${next}`);
      }
    });
    if (batches.length === 0) {
      this.oldest = undefined;
      return { kind: "idle", nextBatchSeq: next };
    }
    const decision = await this.decide(batches);
    if ("waitMs" in decision) return { kind: "waiting", nextBatchSeq: next, batches: batches.length, ...decision };
    return this.submit(batches.slice(0, await this.withinBatchBound(batches, decision.take)));
  }

  /** How many of `batches` to roll up now, or how long until the time threshold. */
  private async decide(batches: readonly SealedBatch[]): Promise<{ take: number } | { waitMs: number }> {
    const first = firstBatch(batches);
    const now = this.now();
    if (this.oldest?.seq !== first.seq) {
      this.oldest = { seq: first.seq, seenAt: now };
      this.sizes.clear();
    }
    const max = this.settings.maxRollupBytes;
    const turn = this.settings.turnDelayMs(first.seq);
    const sizeReached =
      batches.length >= this.settings.maxBatchesPerRollup ||
      (!this.surelyBelow(batches, max) && (await this.payloadBytes(batches)) >= max);
    // The batch's own timestamp counts too: after a restart, batches sealed long ago go out at once.
    const since = Math.min(this.oldest.seenAt, Number(first.timestamp) * 1000);
    const waited = now - since;
    if (sizeReached && waited >= turn) return { take: await this.longestFitting(batches, max) };
    if (waited >= this.settings.rollupIntervalMs + turn) return { take: batches.length };
    return { waitMs: (sizeReached ? turn : this.settings.rollupIntervalMs + turn) - waited };
  }

  /** Whether the payload of `batches` is certainly below `max` bytes (without compressing). */
  private surelyBelow(batches: readonly SealedBatch[], max: number): boolean {
    return compressedAtMost(encodeRollupContent(contentOf(batches)).length) + PAYLOAD_OVERHEAD < max;
  }

  /** The exact payload size of `batches` (the codec's compression; encryption adds a fixed overhead). */
  private async payloadBytes(batches: readonly SealedBatch[]): Promise<number> {
    const key = `${firstBatch(batches).seq}-${batches.length}`;
    let size = this.sizes.get(key);
    if (size === undefined) {
      size = (await compress(encodeRollupContent(contentOf(batches)))).length + PAYLOAD_OVERHEAD;
      this.sizes.set(key, size);
    }
    return size;
  }

  /** The longest run from the first batch whose payload fits in `max` (at least the first batch). */
  private async longestFitting(batches: readonly SealedBatch[], max: number): Promise<number> {
    const fits = async (n: number) =>
      this.surelyBelow(batches.slice(0, n), max) || (await this.payloadBytes(batches.slice(0, n))) <= max;
    if (await fits(batches.length)) return batches.length;
    let lo = 0; // fits (0: vacuously)
    let hi = batches.length; // does not fit
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (await fits(mid)) lo = mid;
      else hi = mid;
    }
    if (lo === 0)
      this.log.warn(
        { seq: firstBatch(batches).seq.toString(), maxRollupBytes: max },
        "a single batch exceeds maxRollupBytes: submitting it alone",
      );
    return Math.max(lo, 1);
  }

  /**
   * At most `take` of `batches`, as many as RollupRegistry accepts in one calldata rollup: one batch per
   * payload byte at most (empty batches compress to about 1.24 bytes each, so this rarely bites).
   */
  private async withinBatchBound(batches: readonly SealedBatch[], take: number): Promise<number> {
    let n = take;
    // Below PAYLOAD_OVERHEAD batches the payload is always long enough (it has that many bytes of overhead).
    while (n > PAYLOAD_OVERHEAD) {
      const allowed = maxBatchesFor(await this.payloadBytes(batches.slice(0, n)));
      if (n <= allowed) break;
      n = Math.max(PAYLOAD_OVERHEAD, Math.min(n - 1, allowed));
    }
    if (n < take) {
      this.log.info(
        { seq: firstBatch(batches).seq.toString(), take, n },
        "batches compress below a byte each: splitting",
      );
    }
    return n;
  }

  /**
   * L1's nextBatchSeq went down: the guardian rejected a rollup (the sequence reopens at its first batch)
   * or rollups we saw land were reorged out of L1. Either way their batches are built and posted again.
   */
  private observeLanded(next: bigint): void {
    if (this.landed !== undefined && next < this.landed) {
      this.metrics.resubmissions.inc({ reason: "reorged-out" }); // also after a rejection (L1 alone cannot tell)
      this.log.warn(
        { nextBatchSeq: next.toString(), before: this.landed.toString() },
        "L1's batch sequence went back (a rejected rollup, or a reorg): submitting those batches again",
      );
    }
    this.landed = next;
    this.metrics.lastLanded.set(Number(next) - 1);
  }

  private async submit(batches: SealedBatch[]): Promise<ProducerRound> {
    const { chainId, contracts, enclave, writer } = this.deps;
    const registry = contracts.rollupRegistry;
    // Not older than the L1 blocks the batches' deposits come from (validators check it).
    const binding = await this.binding(batches.reduce((max, b) => (b.l1Block > max ? b.l1Block : max), 0n));
    this.domain ??= rollupRegistryDomain(BigInt(chainId), await registry.getAddress());
    const built = await buildRollup({
      enclave,
      batches,
      binding,
      domain: this.domain,
      previousBatchHash: await registry.lastBatchHash(),
    });
    const { header } = built;
    const rollup: SentRollup = {
      hash: built.hash,
      firstBatchSeq: header.firstBatchSeq,
      lastBatchSeq: header.lastBatchSeq,
      batches: batches.length,
      bytes: (built.payload.length - 2) / 2,
      binding,
      key: rollupIntentKey(chainId, header.firstBatchSeq, header.lastBatchSeq, binding.hash),
    };
    const fields = {
      key: rollup.key,
      rollupHash: rollup.hash,
      first: rollup.firstBatchSeq.toString(),
      last: rollup.lastBatchSeq.toString(),
      bytes: rollup.bytes,
      binding: binding.number.toString(),
      messages: built.messages.length,
    };
    const landed = async () => (await registry.nextBatchSeq()) > header.firstBatchSeq;
    let committee = built.committee;
    if (this.deps.cosign !== undefined) {
      try {
        committee = await this.deps.cosign(built, landed);
      } catch (e) {
        if (e instanceof RollupSupersededError) {
          this.log.info({ ...fields, reason: e.message }, "another rollup landed first: reading L1 again");
          return { kind: "superseded", rollup, reason: e.message };
        }
        throw e;
      }
    }
    this.log.info(fields, "submitting rollup");
    const started = this.now();
    let outcome: TxOutcome;
    try {
      outcome = await writer.send({
        key: rollup.key,
        to: await registry.getAddress(),
        data: encodeAddRollup(header, built.payload, committee),
        alreadyDone: async () => (await registry.nextBatchSeq()) > header.firstBatchSeq,
      });
    } catch (e) {
      if (!(e instanceof TxRevertedError) || e.errorName === undefined) throw e;
      if (BINDING_ERRORS.has(e.errorName)) {
        this.metrics.resubmissions.inc({ reason: e.errorName });
        this.log.warn(
          { ...fields, reason: e.reason },
          "binding block reorged away or too old: building the rollup again",
        );
        return { kind: "rebind", rollup, reason: e.reason };
      }
      if (e.errorName === "BatchSequenceGap" || e.errorName === "PreviousBatchHashMismatch") {
        this.log.info({ ...fields, reason: e.reason }, "another rollup landed first: reading L1 again");
        return { kind: "superseded", rollup, reason: e.reason };
      }
      throw e;
    }
    if (outcome.status === "mined") {
      this.landed = header.lastBatchSeq + 1n;
      this.metrics.lastLanded.set(Number(header.lastBatchSeq));
      this.metrics.submitted.inc();
      this.metrics.batches.observe(rollup.batches);
      this.metrics.bytes.observe(rollup.bytes);
      this.metrics.latency.observe((this.now() - started) / 1000);
      this.log.info({ ...fields, tx: outcome.hash, block: outcome.blockNumber }, "rollup landed");
    } else {
      this.log.info(fields, "rollup already on L1 (an earlier run or another producer landed it)");
    }
    return { kind: "landed", rollup, outcome };
  }

  /** The L1 block the rollup binds to: head − bindingDepth, but not before `atLeast`. */
  private async binding(atLeast: bigint): Promise<L1Binding> {
    const provider = this.deps.provider;
    const head = await provider.getBlock("latest");
    if (head === null) throw new Error("L1 returned no latest block");
    const number = Math.min(head.number, Math.max(0, head.number - this.settings.bindingDepth, Number(atLeast)));
    const block = number === head.number ? head : await provider.getBlock(number);
    if (block?.hash == null) throw new Error(`L1 block ${number} is not available`);
    return { number: BigInt(number), hash: block.hash };
  }
}
