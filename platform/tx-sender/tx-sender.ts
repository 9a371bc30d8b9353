/**
 * TxSender: the only way workers write to L1. One instance owns one signing key's nonces.
 *
 * - Nonces are assigned locally (starting from the chain's pending nonce) in one critical section that
 *   signs, persists and broadcasts in nonce order, so many intents are in flight at once (pipelining) and
 *   each is awaited independently. "Nonce too low" (someone else used the key) refreshes the nonce.
 * - Every intent is persisted in Redis with its signed raw transactions BEFORE broadcast. A restarted
 *   process adopts the pending ones and checks the chain first: one of its hashes mined → that outcome;
 *   otherwise `alreadyDone()` → the nonce is taken by a cancellation and nothing more happens; otherwise
 *   the very same signed transaction is broadcast again. The same action is never sent twice.
 * - Intents are simulated (eth_estimateGas on the pending block) first: a revert is not broadcast, it
 *   throws TxRevertedError with the decoded custom error (or ends `already-done`).
 * - One monitor loop per sender polls the account's mined nonce and the head: it fetches receipts of the
 *   intents whose nonce got used, waits for `confirmations`, re-sends with fees bumped (≥ +10%, up to the
 *   cap) what is not mined within `resendAfterMs`, and re-broadcasts what the node dropped.
 *
 * This class is the facade; the work is split by phase over one shared SenderState (state.ts):
 * submission.ts (intake, nonces, signing, broadcast), monitor.ts (the loop, receipts, outcomes) and
 * recovery.ts (restart, nonces taken elsewhere, replacements and cancellations).
 */
import { parseUnits } from "ethers";
import { z } from "zod";

import { parseConfig, senderConfigSchema } from "../config.js";
import type { WorkerContext } from "../context.js";
import { Monitor } from "./monitor.js";
import type { TxSenderOptions } from "./options.js";
import { type AlreadyDoneResolver, initSender, recoverPending } from "./recovery.js";
import { type SenderState, createState, requireStore } from "./state.js";
import type { IntentRecord } from "./store.js";
import { submit } from "./submission.js";
import { type TxIntent, type TxOutcome, TxRevertedError, TxSenderStoppedError } from "./types.js";

export { TxRevertedError, TxSenderStoppedError };
export type { AlreadyDoneResolver, TxIntent, TxOutcome, IntentRecord, TxSenderOptions };

export class TxSender {
  readonly address: string;
  private readonly state: SenderState;
  private readonly monitor: Monitor;
  private initializing?: Promise<void>;

  constructor(options: TxSenderOptions) {
    this.state = createState(options);
    this.address = this.state.address;
    this.monitor = new Monitor(this.state);
    this.state.wake = () => this.monitor.schedule();
  }

  /** The sender's policies. */
  get settings(): {
    confirmations: number;
    resendAfterMs: number;
    feeBumpPercent: number;
    maxFeePerGas: bigint;
    pollIntervalMs: number;
  } {
    const { confirmations, resendAfterMs, feeBumpPercent, maxFeePerGas, pollIntervalMs } = this.state.policy;
    return { confirmations, resendAfterMs, feeBumpPercent, maxFeePerGas, pollIntervalMs };
  }

  /** What Redis holds of intent `key` (status, nonce, signed transactions), if anything. */
  async intent(key: string): Promise<IntentRecord | undefined> {
    await this.init();
    return requireStore(this.state).get(key);
  }

  /** Intents broadcast and not finished yet. */
  get inFlight(): number {
    return this.state.flights.size;
  }

  /**
   * Performs `intent` once: resolves when its transaction is mined with the required confirmations (or
   * the effect turned out to be on chain already); throws TxRevertedError when it reverts or would revert.
   * A key already completed returns the stored outcome without sending anything.
   */
  send(intent: TxIntent): Promise<TxOutcome> {
    return submit(this.state, intent, () => this.init());
  }

  /** Whether stop() was called. */
  get isStopped(): boolean {
    return this.state.stopped;
  }

  /**
   * Finishes the intents a previous process left pending (the sender adopts them when it starts; this
   * waits for them). `resolve` may supply each one's `alreadyDone` check. Returns the outcomes of those
   * that ended mined or already-done; reverted ones are logged and counted.
   */
  async recover(resolve?: AlreadyDoneResolver): Promise<TxOutcome[]> {
    if (this.state.stopped) throw new Error("tx sender stopped");
    await this.init();
    return recoverPending(this.state, resolve);
  }

  /**
   * Stops the monitor; unfinished sends reject with TxSenderStoppedError (their intents stay in Redis and
   * the next process finishes them). Does not close the provider or Redis.
   */
  async stop(): Promise<void> {
    const state = this.state;
    if (state.stopped) return;
    state.stopped = true;
    await this.monitor.stop();
    await state.lock;
    for (const flight of state.flights.values()) {
      if (flight.finished) continue; // settling its outcome right now
      flight.finished = true;
      flight.reject(new TxSenderStoppedError(flight.record.key));
    }
    state.flights.clear();
    state.metrics.pending.set(state.labels, 0);
  }

  /** Loads the sender once (a failed load is tried again by the next call). */
  private init(): Promise<void> {
    this.initializing ??= initSender(this.state).catch((e: unknown) => {
      this.initializing = undefined;
      throw e;
    });
    return this.initializing;
  }
}

/** TxSender settings from the environment / config file (senderConfigSchema plus the poll interval). */
export const txSenderConfigSchema = senderConfigSchema.extend({
  TX_POLL_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(10)
    .default(1000)
    .describe("Period of the sender's monitor loop (receipts, resends), ms"),
});

/** The TxSender of a worker: key and policies from `source` (SIGNER_PRIVATE_KEY, TX_*), the rest from `ctx`. */
export function senderFromConfig(
  ctx: Pick<WorkerContext, "provider" | "redis" | "config" | "logger" | "metrics" | "source">,
  source: Record<string, unknown> = ctx.source,
  overrides: Partial<TxSenderOptions> = {},
): TxSender {
  const c = parseConfig(txSenderConfigSchema, source);
  return new TxSender({
    provider: ctx.provider,
    signer: c.SIGNER_PRIVATE_KEY,
    redis: ctx.redis,
    keyPrefix: ctx.config.QUEUE_PREFIX,
    logger: ctx.logger,
    metrics: ctx.metrics,
    confirmations: c.TX_CONFIRMATIONS,
    resendAfterMs: c.TX_RESEND_AFTER_MS,
    feeBumpPercent: c.TX_FEE_BUMP_PERCENT,
    maxFeePerGas: parseUnits(c.TX_MAX_FEE_GWEI.toFixed(9), "gwei"),
    pollIntervalMs: c.TX_POLL_INTERVAL_MS,
    ...overrides,
  });
}
