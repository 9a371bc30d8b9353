/**
 * Debian's Prometheus (`apt-get install prometheus`: /usr/bin/prometheus and /usr/bin/promtool) run
 * for a check: on a free loopback port, with a temporary storage directory and a generated scrape
 * config, queried through its HTTP API, and stopped (SIGTERM, then SIGKILL) when done.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { freePort } from "../ports.js";

const run = promisify(execFile);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Where the binaries are (PROMETHEUS_PATH / PROMTOOL_PATH, default Debian's /usr/bin). */
export const PROMETHEUS = process.env.PROMETHEUS_PATH ?? "/usr/bin/prometheus";
export const PROMTOOL = process.env.PROMTOOL_PATH ?? "/usr/bin/promtool";

/** The message to show when a binary is missing. */
export function installHint(binary: string): string {
  return `no ${path.basename(binary)} at ${binary}: apt-get install prometheus (Debian's package has prometheus and promtool; or set PROMETHEUS_PATH / PROMTOOL_PATH)`;
}

export function prometheusInstalled(): boolean {
  return existsSync(PROMETHEUS) && existsSync(PROMTOOL);
}

/** Runs `promtool <args>`; resolves with its output, rejects with it when promtool fails. */
export async function promtool(args: readonly string[], cwd?: string): Promise<string> {
  try {
    const { stdout, stderr } = await run(PROMTOOL, [...args], { cwd, timeout: 60_000 });
    return stdout + stderr;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`promtool ${args.join(" ")} failed:\n${err.stdout ?? ""}${err.stderr ?? err.message}`, {
      cause: e,
    });
  }
}

/** Targets to scrape, by job name (`host:port` of each /metrics). */
export type ScrapeTargets = Readonly<Record<string, readonly string[]>>;

export interface PrometheusOptions {
  targets: ScrapeTargets;
  /** Scrape (and rule evaluation) interval, seconds (default 1). */
  intervalSeconds?: number;
  /** Rule files to load (absolute paths). */
  ruleFiles?: readonly string[];
  /** How long to wait for it to be ready, ms (default 30 000). */
  readyTimeoutMs?: number;
}

/** One series of an instant query's answer. */
export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** A target as Prometheus reports it (`/api/v1/targets`). */
export interface TargetHealth {
  job: string;
  scrapeUrl: string;
  health: string;
  lastError: string;
}

export interface RunningPrometheus {
  url: string;
  /** An instant query; rejects with Prometheus's error (a bad expression) or on a timeout. */
  query(expr: string): Promise<Sample[]>;
  targets(): Promise<TargetHealth[]>;
  /** The metric names Prometheus holds samples of. */
  names(): Promise<string[]>;
  /** Waits until every target was scraped at least `scrapes` times (by `up` samples). */
  waitForScrapes(scrapes: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** The prometheus.yml of a check: one static job per entry of `targets`. */
export function scrapeConfig(options: PrometheusOptions): string {
  const interval = `${options.intervalSeconds ?? 1}s`;
  const lines = ["global:", `  scrape_interval: ${interval}`, `  evaluation_interval: ${interval}`];
  if ((options.ruleFiles ?? []).length > 0) {
    lines.push("rule_files:", ...(options.ruleFiles ?? []).map((f) => `  - ${JSON.stringify(f)}`));
  }
  lines.push("scrape_configs:");
  for (const [job, targets] of Object.entries(options.targets)) {
    lines.push(
      `  - job_name: ${JSON.stringify(job)}`,
      "    static_configs:",
      `      - targets: ${JSON.stringify(targets)}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

async function api<T>(url: string, timeoutMs = 10_000): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== "success") throw new Error(`prometheus: ${body.error ?? `HTTP ${res.status}`} (${url})`);
  return body.data;
}

function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Starts Prometheus on 127.0.0.1 (a free port) scraping `options.targets`. */
export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  if (!existsSync(PROMETHEUS)) throw new Error(installHint(PROMETHEUS));
  const dir = mkdtempSync(path.join(tmpdir(), "veilnet-prometheus-"));
  const configFile = path.join(dir, "prometheus.yml");
  writeFileSync(configFile, scrapeConfig(options));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const cleanup = async () => {
    await stopChild(child, 5000);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await cleanup();
      throw new Error(`prometheus exited before it was ready:\n${log}`);
    }
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await cleanup();
      throw new Error(`prometheus was not ready within ${options.readyTimeoutMs ?? 30_000} ms:\n${log}`);
    }
    await sleep(200);
  }
  const query = async (expr: string) => {
    const data = await api<{ resultType: string; result: Sample[] | [number, string] }>(
      `${url}/api/v1/query?query=${encodeURIComponent(expr)}`,
    );
    // A scalar answer (e.g. `vector(1)` is a vector, `1` a scalar) counts as one series.
    return data.resultType === "scalar" || data.resultType === "string"
      ? [{ metric: {}, value: data.result as [number, string] }]
      : (data.result as Sample[]);
  };
  const total = Object.values(options.targets).reduce((n, t) => n + t.length, 0);
  return {
    url,
    query,
    async targets() {
      const data = await api<{
        activeTargets: { labels: Record<string, string>; scrapeUrl: string; health: string; lastError: string }[];
      }>(`${url}/api/v1/targets`);
      return data.activeTargets.map((t) => ({
        job: t.labels.job ?? "",
        scrapeUrl: t.scrapeUrl,
        health: t.health,
        lastError: t.lastError,
      }));
    },
    names: () => api<string[]>(`${url}/api/v1/label/__name__/values`),
    async waitForScrapes(scrapes, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const counts = await query("count_over_time(up[1h])");
        if (counts.length >= total && counts.every((s) => Number(s.value[1]) >= scrapes)) return;
        if (Date.now() > until)
          throw new Error(`prometheus: fewer than ${scrapes} scrapes of every target within ${timeoutMs} ms`);
        await sleep(250);
      }
    },
    stop: cleanup,
  };
}
