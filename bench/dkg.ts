/**
 * The DKG (platform/dkg) run in process: a whole ceremony among n = 4, 7, 10, 13 simulated operators
 * (testing/dkg-network.ts, no delays, no faults), including the threshold proof of possession. All
 * operators share one thread, so the ceremony's wall time is the sum of every operator's CPU; the bench
 * also reports the mean time one operator spent (what a real operator would spend, less the network).
 * Each figure is the best of DKG_BENCH_ROUNDS runs (2 by default). Writes bench/results/dkg.json;
 * docs/distributed-key.md ("DKG") quotes it.
 *
 *   npm run bench:dkg        (about 3 minutes on a shared 2-core machine with the default 2 rounds)
 */
import { cpus, loadavg } from "node:os";

import { simulateCeremony } from "../testing/dkg-network.js";
import { type Row, formatRows, writeResults } from "./report.js";

const SIZES = [4, 7, 10, 13] as const;
const ROUNDS = Number(process.env.DKG_BENCH_ROUNDS ?? 2);
const OWNER = "0x00000000000000000000000000000000000000a1";

/** One ceremony at n: its wall time and the mean per-operator CPU time, in ms. */
function ceremony(n: number, round: number): { wall: number; perOperator: number } {
  const start = performance.now();
  const run = simulateCeremony({
    n,
    seed: `bench-${n}-${round}`,
    maxDelay: 0,
    duplicateRate: 0,
    pop: { owner: OWNER, nonce: 1n },
  });
  const wall = performance.now() - start;
  const completed = [...run.results.values()].filter((r) => r.kind === "completed").length;
  if (completed !== n || run.proofOfPossession === undefined)
    throw new Error(`n = ${n}: the ceremony did not complete`);
  return { wall, perOperator: run.cpuMs.reduce((a, b) => a + b, 0) / n };
}

const rows: Row[] = [];
const figures: { n: number; threshold: number; ceremonyMs: number; perOperatorMs: number }[] = [];
ceremony(4, -1); // warm-up
for (const n of SIZES) {
  const runs = Array.from({ length: ROUNDS }, (_, r) => ceremony(n, r));
  const wall = Math.min(...runs.map((r) => r.wall));
  const perOperator = Math.min(...runs.map((r) => r.perOperator));
  const t = 2 * Math.floor((n - 1) / 3) + 1;
  figures.push({ n, threshold: t, ceremonyMs: Math.round(wall), perOperatorMs: Math.round(perOperator) });
  rows.push({ figure: `ceremony, n = ${n} (t = ${t}), all operators`, value: Math.round(wall), unit: "ms" });
  rows.push({ figure: `ceremony, n = ${n}, per operator`, value: Math.round(perOperator), unit: "ms" });
}

const machine = `${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, Node ${process.version}, load ${loadavg()[0]!.toFixed(2)}`;
console.log(`DKG in process (best of ${ROUNDS}; ${machine})`);
for (const line of formatRows(rows, { value: 7, unit: 2 })) console.log(line);
console.log(`wrote ${writeResults("dkg", { machine, rounds: ROUNDS, figures })}`);
