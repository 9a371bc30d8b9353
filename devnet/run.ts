/**
 * One start of the devnet (startDevnet in index.ts): the devnet directory's lock, the supervisor of its
 * child processes, the progress output, and the unwinding. A child that exits during the start fails it
 * (checkCrash); after the start it is reported as a crash. stop() stops every child in reverse start
 * order, runs the cleanups and releases the lock; an aborted `signal` stops the start the same way.
 */
import path from "node:path";

import { type ExitInfo, type ManagedProcess, ProcessError, Supervisor } from "./processes.js";
import type { DevnetCrash, DevnetOptions } from "./types.js";
import { devnetDir, lockDevnetDir } from "./workspace.js";

/** The start was interrupted (`signal` aborted, e.g. Ctrl-C); whatever had started was stopped. */
export class DevnetAbortedError extends Error {
  constructor() {
    super("the devnet start was interrupted; everything started so far was stopped");
    this.name = "DevnetAbortedError";
  }
}

const TOTAL_BASE_STEPS = 8;

type RunOptions = Pick<
  DevnetOptions,
  "dir" | "validator" | "graceMs" | "onProgress" | "onLog" | "onOutput" | "onCrash" | "signal"
>;

export class DevnetRun {
  /** The devnet directory (locked while the run lasts). */
  readonly root: string;
  readonly logDir: string;
  readonly supervisor: Supervisor;
  /** Children that exited after the start. */
  readonly crashes: DevnetCrash[] = [];
  private readonly total: number;
  private readonly release: () => void;
  private readonly cleanups: (() => Promise<void>)[] = [];
  private readonly onAbort = () => void this.stop();
  private stepNo = 0;
  private started = false;
  private crash?: ProcessError;
  private stopped?: Promise<void>;

  /** Locks the devnet directory (DevnetBusyError when another devnet holds it) and starts watching `signal`. */
  constructor(private readonly options: RunOptions) {
    this.total = TOTAL_BASE_STEPS + (options.validator === true ? 1 : 0);
    this.root = devnetDir(options.dir);
    this.release = lockDevnetDir(this.root);
    this.logDir = path.join(this.root, "logs");
    this.supervisor = new Supervisor({
      logDir: this.logDir,
      graceMs: options.graceMs,
      onLine: options.onOutput,
      onUnexpectedExit: (p, exit) => this.exited(p, exit),
    });
    options.signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  /** Begins the next numbered step (DevnetAbortedError when the start was interrupted). */
  step(title: string): void {
    if (this.options.signal?.aborted === true) throw new DevnetAbortedError();
    this.stepNo += 1;
    this.options.onProgress?.({ step: this.stepNo, total: this.total, title });
  }

  /** A detail line within a step. */
  log(line: string): void {
    this.options.onLog?.(line);
  }

  /** Throws the ProcessError of a child that exited during the start, if one did. */
  checkCrash(): void {
    if (this.crash !== undefined) throw this.crash;
  }

  /** Runs `cleanup` when the devnet stops, after its children (errors ignored). */
  onStop(cleanup: () => Promise<void>): void {
    this.cleanups.push(cleanup);
  }

  /** The start is over: from now on a child's exit is a crash, and `signal` no longer matters. */
  markStarted(): void {
    this.started = true;
    this.options.signal?.removeEventListener("abort", this.onAbort);
  }

  /** The start failed with `error`: everything is stopped; the error to throw (DevnetAbortedError when interrupted). */
  async fail(error: unknown): Promise<unknown> {
    this.options.signal?.removeEventListener("abort", this.onAbort);
    await this.stop();
    if (this.options.signal?.aborted === true) return new DevnetAbortedError();
    return error;
  }

  /** Stops every child in reverse start order, runs the cleanups, releases the lock (idempotent). */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await this.supervisor.stopAll((name) => this.log(`stopping ${name}`));
      for (const cleanup of this.cleanups) await cleanup().catch(() => {});
      this.release();
    })();
    return this.stopped;
  }

  private exited(p: ManagedProcess, exit: ExitInfo): void {
    const info: DevnetCrash = { name: p.name, exit, logFile: p.logFile, lastLines: p.lastLines() };
    if (this.started) {
      this.crashes.push(info);
      this.options.onCrash?.(info);
    } else {
      this.crash ??= new ProcessError(
        `${p.name} stopped during the start (${exit.signal ?? `exit code ${exit.code}`})`,
        p.name,
        p.logFile,
        info.lastLines,
      );
    }
  }
}
