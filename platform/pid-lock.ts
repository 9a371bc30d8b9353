/**
 * One process at a time per directory: a pid file naming its holder. A file left by a process that is no
 * longer alive (a crash, kill -9) is taken over; a live holder's is refused with its pid. Within one
 * process, a second holder of the same file is refused too (the pid alone cannot tell them apart). Used by
 * the gateway's user store, the signer's slashing-protection record and the devnet's directory.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Pid files held by this process. */
const heldHere = new Set<string>();

/** Whether process `pid` is alive (EPERM: alive, another user's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** fsyncs directory `dir` (so a rename or a new file in it survives a crash). */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Who holds a pid file: this process (`pid` is ours) or another live one. */
export interface LockHolder {
  pid: number;
  /** The holder is this very process (another object of it holds the file). */
  here: boolean;
}

/**
 * Takes the pid file `file` for this process (written atomically, mode 0600); calls `busy` with the holder
 * and throws what it returns when a live process, or this one, holds it. Returns the release function,
 * which removes the file if it is still ours.
 */
export function acquirePidLock(file: string, busy: (holder: LockHolder) => Error): () => void {
  const resolved = path.resolve(file);
  if (heldHere.has(resolved)) throw busy({ pid: process.pid, here: true });
  if (existsSync(resolved)) {
    const pid = Number(readFileSync(resolved, "utf8").trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) throw busy({ pid, here: false });
  }
  const tmp = `${resolved}.tmp`;
  writeFileSync(tmp, `${process.pid}\n`, { mode: 0o600 });
  renameSync(tmp, resolved);
  heldHere.add(resolved);
  return () => {
    if (!heldHere.delete(resolved)) return;
    try {
      if (Number(readFileSync(resolved, "utf8").trim()) === process.pid) rmSync(resolved, { force: true });
    } catch {
      // already gone
    }
  };
}
