/**
 * Append-only JSON-lines files for durable state: an append is written and fsync'd before the call
 * returns (`append`) or before its promise resolves (`appendDurable`: a group commit, one fsync off the
 * main thread for every append of the same moment, as databases do for concurrent transactions); a
 * rewrite replaces the file atomically (write, fsync, rename), and a torn last line (a crash mid-write)
 * is ignored on reading while a bad line anywhere else is an error naming the file and line.
 */
import { closeSync, existsSync, fsync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";

/** A durable file that cannot be read back. */
export class JsonlFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JsonlFileError";
  }
}

/** The JSON values of `file`'s lines (none if it does not exist). */
export function readJsonLines(file: string): unknown[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, "utf8").split("\n");
  const out: unknown[] = [];
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      if (i >= lines.length - 2) break; // torn last line of a crash: everything before it counts
      throw new JsonlFileError(`${file}: line ${i + 1} is not JSON`);
    }
  }
  return out;
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/** An append-only file, fsync'd on every append. */
export class AppendFile {
  private fd: number;
  /** Appends written but not yet covered by an fsync, waiting for the next one. */
  private waiting: Waiter[] = [];
  /** Appends the fsync running in the thread pool covers (undefined: none runs). */
  private inFlight: Waiter[] | undefined;
  private closed = false;

  constructor(private readonly file: string) {
    this.fd = openSync(file, "a", 0o600);
  }

  /** Writes `lines` and fsyncs them before returning. */
  append(lines: readonly string[]): void {
    if (lines.length === 0) return;
    writeSync(this.fd, lines.join("\n") + "\n");
    fsyncSync(this.fd);
  }

  /**
   * Writes `lines` now (so appends keep their order) and resolves once an fsync covers them: appends
   * made while an fsync runs share the next one. Rejects if the fsync fails (nothing may be assumed
   * durable then).
   */
  appendDurable(lines: readonly string[]): Promise<void> {
    if (this.closed) return Promise.reject(new JsonlFileError(`${this.file}: closed`));
    if (lines.length > 0) writeSync(this.fd, lines.join("\n") + "\n");
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (this.inFlight === undefined) this.syncWaiting();
    });
  }

  private syncWaiting(): void {
    const covered = this.waiting;
    this.waiting = [];
    this.inFlight = covered;
    fsync(this.fd, (error) => {
      if (this.inFlight !== covered) return; // close() synced and settled them
      this.inFlight = undefined;
      for (const w of covered) {
        if (error === null) w.resolve();
        else w.reject(new JsonlFileError(`${this.file}: fsync failed: ${error.message}`));
      }
      if (this.waiting.length > 0) this.syncWaiting();
    });
  }

  /** Fsyncs what was written and settles every waiting append (before a rewrite or close). */
  private settle(): void {
    if (this.inFlight === undefined && this.waiting.length === 0) return;
    const all = [...(this.inFlight ?? []), ...this.waiting];
    this.waiting = [];
    this.inFlight = undefined;
    try {
      fsyncSync(this.fd);
    } catch (error) {
      for (const w of all) w.reject(new JsonlFileError(`${this.file}: fsync failed: ${(error as Error).message}`));
      return;
    }
    for (const w of all) w.resolve();
  }

  /** Replaces the file's content atomically. */
  rewrite(lines: readonly string[]): void {
    this.settle();
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, "w", 0o600);
    writeSync(fd, lines.length === 0 ? "" : lines.join("\n") + "\n");
    fsyncSync(fd);
    closeSync(fd);
    closeSync(this.fd);
    renameSync(tmp, this.file);
    this.fd = openSync(this.file, "a", 0o600);
  }

  close(): void {
    if (this.closed) return;
    this.settle();
    this.closed = true;
    closeSync(this.fd);
  }
}
