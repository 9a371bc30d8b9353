/**
 * The operations endpoint of a worker process: `GET /healthz` (JSON, 200 when every service and
 * dependency is healthy, 503 otherwise) and `GET /metrics` (Prometheus text of the process registry).
 */
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { Gauge, Registry, collectDefaultMetrics } from "prom-client";

import type { Logger } from "./logger.js";
import { withTimeout } from "./redis.js";
import type { Service } from "./service.js";

export interface Health {
  ok: boolean;
  detail?: string;
}

/** Something the process depends on (Redis, the L1), checked on every health request. */
export interface DependencyCheck {
  name: string;
  check(): Promise<Health>;
}

/** Body of `/healthz`. */
export interface HealthReport {
  status: "ok" | "unhealthy";
  services: Record<string, Health>;
  dependencies: Record<string, Health>;
}

/** A health check that throws or does not answer within `timeoutMs` counts as unhealthy. */
async function safely(check: () => Promise<Health>, timeoutMs: number): Promise<Health> {
  try {
    const h = await withTimeout(check(), timeoutMs, `no answer within ${timeoutMs} ms`);
    return h.detail === undefined ? { ok: h.ok } : { ok: h.ok, detail: h.detail };
  } catch (e) {
    return { ok: false, detail: e instanceof Error ? e.message : String(e) };
  }
}

/** Asks every service and dependency for its health (concurrently, each within `timeoutMs`). */
export async function healthReport(
  services: readonly Service[],
  dependencies: readonly DependencyCheck[],
  timeoutMs = 3000,
): Promise<HealthReport> {
  const [s, d] = await Promise.all([
    Promise.all(services.map(async (svc) => [svc.name, await safely(() => svc.health(), timeoutMs)] as const)),
    Promise.all(dependencies.map(async (dep) => [dep.name, await safely(() => dep.check(), timeoutMs)] as const)),
  ]);
  const ok = [...s, ...d].every(([, h]) => h.ok);
  return { status: ok ? "ok" : "unhealthy", services: Object.fromEntries(s), dependencies: Object.fromEntries(d) };
}

/** The process registry, with the Node/process default metrics. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Registers `veilnet_health` on `registry`, fed by `report` at every scrape. */
export function registerHealthGauge(registry: Registry, report: () => Promise<HealthReport>): void {
  new Gauge({
    name: "veilnet_health",
    help: "Health of each service and dependency of this process (1 healthy, 0 not)",
    labelNames: ["kind", "name"] as const,
    registers: [registry],
    async collect() {
      const r = await report();
      this.reset();
      for (const [name, h] of Object.entries(r.services)) this.set({ kind: "service", name }, h.ok ? 1 : 0);
      for (const [name, h] of Object.entries(r.dependencies)) this.set({ kind: "dependency", name }, h.ok ? 1 : 0);
    },
  });
}

export interface OpsServer {
  server: Server;
  /** The port actually bound (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

/** Serves `/healthz` and `/metrics` on `host:port`; rejects when the port cannot be bound. */
export async function startOpsServer(options: {
  port: number;
  host?: string;
  registry: Registry;
  health: () => Promise<HealthReport>;
  logger: Logger;
}): Promise<OpsServer> {
  const { registry, health, logger } = options;
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const reply = (status: number, contentType: string, body: string) => {
      res.writeHead(status, { "content-type": contentType, "cache-control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") {
      reply(405, "text/plain; charset=utf-8", "method not allowed\n");
      return;
    }
    const handle = async () => {
      if (path === "/healthz") {
        const r = await health();
        reply(r.status === "ok" ? 200 : 503, "application/json", `${JSON.stringify(r)}\n`);
      } else if (path === "/metrics") {
        reply(200, registry.contentType, await registry.metrics());
      } else {
        reply(404, "text/plain; charset=utf-8", "not found (try /healthz or /metrics)\n");
      }
    };
    handle().catch((err: unknown) => {
      logger.error({ err, path }, "http: request failed");
      if (!res.headersSent) reply(500, "text/plain; charset=utf-8", "internal error\n");
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (err) => logger.error({ err }, "http: server error"));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
