/** Rollup-producer metrics (get-or-create, so several producers may share one registry). */
import type { Counter, Gauge, Histogram, Registry } from "prom-client";

import { counter, gauge, histogram } from "../../platform/metrics.js";

export interface RollupProducerMetrics {
  submitted: Counter;
  batches: Histogram;
  bytes: Histogram;
  resubmissions: Counter<"reason">;
  lastLanded: Gauge;
  latency: Histogram;
  failures: Counter;
}

export function rollupProducerMetrics(registry: Registry): RollupProducerMetrics {
  return {
    submitted: counter(registry, {
      name: "veilnet_rollups_submitted_total",
      help: "Rollups this producer landed on L1 (its addRollup was mined)",
    }),
    batches: histogram(registry, {
      name: "veilnet_rollup_batches",
      help: "Batches per submitted rollup",
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    }),
    bytes: histogram(registry, {
      name: "veilnet_rollup_payload_bytes",
      help: "Payload bytes (compressed and encrypted) per submitted rollup",
      buckets: [256, 1024, 4096, 16_384, 32_768, 65_536, 98_304, 131_072],
    }),
    resubmissions: counter(registry, {
      name: "veilnet_rollup_resubmissions_total",
      help: "Rollups built again because their binding block was reorged away or too old, or they were reorged out of L1, by reason",
      labelNames: ["reason"],
    }),
    lastLanded: gauge(registry, {
      name: "veilnet_rollup_last_landed_batch_seq",
      help: "Last batch sequence number L1 holds a rollup for (-1: none yet)",
    }),
    latency: histogram(registry, {
      name: "veilnet_rollup_submission_seconds",
      help: "From handing addRollup to the TxSender until it was mined",
      buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
    }),
    failures: counter(registry, {
      name: "veilnet_rollup_producer_failures_total",
      help: "Producer rounds that failed (RPC errors, unexpected reverts); retried with backoff",
    }),
  };
}
