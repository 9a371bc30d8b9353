/**
 * What every bench prints and writes: rows of figures (with an optional target and verdict), a table
 * of them, and bench/results/<name>.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** One figure of a bench. */
export interface Row {
  figure: string;
  value: number;
  unit: string;
  /** The target, as text ("≥ 1,000"); with `ok`, the verdict. */
  target?: string;
  ok?: boolean;
  note?: string;
}

/** The table of `rows`: figure, value, unit and verdict, the note on a line of its own. */
export function formatRows(rows: readonly Row[], widths: { value: number; unit: number }): string[] {
  const width = Math.max(...rows.map((r) => r.figure.length));
  const lines: string[] = [];
  for (const r of rows) {
    const verdict = r.ok === undefined ? "" : r.ok ? `ok (target ${r.target})` : `MISSED (target ${r.target})`;
    const value = r.value.toLocaleString("en-US").padStart(widths.value);
    lines.push(`${r.figure.padEnd(width)}  ${value} ${r.unit.padEnd(widths.unit)} ${verdict}`);
    if (r.note !== undefined) lines.push(`${"".padEnd(width)}  ${r.note}`);
  }
  return lines;
}

/** bench/results/<name>.json. */
export function resultsFile(name: string): string {
  return join(dirname(fileURLToPath(import.meta.url)), "results", `${name}.json`);
}

/** Writes `data` as bench/results/<name>.json and returns the path. */
export function writeResults(name: string, data: unknown): string {
  const out = resultsFile(name);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(data, null, 2) + "\n");
  return out;
}
