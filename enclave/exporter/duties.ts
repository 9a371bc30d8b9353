/**
 * The exporter's record of a committee's duties (SSV's exporter, read-only): it follows the consensus and
 * decided gossip without signing anything and keeps, per decided height, who proposed, in which round it
 * was decided, which members signed a COMMIT, and which missed their duty. A decided record is counted
 * only with a valid commit certificate; COMMITs seen in gossip (signatures checked) add the members
 * that committed but did not make it into the certificate, so they are not counted as missed.
 */
import type { Counter, Gauge, Registry } from "prom-client";

import { certificateProblem, certificateSigners } from "../consensus/certificate.js";
import { type OperatorId, type Signed, type Verifier, proposerOf, valueDigest } from "../consensus/qbft/index.js";
import type { DecidedRecord } from "../consensus/wire.js";
import { counter, gauge } from "../../platform/metrics.js";

/** One decided height, as the exporter serves it. */
export interface HeightDuties {
  height: number;
  round: number;
  proposer: OperatorId;
  /** sha256 of the decided value (the value itself is the sealed proposal; the exporter never opens it). */
  digest: string;
  signers: OperatorId[];
  missed: OperatorId[];
  decidedAtMs: number;
}

/** Two different votes one operator signed for one (height, round): proof it broke the protocol. */
export interface Equivocation {
  operatorId: OperatorId;
  height: number;
  round: number;
  type: "prepare" | "commit";
  digests: [string, string];
  seenAtMs: number;
}

/** Per operator, since the exporter started. */
export interface OperatorDuties {
  operatorId: OperatorId;
  proposed: number;
  signed: number;
  missed: number;
  lastSignedHeight: number | null;
}

interface ExporterMetrics {
  height: Gauge;
  round: Gauge;
  decided: Counter;
  roundChanges: Counter;
  duties: Counter<"operator" | "result">;
  proposals: Counter<"operator">;
  refused: Counter<"reason">;
  equivocations: Counter<"operator">;
}

function exporterMetrics(registry: Registry): ExporterMetrics {
  return {
    height: gauge(registry, { name: "veilnet_exporter_height", help: "Highest decided height the exporter has seen" }),
    round: gauge(registry, { name: "veilnet_exporter_round", help: "Round the highest decided height was decided in" }),
    decided: counter(registry, {
      name: "veilnet_exporter_decided_total",
      help: "Decided heights with a valid certificate",
    }),
    roundChanges: counter(registry, {
      name: "veilnet_exporter_round_changes_total",
      help: "Decided heights that needed more than one round",
    }),
    duties: counter(registry, {
      name: "veilnet_exporter_duties_total",
      help: "Commit duties per operator, by result (signed or missed)",
      labelNames: ["operator", "result"],
    }),
    proposals: counter(registry, {
      name: "veilnet_exporter_proposals_total",
      help: "Decided proposals per proposing operator",
      labelNames: ["operator"],
    }),
    refused: counter(registry, {
      name: "veilnet_exporter_refused_total",
      help: "Decided records refused (an invalid certificate)",
      labelNames: ["reason"],
    }),
    equivocations: counter(registry, {
      name: "veilnet_exporter_equivocations_total",
      help: "Pairs of different signed votes by one operator for one (height, round, type), per operator",
      labelNames: ["operator"],
    }),
  };
}

export interface DutyTrackerOptions {
  committee: readonly OperatorId[];
  verifier: Verifier;
  registry: Registry;
  /** Heights kept for the JSON API (default 10,000). */
  history?: number;
  now?: () => number;
}

export class DutyTracker {
  private readonly heights = new Map<number, HeightDuties>();
  /** Commits seen in gossip per height, by sender (digest), for heights not decided yet or recent. */
  private readonly commits = new Map<number, Map<OperatorId, string>>();
  private readonly operators = new Map<OperatorId, OperatorDuties>();
  /** Signed prepare/commit digests by `<height>/<round>/<type>/<sender>`, for equivocation detection. */
  private readonly votes = new Map<string, string>();
  private readonly equivocationList: Equivocation[] = [];
  private readonly metrics: ExporterMetrics;
  private readonly history: number;
  private highest = -1;

  constructor(private readonly options: DutyTrackerOptions) {
    this.metrics = exporterMetrics(options.registry);
    this.history = options.history ?? 10_000;
    for (const id of options.committee) {
      this.operators.set(id, { operatorId: id, proposed: 0, signed: 0, missed: 0, lastSignedHeight: null });
    }
  }

  /**
   * A QBFT message seen in gossip: a valid COMMIT counts its sender as having done its duty; two valid
   * votes of one type by one sender for one (height, round) with different digests are an equivocation.
   */
  observeMessage(signed: Signed): void {
    const m = signed.message;
    if ((m.type !== "commit" && m.type !== "prepare") || !this.operators.has(m.sender)) return;
    if (m.height < this.highest - this.history) return;
    const key = `${m.height}/${m.round}/${m.type}/${m.sender}`;
    const held = this.votes.get(key);
    if (held === m.digest) return;
    if (!this.options.verifier.verify(signed, m.sender)) return;
    if (held !== undefined) {
      this.equivocationList.push({
        operatorId: m.sender,
        height: m.height,
        round: m.round,
        type: m.type,
        digests: [held, m.digest],
        seenAtMs: (this.options.now ?? Date.now)(),
      });
      this.metrics.equivocations.inc({ operator: String(m.sender) });
      return;
    }
    this.votes.set(key, m.digest);
    if (m.type !== "commit" || this.heights.has(m.height)) return;
    const seen = this.commits.get(m.height) ?? new Map<OperatorId, string>();
    seen.set(m.sender, m.digest);
    this.commits.set(m.height, seen);
  }

  /** A decided record seen in gossip; returns why it was refused, or undefined when counted (or known). */
  observeDecided(record: DecidedRecord): string | undefined {
    if (this.heights.has(record.height)) return undefined;
    const problem = certificateProblem(record, this.options.committee, this.options.verifier);
    if (problem !== undefined) {
      this.metrics.refused.inc({ reason: problem.replace(/[0-9]+/g, "N") });
      return problem;
    }
    const digest = valueDigest(record.value);
    const signers = new Set(certificateSigners(record));
    for (const [sender, d] of this.commits.get(record.height) ?? []) if (d === digest) signers.add(sender);
    this.commits.delete(record.height);
    const proposer = proposerOf(this.options.committee, record.height, record.round);
    const sorted = [...this.options.committee].sort((a, b) => a - b);
    const duties: HeightDuties = {
      height: record.height,
      round: record.round,
      proposer,
      digest,
      signers: sorted.filter((id) => signers.has(id)),
      missed: sorted.filter((id) => !signers.has(id)),
      decidedAtMs: (this.options.now ?? Date.now)(),
    };
    this.heights.set(record.height, duties);
    this.account(duties);
    this.prune();
    return undefined;
  }

  /** The duties of `height`, if it was decided. */
  height(height: number): HeightDuties | undefined {
    return this.heights.get(height);
  }

  /** Decided heights from `from` (inclusive), ascending, at most `limit`. */
  range(from: number, limit: number): HeightDuties[] {
    return [...this.heights.values()]
      .filter((d) => d.height >= from)
      .sort((a, b) => a.height - b.height)
      .slice(0, limit);
  }

  /** Every equivocation seen, oldest first. */
  equivocations(): readonly Equivocation[] {
    return this.equivocationList;
  }

  /** Signed votes remembered for equivocation detection. */
  get votesSeen(): number {
    return this.votes.size;
  }

  operatorDuties(): OperatorDuties[] {
    return [...this.operators.values()].sort((a, b) => a.operatorId - b.operatorId);
  }

  get highestHeight(): number {
    return this.highest;
  }

  private account(d: HeightDuties): void {
    const m = this.metrics;
    m.decided.inc();
    if (d.round > 1) m.roundChanges.inc();
    m.proposals.inc({ operator: String(d.proposer) });
    const proposer = this.operators.get(d.proposer);
    if (proposer !== undefined) proposer.proposed++;
    for (const id of d.signers) {
      m.duties.inc({ operator: String(id), result: "signed" });
      const o = this.operators.get(id);
      if (o !== undefined) {
        o.signed++;
        o.lastSignedHeight = Math.max(o.lastSignedHeight ?? -1, d.height);
      }
    }
    for (const id of d.missed) {
      m.duties.inc({ operator: String(id), result: "missed" });
      const o = this.operators.get(id);
      if (o !== undefined) o.missed++;
    }
    if (d.height > this.highest) {
      this.highest = d.height;
      m.height.set(d.height);
      m.round.set(d.round);
    }
  }

  private prune(): void {
    const floor = this.highest - this.history;
    for (const h of this.heights.keys()) if (h < floor) this.heights.delete(h);
    for (const h of this.commits.keys()) if (h < floor) this.commits.delete(h);
    if (this.highest % 64 !== 0) return; // the vote map is pruned every 64 heights
    for (const key of this.votes.keys()) if (Number(key.slice(0, key.indexOf("/"))) < floor) this.votes.delete(key);
  }
}
