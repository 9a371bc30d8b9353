/** Prometheus metrics of the event-subscriber (registered once per registry, shared by instances). */
import type { Counter, Gauge, Registry } from "prom-client";

import { counter, gauge } from "../../platform/metrics.js";

export interface SubscriberMetrics {
  lastProcessedBlock: Gauge;
  headBlock: Gauge;
  lagBlocks: Gauge;
  eventsEnqueued: Counter<"type" | "removed">;
  reorgs: Counter;
  rpcErrors: Counter<"method">;
}

export function subscriberMetrics(registry: Registry): SubscriberMetrics {
  return {
    lastProcessedBlock: gauge(registry, {
      name: "veilnet_subscriber_last_processed_block",
      help: "Last L1 block whose logs were delivered (the checkpoint)",
    }),
    headBlock: gauge(registry, { name: "veilnet_subscriber_head_block", help: "Latest L1 block number seen" }),
    lagBlocks: gauge(registry, {
      name: "veilnet_subscriber_lag_blocks",
      help: "Head block minus last processed block",
    }),
    eventsEnqueued: counter(registry, {
      name: "veilnet_subscriber_events_enqueued_total",
      help: "Domain events enqueued, by type (removed=true: compensation of a reorged event)",
      labelNames: ["type", "removed"],
    }),
    reorgs: counter(registry, { name: "veilnet_subscriber_reorgs_total", help: "L1 reorgs detected and handled" }),
    rpcErrors: counter(registry, {
      name: "veilnet_subscriber_rpc_errors_total",
      help: "Failed or timed-out L1 JSON-RPC calls",
      labelNames: ["method"],
    }),
  };
}
