/** Withdrawal-processor metrics (get-or-create, so several processors may share one registry). */
import type { Counter, Gauge, Registry } from "prom-client";

import { counter, gauge } from "../../platform/metrics.js";

export interface WithdrawalMetrics {
  /** Withdrawals started being tracked (a RollupAdded carrying them was handled). */
  tracked: Counter;
  /** Withdrawals seen relayed; `by`: "processor" (our transaction) or "other" (found already relayed). */
  relayed: Counter<"by">;
  /** Relay or retry attempts that failed (target call failed, or the transaction reverted or erred). */
  failed: Counter;
  /** Withdrawals whose attempts ran out (dead-lettered). */
  dead: Counter;
  /** Withdrawals of rollups the guardian rejected. */
  rejected: Counter;
  /** Withdrawals waiting for their message root to activate (read from Redis at each scrape). */
  waiting: Gauge;
}

export function withdrawalMetrics(registry: Registry, waitingCount: () => Promise<number>): WithdrawalMetrics {
  const waiting = gauge(registry, {
    name: "veilnet_withdrawals_waiting",
    help: "Withdrawals tracked and waiting for their message root to activate",
    async collect() {
      try {
        this.set(await waitingCount());
      } catch {
        // Redis unreachable during the scrape: keep the last value (health reports the outage).
      }
    },
  });
  return {
    tracked: counter(registry, {
      name: "veilnet_withdrawals_tracked_total",
      help: "Withdrawals tracked from accepted rollups",
    }),
    relayed: counter(registry, {
      name: "veilnet_withdrawals_relayed_total",
      help: 'Withdrawals relayed, by="processor" (our transaction) or "other" (found already relayed)',
      labelNames: ["by"],
    }),
    failed: counter(registry, {
      name: "veilnet_withdrawal_relay_failures_total",
      help: "Relay or retry attempts that failed (target call failed, transaction reverted or erred)",
    }),
    dead: counter(registry, {
      name: "veilnet_withdrawals_dead_total",
      help: "Withdrawals dead-lettered after their last attempt",
    }),
    rejected: counter(registry, {
      name: "veilnet_withdrawals_rejected_total",
      help: "Withdrawals of rollups rejected by the guardian",
    }),
    waiting,
  };
}
