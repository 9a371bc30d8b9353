/**
 * A small PromQL tokenizer, enough to list the metric names an expression selects: identifiers that are
 * not functions (followed by `(`), keywords, label names (inside `{…}`, `by (…)`, `without (…)`, `on (…)`,
 * `ignoring (…)`, `group_left (…)`, `group_right (…)`) nor Grafana variables (`$job`, `${job}`,
 * `$__rate_interval`). Range and subquery selectors (`[5m]`, `[1h:1m]`) and strings are skipped.
 */

/** Words of PromQL that are not metric names when they appear bare. */
const KEYWORDS: ReadonlySet<string> = new Set([
  "and",
  "or",
  "unless",
  "bool",
  "offset",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "sum",
  "avg",
  "min",
  "max",
  "count",
  "stddev",
  "stdvar",
  "topk",
  "bottomk",
  "quantile",
  "count_values",
  "group",
  "atan2",
  "inf",
  "nan",
]);

/** Modifiers followed by a parenthesised list of label names. */
const LABEL_LISTS: ReadonlySet<string> = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);

const IDENT_START = /[A-Za-z_:]/;
const IDENT = /[A-Za-z0-9_:]/;

/** Index after the string literal starting at `i` (its quote character). */
function skipString(expr: string, i: number): number {
  const quote = expr[i];
  let j = i + 1;
  while (j < expr.length && expr[j] !== quote) j += expr[j] === "\\" && quote !== "`" ? 2 : 1;
  return j + 1;
}

/** Index after the bracketed group starting at `i` (`open`), strings inside skipped. */
function skipGroup(expr: string, i: number, open: string, close: string): number {
  let depth = 0;
  let j = i;
  while (j < expr.length) {
    const c = expr[j]!;
    if (c === '"' || c === "'" || c === "`") {
      j = skipString(expr, j);
      continue;
    }
    if (c === open) depth++;
    else if (c === close && --depth === 0) return j + 1;
    j++;
  }
  return j;
}

/** Index of the first non-blank character at or after `i`. */
function skipBlanks(expr: string, i: number): number {
  let j = i;
  while (j < expr.length && /\s/.test(expr[j]!)) j++;
  return j;
}

/** One vector selector of an expression: the metric name and the selector text (`name{matchers}`). */
export interface Selector {
  name: string;
  selector: string;
}

/** The metric names `expr` selects (bare identifiers and `__name__="…"` matchers), in order of appearance. */
export function selectedNames(expr: string): string[] {
  const names: string[] = [];
  for (const s of selectors(expr)) if (!names.includes(s.name)) names.push(s.name);
  return names;
}

/** The vector selectors of `expr`, without their range (`rate(x{a="b"}[5m])` → `x{a="b"}`). */
export function selectors(expr: string): Selector[] {
  const found: Selector[] = [];
  const add = (name: string, selector = name) => found.push({ name, selector });
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === "#") {
      // A comment runs to the end of the line.
      while (i < expr.length && expr[i] !== "\n") i++;
    } else if (c === '"' || c === "'" || c === "`") {
      i = skipString(expr, i);
    } else if (c === "{") {
      const end = skipGroup(expr, i, "{", "}");
      const name = /__name__\s*=\s*"([A-Za-z_:][A-Za-z0-9_:]*)"/.exec(expr.slice(i, end));
      if (name !== null) add(name[1]!, expr.slice(i, end));
      i = end;
    } else if (c === "[") {
      i = skipGroup(expr, i, "[", "]");
    } else if (c === "$") {
      // A Grafana variable: ${name} or $name.
      i = expr[i + 1] === "{" ? skipGroup(expr, i + 1, "{", "}") : i + 1;
      while (i < expr.length && IDENT.test(expr[i]!)) i++;
    } else if (/[0-9.]/.test(c)) {
      // A number or a duration (1e3, 0x1f, 5m, 1h30m).
      while (i < expr.length && /[0-9A-Za-z_.]/.test(expr[i]!)) i++;
    } else if (IDENT_START.test(c)) {
      let j = i;
      while (j < expr.length && IDENT.test(expr[j]!)) j++;
      const word = expr.slice(i, j);
      const next = skipBlanks(expr, j);
      const lower = word.toLowerCase();
      if (LABEL_LISTS.has(lower) && expr[next] === "(") {
        i = skipGroup(expr, next, "(", ")");
        continue;
      }
      if (expr[next] !== "(" && !KEYWORDS.has(lower)) {
        if (expr[next] === "{") {
          const end = skipGroup(expr, next, "{", "}");
          add(word, word + expr.slice(next, end));
          i = end;
          continue;
        }
        add(word);
      }
      i = j;
    } else {
      i++;
    }
  }
  return found;
}

/** The series an expression of a Grafana template variable selects (`label_values(expr, label)` → expr). */
export function variableQueryExpr(query: string): string | undefined {
  const q = query.trim();
  const labelValues = /^label_values\s*\(([\s\S]*)\)$/.exec(q);
  if (labelValues !== null) {
    const inner = labelValues[1]!;
    // label_values(label) selects no metric; label_values(expr, label): the expression before the last comma.
    const comma = inner.lastIndexOf(",");
    return comma < 0 ? undefined : inner.slice(0, comma);
  }
  const other = /^query_result\s*\(([\s\S]*)\)$/.exec(q);
  if (other !== null) return other[1]!;
  if (/^label_names\s*\(\s*\)$/.test(q)) return undefined;
  return q;
}
