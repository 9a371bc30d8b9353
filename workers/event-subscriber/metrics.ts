/** Prometheus metrics of the event-subscriber (registered once per registry, shared by instances). */
import { Counter, Gauge, type Registry } from "prom-client";

export interface SubscriberMetrics {
  lastProcessedBlock: Gauge;
  headBlock: Gauge;
  lagBlocks: Gauge;
  eventsEnqueued: Counter<"type" | "removed">;
  reorgs: Counter;
  rpcErrors: Counter<"method">;
}

function gauge(registry: Registry, name: string, help: string): Gauge {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Gauge) return existing;
  return new Gauge({ name, help, registers: [registry] });
}

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<L>;
  return new Counter<L>({ name, help, labelNames, registers: [registry] });
}

export function subscriberMetrics(registry: Registry): SubscriberMetrics {
  return {
    lastProcessedBlock: gauge(
      registry,
      "veilnet_subscriber_last_processed_block",
      "Last L1 block whose logs were delivered (the checkpoint)",
    ),
    headBlock: gauge(registry, "veilnet_subscriber_head_block", "Latest L1 block number seen"),
    lagBlocks: gauge(registry, "veilnet_subscriber_lag_blocks", "Head block minus last processed block"),
    eventsEnqueued: counter(
      registry,
      "veilnet_subscriber_events_enqueued_total",
      "Domain events enqueued, by type (removed=true: compensation of a reorged event)",
      ["type", "removed"],
    ),
    reorgs: counter(registry, "veilnet_subscriber_reorgs_total", "L1 reorgs detected and handled", []),
    rpcErrors: counter(registry, "veilnet_subscriber_rpc_errors_total", "Failed or timed-out L1 JSON-RPC calls", [
      "method",
    ]),
  };
}
