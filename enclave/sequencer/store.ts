/**
 * The sequencer's durable state, in its data directory: sealed batches (`batches.jsonl`, one JSON
 * line per batch) and the mempool journal (`mempool.jsonl`: accepted transactions and removals).
 * Every line is written and fsync'd before the sequencer answers or moves on, so a crash or restart
 * loses no accepted transaction and no sealed batch. A torn last line (a crash mid-write) is ignored.
 * The journal records admissions and drops, not inclusions: on recovery a transaction a sealed batch
 * holds is no longer pending (one fsync per batch, not one per included transaction).
 */
import { mkdirSync } from "node:fs";
import path from "node:path";

import { AppendFile, readJsonLines } from "../../platform/jsonl-file.js";
import { type SealedBatch, type StoredBatch, batchFromJson, batchToJson } from "../rollup/batch.js";
import type { MempoolJournal } from "./mempool.js";

type JournalLine = { a: string } | { r: string; reason?: string };

export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreError";
  }
}

export class SequencerStore implements MempoolJournal {
  private readonly batchFile: AppendFile;
  private readonly journalFile: AppendFile;
  private readonly batches: SealedBatch[];

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const batchPath = path.join(dir, "batches.jsonl");
    this.batches = (readJsonLines(batchPath) as StoredBatch[]).map(batchFromJson);
    for (const [i, b] of this.batches.entries()) {
      if (b.seq !== BigInt(i)) throw new StoreError(`${batchPath}: batch ${i} has sequence ${b.seq}`);
    }
    this.batchFile = new AppendFile(batchPath);
    this.journalFile = new AppendFile(path.join(dir, "mempool.jsonl"));
  }

  /** Sealed batches, in order. */
  get sealed(): readonly SealedBatch[] {
    return this.batches;
  }

  /** Appends a sealed batch (durably) before anyone sees it. */
  appendBatch(batch: SealedBatch): void {
    if (batch.seq !== BigInt(this.batches.length)) {
      throw new StoreError(`batch ${batch.seq} does not follow ${this.batches.length - 1}`);
    }
    this.batchFile.append([JSON.stringify(batchToJson(batch))]);
    this.batches.push(batch);
  }

  batchesFrom(from: bigint, max: number): SealedBatch[] {
    return this.batches.slice(Number(from), Number(from) + max);
  }

  /** Journals an admitted transaction; resolves once it is on disk (a group commit with the others of the moment). */
  accepted(raw: string): Promise<void> {
    return this.journalFile.appendDurable([JSON.stringify({ a: raw } satisfies JournalLine)]);
  }

  removed(hash: string, reason: string): void {
    this.journalFile.append([JSON.stringify({ r: hash, reason } satisfies JournalLine)]);
  }

  /**
   * The transactions accepted, neither dropped nor in a sealed batch, in arrival order, plus the
   * reasons of the dropped ones; then compacts the journal to just the pending transactions.
   */
  recoverMempool(hashOf: (raw: string) => string): { pending: string[]; dropped: Map<string, string> } {
    const pending = new Map<string, string>();
    const dropped = new Map<string, string>();
    for (const line of readJsonLines(path.join(this.dir, "mempool.jsonl")) as JournalLine[]) {
      if ("a" in line) pending.set(hashOf(line.a), line.a);
      else {
        pending.delete(line.r);
        if (line.reason !== undefined) dropped.set(line.r, line.reason);
      }
    }
    if (pending.size > 0) {
      const raws = new Set([...pending.values()].map((raw) => raw.toLowerCase()));
      for (const batch of this.batches) {
        for (const raw of batch.txs) if (raws.has(raw.toLowerCase())) pending.delete(hashOf(raw));
      }
    }
    this.journalFile.rewrite([...pending.values()].map((raw) => JSON.stringify({ a: raw })));
    return { pending: [...pending.values()], dropped };
  }

  close(): void {
    this.batchFile.close();
    this.journalFile.close();
  }
}
