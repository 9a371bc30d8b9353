/**
 * The L1 event follower: the path by which Veilnet's contract logs become domain events (platform/events.ts
 * names the code that reads L1 logs otherwise). It follows the chain at a confirmation depth with
 * block-range eth_getLogs over the decoder's contracts, turns the logs into typed domain events
 * (decode.ts) and hands them to a sink, and saves its checkpoint only after the sink took a range's
 * events: a crash re-delivers the range, a restart resumes where the store says.
 *
 * Reorgs are detected by parent hash (the first block of a range must descend from the checkpoint) and by
 * the checkpoint's hash no longer being on the chain. The follower then finds the common ancestor among
 * the recent block hashes it kept, delivers a compensation (`removed: true`, newest event first) for every
 * event it delivered from the abandoned blocks, rewinds its checkpoint to the ancestor and delivers the
 * new branch.
 *
 * Two users: the event-subscriber worker (workers/event-subscriber: a BullMQ sink, the checkpoint in
 * Redis) and every node's view of the operators and committees (enclave/committee/registry-view.ts: the
 * view itself is the sink, the checkpoint in memory), which must not take who may sign from Redis.
 */
import type { EventJob } from "../events.js";
import type { Logger } from "../logger.js";
import type { Checkpoint, CheckpointStore } from "./checkpoint.js";
import type { LogDecoder, RawLog } from "./decode.js";
import { type BlockHeader, FollowerStoppedError, type JsonRpcSender, L1LogReader, isRangeTooLarge } from "./rpc.js";

/** Where the follower delivers events: in chain order, compensations (newest first) before a new branch. */
export interface EventSink {
  /**
   * Takes `jobs` (never empty). The follower saves its checkpoint only after this resolves: a sink that
   * throws gets the range again at the next poll, so delivery must be idempotent (by `ref` and `removed`).
   */
  deliver(jobs: EventJob[]): Promise<void>;
}

export interface FollowerOptions {
  /** Blocks on top of a block before its logs are delivered (0: up to the head). */
  confirmations: number;
  /** Most blocks per eth_getLogs call. */
  blockRange: number;
  /** Recent processed blocks whose hashes and delivered events are kept (reorgs deeper than this are not undone). */
  reorgHistory: number;
  /** Time limit of one JSON-RPC call (ms). */
  rpcTimeoutMs: number;
  /** Attempts of one JSON-RPC call within a poll before the poll fails. */
  rpcAttempts: number;
  /** First delay between attempts of a JSON-RPC call (ms), doubling. */
  rpcRetryDelayMs: number;
}

export const DEFAULT_FOLLOWER_OPTIONS: FollowerOptions = {
  confirmations: 2,
  blockRange: 2000,
  reorgHistory: 128,
  rpcTimeoutMs: 10_000,
  rpcAttempts: 5,
  rpcRetryDelayMs: 100,
};

/** What the follower reports as it goes (metrics, health), all optional. */
export interface FollowerObserver {
  /** The head block just read. */
  head?(block: number): void;
  /** The checkpoint after a step of a poll, and the head it was made against. */
  progress?(checkpoint: number, head: number): void;
  /** A range of blocks was delivered and checkpointed. */
  delivered?(from: number, to: number, events: number): void;
  /** A reorg was undone. */
  reorg?(): void;
  /** A JSON-RPC call failed (it may be retried). */
  rpcError?(method: string, error: unknown): void;
}

export interface L1EventFollowerDeps {
  /** L1 JSON-RPC provider (one that batches concurrent calls is best). */
  provider: JsonRpcSender;
  /** Decodes the logs; its addresses are the contracts followed. */
  decoder: LogDecoder;
  store: CheckpointStore;
  sink: EventSink;
  /** First block to read when the store has no checkpoint (the deployment block, or an override). */
  startBlock: number;
  logger: Logger;
  options?: Partial<FollowerOptions>;
  observer?: FollowerObserver;
  /** Prefix of log messages and errors (default "l1-events"). */
  name?: string;
}

/** What one pollOnce() did. */
export interface PollResult {
  /** First block delivered by this poll (to + 1 when nothing was delivered). */
  from: number;
  /** The checkpoint after the poll. */
  to: number;
  /** Events delivered (compensations not counted). */
  events: number;
  /** Whether a reorg was detected and undone. */
  reorged: boolean;
}

type RangeOutcome =
  { kind: "ok"; events: number } | { kind: "reorg" } | { kind: "unstable"; reason: string } | { kind: "shrunk" };

/** A poll gives up after the chain changed under it this many times in a row. */
const MAX_UNSTABLE = 5;
/** A poll gives up after undoing this many reorgs (a chain whose blocks never link would loop forever). */
const MAX_REORGS = 8;

const lower = (s: string) => s.toLowerCase();

const ZERO_HASH = `0x${"0".repeat(64)}`;

/**
 * A parent hash that says nothing: zero. Only a genesis block has it on a real chain, but Hardhat's
 * `hardhat_mine` of many blocks reports it for the blocks it reserves; such a link is not checked.
 */
const unknownParent = (h: BlockHeader) => h.number > 0 && lower(h.parentHash) === ZERO_HASH;

export class L1EventFollower {
  readonly options: FollowerOptions;
  readonly name: string;
  readonly #deps: L1EventFollowerDeps;
  readonly #reader: L1LogReader;
  readonly #log: Logger;
  readonly #observer: FollowerObserver;
  /** Blocks per eth_getLogs call now (halved when the node refuses a range). */
  #range: number;
  #lock: Promise<unknown> = Promise.resolve();
  #stopping = false;

  constructor(deps: L1EventFollowerDeps) {
    this.#deps = deps;
    this.options = { ...DEFAULT_FOLLOWER_OPTIONS, ...deps.options };
    this.name = deps.name ?? "l1-events";
    this.#range = this.options.blockRange;
    this.#log = deps.logger;
    this.#observer = deps.observer ?? {};
    this.#reader = new L1LogReader(
      deps.provider,
      {
        timeoutMs: this.options.rpcTimeoutMs,
        attempts: this.options.rpcAttempts,
        retryDelayMs: this.options.rpcRetryDelayMs,
      },
      {
        onError: (method, error) => this.#observer.rpcError?.(method, error),
        stopped: () => this.#stopping,
        name: this.name,
      },
    );
  }

  /** The saved checkpoint (null before the first processed range). */
  async checkpoint(): Promise<Checkpoint | null> {
    return this.#deps.store.load();
  }

  /**
   * Processes every block available up to head − confirmations (undoing a reorg first if there was one).
   * Polls never overlap: a call made during another waits for it.
   */
  async pollOnce(): Promise<PollResult> {
    const run = this.#lock.then(
      () => this.#poll(),
      () => this.#poll(),
    );
    this.#lock = run.catch(() => undefined);
    return run;
  }

  /** Stops: the running poll ends at its next RPC call (FollowerStoppedError), later polls fail at once. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#lock.catch(() => undefined);
  }

  async #poll(): Promise<PollResult> {
    const { confirmations } = this.options;
    let reorged = false;
    let events = 0;
    let from: number | undefined;
    let unstable = 0;
    let reorgs = 0;
    const undo = async (cp: Checkpoint) => {
      if (++reorgs > MAX_REORGS) throw new Error(`L1 chain keeps reorganizing under the ${this.name}`);
      await this.#undoReorg(cp);
      reorged = true;
    };
    let head = await this.#readHead();
    let cp = await this.#loadCheckpoint();
    for (;;) {
      if (this.#stopping) throw new FollowerStoppedError(this.name);
      const next = cp.number + 1;
      const target = head - confirmations;
      if (target < next) {
        // Caught up: the checkpoint itself may have been reorged away (same height or a shorter chain).
        if (cp.hash !== null && cp.number >= 0 && (await this.#checkpointAbandoned(cp))) {
          await undo(cp);
          head = await this.#readHead();
          cp = await this.#loadCheckpoint();
          continue;
        }
        break;
      }
      const to = Math.min(target, next + this.#range - 1);
      const outcome = await this.#processRange(cp, next, to, head);
      if (outcome.kind === "reorg") await undo(cp);
      else if (outcome.kind === "shrunk") {
        this.#log.info({ from: next, to, blocksPerCall: this.#range }, `${this.name}: eth_getLogs range reduced`);
      } else if (outcome.kind === "unstable") {
        if (++unstable > MAX_UNSTABLE) {
          throw new Error(`L1 chain keeps changing under the ${this.name}: ${outcome.reason}`);
        }
        this.#log.info(
          { from: next, to, reason: outcome.reason },
          `${this.name}: chain moved during a range, retrying`,
        );
      } else {
        unstable = 0;
        events += outcome.events;
        from = Math.min(from ?? next, next);
        this.#observer.delivered?.(next, to, outcome.events);
      }
      if (outcome.kind !== "ok") head = await this.#readHead();
      cp = await this.#loadCheckpoint();
      this.#observer.progress?.(cp.number, head);
    }
    this.#observer.progress?.(cp.number, head);
    return { from: from ?? cp.number + 1, to: cp.number, events, reorged };
  }

  async #readHead(): Promise<number> {
    const head = await this.#reader.blockNumber();
    this.#observer.head?.(head);
    return head;
  }

  async #loadCheckpoint(): Promise<Checkpoint> {
    return (await this.#deps.store.load()) ?? { number: this.#deps.startBlock - 1, hash: null };
  }

  async #checkpointAbandoned(cp: Checkpoint): Promise<boolean> {
    const onChain = (await this.#reader.headers([cp.number])).get(cp.number);
    return onChain === null || onChain === undefined || lower(onChain.hash) !== lower(cp.hash ?? "");
  }

  /**
   * Delivers the domain events of blocks [from, to]. Reads the range's end headers before and after
   * eth_getLogs: when the end block changed in between, the logs may come from another branch, and the
   * range is read again. Headers of the blocks within `reorgHistory` of the head are fetched (one batch)
   * for the hash history; elsewhere the hashes come from the logs themselves.
   */
  async #processRange(cp: Checkpoint, from: number, to: number, head: number): Promise<RangeOutcome> {
    const history = this.options.reorgHistory;
    const before = await this.#reader.headers([from, to]);
    const first = before.get(from);
    const last = before.get(to);
    if (first == null || last == null) return { kind: "unstable", reason: `block ${to} is not on the chain` };
    if (cp.hash !== null && !unknownParent(first) && lower(first.parentHash) !== lower(cp.hash)) {
      this.#log.warn(
        { block: from, parentHash: first.parentHash, savedHash: cp.hash },
        `${this.name}: parent hash mismatch, L1 reorg`,
      );
      return { kind: "reorg" };
    }

    let logs: RawLog[];
    try {
      logs = await this.#reader.logs(this.#deps.decoder.addresses, from, to);
    } catch (e) {
      if (to > from && isRangeTooLarge(e)) {
        this.#range = Math.max(1, Math.floor((to - from + 1) / 2));
        return { kind: "shrunk" };
      }
      throw e;
    }

    const tail: number[] = [to];
    for (let n = Math.max(from + 1, to - history + 1, head - history + 1); n < to; n++) tail.push(n);
    const after = await this.#reader.headers(tail);
    // The parent of the range's first block is kept too: after a fresh start it is the common ancestor
    // a reorg of the first blocks rewinds to.
    const hashes = new Map<number, string>();
    if (from > 0 && !unknownParent(first)) hashes.set(from - 1, first.parentHash);
    hashes.set(from, first.hash);
    hashes.set(to, last.hash);
    for (const [n, h] of after) {
      if (h === null) return { kind: "unstable", reason: `block ${n} is not on the chain` };
      if (n === to && lower(h.hash) !== lower(last.hash)) return { kind: "unstable", reason: `block ${to} changed` };
      hashes.set(n, h.hash);
    }
    if (!linked(hashes, after)) return { kind: "unstable", reason: "headers do not link" };

    logs.sort((a, b) => Number(a.blockNumber) - Number(b.blockNumber) || Number(a.logIndex) - Number(b.logIndex));
    const jobs: EventJob[] = [];
    const byBlock = new Map<number, EventJob[]>();
    for (const log of logs) {
      if (log.removed === true) continue;
      const n = Number(log.blockNumber);
      const known = hashes.get(n);
      if (known === undefined) hashes.set(n, log.blockHash);
      else if (lower(known) !== lower(log.blockHash)) return { kind: "unstable", reason: `log of block ${n} changed` };
      const job = this.#deps.decoder.decode(log);
      if (job === undefined) continue;
      jobs.push(job);
      if (n > to - history) {
        const list = byBlock.get(n);
        if (list === undefined) byBlock.set(n, [job]);
        else list.push(job);
      }
    }

    if (jobs.length > 0) await this.#deps.sink.deliver(jobs);
    await this.#deps.store.advance({ number: to, hash: last.hash }, hashes, byBlock, to - history);
    if (this.#range < this.options.blockRange) this.#range = Math.min(this.options.blockRange, this.#range * 2);
    this.#log.debug({ from, to, events: jobs.length }, `${this.name}: range delivered`);
    return { kind: "ok", events: jobs.length };
  }

  /**
   * Undoes the blocks above the common ancestor of the saved hashes and the chain: one compensation per
   * event delivered from them (newest first), then the checkpoint moves back to the ancestor.
   */
  async #undoReorg(cp: Checkpoint): Promise<void> {
    const saved = await this.#deps.store.recentHashes();
    const numbers = [...saved.keys()].sort((a, b) => b - a);
    const chain = await this.#reader.headers(numbers);
    let ancestor: Checkpoint | undefined;
    const abandoned: number[] = [];
    for (const n of numbers) {
      const onChain = chain.get(n);
      if (onChain != null && lower(onChain.hash) === lower(saved.get(n)!)) {
        ancestor = { number: n, hash: onChain.hash };
        break;
      }
      abandoned.push(n);
    }
    if (ancestor === undefined) {
      const lowest = numbers.at(-1) ?? cp.number;
      ancestor = { number: Math.max(lowest - 1, this.#deps.startBlock - 1), hash: null };
      this.#log.error(
        { checkpoint: cp, rewindTo: ancestor.number, history: this.options.reorgHistory },
        `${this.name}: reorg deeper than the kept block history; events of older abandoned blocks are not compensated`,
      );
    }
    const delivered = await this.#deps.store.eventsOf(abandoned);
    const removals: EventJob[] = [];
    for (const n of abandoned) {
      for (const job of [...(delivered.get(n) ?? [])].reverse()) {
        removals.push({ ref: job.ref, event: job.event, removed: true });
      }
    }
    if (removals.length > 0) await this.#deps.sink.deliver(removals);
    await this.#deps.store.rewind(ancestor);
    this.#observer.reorg?.();
    this.#log.warn(
      { checkpoint: cp.number, ancestor: ancestor.number, abandonedBlocks: abandoned.length, removed: removals.length },
      `${this.name}: L1 reorg undone, re-reading from the common ancestor`,
    );
  }
}

/** Whether consecutive headers in `headers` link by parent hash to the known `hashes`. */
function linked(hashes: Map<number, string>, headers: Map<number, BlockHeader | null>): boolean {
  for (const [n, h] of headers) {
    const parent = hashes.get(n - 1);
    if (h !== null && parent !== undefined && !unknownParent(h) && lower(h.parentHash) !== lower(parent)) return false;
  }
  return true;
}
