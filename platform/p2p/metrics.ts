/** p2p metrics (get-or-create). The names are part of the operator's interface (dashboards, alerts). */
import type { Counter, Gauge, Histogram, Registry } from "prom-client";

import { counter, gauge, histogram } from "../metrics.js";

export interface P2PMetrics {
  peers: Gauge;
  received: Counter<"topic">;
  published: Counter<"topic">;
  rejected: Counter<"topic" | "reason">;
  ignored: Counter<"topic" | "reason">;
  peerScore: Gauge<"stat">;
  validationSeconds: Histogram;
}

export function p2pMetrics(registry: Registry): P2PMetrics {
  return {
    peers: gauge(registry, { name: "veilnet_p2p_peers", help: "Connected libp2p peers" }),
    received: counter(registry, {
      name: "veilnet_p2p_messages_received_total",
      help: "Gossip messages accepted, by topic",
      labelNames: ["topic"],
    }),
    published: counter(registry, {
      name: "veilnet_p2p_messages_published_total",
      help: "Gossip messages this node published, by topic",
      labelNames: ["topic"],
    }),
    rejected: counter(registry, {
      name: "veilnet_p2p_messages_rejected_total",
      help: "Gossip messages rejected (the sender's score drops), by topic and reason",
      labelNames: ["topic", "reason"],
    }),
    ignored: counter(registry, {
      name: "veilnet_p2p_messages_ignored_total",
      help: "Gossip messages dropped without penalty, by topic and reason",
      labelNames: ["topic", "reason"],
    }),
    peerScore: gauge(registry, {
      name: "veilnet_p2p_peer_score",
      help: "Gossipsub scores of the connected peers (stat = min, avg or max)",
      labelNames: ["stat"],
    }),
    validationSeconds: histogram(registry, {
      name: "veilnet_p2p_validation_seconds",
      help: "Time to validate one gossip message",
      buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05],
    }),
  };
}
