/**
 * The Grafana dashboards and Prometheus rules in monitoring/: reading them, listing their PromQL queries,
 * and turning a dashboard query into one Prometheus can run (Grafana's variables replaced).
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";

import { repoRoot } from "./catalog.js";

export const monitoringDir = path.join(repoRoot, "monitoring");
export const dashboardsDir = path.join(monitoringDir, "grafana", "dashboards");
export const alertsFile = path.join(monitoringDir, "prometheus", "alerts.yml");

/** One PromQL query of a dashboard: a panel target or a template variable. */
export interface DashboardQuery {
  dashboard: string;
  /** The panel title, or `variable <name>`. */
  panel: string;
  /** The target's refId (or the variable name). */
  refId: string;
  expr: string;
  /** True for a template variable's query (`label_values(expr, label)`: `expr` is its series selector). */
  variable: boolean;
}

interface GrafanaTarget {
  refId?: string;
  expr?: string;
}

interface GrafanaPanel {
  title?: string;
  type?: string;
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
}

interface GrafanaVariable {
  name: string;
  type: string;
  query?: string | { query?: string };
}

/** The parts of a dashboard JSON model read here. */
export interface GrafanaDashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: GrafanaPanel[];
  templating?: { list: GrafanaVariable[] };
}

/** The dashboard files (`<name>.json`), sorted. */
export function dashboardFiles(dir = dashboardsDir): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => path.join(dir, f));
}

export function readDashboard(file: string): GrafanaDashboard {
  return JSON.parse(readFileSync(file, "utf8")) as GrafanaDashboard;
}

function flatten(panels: readonly GrafanaPanel[]): GrafanaPanel[] {
  return panels.flatMap((p) => [p, ...flatten(p.panels ?? [])]);
}

/** Every PromQL query of `dashboard` (`name`: its file name without `.json`). */
export function dashboardQueries(name: string, dashboard: GrafanaDashboard): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  for (const panel of flatten(dashboard.panels)) {
    for (const t of panel.targets ?? []) {
      if (t.expr === undefined || t.expr.trim() === "") continue;
      queries.push({ dashboard: name, panel: panel.title ?? "", refId: t.refId ?? "", expr: t.expr, variable: false });
    }
  }
  for (const v of dashboard.templating?.list ?? []) {
    if (v.type !== "query" || v.query === undefined) continue;
    const expr = typeof v.query === "string" ? v.query : (v.query.query ?? "");
    if (expr.trim() !== "")
      queries.push({ dashboard: name, panel: `variable ${v.name}`, refId: v.name, expr, variable: true });
  }
  return queries;
}

/** Every query of every dashboard in `dir`. */
export function allDashboardQueries(dir = dashboardsDir): DashboardQuery[] {
  return dashboardFiles(dir).flatMap((f) => dashboardQueries(path.basename(f, ".json"), readDashboard(f)));
}

/** One rule of a Prometheus rules file. */
export interface RuleDefinition {
  group: string;
  /** The alert name, or the recorded series name. */
  name: string;
  kind: "alert" | "record";
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** A YAML scalar as written in the rules file: quotes removed. */
function scalar(text: string): string {
  const t = text.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) return JSON.parse(t) as string;
  if (t.length >= 2 && t.startsWith("'") && t.endsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
  return t;
}

/**
 * The rules of a Prometheus rules file. The repository has no YAML parser, so this reads the layout the
 * files in monitoring/ use (promtool checks the YAML itself): `- name:` groups, `- alert:`/`- record:`
 * rules whose keys (`expr`, `for`, `labels`, `annotations`) are one per line, values plain, quoted, or
 * `|`/`>` block scalars.
 */
export function readRules(file = alertsFile): RuleDefinition[] {
  const lines = readFileSync(file, "utf8").split("\n");
  const rules: RuleDefinition[] = [];
  let group = "";
  let rule: RuleDefinition | undefined;
  let section: "labels" | "annotations" | undefined;
  let sectionIndent = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "" || line.trim().startsWith("#")) continue;
    const indent = line.length - line.trimStart().length;
    const m = /^\s*(-\s+)?([A-Za-z_]+):\s?(.*)$/.exec(line);
    if (m === null) continue;
    const [, dash, key, rest] = m as unknown as [string, string | undefined, string, string];
    let value: string;
    if (/^[|>][-+]?\s*$/.test(rest.trim())) {
      // A block scalar: the following lines indented more than this key.
      const block: string[] = [];
      while (i + 1 < lines.length) {
        const next = lines[i + 1]!;
        if (next.trim() !== "" && next.length - next.trimStart().length <= indent + (dash?.length ?? 0)) break;
        block.push(next.trim());
        i++;
      }
      value = block.join(rest.trim().startsWith(">") ? " " : "\n").trim();
    } else {
      value = scalar(rest);
    }
    if (section !== undefined && indent > sectionIndent && dash === undefined && rule !== undefined) {
      rule[section][key] = value;
      continue;
    }
    section = undefined;
    if (dash !== undefined && key === "name") {
      group = value;
    } else if (dash !== undefined && (key === "alert" || key === "record")) {
      rule = { group, name: value, kind: key, expr: "", labels: {}, annotations: {} };
      rules.push(rule);
    } else if (rule !== undefined && key === "expr") {
      rule.expr = value;
    } else if (rule !== undefined && key === "for") {
      rule.for = value;
    } else if (rule !== undefined && (key === "labels" || key === "annotations")) {
      section = key;
      sectionIndent = indent;
    }
  }
  return rules;
}

/** Values Grafana's built-in and dashboard variables get when a query is run outside Grafana. */
export const DEFAULT_VARIABLES: Readonly<Record<string, string>> = {
  __rate_interval: "1m",
  __interval: "15s",
  __range: "5m",
  job: ".+",
  instance: ".+",
  topic: ".+",
  committee: ".+",
  datasource: "prometheus",
};

/** `expr` with `$name`, `${name}` and `[[name]]` replaced by `variables` (unknown ones by `.+`). */
export function expandVariables(expr: string, variables: Readonly<Record<string, string>> = DEFAULT_VARIABLES): string {
  return expr.replace(/\$\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)\]\]/g, (_m, a, b, c) => {
    const name = (a ?? b ?? c) as string;
    return variables[name] ?? ".+";
  });
}
