/** Secret-responder metrics (get-or-create, so several responders may share one registry). */
import type { Counter, Registry } from "prom-client";

import { counter } from "../../platform/metrics.js";

export interface SecretResponderMetrics {
  seen: Counter;
  answered: Counter;
  lostRaces: Counter;
  closed: Counter;
  refused: Counter<"reason">;
}

export function secretResponderMetrics(registry: Registry): SecretResponderMetrics {
  return {
    seen: counter(registry, {
      name: "veilnet_secret_requests_seen_total",
      help: "NetworkSecretRequested deliveries handled (a retried job counts once per attempt)",
    }),
    answered: counter(registry, {
      name: "veilnet_secret_requests_answered_total",
      help: "Requests this responder answered (its respondNetworkSecret was mined)",
    }),
    lostRaces: counter(registry, {
      name: "veilnet_secret_requests_lost_races_total",
      help: "Requests another responder answered between our check and our transaction",
    }),
    closed: counter(registry, {
      name: "veilnet_secret_requests_closed_total",
      help: "Requests already answered or cancelled when the event was handled (nothing sent)",
    }),
    refused: counter(registry, {
      name: "veilnet_secret_requests_refused_total",
      help: "Requests refused because the requester's report failed verification or policy, by reason",
      labelNames: ["reason"],
    }),
  };
}
