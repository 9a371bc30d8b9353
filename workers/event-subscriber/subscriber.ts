/**
 * The event-subscriber worker: the L1 event follower (platform/l1-events/follower.ts: confirmation depth,
 * block ranges, reorg detection and compensation) run as a service over the deployment's contracts, with
 * its checkpoint in Redis (checkpoint.ts) and a BullMQ sink (sink.ts) that enqueues each event for the
 * workers its type is routed to (job id `eventJobId(ref)`, so re-delivery is idempotent). The checkpoint
 * is saved only after a range's jobs are enqueued: a crash re-delivers the range, a restart resumes
 * where it stopped. This file adds the loop (poll, pause, back off after failures), health and metrics.
 */
import type { JsonRpcApiProvider } from "ethers";
import type { Redis } from "ioredis";
import type { Registry } from "prom-client";

import type { Checkpoint } from "../../platform/l1-events/checkpoint.js";
import {
  DEFAULT_FOLLOWER_OPTIONS,
  type FollowerOptions,
  L1EventFollower,
  type PollResult,
} from "../../platform/l1-events/follower.js";
import { FollowerStoppedError } from "../../platform/l1-events/rpc.js";
import type { Logger } from "../../platform/logger.js";
import { EVENT_ROUTES, type EventRoutes, type QueueName, type QueueSettings } from "../../platform/queues.js";
import type { Service } from "../../platform/service.js";
import { RedisCheckpointStore } from "./checkpoint.js";
import { LogDecoder, type WorkerEventSourceAddresses } from "./decode.js";
import { type SubscriberMetrics, subscriberMetrics } from "./metrics.js";
import { BullMqSink } from "./sink.js";

export type { PollResult } from "../../platform/l1-events/follower.js";

export interface SubscriberOptions extends FollowerOptions {
  /** Pause between polls once caught up (ms); also the base of the backoff after a failed poll. */
  pollIntervalMs: number;
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
  ...DEFAULT_FOLLOWER_OPTIONS,
  pollIntervalMs: 1000,
  maxBackoffMs: 30_000,
};

export interface EventSubscriberDeps {
  /** L1 JSON-RPC provider (see createSubscriberProvider for one with a request timeout). */
  provider: JsonRpcApiProvider;
  chainId: number;
  /** The deployment's contract addresses. */
  addresses: WorkerEventSourceAddresses;
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

/** Queues the subscriber delivers to. */
export const EVENT_QUEUES: readonly QueueName[] = [...new Set(Object.values(EVENT_ROUTES).flat())] as QueueName[];

export class EventSubscriber implements Service {
  readonly name = "event-subscriber";
  readonly options: SubscriberOptions;

  readonly #deps: EventSubscriberDeps;
  readonly #follower: L1EventFollower;
  readonly #sink: BullMqSink;
  readonly #metrics: SubscriberMetrics;
  readonly #log: Logger;

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
    this.#log = deps.logger;
    this.#metrics = subscriberMetrics(deps.metrics);
    this.#sink = new BullMqSink({
      queues: deps.queues,
      logger: deps.logger,
      enqueued: this.#metrics.eventsEnqueued,
      ...(this.options.routes === undefined ? {} : { routes: this.options.routes }),
      ...(this.options.deliverTo === undefined ? {} : { deliverTo: this.options.deliverTo }),
    });
    this.#follower = new L1EventFollower({
      provider: deps.provider,
      decoder: new LogDecoder(deps.chainId, deps.addresses),
      store: new RedisCheckpointStore(deps.redis, deps.queues.prefix, deps.chainId),
      sink: this.#sink,
      startBlock: deps.deploymentBlock,
      logger: deps.logger,
      options: this.options,
      name: this.name,
      observer: {
        head: (block) => {
          this.#head = block;
          this.#metrics.headBlock.set(block);
        },
        progress: (checkpoint, head) => {
          this.#checkpoint = checkpoint;
          this.#metrics.lastProcessedBlock.set(checkpoint);
          this.#metrics.lagBlocks.set(Math.max(0, head - checkpoint));
        },
        delivered: () => (this.#lastSuccess = Date.now()),
        reorg: () => this.#metrics.reorgs.inc(),
        rpcError: (method, error) => {
          this.#metrics.rpcErrors.inc({ method });
          this.#log.debug({ method, err: error }, "L1 RPC call failed");
        },
      },
    });
  }

  /** The saved checkpoint (null before the first processed range). */
  async checkpoint(): Promise<Checkpoint | null> {
    return this.#follower.checkpoint();
  }

  /** Processes every block available up to head − confirmations (undoing a reorg first if there was one). */
  async pollOnce(): Promise<PollResult> {
    const result = await this.#follower.pollOnce();
    this.#lastSuccess = Date.now();
    return result;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    if (this.#stopping) throw new Error("event-subscriber: cannot start again after stop()");
    this.#running = true;
    this.#lastSuccess = Date.now();
    const cp = await this.#follower.checkpoint();
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
    const follower = this.#follower.stop();
    await this.#current;
    await follower;
    await this.#sink.close();
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
      if (this.#stopping && e instanceof FollowerStoppedError) return;
      this.#failures++;
      this.#lastError = e instanceof Error ? e.message : String(e);
      delay = Math.min(this.options.pollIntervalMs * 2 ** this.#failures, this.options.maxBackoffMs);
      this.#log.warn({ err: e, failures: this.#failures, retryInMs: delay }, "event-subscriber: poll failed");
    }
    if (!this.#stopping) this.#schedule(delay);
  }

  #loggedOptions() {
    const { confirmations, blockRange, pollIntervalMs, reorgHistory } = this.options;
    return { confirmations, blockRange, pollIntervalMs, reorgHistory };
  }
}
