/** Withdrawal-processor metrics (get-or-create, so several processors may share one registry). */
import { Counter, Gauge, type Registry } from "prom-client";

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

function counter<T extends string = string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly T[] = [],
): Counter<T> {
  const existing = registry.getSingleMetric(name) as Counter<T> | undefined;
  return existing ?? new Counter<T>({ name, help, labelNames, registers: [registry] });
}

export function withdrawalMetrics(registry: Registry, waitingCount: () => Promise<number>): WithdrawalMetrics {
  const waitingName = "veilnet_withdrawals_waiting";
  const waiting =
    (registry.getSingleMetric(waitingName) as Gauge | undefined) ??
    new Gauge({
      name: waitingName,
      help: "Withdrawals tracked and waiting for their message root to activate",
      registers: [registry],
      async collect() {
        try {
          this.set(await waitingCount());
        } catch {
          // Redis unreachable during the scrape: keep the last value (health reports the outage).
        }
      },
    });
  return {
    tracked: counter(registry, "veilnet_withdrawals_tracked_total", "Withdrawals tracked from accepted rollups"),
    relayed: counter(
      registry,
      "veilnet_withdrawals_relayed_total",
      'Withdrawals relayed, by="processor" (our transaction) or "other" (found already relayed)',
      ["by"] as const,
    ),
    failed: counter(
      registry,
      "veilnet_withdrawal_relay_failures_total",
      "Relay or retry attempts that failed (target call failed, transaction reverted or erred)",
    ),
    dead: counter(registry, "veilnet_withdrawals_dead_total", "Withdrawals dead-lettered after their last attempt"),
    rejected: counter(
      registry,
      "veilnet_withdrawals_rejected_total",
      "Withdrawals of rollups rejected by the guardian",
    ),
    waiting,
  };
}
