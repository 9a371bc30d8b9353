/** The gateway's Prometheus metrics (`veilnet_gateway_*`), on the process registry served at /metrics. */
import type { Counter, Gauge, Histogram, Registry } from "prom-client";

import { WALLET_METHODS } from "../protocol/private-rpc.js";
import { counter, gauge, histogram } from "../platform/metrics.js";
import { GATEWAY_METHODS } from "./rpc/methods.js";

/** How a JSON-RPC request ended. */
export type RequestOutcome =
  /** Answered with a result. */
  | "ok"
  /** Answered with an error from the enclave (a revert, a refused transaction, a privacy refusal…). */
  | "error"
  /** Refused by the gateway (no or unknown token, bad request, a limit). */
  | "rejected"
  /** The enclave did not answer, or its key is not verified / not attested. */
  | "unavailable";

/** Methods named in the metrics; any other is counted as "other" (bounded label values). */
const KNOWN_METHODS: ReadonlySet<string> = new Set([...WALLET_METHODS, ...GATEWAY_METHODS]);

export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : "other";
}

export class GatewayMetrics {
  readonly requests: Counter<"method" | "outcome">;
  readonly latency: Histogram<"method">;
  readonly users: Gauge;
  readonly subscriptions: Gauge<"kind">;
  readonly connections: Gauge;
  readonly filters: Gauge;
  readonly notifications: Counter<"kind">;

  constructor(registry: Registry) {
    this.requests = counter(registry, {
      name: "veilnet_gateway_requests_total",
      help: "JSON-RPC requests answered by the gateway, by method and outcome (ok, error, rejected, unavailable)",
      labelNames: ["method", "outcome"],
    });
    this.latency = histogram(registry, {
      name: "veilnet_gateway_request_seconds",
      help: "Time to answer one JSON-RPC request, by method (seconds)",
      labelNames: ["method"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    });
    this.users = gauge(registry, { name: "veilnet_gateway_users", help: "Users (tokens) the gateway holds" });
    this.subscriptions = gauge(registry, {
      name: "veilnet_gateway_subscriptions",
      help: "Live eth_subscribe subscriptions, by kind (newHeads, logs)",
      labelNames: ["kind"],
    });
    this.connections = gauge(registry, {
      name: "veilnet_gateway_websocket_connections",
      help: "Open WebSocket connections",
    });
    this.filters = gauge(registry, {
      name: "veilnet_gateway_filters",
      help: "Installed filters (eth_newFilter, eth_newBlockFilter)",
    });
    this.notifications = counter(registry, {
      name: "veilnet_gateway_notifications_total",
      help: "eth_subscription notifications pushed, by kind",
      labelNames: ["kind"],
    });
  }

  observe(method: string, outcome: RequestOutcome, seconds: number): void {
    const label = methodLabel(method);
    this.requests.inc({ method: label, outcome });
    this.latency.observe({ method: label }, seconds);
  }
}
