/**
 * Append-only JSON-lines files for durable state: every append is written and fsync'd before the call
 * returns, a rewrite replaces the file atomically (write, fsync, rename), and a torn last line (a crash
 * mid-write) is ignored on reading while a bad line anywhere else is an error naming the file and line.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";

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

/** An append-only file, fsync'd on every append. */
export class AppendFile {
  private fd: number;

  constructor(private readonly file: string) {
    this.fd = openSync(file, "a", 0o600);
  }

  append(lines: readonly string[]): void {
    if (lines.length === 0) return;
    writeSync(this.fd, lines.join("\n") + "\n");
    fsyncSync(this.fd);
  }

  /** Replaces the file's content atomically. */
  rewrite(lines: readonly string[]): void {
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
    closeSync(this.fd);
  }
}
