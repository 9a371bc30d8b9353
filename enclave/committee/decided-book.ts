/**
 * What a validator that follows the committee's gossip keeps of the decided batches (DESIGN §9.3): each
 * decided record is applied only with a valid commit certificate (2f+1 members' signed COMMITs), its
 * sealed proposal opened with the network secret, and a summary kept per batch (timestamp, L1 base fee,
 * L1 messages delivered, the transactions' hashes). When it replays a rollup it checks each batch
 * against it: the rollup must carry the batch the committee decided — the same header fields, and
 * transactions the decided proposal held, in its order (a proposed transaction that cannot execute is
 * left out of the block, so the batch's may be fewer).
 */
import { keccak256 } from "ethers";

import { certificateProblem } from "../consensus/certificate.js";
import { decodeProposal } from "../consensus/proposal.js";
import type { OperatorId, Verifier } from "../consensus/qbft/index.js";
import { openValue } from "../consensus/sealed-value.js";
import type { DecidedRecord } from "../consensus/wire.js";

interface DecidedSummary {
  round: number;
  timestamp: bigint;
  l1BaseFee: bigint;
  l1MessagesTo: bigint;
  txs: string[];
}

/** A batch as a rollup's payload carries it. */
export interface CheckedBatch {
  timestamp: bigint;
  l1BaseFee: bigint;
  l1MessagesTo: bigint;
  txs: readonly string[];
}

export class DecidedBook {
  private readonly heights = new Map<number, DecidedSummary>();
  private readonly capacity: number;
  refusedCount = 0;

  constructor(
    private readonly options: {
      committee: readonly OperatorId[];
      verifier: Verifier;
      /** The consensus value key (DerivationLabels.consensusValue). */
      valueKey: Uint8Array;
      /** Heights kept (default 100,000). */
      capacity?: number;
    },
  ) {
    this.capacity = options.capacity ?? 100_000;
  }

  get size(): number {
    return this.heights.size;
  }

  /** Keeps a decided record with a valid certificate; returns why it was refused, or undefined. */
  observe(record: DecidedRecord): string | undefined {
    if (this.heights.has(record.height)) return undefined;
    const problem = certificateProblem(record, this.options.committee, this.options.verifier);
    if (problem !== undefined) {
      this.refusedCount++;
      return problem;
    }
    let proposal;
    try {
      proposal = decodeProposal(openValue(this.options.valueKey, record.height, record.value));
    } catch (error) {
      this.refusedCount++;
      return `the decided value of height ${record.height} does not open: ${(error as Error).message}`;
    }
    this.heights.set(record.height, {
      round: record.round,
      timestamp: proposal.timestamp,
      l1BaseFee: proposal.l1BaseFee,
      l1MessagesTo: proposal.l1MessagesTo,
      txs: proposal.txs.map((t) => keccak256(t)),
    });
    if (this.heights.size > this.capacity) this.heights.delete(Math.min(...this.heights.keys()));
    return undefined;
  }

  /**
   * Why batch `seq` of a rollup is not the batch the committee decided, "unknown" when this node has no
   * certificate for it (it joined later), or undefined when it is.
   */
  problem(seq: bigint, batch: CheckedBatch): string | undefined | "unknown" {
    const d = this.heights.get(Number(seq));
    if (d === undefined) return "unknown";
    const at = `batch ${seq} (decided in round ${d.round})`;
    if (batch.timestamp !== d.timestamp)
      return `${at}: timestamp ${batch.timestamp}, the committee decided ${d.timestamp}`;
    if (batch.l1BaseFee !== d.l1BaseFee) return `${at}: L1 base fee ${batch.l1BaseFee}, decided ${d.l1BaseFee}`;
    if (batch.l1MessagesTo !== d.l1MessagesTo) {
      return `${at}: L1 messages to ${batch.l1MessagesTo}, decided ${d.l1MessagesTo}`;
    }
    let next = 0;
    for (const raw of batch.txs) {
      const hash = keccak256(raw);
      while (next < d.txs.length && d.txs[next] !== hash) next++;
      if (next === d.txs.length) return `${at}: transaction ${hash} was not decided there (or not in that order)`;
      next++;
    }
    return undefined;
  }
}
