/**
 * Consensus metrics (get-or-create, so several members in one process may share a registry). The names are
 * part of the operator's interface: the shipped dashboards and alert rules query them.
 */
import type { Counter, Gauge, Histogram, Registry } from "prom-client";

import { counter, gauge, histogram } from "../../platform/metrics.js";

export interface ConsensusMetrics {
  height: Gauge;
  round: Gauge;
  decided: Counter;
  roundChanges: Counter;
  decideSeconds: Histogram;
  messages: Counter<"type" | "result">;
  synced: Counter;
  invalidProposals: Counter;
  isLeader: Gauge;
}

export function consensusMetrics(registry: Registry): ConsensusMetrics {
  return {
    height: gauge(registry, { name: "veilnet_qbft_height", help: "Batch height this member is deciding" }),
    round: gauge(registry, { name: "veilnet_qbft_round", help: "Current QBFT round of the height being decided" }),
    decided: counter(registry, { name: "veilnet_qbft_decided_total", help: "Heights this member decided or synced" }),
    roundChanges: counter(registry, {
      name: "veilnet_qbft_round_changes_total",
      help: "Rounds this member moved past (timeouts and f+1 jumps)",
    }),
    decideSeconds: histogram(registry, {
      name: "veilnet_qbft_decide_seconds",
      help: "From a height's start (its proposal) to its decision",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10],
    }),
    messages: counter(registry, {
      name: "veilnet_qbft_messages_total",
      help: "QBFT messages received, by type and result (accepted, or the reason refused)",
      labelNames: ["type", "result"],
    }),
    synced: counter(registry, {
      name: "veilnet_qbft_synced_total",
      help: "Heights applied from a peer's commit certificate rather than decided by this member's instance",
    }),
    invalidProposals: counter(registry, {
      name: "veilnet_qbft_invalid_proposals_total",
      help: "Proposed batches this member refused (its check failed)",
    }),
    isLeader: gauge(registry, {
      name: "veilnet_qbft_is_leader",
      help: "1 when this member proposes the current round of the current height",
    }),
  };
}
