/**
 * The metrics Veilnet's code defines, read from the code itself: every metrics module is registered into
 * a fresh prom-client Registry (with the process default metrics and `veilnet_health`, as the runtime
 * does) and the registry is asked for its metrics; the few gauges defined inline by a service factory
 * that cannot be built in isolation (enclave/node/services.ts) are found by scanning the source for
 * `name: "veilnet_…"`. The dashboards and alert rules in monitoring/ may only query these names.
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import type { Registry } from "prom-client";

import { consensusMetrics } from "../../enclave/consensus/metrics.js";
import { epochRevealerMetrics } from "../../enclave/epoch-revealer/metrics.js";
import { DutyTracker } from "../../enclave/exporter/duties.js";
import { rollupProducerMetrics } from "../../enclave/rollup-producer/metrics.js";
import { GatewayMetrics } from "../../gateway/metrics.js";
import { type HealthReport, createMetricsRegistry, registerHealthGauge } from "../../platform/http.js";
import { p2pMetrics } from "../../platform/p2p/metrics.js";
import { txSenderMetrics } from "../../platform/tx-sender/metrics.js";
import { subscriberMetrics } from "../../workers/event-subscriber/metrics.js";
import { secretResponderMetrics } from "../../workers/secret-responder/metrics.js";
import { withdrawalMetrics } from "../../workers/withdrawal-processor/metrics.js";

/** Prometheus metric types, as prom-client reports them. */
export type MetricType = "counter" | "gauge" | "histogram" | "summary";

export interface DefinedMetric {
  name: string;
  type: MetricType;
  /** Where it was found: "registry" (a metrics module) or the source file that defines it inline. */
  source: string;
}

/** The repository root (this file is devnet/monitoring/catalog.ts). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Directories of production code whose sources are scanned for inline metric definitions. */
const SOURCE_DIRS = ["platform", "enclave", "workers", "gateway"] as const;

/**
 * A fresh registry with every Veilnet metrics module registered, as the processes register them;
 * `veilnet_health` reports `health` (default: no services).
 */
export function registryWithEveryModule(
  health: () => Promise<HealthReport> = () => Promise.resolve({ status: "ok", services: {}, dependencies: {} }),
): Registry {
  const registry = createMetricsRegistry();
  registerHealthGauge(registry, health);
  txSenderMetrics(registry);
  p2pMetrics(registry);
  consensusMetrics(registry);
  // The exporter's metrics are private to its DutyTracker: constructing one registers them.
  new DutyTracker({ committee: [1, 2, 3, 4], verifier: { verify: () => false }, registry });
  rollupProducerMetrics(registry);
  epochRevealerMetrics(registry);
  subscriberMetrics(registry);
  secretResponderMetrics(registry);
  withdrawalMetrics(registry, () => Promise.resolve(0));
  new GatewayMetrics(registry);
  return registry;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => path.join(e.parentPath, e.name));
}

/** `name: "veilnet_…"` definitions in the sources (with the metric type of the call that defines them). */
export function scanSourceDefinitions(root = repoRoot): DefinedMetric[] {
  const found: DefinedMetric[] = [];
  for (const dir of SOURCE_DIRS) {
    for (const file of tsFiles(path.join(root, dir))) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/name:\s*"(veilnet_[a-z0-9_]+)"/g)) {
        // The defining call is the nearest counter(/gauge(/histogram( (or new Counter(…) before the name.
        const before = text.slice(Math.max(0, m.index - 300), m.index);
        const calls = [...before.matchAll(/\b(?:new\s+)?(counter|gauge|histogram|summary)\s*(?:<[^>]*>)?\s*\(/gi)];
        const call = calls.at(-1);
        if (call === undefined) continue;
        found.push({
          name: m[1]!,
          type: call[1]!.toLowerCase() as MetricType,
          source: path.relative(root, file),
        });
      }
    }
  }
  return found;
}

/** Every metric the code defines, by name. */
export async function definedMetrics(root = repoRoot): Promise<Map<string, DefinedMetric>> {
  const defined = new Map<string, DefinedMetric>();
  for (const m of await registryWithEveryModule().getMetricsAsJSON()) {
    defined.set(m.name, { name: m.name, type: String(m.type) as MetricType, source: "registry" });
  }
  for (const m of scanSourceDefinitions(root)) if (!defined.has(m.name)) defined.set(m.name, m);
  return defined;
}

/** Suffixes of the series a histogram (or summary) exposes. */
const HISTOGRAM_SUFFIXES = ["_bucket", "_sum", "_count"] as const;

/**
 * The defined metric a queried series name belongs to (`x_bucket` → histogram `x`), or undefined when the
 * code defines no such metric.
 */
export function metricOf(series: string, defined: ReadonlyMap<string, DefinedMetric>): DefinedMetric | undefined {
  const direct = defined.get(series);
  if (direct !== undefined && direct.type !== "histogram") return direct;
  for (const suffix of HISTOGRAM_SUFFIXES) {
    if (!series.endsWith(suffix)) continue;
    const base = defined.get(series.slice(0, -suffix.length));
    if (base !== undefined && (base.type === "histogram" || (base.type === "summary" && suffix !== "_bucket"))) {
      return base;
    }
  }
  return undefined;
}
