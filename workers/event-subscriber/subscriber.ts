/**
 * The event-subscriber: the only component that reads Veilnet's L1 logs. It follows the chain at a
 * confirmation depth with block-range eth_getLogs over all the deployment's contracts, turns the logs into
 * typed domain events and enqueues them (job id `eventJobId(ref)`, so re-delivery is idempotent), and
 * saves its checkpoint in Redis only after a range's jobs are enqueued: a crash re-delivers the range,
 * a restart resumes where it stopped.
 *
 * Reorgs are detected by parent hash (the first block of a range must descend from the checkpoint) and by
 * the checkpoint's hash no longer being on the chain. The subscriber then finds the common ancestor among
 * the recent block hashes it kept, enqueues a compensation job (`removed: true`, newest event first) for
 * every event it delivered from the abandoned blocks, rewinds its checkpoint to the ancestor and delivers
 * the new branch.
 */
import type { Queue } from "bullmq";
import type { JsonRpcApiProvider } from "ethers";
import type { Redis } from "ioredis";
import type { Registry } from "prom-client";

import { type EventJob, eventJobId } from "../../platform/events.js";
import type { Logger } from "../../platform/logger.js";
import {
  EVENT_ROUTES,
  type EventRoutes,
  type QueueName,
  type QueueSettings,
  createQueue,
} from "../../platform/queues.js";
import type { Service } from "../../platform/service.js";
import { type Checkpoint, CheckpointStore } from "./checkpoint.js";
import { type EventSourceAddresses, LogDecoder, type RawLog } from "./decode.js";
import { type SubscriberMetrics, subscriberMetrics } from "./metrics.js";
import { type BlockHeader, L1Reader, SubscriberStoppedError, isRangeTooLarge } from "./rpc.js";

export interface SubscriberOptions {
  /** Blocks on top of a block before its logs are delivered (0: up to the head). */
  confirmations: number;
  /** Most blocks per eth_getLogs call. */
  blockRange: number;
  /** Pause between polls once caught up (ms); also the base of the backoff after a failed poll. */
  pollIntervalMs: number;
  /** Recent processed blocks whose hashes and delivered events are kept (reorgs deeper than this are not undone). */
  reorgHistory: number;
  /** Time limit of one JSON-RPC call (ms). */
  rpcTimeoutMs: number;
  /** Attempts of one JSON-RPC call within a poll before the poll fails. */
  rpcAttempts: number;
  /** First delay between attempts of a JSON-RPC call (ms), doubling. */
  rpcRetryDelayMs: number;
  /** Longest pause after failed polls (ms). */
  maxBackoffMs: number;
  /** health() fails when no poll succeeded for this long (default: 10 poll intervals, at least 30 s). */
  healthStaleMs?: number;
  /** Queues events are delivered to (default: every queue of the routes); other routes are skipped. */
  deliverTo?: readonly string[];
  /** Which queues each event type goes to (default EVENT_ROUTES: the events a worker consumes). */
  routes?: EventRoutes;
}

export const DEFAULT_SUBSCRIBER_OPTIONS: SubscriberOptions = {
  confirmations: 2,
  blockRange: 2000,
  pollIntervalMs: 1000,
  reorgHistory: 128,
  rpcTimeoutMs: 10_000,
  rpcAttempts: 5,
  rpcRetryDelayMs: 100,
  maxBackoffMs: 30_000,
};

export interface EventSubscriberDeps {
  /** L1 JSON-RPC provider (see createSubscriberProvider for one with a request timeout). */
  provider: JsonRpcApiProvider;
  chainId: number;
  /** The deployment's contract addresses. */
  addresses: EventSourceAddresses;
  /** First block to read when there is no checkpoint (the deployment block, or an override). */
  deploymentBlock: number;
  /** Connection for the checkpoint (keys under `<queues.prefix>:subscriber:<chainId>:`). */
  redis: Redis;
  queues: QueueSettings;
  logger: Logger;
  metrics: Registry;
  options?: Partial<SubscriberOptions>;
  /** Destroy `provider` on stop (when it was made for this subscriber). */
  ownsProvider?: boolean;
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

/** Queues the subscriber delivers to. */
export const EVENT_QUEUES: readonly QueueName[] = [...new Set(Object.values(EVENT_ROUTES).flat())] as QueueName[];

/** Most jobs per addBulk call (one Redis pipeline each). */
const BULK_CHUNK = 2000;
/** A poll gives up after the chain changed under it this many times in a row. */
const MAX_UNSTABLE = 5;

const lower = (h: string) => h.toLowerCase();

export class EventSubscriber implements Service {
  readonly name = "event-subscriber";
  readonly options: SubscriberOptions;

  readonly #deps: EventSubscriberDeps;
  readonly #decoder: LogDecoder;
  readonly #reader: L1Reader;
  readonly #store: CheckpointStore;
  readonly #metrics: SubscriberMetrics;
  readonly #log: Logger;
  readonly #queues = new Map<string, Queue<EventJob>>();

  /** Effective blocks per getLogs (halved when the node refuses a range as too large). */
  #range: number;
  #lock: Promise<unknown> = Promise.resolve();
  #running = false;
  #stopping = false;
  #stopped: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #current: Promise<void> | undefined;
  #failures = 0;
  #lastSuccess = Date.now();
  #lastError: string | undefined;
  #head: number | undefined;
  #checkpoint: number | undefined;

  constructor(deps: EventSubscriberDeps) {
    this.#deps = deps;
    this.options = { ...DEFAULT_SUBSCRIBER_OPTIONS, ...deps.options };
    this.#range = this.options.blockRange;
    this.#log = deps.logger;
    this.#decoder = new LogDecoder(deps.chainId, deps.addresses);
    this.#store = new CheckpointStore(deps.redis, deps.queues.prefix, deps.chainId);
    this.#metrics = subscriberMetrics(deps.metrics);
    this.#reader = new L1Reader(
      deps.provider,
      {
        timeoutMs: this.options.rpcTimeoutMs,
        attempts: this.options.rpcAttempts,
        retryDelayMs: this.options.rpcRetryDelayMs,
      },
      {
        onError: (method, error) => {
          this.#metrics.rpcErrors.inc({ method });
          this.#log.debug({ method, err: error }, "L1 RPC call failed");
        },
        stopped: () => this.#stopping,
      },
    );
  }

  /** The saved checkpoint (null before the first processed range). */
  async checkpoint(): Promise<Checkpoint | null> {
    return this.#store.load();
  }

  /** Processes every block available up to head − confirmations (undoing a reorg first if there was one). */
  async pollOnce(): Promise<PollResult> {
    return this.#exclusive(() => this.#poll());
  }

  async start(): Promise<void> {
    if (this.#running) return;
    if (this.#stopping) throw new Error("event-subscriber: cannot start again after stop()");
    this.#running = true;
    this.#lastSuccess = Date.now();
    const cp = await this.#store.load();
    this.#log.info(
      { checkpoint: cp, deploymentBlock: this.#deps.deploymentBlock, ...this.#loggedOptions() },
      cp === null ? "event-subscriber: no checkpoint, backfilling from the start block" : "event-subscriber: resuming",
    );
    this.#schedule(0);
  }

  /** Stops the loop, waits for the current poll to end, closes the queues (and the provider if owned). */
  async stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#stopping = true;
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#current;
    await this.#lock.catch(() => undefined);
    await Promise.all([...this.#queues.values()].map((q) => q.close()));
    this.#queues.clear();
    if (this.#deps.ownsProvider === true) this.#deps.provider.destroy();
  }

  async health(): Promise<{ ok: boolean; detail?: string }> {
    const limit = this.options.healthStaleMs ?? Math.max(10 * this.options.pollIntervalMs, 30_000);
    const age = Date.now() - this.#lastSuccess;
    const at = `checkpoint ${this.#checkpoint ?? "none"}, head ${this.#head ?? "unknown"}`;
    if (age > limit) {
      return {
        ok: false,
        detail: `no successful poll for ${age} ms (${at}); last error: ${this.#lastError ?? "none"}`,
      };
    }
    return { ok: true, detail: at };
  }

  // ------------------------------------------------------------------------------------------------
  // Loop

  #schedule(delay: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#current = this.#tick().finally(() => (this.#current = undefined));
    }, delay);
  }

  async #tick(): Promise<void> {
    let delay = this.options.pollIntervalMs;
    try {
      await this.pollOnce();
      this.#failures = 0;
    } catch (e) {
      if (this.#stopping && e instanceof SubscriberStoppedError) return;
      this.#failures++;
      this.#lastError = e instanceof Error ? e.message : String(e);
      delay = Math.min(this.options.pollIntervalMs * 2 ** this.#failures, this.options.maxBackoffMs);
      this.#log.warn({ err: e, failures: this.#failures, retryInMs: delay }, "event-subscriber: poll failed");
    }
    if (!this.#stopping) this.#schedule(delay);
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  // ------------------------------------------------------------------------------------------------
  // Polling

  async #poll(): Promise<PollResult> {
    const { confirmations } = this.options;
    let reorged = false;
    let events = 0;
    let from: number | undefined;
    let unstable = 0;
    let head = await this.#readHead();
    let cp = await this.#loadCheckpoint();
    for (;;) {
      if (this.#stopping) throw new SubscriberStoppedError();
      const next = cp.number + 1;
      const target = head - confirmations;
      if (target < next) {
        // Caught up: the checkpoint itself may have been reorged away (same height or a shorter chain).
        if (cp.hash !== null && cp.number >= 0 && (await this.#checkpointAbandoned(cp))) {
          await this.#undoReorg(cp);
          reorged = true;
          head = await this.#readHead();
          cp = await this.#loadCheckpoint();
          continue;
        }
        break;
      }
      const to = Math.min(target, next + this.#range - 1);
      const outcome = await this.#processRange(cp, next, to, head);
      if (outcome.kind === "reorg") {
        await this.#undoReorg(cp);
        reorged = true;
      } else if (outcome.kind === "shrunk") {
        this.#log.info({ from: next, to, blocksPerCall: this.#range }, "event-subscriber: eth_getLogs range reduced");
      } else if (outcome.kind === "unstable") {
        if (++unstable > MAX_UNSTABLE) {
          throw new Error(`L1 chain keeps changing under the subscriber: ${outcome.reason}`);
        }
        this.#log.info(
          { from: next, to, reason: outcome.reason },
          "event-subscriber: chain moved during a range, retrying",
        );
      } else {
        unstable = 0;
        events += outcome.events;
        from = Math.min(from ?? next, next);
        this.#lastSuccess = Date.now();
      }
      if (outcome.kind !== "ok") head = await this.#readHead();
      cp = await this.#loadCheckpoint();
      this.#progress(cp.number, head);
    }
    this.#progress(cp.number, head);
    this.#lastSuccess = Date.now();
    return { from: from ?? cp.number + 1, to: cp.number, events, reorged };
  }

  async #readHead(): Promise<number> {
    const head = await this.#reader.blockNumber();
    this.#head = head;
    this.#metrics.headBlock.set(head);
    return head;
  }

  async #loadCheckpoint(): Promise<Checkpoint> {
    return (await this.#store.load()) ?? { number: this.#deps.deploymentBlock - 1, hash: null };
  }

  #progress(checkpoint: number, head: number): void {
    this.#checkpoint = checkpoint;
    this.#metrics.lastProcessedBlock.set(checkpoint);
    this.#metrics.lagBlocks.set(Math.max(0, head - checkpoint));
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
    if (cp.hash !== null && lower(first.parentHash) !== lower(cp.hash)) {
      this.#log.warn(
        { block: from, parentHash: first.parentHash, savedHash: cp.hash },
        "event-subscriber: parent hash mismatch, L1 reorg",
      );
      return { kind: "reorg" };
    }

    let logs: RawLog[];
    try {
      logs = await this.#reader.logs(this.#decoder.addresses, from, to);
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
    if (from > 0) hashes.set(from - 1, first.parentHash);
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
      const job = this.#decoder.decode(log);
      if (job === undefined) continue;
      jobs.push(job);
      if (n > to - history) {
        const list = byBlock.get(n);
        if (list === undefined) byBlock.set(n, [job]);
        else list.push(job);
      }
    }

    await this.#enqueue(jobs);
    await this.#store.advance({ number: to, hash: last.hash }, hashes, byBlock, to - history);
    if (this.#range < this.options.blockRange) this.#range = Math.min(this.options.blockRange, this.#range * 2);
    this.#log.debug({ from, to, events: jobs.length }, "event-subscriber: range delivered");
    return { kind: "ok", events: jobs.length };
  }

  /**
   * Undoes the blocks above the common ancestor of the saved hashes and the chain: one compensation job
   * per event delivered from them (newest first), then the checkpoint moves back to the ancestor.
   */
  async #undoReorg(cp: Checkpoint): Promise<void> {
    const saved = await this.#store.recentHashes();
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
      ancestor = { number: Math.max(lowest - 1, this.#deps.deploymentBlock - 1), hash: null };
      this.#log.error(
        { checkpoint: cp, rewindTo: ancestor.number, history: this.options.reorgHistory },
        "event-subscriber: reorg deeper than the kept block history; events of older abandoned blocks are not compensated",
      );
    }
    const delivered = await this.#store.eventsOf(abandoned);
    const removals: EventJob[] = [];
    for (const n of abandoned) {
      for (const job of [...(delivered.get(n) ?? [])].reverse()) {
        removals.push({ ref: job.ref, event: job.event, removed: true });
      }
    }
    await this.#enqueue(removals);
    await this.#store.rewind(ancestor);
    this.#metrics.reorgs.inc();
    this.#log.warn(
      { checkpoint: cp.number, ancestor: ancestor.number, abandonedBlocks: abandoned.length, removed: removals.length },
      "event-subscriber: L1 reorg undone, re-reading from the common ancestor",
    );
  }

  // ------------------------------------------------------------------------------------------------
  // Queues

  #queue(name: string): Queue<EventJob> {
    let q = this.#queues.get(name);
    if (q === undefined) {
      q = createQueue<EventJob>(name, this.#deps.queues);
      q.on("error", (err) => this.#log.error({ err, queue: name }, "event-subscriber: queue error"));
      this.#queues.set(name, q);
    }
    return q;
  }

  /** Enqueues `jobs` in order, one addBulk per queue (chunked). */
  async #enqueue(jobs: EventJob[]): Promise<void> {
    if (jobs.length === 0) return;
    const perQueue = new Map<string, { name: string; data: EventJob; opts: { jobId: string } }[]>();
    const routes = this.options.routes ?? EVENT_ROUTES;
    for (const job of jobs) {
      const jobId = eventJobId(job.ref, job.removed);
      for (const queue of routes[job.event.type] ?? []) {
        if (this.options.deliverTo !== undefined && !this.options.deliverTo.includes(queue)) continue;
        let list = perQueue.get(queue);
        if (list === undefined) perQueue.set(queue, (list = []));
        list.push({ name: job.event.type, data: job, opts: { jobId } });
      }
    }
    await Promise.all(
      [...perQueue].map(async ([name, list]) => {
        const queue = this.#queue(name);
        for (let i = 0; i < list.length; i += BULK_CHUNK) await queue.addBulk(list.slice(i, i + BULK_CHUNK));
      }),
    );
    const counts = new Map<string, { type: string; removed: string; n: number }>();
    for (const job of jobs) {
      const key = `${job.event.type}/${job.removed}`;
      const c = counts.get(key);
      if (c === undefined) counts.set(key, { type: job.event.type, removed: String(job.removed), n: 1 });
      else c.n++;
    }
    for (const { type, removed, n } of counts.values()) this.#metrics.eventsEnqueued.inc({ type, removed }, n);
  }

  #loggedOptions() {
    const { confirmations, blockRange, pollIntervalMs, reorgHistory } = this.options;
    return { confirmations, blockRange, pollIntervalMs, reorgHistory };
  }
}

/** Whether consecutive headers in `headers` link by parent hash to the known `hashes`. */
function linked(hashes: Map<number, string>, headers: Map<number, BlockHeader | null>): boolean {
  for (const [n, h] of headers) {
    const parent = hashes.get(n - 1);
    if (h !== null && parent !== undefined && lower(h.parentHash) !== lower(parent)) return false;
  }
  return true;
}
