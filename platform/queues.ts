/**
 * Queues: their names, which domain events go where, retry policy, the dead-letter queue and its
 * re-drive. Every consumer is built with `createConsumer`, so all of them retry with exponential
 * backoff and park a job that exhausted its attempts in `<queue>-dead` with its reason.
 */
import {
  type ConnectionOptions,
  DelayedError,
  type Job,
  type JobsOptions,
  Queue,
  RateLimitError,
  UnrecoverableError,
  WaitingChildrenError,
  WaitingError,
  Worker,
} from "bullmq";

import type { DomainEventType } from "./events.js";
import type { Logger } from "./logger.js";

export { UnrecoverableError };

/** Queue names (BullMQ prefixes them with QUEUE_PREFIX in Redis). */
export const QueueNames = {
  /** NetworkSecretRequested / Responded / Cancelled: for the secret-responder. */
  secretRequests: "secret-requests",
  /** RollupAdded / RollupRejected: for the withdrawal-processor. */
  rollups: "rollups",
  /** Internal to the withdrawal-processor: one job per withdrawal to relay (delayed until its root activates). */
  withdrawals: "withdrawals",
} as const;

export type QueueName = (typeof QueueNames)[keyof typeof QueueNames];

/** Which queues each domain event is delivered to; an event type without a route is not delivered. */
export type EventRoutes = Readonly<Partial<Record<DomainEventType, readonly string[]>>>;

/**
 * The routes of the events a worker consumes. L1→L2 messages (MessagePublished, DepositInitiated,
 * TokenRegistered) have none: the enclave node reads them from L1 itself, in L1 order and at the
 * confirmation depth it chooses. Relay outcomes have none either: the withdrawal-processor reads them
 * from its own relay receipts and the messenger's state. Nor do the OperatorRegistry's events: every
 * node follows them in-process (enclave/committee/registry-view.ts), never through Redis.
 */
export const EVENT_ROUTES: EventRoutes = {
  NetworkSecretRequested: [QueueNames.secretRequests],
  NetworkSecretResponded: [QueueNames.secretRequests],
  SecretRequestCancelled: [QueueNames.secretRequests],
  RollupAdded: [QueueNames.rollups],
  RollupRejected: [QueueNames.rollups],
};

/** Name of the dead-letter queue of `queue`. */
export function deadLetterQueueName(queue: string): string {
  return `${queue}-dead`;
}

export interface QueueSettings {
  connection: ConnectionOptions;
  /** Redis key prefix (QUEUE_PREFIX). */
  prefix: string;
  /** Attempts before dead-lettering. */
  attempts: number;
  /** First retry delay in ms (doubles each attempt). */
  backoffMs: number;
  /**
   * How long a consumer's lock on its job lasts without renewal (ms; BullMQ default 30 000). A job whose
   * process died is handed to another consumer once its lock expired, at the next stalled-job check.
   */
  lockDurationMs?: number;
  /** Period of the stalled-job check (ms; BullMQ default 30 000). */
  stalledIntervalMs?: number;
}

/**
 * Default options of every job: retries with exponential backoff; finished jobs are kept for a week (so
 * their ids keep deduplicating re-deliveries after a restart) and then trimmed.
 */
export function defaultJobOptions(s: Pick<QueueSettings, "attempts" | "backoffMs">): JobsOptions {
  return {
    attempts: s.attempts,
    backoff: { type: "exponential", delay: s.backoffMs },
    removeOnComplete: { age: 7 * 24 * 3600, count: 1_000_000 },
    removeOnFail: false,
  };
}

export function createQueue<T = unknown>(name: string, s: QueueSettings): Queue<T> {
  return new Queue<T>(name, { connection: s.connection, prefix: s.prefix, defaultJobOptions: defaultJobOptions(s) });
}

/** What a dead-lettered job holds. */
export interface DeadLetter<T = unknown> {
  queue: string;
  jobId: string;
  name: string;
  data: T;
  failedReason: string;
  attemptsMade: number;
  failedAt: number;
}

export interface ConsumerOptions {
  /** Jobs processed at once (default 1: in order). */
  concurrency?: number;
  logger: Logger;
  /** Called when a job is dead-lettered (metrics). */
  onDeadLetter?: (letter: DeadLetter) => void;
}

/**
 * A BullMQ worker on `queue` running `handler`. A handler failure is retried with backoff; when the job
 * has no attempt left (or the handler threw UnrecoverableError), it is copied to `<queue>-dead` with its
 * reason before it is marked failed — nothing is dropped.
 */
export function createConsumer<T>(
  queue: string,
  handler: (job: Job<T>) => Promise<unknown>,
  s: QueueSettings,
  options: ConsumerOptions,
): { worker: Worker<T>; deadLetters: Queue<DeadLetter<T>> } {
  const deadLetters = new Queue<DeadLetter<T>>(deadLetterQueueName(queue), {
    connection: s.connection,
    prefix: s.prefix,
    defaultJobOptions: { removeOnComplete: false, removeOnFail: false },
  });
  const worker = new Worker<T>(
    queue,
    async (job) => {
      try {
        return await handler(job);
      } catch (e) {
        // BullMQ's control-flow errors (the handler moved the job back to delayed/waiting itself) are no failures.
        if (isJobMovedError(e)) throw e;
        const attempts = job.opts.attempts ?? 1;
        const last = e instanceof UnrecoverableError || job.attemptsMade + 1 >= attempts;
        const reason = e instanceof Error ? e.message : String(e);
        options.logger.warn(
          { queue, jobId: job.id, attempt: job.attemptsMade + 1, attempts, reason, deadLetter: last },
          last ? "job failed for good: dead-lettered" : "job failed: will retry",
        );
        if (last) {
          const letter: DeadLetter<T> = {
            queue,
            jobId: String(job.id),
            name: job.name,
            data: job.data,
            failedReason: reason,
            attemptsMade: job.attemptsMade + 1,
            failedAt: Date.now(),
          };
          await deadLetters.add(job.name, letter, { jobId: String(job.id) });
          options.onDeadLetter?.(letter as DeadLetter);
        }
        throw e;
      }
    },
    {
      connection: s.connection,
      prefix: s.prefix,
      concurrency: options.concurrency ?? 1,
      autorun: false,
      ...(s.lockDurationMs !== undefined ? { lockDuration: s.lockDurationMs } : {}),
      ...(s.stalledIntervalMs !== undefined ? { stalledInterval: s.stalledIntervalMs } : {}),
    },
  );
  worker.on("error", (err) => options.logger.error({ err, queue }, "queue worker error"));
  return { worker, deadLetters };
}

/**
 * Whether `e` is one of BullMQ's control-flow errors, thrown by a handler after moving its job itself
 * (e.g. `await job.moveToDelayed(ts, job.token); throw new DelayedError()` to re-check later without
 * using an attempt): neither a failure to retry nor one to dead-letter.
 */
export function isJobMovedError(e: unknown): boolean {
  return (
    e instanceof DelayedError ||
    e instanceof WaitingError ||
    e instanceof WaitingChildrenError ||
    e instanceof RateLimitError ||
    (e instanceof Error && ["DelayedError", "WaitingError", "WaitingChildrenError", "RateLimitError"].includes(e.name))
  );
}

/**
 * Moves every dead-lettered job of `queue` back to it (attempts reset) and empties the dead-letter
 * queue of those jobs. Returns the ids re-driven. Used by `npx veilnet redrive <queue>`.
 */
export async function redrive(queue: string, s: QueueSettings): Promise<string[]> {
  const source = createQueue(queue, s);
  const dead = new Queue<DeadLetter>(deadLetterQueueName(queue), { connection: s.connection, prefix: s.prefix });
  const redriven: string[] = [];
  try {
    const letters = await dead.getJobs(["waiting", "delayed", "paused", "prioritized"], 0, -1);
    for (const letter of letters) {
      const original = await source.getJob(letter.data.jobId);
      if (original !== undefined && (await original.getState()) === "failed") {
        await original.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
      } else if (original === undefined) {
        await source.add(letter.data.name, letter.data.data, { jobId: letter.data.jobId });
      }
      await letter.remove();
      redriven.push(letter.data.jobId);
    }
  } finally {
    await Promise.all([source.close(), dead.close()]);
  }
  return redriven;
}
