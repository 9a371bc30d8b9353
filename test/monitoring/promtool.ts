/**
 * monitoring/prometheus: Debian's promtool accepts the scrape config and the alert rules, and the rules'
 * unit tests (alerts.test.yml) pass; every alert has a `for:`, a severity, a summary and a description,
 * and is exercised by a unit test. Without promtool the tests are skipped with the install hint, except
 * under CI's REQUIRE_PROMETHEUS=1, where they fail (as the browser test does with REQUIRE_BROWSER).
 */
import { readFileSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";

import { alertsFile, monitoringDir, readRules } from "../../devnet/monitoring/dashboards.js";
import { promtool } from "../../devnet/monitoring/prometheus.js";
import { requirePrometheus } from "../../testing/prometheus.js";

const prometheusDir = path.join(monitoringDir, "prometheus");
const testsFile = path.join(prometheusDir, "alerts.test.yml");

describe("monitoring: promtool checks the Prometheus config, the alert rules and their unit tests", function () {
  this.timeout(120_000);

  before(function () {
    requirePrometheus(this);
  });

  it("promtool check config accepts prometheus.yml (and the alerts.yml it loads)", async () => {
    const out = await promtool(["check", "config", "prometheus.yml"], prometheusDir);
    expect(out).to.match(/SUCCESS: prometheus\.yml is valid prometheus config file syntax/);
    expect(out).to.match(/SUCCESS: \d+ rules found/);
  });

  it("promtool check rules accepts alerts.yml", async () => {
    const out = await promtool(["check", "rules", "alerts.yml"], prometheusDir);
    expect(out).to.match(new RegExp(`SUCCESS: ${readRules().length} rules found`));
  });

  it("promtool test rules: alerts.test.yml passes", async () => {
    const out = await promtool(["test", "rules", "alerts.test.yml"], prometheusDir);
    expect(out).to.include("SUCCESS");
  });

  it("promtool test rules fails when an expectation is wrong (the unit tests do test something)", async () => {
    const { mkdtempSync, writeFileSync, copyFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(path.join(tmpdir(), "veilnet-promtool-"));
    try {
      copyFileSync(alertsFile, path.join(dir, "alerts.yml"));
      // The first expectation of no alert becomes an expectation of one: promtool must report it.
      const tests = readFileSync(testsFile, "utf8").replace(
        /exp_alerts: \[\]/,
        'exp_alerts:\n          - exp_labels: { severity: "critical" }',
      );
      writeFileSync(path.join(dir, "alerts.test.yml"), tests);
      let failed = false;
      try {
        await promtool(["test", "rules", "alerts.test.yml"], dir);
      } catch (e) {
        failed = true;
        expect((e as Error).message).to.include("FAILED");
      }
      expect(failed, "promtool test rules passed a wrong expectation").to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("monitoring: the alert rules", () => {
  const rules = readRules();
  const alerts = rules.filter((r) => r.kind === "alert");
  const tests = readFileSync(testsFile, "utf8");

  it("include the alerts DESIGN §9.5 asks for", () => {
    const names = alerts.map((a) => a.name);
    for (const name of [
      "VeilnetProcessDown",
      "VeilnetQbftNoDecision",
      "VeilnetQbftHeightStuck",
      "VeilnetP2PPeersBelowQuorum",
      "VeilnetOperatorMissingDuties",
      "VeilnetCommitteeNearLiquidation",
      "VeilnetL1Lag",
      "VeilnetTxStuck",
      "VeilnetTxReverted",
      "VeilnetRollupsNotPosted",
      "VeilnetWithdrawalRelayFailures",
    ]) {
      expect(names, name).to.include(name);
    }
    expect(new Set(names).size, "alert names are unique").to.equal(names.length);
  });

  it("every alert has a for:, a severity (critical or warning), a summary and a description", () => {
    for (const a of alerts) {
      expect(a.expr, `${a.name}: expr`).to.not.equal("");
      expect(a.for, `${a.name}: for`).to.match(/^\d+[smh]$/);
      expect(a.labels.severity, `${a.name}: severity`).to.be.oneOf(["critical", "warning"]);
      expect(a.annotations.summary, `${a.name}: summary`).to.be.a("string").and.not.equal("");
      expect(a.annotations.description, `${a.name}: description`).to.be.a("string").and.not.equal("");
    }
  });

  it("every alert has a unit test that expects it to fire, and one that expects it not to", () => {
    for (const a of alerts) {
      const blocks = tests.split(/\n\s+- eval_time:/).filter((b) => b.includes(`alertname: ${a.name}\n`));
      expect(
        blocks.some((b) => /exp_alerts:\s*\n\s+- exp_labels:/.test(b)),
        `${a.name} fires in a test`,
      ).to.equal(true);
      expect(
        blocks.some((b) => /exp_alerts: \[\]/.test(b)),
        `${a.name} does not fire in a test`,
      ).to.equal(true);
    }
  });

  it("every alert is documented in monitoring/README.md", () => {
    const readme = readFileSync(path.join(monitoringDir, "README.md"), "utf8");
    for (const a of alerts) expect(readme, a.name).to.include(a.name);
  });
});
