/**
 * The dashboards against a real Prometheus (Debian's binary on a free loopback port, a temporary storage
 * directory, alerts.yml loaded) scraping real Veilnet metrics: the ops server of platform/http.ts serving
 * a process registry with every metrics module registered (as the runtime builds it) and each metric
 * exercised once, so every labelled series exists. Every dashboard query whose metrics that process
 * serves must return series, every template variable must find values, and every rule must load and
 * evaluate without error. Skipped without Prometheus (fails under REQUIRE_PROMETHEUS=1).
 */
import { expect } from "chai";
import type { Registry } from "prom-client";

import { consensusMetrics } from "../../enclave/consensus/metrics.js";
import { epochRevealerMetrics } from "../../enclave/epoch-revealer/metrics.js";
import { rollupProducerMetrics } from "../../enclave/rollup-producer/metrics.js";
import { GatewayMetrics } from "../../gateway/metrics.js";
import { registryWithEveryModule, scanSourceDefinitions } from "../../devnet/monitoring/catalog.js";
import { alertsFile, allDashboardQueries, expandVariables, readRules } from "../../devnet/monitoring/dashboards.js";
import { type RunningPrometheus, PROMETHEUS, startPrometheus } from "../../devnet/monitoring/prometheus.js";
import { selectedNames, variableQueryExpr } from "../../devnet/monitoring/promql.js";
import { type HealthReport, type OpsServer, startOpsServer } from "../../platform/http.js";
import { silentLogger } from "../../platform/logger.js";
import { gauge } from "../../platform/metrics.js";
import { p2pMetrics } from "../../platform/p2p/metrics.js";
import { txSenderMetrics } from "../../platform/tx-sender/metrics.js";
import { subscriberMetrics } from "../../workers/event-subscriber/metrics.js";
import { secretResponderMetrics } from "../../workers/secret-responder/metrics.js";
import { withdrawalMetrics } from "../../workers/withdrawal-processor/metrics.js";
import type { Counter } from "prom-client";
import { requirePrometheus } from "../../testing/prometheus.js";

/** Records one observation of every metric (labelled ones with representative label values). */
function exercise(registry: Registry): void {
  const tx = txSenderMetrics(registry);
  const signer = { signer: "0x00000000000000000000000000000000000000aa" };
  for (const c of [tx.sent, tx.resent, tx.mined, tx.reverted, tx.alreadyDone]) c.inc(signer);
  tx.pending.set(signer, 1);
  tx.timeToMine.observe(signer, 3);
  const p2p = p2pMetrics(registry);
  p2p.peers.set(3);
  p2p.received.inc({ topic: "qbft" });
  p2p.published.inc({ topic: "qbft" });
  p2p.rejected.inc({ topic: "qbft", reason: "signature" });
  p2p.ignored.inc({ topic: "qbft", reason: "duplicate" });
  for (const stat of ["min", "avg", "max"]) p2p.peerScore.set({ stat }, 1);
  p2p.validationSeconds.observe(0.001);
  const qbft = consensusMetrics(registry);
  qbft.height.set(7);
  qbft.round.set(1);
  qbft.isLeader.set(1);
  for (const c of [qbft.decided, qbft.roundChanges, qbft.synced, qbft.invalidProposals]) c.inc();
  qbft.decideSeconds.observe(0.2);
  qbft.messages.inc({ type: "commit", result: "accepted" });
  qbft.messages.inc({ type: "prepare", result: "late" });
  const exporter = (name: string) => registry.getSingleMetric(name) as Counter;
  exporter("veilnet_exporter_decided_total").inc();
  exporter("veilnet_exporter_round_changes_total").inc();
  exporter("veilnet_exporter_duties_total").inc({ operator: "1", result: "signed" });
  exporter("veilnet_exporter_duties_total").inc({ operator: "2", result: "missed" });
  exporter("veilnet_exporter_proposals_total").inc({ operator: "1" });
  exporter("veilnet_exporter_refused_total").inc({ reason: "too few signers" });
  const rollups = rollupProducerMetrics(registry);
  rollups.submitted.inc();
  rollups.batches.observe(5);
  rollups.bytes.observe(2000);
  rollups.resubmissions.inc({ reason: "reorged" });
  rollups.lastLanded.set(4);
  rollups.latency.observe(2);
  rollups.failures.inc();
  const epochs = epochRevealerMetrics(registry);
  epochs.revealed.inc();
  epochs.refused.inc();
  epochs.failures.inc();
  epochs.settledThrough.set(1);
  const subscriber = subscriberMetrics(registry);
  subscriber.headBlock.set(100);
  subscriber.lastProcessedBlock.set(98);
  subscriber.lagBlocks.set(2);
  subscriber.eventsEnqueued.inc({ type: "DepositInitiated", removed: "false" });
  subscriber.reorgs.inc();
  subscriber.rpcErrors.inc({ method: "eth_getLogs" });
  const secrets = secretResponderMetrics(registry);
  for (const c of [secrets.seen, secrets.answered, secrets.lostRaces, secrets.closed]) c.inc();
  secrets.refused.inc({ reason: "report" });
  const withdrawals = withdrawalMetrics(registry, () => Promise.resolve(2));
  withdrawals.tracked.inc();
  withdrawals.relayed.inc({ by: "processor" });
  withdrawals.failed.inc();
  withdrawals.dead.inc();
  withdrawals.rejected.inc();
  const gateway = new GatewayMetrics(registry);
  gateway.observe("eth_call", "ok", 0.01);
  gateway.observe("eth_call", "error", 0.02);
  gateway.users.set(1);
  gateway.connections.set(1);
  gateway.filters.set(1);
  gateway.subscriptions.set({ kind: "newHeads" }, 1);
  gateway.notifications.inc({ kind: "newHeads" });
}

/** The jobs of monitoring/prometheus/prometheus.yml. */
const JOBS = [
  "veilnet-workers",
  "veilnet-sequencer",
  "veilnet-validator",
  "veilnet-gateway",
  "veilnet-committee",
  "veilnet-exporter",
] as const;

describe("monitoring: the dashboards' queries against a real Prometheus scraping Veilnet metrics", function () {
  this.timeout(120_000);

  let ops: OpsServer | undefined;
  let prometheus: RunningPrometheus | undefined;
  let timer: NodeJS.Timeout | undefined;
  let served: Set<string>;

  before(async function () {
    requirePrometheus(this, PROMETHEUS);
    const health = (): Promise<HealthReport> =>
      Promise.resolve({ status: "ok", services: { sequencer: { ok: true } }, dependencies: { redis: { ok: true } } });
    const registry = registryWithEveryModule(health);
    // The node services' gauges (enclave/node/services.ts) need a whole node: registered by their names.
    for (const m of scanSourceDefinitions()) {
      if (registry.getSingleMetric(m.name) === undefined && m.type === "gauge") {
        gauge(registry, { name: m.name, help: `${m.name} (defined in ${m.source})` }).set(1);
      }
    }
    exercise(registry);
    // Counters keep moving, so rates are not all zero.
    timer = setInterval(() => exercise(registry), 250);
    ops = await startOpsServer({
      port: 0,
      host: "127.0.0.1",
      registry,
      health,
      logger: silentLogger(),
    });
    prometheus = await startPrometheus({
      // The one process stands for every job, so each dashboard's job variable finds it.
      targets: Object.fromEntries(JOBS.map((job) => [job, [`127.0.0.1:${ops!.port}`]])),
      ruleFiles: [alertsFile],
      intervalSeconds: 1,
    });
    await prometheus.waitForScrapes(4);
    served = new Set([
      ...(await prometheus.names()),
      ...readRules()
        .filter((r) => r.kind === "record")
        .map((r) => r.name),
    ]);
  });

  after(async () => {
    clearInterval(timer);
    await prometheus?.stop();
    await ops?.close();
  });

  it("scrapes the process (up == 1)", async () => {
    const targets = await prometheus!.targets();
    expect(targets.map((t) => [t.job, t.health, t.lastError])).to.have.deep.members(JOBS.map((j) => [j, "up", ""]));
    const up = await prometheus!.query('up{job="veilnet-sequencer"}');
    expect(up.map((s) => s.value[1])).to.deep.equal(["1"]);
  });

  it("every panel query whose metrics the process serves returns series", async () => {
    const empty: string[] = [];
    let checked = 0;
    const skipped: string[] = [];
    for (const q of allDashboardQueries().filter((x) => !x.variable)) {
      if (!selectedNames(q.expr).every((n) => served.has(n))) {
        skipped.push(
          `${q.dashboard} / ${q.panel}: ${selectedNames(q.expr)
            .filter((n) => !served.has(n))
            .join(", ")}`,
        );
        continue;
      }
      checked++;
      const result = await prometheus!.query(expandVariables(q.expr));
      if (result.length === 0) empty.push(`${q.dashboard} / ${q.panel} / ${q.refId}: ${q.expr}`);
    }
    expect(empty, "queries without series").to.deep.equal([]);
    // Every metric is served here.
    const all = allDashboardQueries().filter((x) => !x.variable).length;
    expect(skipped, "queries of metrics not served").to.deep.equal([]);
    expect(checked).to.equal(all);
  });

  it("every template variable finds values", async () => {
    for (const q of allDashboardQueries().filter((x) => x.variable)) {
      const expr = variableQueryExpr(q.expr);
      if (expr === undefined) continue;
      const result = await prometheus!.query(expandVariables(expr, { job: ".+", instance: ".+" }));
      expect(result, `${q.dashboard} / ${q.panel}`).to.not.have.length(0);
    }
  });

  it("loads every rule of alerts.yml and evaluates it without error", async () => {
    const url = `${prometheus!.url}/api/v1/rules`;
    const until = Date.now() + 15_000;
    for (;;) {
      const res = (await (await fetch(url)).json()) as {
        data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
      };
      const rules = res.data.groups.flatMap((g) => g.rules);
      expect(rules.map((r) => r.name)).to.have.members(readRules().map((r) => r.name));
      const bad = rules.filter((r) => r.health !== "ok").map((r) => `${r.name}: ${r.health} ${r.lastError ?? ""}`);
      if (bad.length === 0) break;
      if (Date.now() > until) expect(bad).to.deep.equal([]);
      await new Promise((r) => setTimeout(r, 500));
    }
  });
});
