/**
 * Helpers for tests that run the `veilnet` CLI as a child process: spawning it with a controlled
 * environment, reading its JSON logs, waiting for conditions, a private redis-server, a fake L1
 * JSON-RPC endpoint, and Redis key cleanup.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { type Log, getAddress, toQuantity } from "ethers";
import { Redis } from "ioredis";

import {
  CONTRACT_NAMES,
  type Deployment,
  type DeploymentAddresses,
  writeDeployment,
} from "../deploy/deployment-file.js";
import { DEFAULT_PARAMETERS } from "../deploy/parameters.js";
import type { DomainEvent, EventJob } from "../platform/events.js";
import { LogDecoder } from "../workers/event-subscriber/decode.js";

import { freePort } from "./l1-node.js";
import type { Veilnet } from "./veilnet.js";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const veilnetBin = path.join(root, "bin", "veilnet.mjs");
export const dummyRegistry = path.join(root, "testing", "dummy-services.ts");
/** The CLI with the stand-in workers of the module named by TESTING_WORKER_REGISTRY. */
export const veilnetWithRegistryBin = path.join(root, "testing", "veilnet-with-registry.mjs");

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` until it returns something other than undefined/false; fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`,
      );
    }
    await sleep(intervalMs);
  }
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface VeilnetProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** The JSON log lines printed so far. */
  logs(): LogLine[];
  /** Waits for a log line whose message contains `msg` (and that satisfies `where`). */
  waitForLog(msg: string, timeoutMs?: number, where?: (l: LogLine) => boolean): Promise<LogLine>;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits for the exit, failing after `timeoutMs`. */
  waitForExit(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  /** Kills the process (SIGKILL) if it is still running. */
  kill(): Promise<void>;
  /** Command, state and the tail of its output, to print when a test fails. */
  describe(): string;
}

/**
 * Runs `node bin/veilnet.mjs …args` with exactly `env` (plus PATH and HOME); with TESTING_WORKER_REGISTRY
 * in `env`, the CLI with that module's workers instead (testing/veilnet-with-registry.mjs).
 */
export function spawnVeilnet(args: string[], env: Record<string, string | undefined>): VeilnetProcess {
  const childEnv: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  const bin = childEnv.TESTING_WORKER_REGISTRY === undefined ? veilnetBin : veilnetWithRegistryBin;
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: childEnv, stdio: "pipe" });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const started = Date.now();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const logs = (): LogLine[] =>
    out
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => {
        try {
          return JSON.parse(l) as LogLine;
        } catch {
          return undefined;
        }
      })
      .filter((l): l is LogLine => l !== undefined);
  const proc: VeilnetProcess = {
    child,
    stdout: () => out,
    stderr: () => err,
    logs,
    exited,
    waitForLog: async (msg, timeoutMs = 30_000, where = () => true) => {
      const found = await waitFor(
        `log "${msg}" of veilnet ${args.join(" ")}`,
        () => logs().find((l) => l.msg.includes(msg) && where(l)) ?? (child.exitCode !== null ? "exited" : undefined),
        timeoutMs,
      );
      if (found === "exited") {
        throw new Error(`veilnet ${args.join(" ")} exited with ${child.exitCode} before logging "${msg}": ${err}`);
      }
      return found;
    },
    waitForExit: async (timeoutMs = 20_000) => {
      let timer: NodeJS.Timeout | undefined;
      const result = await Promise.race([
        exited,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`veilnet ${args.join(" ")} still running after ${timeoutMs} ms\n${err}`)),
            timeoutMs,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      return { ...result, ms: Date.now() - started };
    },
    describe: () =>
      `--- veilnet ${args.join(" ")} (exit ${child.exitCode ?? child.signalCode ?? "running"})\n` +
      `stderr: ${err.slice(-3000)}\nstdout (last lines):\n${out.split("\n").slice(-30).join("\n")}`,
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
  return proc;
}

/** The port of /healthz and /metrics, from the runtime's log line (use METRICS_PORT=0). */
export async function opsPort(p: VeilnetProcess, timeoutMs = 30_000): Promise<number> {
  const line = await p.waitForLog("serving /healthz", timeoutMs);
  return line.port as number;
}

export async function getHealth(port: number): Promise<{ status: number; body: HealthBody }> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: res.status, body: (await res.json()) as HealthBody };
}

export interface HealthBody {
  status: string;
  services: Record<string, { ok: boolean; detail?: string }>;
  dependencies: Record<string, { ok: boolean; detail?: string }>;
}

/** A redis-server of our own (persistence on, in a temp dir) that can be stopped and restarted. */
export interface RedisServer {
  port: number;
  url: string;
  dir: string;
  start(): Promise<void>;
  /** SHUTDOWN (which writes the append-only file) and wait for the process to end. */
  stop(): Promise<void>;
  /** Stops and deletes the data directory. */
  destroy(): Promise<void>;
}

export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "veilnet-redis-"));
  let proc: ChildProcess | undefined;
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    start: async () => {
      const child = spawn(
        "redis-server",
        ["--port", String(port), "--bind", "127.0.0.1", "--appendonly", "yes", "--dir", dir, "--save", ""],
        { stdio: "ignore" },
      );
      proc = child;
      await waitFor(`redis-server on ${port}`, async () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
        const r = new Redis(port, "127.0.0.1", {
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        });
        r.on("error", () => {});
        try {
          await r.connect();
          return (await r.ping()) === "PONG";
        } finally {
          r.disconnect();
        }
      });
    },
    stop: async () => {
      const child = proc;
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      const r = new Redis(port, "127.0.0.1", { maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on("error", () => {});
      await r.call("SHUTDOWN").catch(() => {}); // the connection drops when the server ends
      r.disconnect();
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
    destroy: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

/** Deletes every key under `${prefix}:` in the Redis at `url`. */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

/**
 * A stand-in L1 JSON-RPC endpoint answering eth_chainId and eth_blockNumber, which can be made to fail
 * (HTTP 503) to simulate losing the L1.
 */
export interface FakeL1 {
  url: string;
  chainId: number;
  /** While false, every request fails with HTTP 503. */
  up: boolean;
  close(): Promise<void>;
}

export async function startFakeL1(chainId: number): Promise<FakeL1> {
  let block = 1;
  const state = { up: true };
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      if (!state.up) {
        res.writeHead(503).end("down");
        return;
      }
      const answer = (r: { id: unknown; method: string }) => {
        if (r.method === "eth_chainId") return { jsonrpc: "2.0", id: r.id, result: `0x${chainId.toString(16)}` };
        if (r.method === "eth_blockNumber") return { jsonrpc: "2.0", id: r.id, result: `0x${(block++).toString(16)}` };
        return { jsonrpc: "2.0", id: r.id, error: { code: -32601, message: `method ${r.method} not supported` } };
      };
      const parsed = JSON.parse(body) as { id: unknown; method: string } | { id: unknown; method: string }[];
      const result = Array.isArray(parsed) ? parsed.map(answer) : answer(parsed);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(result));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const fake: FakeL1 = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    chainId,
    get up() {
      return state.up;
    },
    set up(v: boolean) {
      state.up = v;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
  return fake;
}

/** A deployment of stand-in addresses on `chainId` (for runtimes whose services never touch the chain). */
export function fakeDeployment(chainId: number): Deployment {
  const addresses = Object.fromEntries(
    CONTRACT_NAMES.map((name, i) => [name, getAddress(`0x${(i + 1).toString(16).padStart(40, "c")}`)]),
  ) as DeploymentAddresses;
  return {
    chainId,
    network: "fake",
    deployer: getAddress(`0x${"d".repeat(40)}`),
    deploymentBlock: 1,
    addresses,
    parameters: {
      ...DEFAULT_PARAMETERS,
      attestationService: getAddress(`0x${"a".repeat(40)}`),
      governor: getAddress(`0x${"b".repeat(40)}`),
      guardian: getAddress(`0x${"b".repeat(40)}`),
      initializer: getAddress(`0x${"b".repeat(40)}`),
    },
  };
}

/** A temporary deployments directory holding `deployments` (delete it with rmSync when done). */
export function deploymentsDir(...deployments: Deployment[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), "veilnet-deployments-"));
  for (const d of deployments) writeDeployment(d, dir);
  return dir;
}

/**
 * The Deployment of a fixture deployed on a node (testing/veilnet.ts parameters), with
 * `deploymentBlock` found on the chain: the first block where every contract has code.
 */
export async function deploymentOf(v: Veilnet): Promise<Deployment> {
  const provider = v.connection.ethers.provider;
  const addresses: DeploymentAddresses = { ...v.addresses };
  /** The first block at which `address` has code. */
  const createdAt = async (address: string): Promise<number> => {
    let lo = 0;
    let hi = await provider.getBlockNumber();
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if ((await provider.getCode(address, mid)) === "0x") lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const blocks = await Promise.all(Object.values(addresses).map(createdAt));
  return {
    chainId: Number(v.chainId),
    network: "localhost",
    deployer: v.deployer.address,
    deploymentBlock: Math.min(...blocks),
    addresses,
    parameters: v.parameters,
  };
}

/**
 * The job the event-subscriber enqueues for `log` (decoded by its own LogDecoder), for consumer tests
 * that feed a queue by hand. Throws when `log` is not a domain event of type `type`.
 */
export function eventJobOf<T extends DomainEvent["type"]>(
  v: Veilnet,
  log: Log,
  type: T,
): EventJob<Extract<DomainEvent, { type: T }>> {
  const job = new LogDecoder(Number(v.chainId), v.addresses).decode({
    address: log.address,
    topics: [...log.topics],
    data: log.data,
    blockNumber: toQuantity(log.blockNumber),
    blockHash: log.blockHash,
    transactionHash: log.transactionHash,
    logIndex: toQuantity(log.index),
  });
  if (job?.event.type !== type) throw new Error(`log ${log.index} of ${log.transactionHash} is not a ${type}`);
  return job as EventJob<Extract<DomainEvent, { type: T }>>;
}
