/**
 * `npm run drill:committee [-- --committee <n>] [-- --threshold-key] [-- --check-dashboards]`: starts a committee devnet (default n = 4) in a
 * temporary directory on free ports, runs the failover drills of devnet/committee-drill.ts (kill -9
 * the leader, kill f+1, restart from data; same blocks everywhere, no conflicting vote, no rollup
 * gap), prints what happened and the failover time, and stops everything. With --check-dashboards it
 * first runs every Grafana dashboard query against the committee through a real Prometheus
 * (scripts/check-dashboards.ts --strict). With --threshold-key the committee signs rollups with its
 * threshold key (devnet --threshold-key), so the drills show a quorum of shares still signs with members
 * down. Exit code 0 when every
 * check passed, 1 otherwise. Takes about 3 minutes for n = 4 on a 2-core machine.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { runCommitteeDrill } from "../devnet/committee-drill.js";
import { startDevnet } from "../devnet/index.js";
import { freePort } from "../devnet/ports.js";

const args = process.argv.slice(2);
const at = args.indexOf("--committee");
const size = at === -1 ? 4 : Number(args[at + 1]);
if (![4, 7, 10, 13].includes(size)) {
  process.stderr.write(`--committee must be 4, 7, 10 or 13, got "${args[at + 1] ?? ""}"\n`);
  process.exit(2);
}
const dir = mkdtempSync(path.join(tmpdir(), "veilnet-drill-"));
const out = (line: string) => process.stdout.write(`${line}\n`);
const devnet = await startDevnet({
  dir,
  committee: size,
  thresholdKey: args.includes("--threshold-key"),
  l1Port: await freePort(),
  l2RpcPort: await freePort(),
  gatewayPort: await freePort(),
  onProgress: (p) => out(`[${p.step}/${p.total}] ${p.title}`),
  onCrash: (c) => out(`  (${c.name} exited: expected while a drill kills it)`),
});
let code = 0;
try {
  if (args.includes("--check-dashboards")) {
    // Every dashboard query against this committee devnet, through a real Prometheus (before any kill).
    const { spawnSync } = await import("node:child_process");
    out("checking the dashboards against the committee devnet (scripts/check-dashboards.ts --strict)");
    const check = spawnSync("npx", ["tsx", "scripts/check-dashboards.ts", "--devnet", devnet.runFile, "--strict"], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    if (check.status !== 0) throw new Error(`check-dashboards failed (exit ${check.status ?? check.signal})`);
  }
  const result = await runCommitteeDrill(devnet, (line) => out(`drill: ${line}`));
  out(JSON.stringify({ committee: size, ...result }, null, 2));
} catch (error) {
  code = 1;
  process.stderr.write(`drill failed: ${(error as Error).message}\n  logs: ${devnet.logDir}\n`);
} finally {
  await devnet.stop();
  if (code === 0) rmSync(dir, { recursive: true, force: true });
}
process.exit(code);
