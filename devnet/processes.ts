/**
 * The devnet's process supervisor: starts named child processes with their own environment, writes
 * everything they print to `<logDir>/<name>.log`, waits until each one is healthy (an HTTP /healthz
 * answering 200, a JSON-RPC endpoint answering, or any probe), and stops them all in reverse start
 * order (SIGTERM, then SIGKILL after a grace period).
 *
 * Children run in their own process group, so a Ctrl-C in the terminal reaches only the devnet, which
 * then stops them in order (the sequencer before the workers, the workers before Redis and the L1).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { type WriteStream, createWriteStream, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";

import { jsonRpcCall } from "../platform/json-rpc-client.js";

/** Prefix of the lines the supervisor itself writes into a log (command, start, exit). */
const MARK = "#devnet";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** How a child exited. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why it could not be started at all (e.g. `spawn x ENOENT`). */
  error?: string;
}

/** A child process failed: it exited with an error, or never became healthy. Names its log file. */
export class ProcessError extends Error {
  constructor(
    message: string,
    /** Name of the process (as given to the supervisor). */
    readonly processName: string,
    /** Its log file. */
    readonly logFile: string,
    /** The last lines of its log. */
    readonly lastLines: readonly string[],
  ) {
    super(
      `${message}\n  log: ${logFile}` +
        (lastLines.length === 0
          ? "\n  (the log is empty)"
          : `\n  last lines:\n${lastLines.map((l) => `    | ${l}`).join("\n")}`),
    );
    this.name = "ProcessError";
  }
}

/** A probe telling whether a process is ready: resolves true when it is (false or a throw: not yet). */
export type HealthProbe = () => Promise<boolean>;

/** What "healthy" means for a process. */
export type HealthCheck =
  /** GET `url` answers HTTP 200 (the workers' and the node's /healthz). */
  | { kind: "http"; url: string }
  /** `url` answers a JSON-RPC `eth_chainId` (optionally with exactly `chainId`). */
  | { kind: "json-rpc"; url: string; chainId?: bigint }
  /** Any probe; `what` describes it in error messages. */
  | { kind: "probe"; what: string; probe: HealthProbe };

/** How a child ended when the supervisor stopped it. */
export interface StopResult {
  name: string;
  exit: ExitInfo;
  /** True when it ignored SIGTERM for the grace period and was killed. */
  killed: boolean;
}

/** A child started by the supervisor. */
export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Resolves once the process has exited. */
  readonly exited: Promise<ExitInfo>;
  /** Whether it is still running. */
  running(): boolean;
  /** The last `n` lines of its log file. */
  lastLines(n?: number): string[];
}

export interface SpawnOptions {
  /** The child's environment (exactly this; merge process.env yourself if wanted). */
  env: NodeJS.ProcessEnv;
  /** Working directory (default: the current one). */
  cwd?: string;
}

export interface SupervisorOptions {
  /** Directory of the `<name>.log` files (created if missing; a log is truncated when its process starts). */
  logDir: string;
  /** SIGTERM → SIGKILL grace period when stopping, ms (default 10 000). */
  graceMs?: number;
  /** Called with every line a child prints (e.g. to echo `[name] line` in verbose mode). */
  onLine?: (name: string, line: string) => void;
  /**
   * Called when a long-running child exits while the supervisor is not stopping it (a crash). Not called
   * for `run()` commands, whose exit is their result.
   */
  onUnexpectedExit?: (process: ManagedProcess, exit: ExitInfo) => void;
}

/** One JSON-RPC call (platform/json-rpc-client.ts), with the devnet's shorter default timeout. */
export function jsonRpc(url: string, method: string, params: unknown[] = [], timeoutMs = 5000): Promise<unknown> {
  return jsonRpcCall(url, method, params, timeoutMs);
}

/**
 * The secret-responder's wiring: the sequencer node serves its enclave host interface on `port` (on the
 * loopback interface) and the workers' secret-responder asks it there. The enclave's state file stays
 * with the node.
 */
export function enclaveHostWiring(port: number): { node: NodeJS.ProcessEnv; workers: NodeJS.ProcessEnv } {
  return {
    node: { ENCLAVE_HOST_PORT: String(port), ENCLAVE_HOST_ADDRESS: "127.0.0.1" },
    workers: { ENCLAVE_HOST_URL: `http://127.0.0.1:${port}` },
  };
}

/** The probe and its description for a health check. */
export function probeOf(check: HealthCheck): { what: string; probe: HealthProbe } {
  switch (check.kind) {
    case "http":
      return {
        what: `HTTP 200 from ${check.url}`,
        probe: async () => (await fetch(check.url, { signal: AbortSignal.timeout(3000) })).status === 200,
      };
    case "json-rpc":
      return {
        what: `a JSON-RPC answer from ${check.url}${check.chainId === undefined ? "" : ` (chain ${check.chainId})`}`,
        probe: async () => {
          const id = BigInt((await jsonRpc(check.url, "eth_chainId", [], 3000)) as string);
          return check.chainId === undefined || id === check.chainId;
        },
      };
    case "probe":
      return { what: check.what, probe: check.probe };
  }
}

function describeExit(exit: ExitInfo): string {
  if (exit.error !== undefined) return `could not be started (${exit.error})`;
  return exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

/** Starts, watches and stops the devnet's child processes. */
export class Supervisor {
  readonly logDir: string;
  readonly #graceMs: number;
  readonly #onLine: SupervisorOptions["onLine"];
  readonly #onUnexpectedExit: SupervisorOptions["onUnexpectedExit"];
  /** Long-running children, in start order. */
  readonly #children: ManagedProcess[] = [];
  /** Every child (also `run()` commands), to kill them all if the devnet itself exits. */
  readonly #all = new Set<ManagedProcess>();
  #stopping = false;
  #stopped: Promise<StopResult[]> | undefined;
  readonly #exitHook = () => {
    for (const p of this.#all) if (p.running()) killGroup(p.child, "SIGKILL");
  };

  constructor(options: SupervisorOptions) {
    this.logDir = options.logDir;
    this.#graceMs = options.graceMs ?? 10_000;
    this.#onLine = options.onLine;
    this.#onUnexpectedExit = options.onUnexpectedExit;
    mkdirSync(this.logDir, { recursive: true });
    // Children live in their own process groups: if the devnet exits without stopping them, kill them.
    process.once("exit", this.#exitHook);
  }

  /** Whether `stopAll` has been called. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** The long-running children still running, in start order. */
  get processes(): readonly ManagedProcess[] {
    return this.#children.filter((p) => p.running());
  }

  /** The log file of process `name`. */
  logFileOf(name: string): string {
    return path.join(this.logDir, `${name}.log`);
  }

  #start(name: string, command: string, args: readonly string[], options: SpawnOptions): ManagedProcess {
    if (this.#stopping) throw new Error(`cannot start ${name}: the devnet is stopping`);
    const logFile = this.logFileOf(name);
    const log: WriteStream = createWriteStream(logFile, { flags: "w" });
    log.write(`${MARK} ${command} ${args.join(" ")}\n${MARK} started ${new Date().toISOString()}\n`);
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const onLine = this.#onLine;
    for (const stream of [child.stdout!, child.stderr!]) {
      let partial = "";
      stream.on("data", (chunk: Buffer) => {
        log.write(chunk);
        if (onLine === undefined) return;
        const lines = (partial + chunk.toString()).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) onLine(name, line);
      });
    }
    const exited = new Promise<ExitInfo>((resolve) => {
      let finished = false;
      const finish = (note: string, exit: ExitInfo) => {
        if (finished) return;
        finished = true;
        log.end(`${MARK} ${note}\n`, () => resolve(exit));
      };
      // "close": the process has exited and its output is drained.
      child.once("close", (code, signal) =>
        finish(`exited ${new Date().toISOString()} (${describeExit({ code, signal })})`, { code, signal }),
      );
      child.once("error", (e) =>
        finish(`failed to start: ${e.message}`, { code: null, signal: null, error: e.message }),
      );
    });
    const managed: ManagedProcess = {
      name,
      child,
      logFile,
      exited,
      running: () => child.exitCode === null && child.signalCode === null && child.pid !== undefined,
      lastLines: (n = 15) => lastLinesOf(logFile, n),
    };
    this.#all.add(managed);
    void exited.then(() => this.#all.delete(managed));
    return managed;
  }

  /**
   * Starts a long-running child `name`; its output goes to `<logDir>/<name>.log`. It is stopped by
   * {@link stopAll}; if it exits before that, `onUnexpectedExit` is called.
   */
  spawn(name: string, command: string, args: readonly string[], options: SpawnOptions): ManagedProcess {
    const managed = this.#start(name, command, args, options);
    this.#children.push(managed);
    void managed.exited.then((exit) => {
      if (!this.#stopping) this.#onUnexpectedExit?.(managed, exit);
    });
    return managed;
  }

  /**
   * Runs a command to completion (output to `<logDir>/<name>.log`). Resolves when it exits with 0;
   * otherwise rejects with a ProcessError naming the log and its last lines. A timeout kills it.
   */
  async run(
    name: string,
    command: string,
    args: readonly string[],
    options: SpawnOptions & { timeoutMs?: number },
  ): Promise<void> {
    const managed = this.#start(name, command, args, options);
    const timeoutMs = options.timeoutMs ?? 300_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs)));
    const result = await Promise.race([managed.exited, timedOut]).finally(() => clearTimeout(timer));
    if (result === "timeout") {
      await stopProcess(managed, this.#graceMs);
      throw new ProcessError(
        `${name} did not finish within ${timeoutMs / 1000} s (stopped)`,
        name,
        managed.logFile,
        managed.lastLines(),
      );
    }
    if (this.#stopping) throw new Error(`${name} was stopped: the devnet is stopping`);
    if (result.code !== 0) {
      throw new ProcessError(`${name} failed: it ${describeExit(result)}`, name, managed.logFile, managed.lastLines());
    }
  }

  /**
   * Waits until `check` passes for `process`. Throws a ProcessError naming the log file and its last
   * lines when the process exits first or `timeoutMs` passes.
   */
  async waitHealthy(managed: ManagedProcess, check: HealthCheck, timeoutMs: number, intervalMs = 250): Promise<void> {
    const { what, probe } = probeOf(check);
    const deadline = Date.now() + timeoutMs;
    let lastError: string | undefined;
    for (;;) {
      if (!managed.running()) {
        const exit = await managed.exited;
        throw new ProcessError(
          `${managed.name} ${describeExit(exit)} before it became ready (waiting for ${what})`,
          managed.name,
          managed.logFile,
          managed.lastLines(),
        );
      }
      if (this.#stopping) throw new Error(`${managed.name}: the devnet is stopping`);
      try {
        if (await probe()) return;
        lastError = undefined;
      } catch (e) {
        lastError = e instanceof Error ? e.message : String(e);
      }
      if (Date.now() > deadline) {
        throw new ProcessError(
          `${managed.name} did not become ready within ${timeoutMs / 1000} s: no ${what}` +
            (lastError === undefined ? "" : ` (last error: ${lastError})`),
          managed.name,
          managed.logFile,
          managed.lastLines(),
        );
      }
      await sleep(intervalMs);
    }
  }

  /**
   * Stops every child in reverse start order: SIGTERM, then SIGKILL after the grace period. Idempotent;
   * nothing can be started afterwards. Resolves with how each one ended.
   */
  stopAll(onStop?: (name: string) => void): Promise<StopResult[]> {
    this.#stopped ??= this.#stopAll(onStop);
    return this.#stopped;
  }

  async #stopAll(onStop?: (name: string) => void): Promise<StopResult[]> {
    this.#stopping = true;
    const results: StopResult[] = [];
    const stop = async (managed: ManagedProcess) => {
      if (!managed.running()) return;
      onStop?.(managed.name);
      const killed = await stopProcess(managed, this.#graceMs);
      results.push({ name: managed.name, exit: await managed.exited, killed });
    };
    // First a `run()` command still running (a start interrupted by Ctrl-C): it is the newest.
    const long = new Set(this.#children);
    for (const managed of [...this.#all]) if (!long.has(managed)) await stop(managed);
    for (const managed of [...this.#children].reverse()) await stop(managed);
    process.removeListener("exit", this.#exitHook);
    return results;
  }
}

/** Signals the process group of `child` (falls back to the child alone). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves true when it had to be killed. */
async function stopProcess(managed: ManagedProcess, graceMs: number): Promise<boolean> {
  if (!managed.running()) return false;
  killGroup(managed.child, "SIGTERM");
  const done = await Promise.race([managed.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (done) return false;
  killGroup(managed.child, "SIGKILL");
  await managed.exited;
  return true;
}

/** The last `n` non-empty lines of `file` (empty when it cannot be read). */
export function lastLinesOf(file: string, n = 15): string[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l !== "" && !l.startsWith(MARK))
    .slice(-n)
    .map((l) => (l.length > 400 ? `${l.slice(0, 400)}…` : l));
}
