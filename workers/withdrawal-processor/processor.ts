/**
 * The withdrawal-processor: follows accepted rollups (the `rollups` queue), tracks the L2→L1 calls
 * ("withdrawals") they carry (tracking.ts), and relays them on L1 once their message root has activated
 * (relaying.ts). The rollups' messages come from the L2 nodes (source.ts); statuses live in Redis
 * (status.ts). This module runs both halves as one service.
 */
import type { Job } from "bullmq";

import type { EventJob } from "../../platform/events.js";
import { type DeadLetter, QueueNames, createConsumer } from "../../platform/queues.js";
import type { Service } from "../../platform/service.js";
import { ProcessorCore, type WithdrawalJob, type WithdrawalProcessorDeps } from "./core.js";
import type { WithdrawalMetrics } from "./metrics.js";
import { WithdrawalRelayer } from "./relaying.js";
import type { WithdrawalStore } from "./status.js";
import { WithdrawalTracker } from "./tracking.js";

export * from "./core.js";
export { decodeTargetReason } from "../../platform/withdrawals/relay.js";
export { WithdrawalTracker } from "./tracking.js";
export { WithdrawalRelayer } from "./relaying.js";

export class WithdrawalProcessor implements Service {
  readonly name = "withdrawal-processor";
  readonly store: WithdrawalStore;
  readonly metrics: WithdrawalMetrics;
  private readonly core: ProcessorCore;
  private readonly tracker: WithdrawalTracker;
  private readonly relayer: WithdrawalRelayer;
  private readonly consumers: Array<
    ReturnType<typeof createConsumer<EventJob> | typeof createConsumer<WithdrawalJob>>
  > = [];
  private running = false;

  constructor(private readonly deps: WithdrawalProcessorDeps) {
    this.core = new ProcessorCore(deps);
    this.store = this.core.store;
    this.metrics = this.core.metrics;
    this.tracker = new WithdrawalTracker(this.core);
    this.relayer = new WithdrawalRelayer(this.core);
  }

  private get log() {
    return this.core.log;
  }

  /** Handles one delivery of the `rollups` queue (tracking.ts). Idempotent. */
  handleRollupEvent(job: EventJob): Promise<string> {
    return this.tracker.handle(job);
  }

  /** Runs one job of the `withdrawals` queue (relaying.ts). */
  handleWithdrawalJob(job: Job<WithdrawalJob>): Promise<string> {
    return this.relayer.handle(job);
  }

  // ------------------------------------------------------------------------------------------------
  // Service

  async start(): Promise<void> {
    if (this.running) return;
    const rollups = createConsumer<EventJob>(
      QueueNames.rollups,
      async (job) => this.handleRollupEvent(job.data),
      this.deps.queues,
      { logger: this.log },
    );
    const withdrawals = createConsumer<WithdrawalJob>(
      QueueNames.withdrawals,
      async (job) => this.handleWithdrawalJob(job),
      this.deps.queues,
      {
        logger: this.log,
        onDeadLetter: (letter) => this.log.error({ letter: summary(letter) }, "withdrawal dead-lettered"),
      },
    );
    for (const c of [rollups, withdrawals]) {
      this.consumers.push(c);
      c.worker.run().catch((err: unknown) => this.log.error({ err }, "withdrawal-processor: queue worker stopped"));
      await c.worker.waitUntilReady();
    }
    this.running = true;
    this.log.info({ chainId: this.deps.chainId }, "withdrawal-processor: started");
  }

  async stop(): Promise<void> {
    this.running = false;
    const consumers = this.consumers.splice(0);
    await Promise.all(consumers.map((c) => c.worker.close()));
    await Promise.all(consumers.map((c) => c.deadLetters.close()));
    await this.core.withdrawals.close();
  }

  async health(): Promise<{ ok: boolean; detail?: string }> {
    if (!this.running) return { ok: false, detail: "not running" };
    const stopped = this.consumers.filter((c) => !c.worker.isRunning()).map((c) => c.worker.name);
    if (stopped.length > 0) return { ok: false, detail: `queue worker stopped: ${stopped.join(", ")}` };
    return { ok: true };
  }
}

function summary(letter: DeadLetter): Record<string, unknown> {
  return { jobId: letter.jobId, name: letter.name, failedReason: letter.failedReason, attempts: letter.attemptsMade };
}
