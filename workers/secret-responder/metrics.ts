/** Secret-responder metrics (get-or-create, so several responders may share one registry). */
import { Counter, type Registry } from "prom-client";

export interface SecretResponderMetrics {
  seen: Counter;
  answered: Counter;
  lostRaces: Counter;
  closed: Counter;
  refused: Counter<"reason">;
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

export function secretResponderMetrics(registry: Registry): SecretResponderMetrics {
  return {
    seen: counter(
      registry,
      "veilnet_secret_requests_seen_total",
      "NetworkSecretRequested deliveries handled (a retried job counts once per attempt)",
    ),
    answered: counter(
      registry,
      "veilnet_secret_requests_answered_total",
      "Requests this responder answered (its respondNetworkSecret was mined)",
    ),
    lostRaces: counter(
      registry,
      "veilnet_secret_requests_lost_races_total",
      "Requests another responder answered between our check and our transaction",
    ),
    closed: counter(
      registry,
      "veilnet_secret_requests_closed_total",
      "Requests already answered or cancelled when the event was handled (nothing sent)",
    ),
    refused: counter(
      registry,
      "veilnet_secret_requests_refused_total",
      "Requests refused because the requester's report failed verification or policy, by reason",
      ["reason"] as const,
    ),
  };
}
