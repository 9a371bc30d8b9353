/**
 * The event-subscriber's EventSink: each event job goes, as a BullMQ job named after its event type, to the
 * queues its type is routed to (EVENT_ROUTES), with job id `eventJobId(ref, removed)` so that re-delivering
 * a range after a crash adds nothing twice. One addBulk per queue (chunked) per delivery.
 */
import type { Queue } from "bullmq";
import type { Counter } from "prom-client";

import { type EventJob, eventJobId } from "../../platform/events.js";
import type { EventSink } from "../../platform/l1-events/follower.js";
import type { Logger } from "../../platform/logger.js";
import { EVENT_ROUTES, type EventRoutes, type QueueSettings, createQueue } from "../../platform/queues.js";

/** Most jobs per addBulk call (one Redis pipeline each). */
const BULK_CHUNK = 2000;

export interface BullMqSinkOptions {
  queues: QueueSettings;
  logger: Logger;
  /** Counts the jobs enqueued, by event type and `removed`. */
  enqueued: Counter<"type" | "removed">;
  /** Which queues each event type goes to (default EVENT_ROUTES). */
  routes?: EventRoutes;
  /** Queues events are delivered to (default: every queue of the routes); other routes are skipped. */
  deliverTo?: readonly string[];
}

export class BullMqSink implements EventSink {
  readonly #queues = new Map<string, Queue<EventJob>>();

  constructor(private readonly options: BullMqSinkOptions) {}

  /** Enqueues `jobs` in order, one addBulk per queue (chunked). */
  async deliver(jobs: EventJob[]): Promise<void> {
    if (jobs.length === 0) return;
    const perQueue = new Map<string, { name: string; data: EventJob; opts: { jobId: string } }[]>();
    const routes = this.options.routes ?? EVENT_ROUTES;
    const deliverTo = this.options.deliverTo;
    for (const job of jobs) {
      const jobId = eventJobId(job.ref, job.removed);
      for (const queue of routes[job.event.type] ?? []) {
        if (deliverTo !== undefined && !deliverTo.includes(queue)) continue;
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
    for (const { type, removed, n } of counts.values()) this.options.enqueued.inc({ type, removed }, n);
  }

  /** Closes the queues it opened. */
  async close(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((q) => q.close()));
    this.#queues.clear();
  }

  #queue(name: string): Queue<EventJob> {
    let q = this.#queues.get(name);
    if (q === undefined) {
      q = createQueue<EventJob>(name, this.options.queues);
      q.on("error", (err) => this.options.logger.error({ err, queue: name }, "event-subscriber: queue error"));
      this.#queues.set(name, q);
    }
    return q;
  }
}
