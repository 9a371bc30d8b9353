/** Epoch-revealer metrics (get-or-create, so several revealers may share one registry). */
import type { Counter, Gauge, Registry } from "prom-client";

import { counter, gauge } from "../../platform/metrics.js";

export interface EpochRevealerMetrics {
  revealed: Counter;
  refused: Counter;
  failures: Counter;
  settledThrough: Gauge;
}

export function epochRevealerMetrics(registry: Registry): EpochRevealerMetrics {
  return {
    revealed: counter(registry, {
      name: "veilnet_epoch_keys_revealed_total",
      help: "Epoch keys this revealer published on L1 (its revealEpochKey was mined)",
    }),
    refused: counter(registry, {
      name: "veilnet_epoch_key_refusals_total",
      help: "Revealable epochs whose L1 commitment is not the enclave's key: nothing was sent (investigate)",
    }),
    failures: counter(registry, {
      name: "veilnet_epoch_revealer_failures_total",
      help: "Revealer rounds that failed (RPC errors, unexpected reverts); retried with backoff",
    }),
    settledThrough: gauge(registry, {
      name: "veilnet_epoch_revealer_settled_through",
      help: "Highest epoch up to which every epoch is revealed, refused or had no rollup (-1: none yet)",
    }),
  };
}
