/**
 * TxSender metrics, labelled by signer address (several senders can share one registry).
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface TxSenderMetrics {
  sent: Counter<"signer">;
  resent: Counter<"signer">;
  mined: Counter<"signer">;
  reverted: Counter<"signer">;
  alreadyDone: Counter<"signer">;
  pending: Gauge<"signer">;
  timeToMine: Histogram<"signer">;
}

function getOrCreate<M>(registry: Registry, name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}

export function txSenderMetrics(registry: Registry): TxSenderMetrics {
  const registers = [registry];
  const labelNames = ["signer"] as const;
  return {
    sent: getOrCreate(
      registry,
      "veilnet_tx_sent_total",
      () =>
        new Counter({
          name: "veilnet_tx_sent_total",
          help: "Transactions broadcast for the first time (one per nonce assignment)",
          labelNames,
          registers,
        }),
    ),
    resent: getOrCreate(
      registry,
      "veilnet_tx_resent_total",
      () =>
        new Counter({
          name: "veilnet_tx_resent_total",
          help: "Replacement transactions with bumped fees",
          labelNames,
          registers,
        }),
    ),
    mined: getOrCreate(
      registry,
      "veilnet_tx_mined_total",
      () =>
        new Counter({
          name: "veilnet_tx_mined_total",
          help: "Intents whose transaction was mined successfully with the required confirmations",
          labelNames,
          registers,
        }),
    ),
    reverted: getOrCreate(
      registry,
      "veilnet_tx_reverted_total",
      () =>
        new Counter({
          name: "veilnet_tx_reverted_total",
          help: "Intents that reverted (in simulation or on chain)",
          labelNames,
          registers,
        }),
    ),
    alreadyDone: getOrCreate(
      registry,
      "veilnet_tx_already_done_total",
      () =>
        new Counter({
          name: "veilnet_tx_already_done_total",
          help: "Intents whose effect was already on chain",
          labelNames,
          registers,
        }),
    ),
    pending: getOrCreate(
      registry,
      "veilnet_tx_pending",
      () =>
        new Gauge({
          name: "veilnet_tx_pending",
          help: "Intents broadcast and not yet finished",
          labelNames,
          registers,
        }),
    ),
    timeToMine: getOrCreate(
      registry,
      "veilnet_tx_time_to_mine_seconds",
      () =>
        new Histogram({
          name: "veilnet_tx_time_to_mine_seconds",
          help: "From the first broadcast of an intent to its transaction seen mined",
          labelNames,
          buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15, 30, 60, 120, 300, 900],
          registers,
        }),
    ),
  };
}
