/**
 * TxSender metrics, labelled by signer address (several senders can share one registry).
 */
import type { Counter, Gauge, Histogram, Registry } from "prom-client";

import { counter, gauge, histogram } from "../metrics.js";

export interface TxSenderMetrics {
  sent: Counter<"signer">;
  resent: Counter<"signer">;
  mined: Counter<"signer">;
  reverted: Counter<"signer">;
  alreadyDone: Counter<"signer">;
  pending: Gauge<"signer">;
  timeToMine: Histogram<"signer">;
}

export function txSenderMetrics(registry: Registry): TxSenderMetrics {
  const labelNames = ["signer"] as const;
  return {
    sent: counter(registry, {
      name: "veilnet_tx_sent_total",
      help: "Transactions broadcast for the first time (one per nonce assignment)",
      labelNames,
    }),
    resent: counter(registry, {
      name: "veilnet_tx_resent_total",
      help: "Replacement transactions with bumped fees",
      labelNames,
    }),
    mined: counter(registry, {
      name: "veilnet_tx_mined_total",
      help: "Intents whose transaction was mined successfully with the required confirmations",
      labelNames,
    }),
    reverted: counter(registry, {
      name: "veilnet_tx_reverted_total",
      help: "Intents that reverted (in simulation or on chain)",
      labelNames,
    }),
    alreadyDone: counter(registry, {
      name: "veilnet_tx_already_done_total",
      help: "Intents whose effect was already on chain",
      labelNames,
    }),
    pending: gauge(registry, {
      name: "veilnet_tx_pending",
      help: "Intents broadcast and not yet finished",
      labelNames,
    }),
    timeToMine: histogram(registry, {
      name: "veilnet_tx_time_to_mine_seconds",
      help: "From the first broadcast of an intent to its transaction seen mined",
      labelNames,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15, 30, 60, 120, 300, 900],
    }),
  };
}
