/**
 * A committee member's durable consensus state, in `<data dir>/consensus/`:
 *
 * - `log.jsonl`: every input the current height's QBFT instance accepted, in order (its start value, the
 *   messages it accepted, the timeouts that moved it) and every vote it cast. The instance is a
 *   deterministic state machine, so replaying the inputs after a crash rebuilds it exactly (its prepared
 *   round and value included) and it re-signs the same messages. The driver flushes the log before any of
 *   the instance's messages leave, so no message a peer saw is ever contradicted after a restart
 *   (the QBFT persistence rule: never two different votes in one (height, round)).
 * - `decided.jsonl`: each decided height's value and commit certificate, written before the batch is
 *   applied; peers that lag sync from it.
 *
 * Starting the next height rewrites the log empty (atomically): the previous height is decided, so its
 * inputs can never be needed again.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";

import { AppendFile, readJsonLines } from "../../platform/jsonl-file.js";
import type { Digest, Vote } from "./qbft/index.js";
import { type DecidedRecord, type WireMessage, wireFromJson, wireToJson } from "./wire.js";

/** An input of the current height's instance, as the log records it. */
export type LogEntry =
  | { readonly kind: "start"; readonly height: number; readonly value: Uint8Array | null }
  | { readonly kind: "message"; readonly height: number; readonly message: Extract<WireMessage, { kind: "qbft" }> }
  | { readonly kind: "timeout"; readonly height: number; readonly round: number }
  | { readonly kind: "vote"; readonly vote: Vote };

type Line =
  | { t: "start"; h: number; v: string | null }
  | { t: "msg"; h: number; m: unknown }
  | { t: "timeout"; h: number; r: number }
  | { t: "vote"; h: number; r: number; type: "prepare" | "commit"; d: Digest };

/** The consensus state cannot be read back. */
export class ConsensusStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConsensusStoreError";
  }
}

const hex = (b: Uint8Array): string => "0x" + Buffer.from(b).toString("hex");
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.slice(2), "hex"));

function toLine(entry: LogEntry): Line {
  switch (entry.kind) {
    case "start":
      return { t: "start", h: entry.height, v: entry.value === null ? null : hex(entry.value) };
    case "message":
      return { t: "msg", h: entry.height, m: wireToJson(entry.message) };
    case "timeout":
      return { t: "timeout", h: entry.height, r: entry.round };
    case "vote":
      return { t: "vote", h: entry.vote.height, r: entry.vote.round, type: entry.vote.type, d: entry.vote.digest };
  }
}

function fromLine(line: Line, file: string): LogEntry {
  switch (line.t) {
    case "start":
      return { kind: "start", height: line.h, value: line.v === null ? null : bytes(line.v) };
    case "msg": {
      const message = wireFromJson(line.m);
      if (message.kind !== "qbft") throw new ConsensusStoreError(`${file}: a logged message is not a QBFT message`);
      return { kind: "message", height: line.h, message };
    }
    case "timeout":
      return { kind: "timeout", height: line.h, round: line.r };
    case "vote":
      return { kind: "vote", vote: { height: line.h, round: line.r, type: line.type, digest: line.d } };
    default:
      throw new ConsensusStoreError(`${file}: unknown log line ${JSON.stringify(line)}`);
  }
}

export class ConsensusStore {
  private readonly logFile: AppendFile;
  private readonly decidedFile: AppendFile;
  private readonly logPath: string;
  private entries: LogEntry[];
  private readonly decidedByHeight = new Map<number, DecidedRecord>();
  private pending: string[] = [];
  private height: number | undefined;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.logPath = path.join(dir, "log.jsonl");
    const decidedPath = path.join(dir, "decided.jsonl");
    for (const json of readJsonLines(decidedPath)) {
      const message = wireFromJson(json);
      if (message.kind !== "decided") throw new ConsensusStoreError(`${decidedPath}: a line is not a decided record`);
      this.decidedByHeight.set(message.decided.height, message.decided);
    }
    this.entries = (readJsonLines(this.logPath) as Line[]).map((l) => fromLine(l, this.logPath));
    const heights = new Set(this.entries.map((e) => (e.kind === "vote" ? e.vote.height : e.height)));
    if (heights.size > 1) throw new ConsensusStoreError(`${this.logPath}: holds more than one height`);
    this.height = [...heights][0];
    this.logFile = new AppendFile(this.logPath);
    this.decidedFile = new AppendFile(decidedPath);
  }

  /** The height the log is about (undefined when it is empty). */
  get loggedHeight(): number | undefined {
    return this.height;
  }

  /** The logged inputs of `height`, in order (empty when the log is about another height). */
  entriesOf(height: number): readonly LogEntry[] {
    return this.height === height ? this.entries : [];
  }

  /** The vote this member cast of `type` in (`height`, `round`), if any. */
  voteAt(height: number, round: number, type: Vote["type"]): Digest | undefined {
    if (this.height !== height) return undefined;
    for (const e of this.entries) {
      if (e.kind === "vote" && e.vote.round === round && e.vote.type === type) return e.vote.digest;
    }
    return undefined;
  }

  /** Begins `height`: the log is rewritten empty (the height before it is decided). */
  beginHeight(height: number): void {
    if (this.height === height) return;
    this.flush();
    this.logFile.rewrite([]);
    this.entries = [];
    this.height = height;
  }

  /** Adds an input or vote of the current height; durable at the next {@link flush}. */
  append(entry: LogEntry): void {
    const height = entry.kind === "vote" ? entry.vote.height : entry.height;
    if (height !== this.height) {
      throw new ConsensusStoreError(`log entry for height ${height}, the log is at height ${this.height}`);
    }
    this.entries.push(entry);
    this.pending.push(JSON.stringify(toLine(entry)));
  }

  /** Writes and fsyncs what was appended since the last flush. Called before any message leaves. */
  flush(): void {
    if (this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    this.logFile.append(lines);
  }

  /** Records a decided height (durably, at once). */
  recordDecided(record: DecidedRecord): void {
    if (this.decidedByHeight.has(record.height)) return;
    this.flush();
    this.decidedFile.append([JSON.stringify(wireToJson({ kind: "decided", decided: record }))]);
    this.decidedByHeight.set(record.height, record);
  }

  /** The decided record of `height`, if this member has it. */
  decided(height: number): DecidedRecord | undefined {
    return this.decidedByHeight.get(height);
  }

  close(): void {
    this.flush();
    this.logFile.close();
    this.decidedFile.close();
  }
}
