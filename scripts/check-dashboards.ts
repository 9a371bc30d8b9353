/**
 * Checks the Grafana dashboards of monitoring/ against a running network: starts Debian's Prometheus
 * (a free loopback port, a temporary directory, monitoring/prometheus/alerts.yml loaded) scraping the
 * devnet's processes, waits for a few scrapes, then runs every panel query and reports, per query,
 * whether it returns series. A query is "not served" when one of its selectors matches no series (a
 * metric no process exports yet, or a labelled counter that never counted); exit code 1 when a query
 * whose selectors all match returns nothing, or when a target cannot be scraped.
 *
 *   npx tsx scripts/check-dashboards.ts [--devnet <devnet.json>] [--target <job>=<host:port> …]
 *                                       [--scrapes N] [--write-targets <dir>] [--strict]
 *
 * --strict also fails when a query is not served because a metric without labels is missing (those are
 * exported at 0 from the start, so it was renamed or its process does not run); the committee drill
 * (`npm run drill:committee -- --check-dashboards`) runs it against a committee devnet.
 *
 * Targets: `--target` options, else the /healthz URLs of the devnet's devnet.json (the newest under
 * $DEVNET_DIR or .devnet/): `health.<name>` → job `veilnet-<name>` (a trailing member number dropped,
 * so committee-1, committee-2 … are job veilnet-committee). `--write-targets <dir>` only writes them as
 * file_sd files (`<dir>/<job without veilnet->.json`) for monitoring/prometheus/prometheus.yml, and exits.
 */
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

import { registryWithEveryModule } from "../devnet/monitoring/catalog.js";
import { alertsFile, allDashboardQueries, expandVariables } from "../devnet/monitoring/dashboards.js";
import { type ScrapeTargets, startPrometheus } from "../devnet/monitoring/prometheus.js";
import { selectors } from "../devnet/monitoring/promql.js";
import { devnetDir } from "../devnet/workspace.js";

interface Options {
  devnet?: string;
  /** Fail on a query "not served" because of a metric without labels (one every process exports from start). */
  strict: boolean;
  targets: Record<string, string[]>;
  scrapes: number;
  writeTargets?: string;
}

function usage(message: string): never {
  console.error(`check-dashboards: ${message}`);
  console.error(
    "usage: npx tsx scripts/check-dashboards.ts [--devnet <devnet.json>] [--target <job>=<host:port> …] [--scrapes N] [--write-targets <dir>] [--strict]",
  );
  process.exit(2);
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { targets: {}, scrapes: 3, strict: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => argv[++i] ?? usage(`${arg} needs a value`);
    if (arg === "--devnet") options.devnet = value();
    else if (arg === "--write-targets") options.writeTargets = value();
    else if (arg === "--strict") options.strict = true;
    else if (arg === "--scrapes") options.scrapes = Number(value());
    else if (arg === "--target") {
      const m = /^([A-Za-z0-9_-]+)=([^\s=]+:\d+)$/.exec(value());
      if (m === null) usage(`--target takes <job>=<host:port>, got "${argv[i]}"`);
      (options.targets[m[1]!] ??= []).push(m[2]!);
    } else if (arg === "-h" || arg === "--help") usage("help");
    else usage(`unknown option "${arg}"`);
  }
  if (!Number.isInteger(options.scrapes) || options.scrapes < 2) usage("--scrapes must be an integer ≥ 2");
  return options;
}

/** The newest devnet.json under `dir` (the devnet writes it into its data directory). */
function newestDevnetFile(dir: string): string | undefined {
  let best: { file: string; mtime: number } | undefined;
  let entries: string[];
  try {
    entries = readdirSync(dir, { recursive: true }) as string[];
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (path.basename(entry) !== "devnet.json") continue;
    const file = path.join(dir, entry);
    const mtime = statSync(file).mtimeMs;
    if (best === undefined || mtime > best.mtime) best = { file, mtime };
  }
  return best?.file;
}

/** The scrape targets of a devnet.json: its /healthz URLs, by job. */
function devnetTargets(file: string): Record<string, string[]> {
  const info = JSON.parse(readFileSync(file, "utf8")) as { health?: Record<string, string | string[]> };
  const targets: Record<string, string[]> = {};
  for (const [name, urls] of Object.entries(info.health ?? {})) {
    const job = `veilnet-${name.replace(/[-_]?\d+$/, "")}`;
    for (const url of Array.isArray(urls) ? urls : [urls]) (targets[job] ??= []).push(new URL(url).host);
  }
  return targets;
}

function writeTargets(dir: string, targets: ScrapeTargets): void {
  mkdirSync(dir, { recursive: true });
  for (const [job, hosts] of Object.entries(targets)) {
    const file = path.join(dir, `${job.replace(/^veilnet-/, "")}.json`);
    writeFileSync(file, `${JSON.stringify([{ targets: hosts }], null, 2)}\n`);
    console.log(`check-dashboards: wrote ${file} (${hosts.join(", ")})`);
  }
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  let targets: ScrapeTargets = options.targets;
  if (Object.keys(targets).length === 0) {
    const file = options.devnet ?? newestDevnetFile(devnetDir());
    if (file === undefined) usage(`no devnet.json under ${devnetDir()}: start \`npm run devnet\`, or pass --target`);
    targets = devnetTargets(file);
    console.log(`check-dashboards: targets from ${file}`);
  }
  if (options.writeTargets !== undefined) {
    writeTargets(options.writeTargets, targets);
    return 0;
  }
  const prometheus = await startPrometheus({ targets, ruleFiles: [alertsFile], intervalSeconds: 1 });
  try {
    console.log(`check-dashboards: prometheus at ${prometheus.url}, waiting for ${options.scrapes} scrapes`);
    await prometheus.waitForScrapes(options.scrapes, 60_000);
    let failed = false;
    for (const t of await prometheus.targets()) {
      const ok = t.health === "up";
      if (!ok) failed = true;
      console.log(`${ok ? "up        " : "DOWN      "} ${t.job} ${t.scrapeUrl}${ok ? "" : ` (${t.lastError})`}`);
    }
    const counts = { ok: 0, empty: 0, notServed: 0, missing: 0 };
    // Metrics without labels are exported (at 0) from the start: with --strict, one that is missing is a
    // failure (a renamed metric, or a process that does not run). Labelled ones appear once they count.
    const registry = registryWithEveryModule();
    const unlabelled = (name: string): boolean => {
      const base = name.replace(/_(bucket|sum|count)$/, "");
      const metric = registry.getSingleMetric(base) as { labelNames?: readonly string[] } | undefined;
      return metric !== undefined && (metric.labelNames ?? []).length === 0;
    };
    for (const q of allDashboardQueries().filter((x) => !x.variable)) {
      const label = `${q.dashboard} / ${q.panel} / ${q.refId}`;
      const missing: string[] = [];
      for (const s of selectors(q.expr)) {
        const found = await prometheus.query(`count(${expandVariables(s.selector)})`);
        if (found.length === 0) missing.push(s.selector);
      }
      if (missing.length > 0) {
        const required = missing.filter((sel) => options.strict && unlabelled(sel.replace(/\{.*$/s, "")));
        if (required.length > 0) {
          counts.missing++;
          failed = true;
          console.log(
            `MISSING     ${label}: ${required.join(", ")} (exported from the start: renamed, or not running?)`,
          );
        } else {
          counts.notServed++;
          console.log(`not served  ${label}: ${missing.join(", ")}`);
        }
        continue;
      }
      const result = await prometheus.query(expandVariables(q.expr));
      if (result.length === 0) {
        counts.empty++;
        failed = true;
        console.log(`EMPTY       ${label}: ${q.expr}`);
      } else {
        counts.ok++;
        console.log(`ok          ${label} (${result.length} series)`);
      }
    }
    console.log(
      `check-dashboards: ${counts.ok} queries with series, ${counts.empty} empty, ${counts.notServed} not served` +
        (options.strict ? `, ${counts.missing} missing a metric exported from the start` : ""),
    );
    return failed ? 1 : 0;
  } finally {
    await prometheus.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`check-dashboards: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
