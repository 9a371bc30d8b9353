/**
 * Redis for the devnet: use the one at REDIS_URL (default 127.0.0.1:6379) when it answers; otherwise
 * start a `redis-server` on that port (in memory, no persistence) as a child of the devnet, if the
 * binary is on the PATH; otherwise fail with a message saying exactly what to install.
 */
import { accessSync, constants } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { Redis } from "ioredis";

import { portFree } from "./ports.js";
import type { ManagedProcess, Supervisor } from "./processes.js";

/** Where the devnet looks for Redis when REDIS_URL is not set. */
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

/** Redis is not available and the devnet cannot start one; the message says what to do. */
export class RedisSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RedisSetupError";
  }
}

/** What to install, for error messages. */
export const INSTALL_REDIS_HINT =
  "Install Redis (Debian/Ubuntu: `sudo apt-get install redis-server`; macOS: `brew install redis`) " +
  "or set REDIS_URL to a Redis that runs.";

export interface EnsureRedisOptions {
  /** Redis to use (default {@link DEFAULT_REDIS_URL}). */
  url?: string;
  /** Starts and stops the redis-server, if one is needed (its log: `<logDir>/redis.log`). */
  supervisor: Supervisor;
  /** PATH to search for `redis-server` (default: $PATH). */
  searchPath?: string;
  /** Working directory of a started redis-server (default: the OS temp dir; nothing is written there). */
  dir?: string;
  /** How long a started redis-server gets to answer, ms (default 15 000). */
  timeoutMs?: number;
}

/** The devnet's Redis. */
export interface DevnetRedis {
  url: string;
  /** True when the devnet started this redis-server (it stops with the devnet, and its data with it). */
  started: boolean;
  /** The redis-server process, when started. */
  process?: ManagedProcess;
}

/** Whether a Redis at `url` answers PING within `timeoutMs`. */
export async function pingRedis(url: string, timeoutMs = 2000): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    enableOfflineQueue: false,
  });
  redis.on("error", () => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = await Promise.race([
      (async () => {
        await redis.connect();
        return await redis.ping();
      })(),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("timeout")), timeoutMs))),
    ]);
    return answer === "PONG";
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}

/** The absolute path of executable `name` in `searchPath` (a PATH string), or undefined. */
export function findExecutable(name: string, searchPath: string = process.env.PATH ?? ""): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (dir === "") continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** Host and port of a redis:// URL; throws a RedisSetupError when it is not one. */
function parseRedisUrl(url: string): { host: string; port: number } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RedisSetupError(`REDIS_URL "${url}" is not a URL (expected e.g. ${DEFAULT_REDIS_URL})`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw new RedisSetupError(`REDIS_URL "${url}" must start with redis:// or rediss://`);
  }
  return { host: u.hostname, port: u.port === "" ? 6379 : Number(u.port) };
}

/** How Redis will be had: it answers already, or `binary` is started on `port`. */
type RedisPlan = { answers: true } | { answers: false; binary: string; port: number };

/** Finds out how to get a Redis at `url`; throws a RedisSetupError saying what to install or change. */
async function planRedis(url: string, searchPath: string | undefined): Promise<RedisPlan> {
  const { host, port } = parseRedisUrl(url);
  if (await pingRedis(url)) return { answers: true };
  if (!LOCAL_HOSTS.has(host)) {
    throw new RedisSetupError(
      `Redis does not answer at ${url}. The devnet starts a redis-server only on this machine ` +
        `(127.0.0.1): start that Redis, or unset REDIS_URL to use a local one.`,
    );
  }
  const binary = findExecutable("redis-server", searchPath);
  if (binary === undefined) {
    throw new RedisSetupError(
      `Redis does not answer at ${url} and no \`redis-server\` is on the PATH to start one. ${INSTALL_REDIS_HINT}`,
    );
  }
  if (!(await portFree(port))) {
    throw new RedisSetupError(
      `something listens on 127.0.0.1:${port} but does not answer as Redis (${url}): stop it, or set ` +
        `REDIS_URL to a Redis that runs (e.g. redis://127.0.0.1:6380 after \`redis-server --port 6380\`).`,
    );
  }
  return { answers: false, binary, port };
}

/**
 * Checks, without starting anything, that {@link ensureRedis} can succeed (so a devnet fails before
 * starting its L1 rather than after). Throws the same RedisSetupError.
 */
export async function checkRedis(options: Pick<EnsureRedisOptions, "url" | "searchPath">): Promise<void> {
  await planRedis(options.url ?? DEFAULT_REDIS_URL, options.searchPath);
}

/**
 * Makes sure a Redis answers at `options.url`: uses a running one, or starts `redis-server` on that
 * (local) port under the supervisor. Throws a RedisSetupError saying what to install or change.
 */
export async function ensureRedis(options: EnsureRedisOptions): Promise<DevnetRedis> {
  const url = options.url ?? DEFAULT_REDIS_URL;
  const plan = await planRedis(url, options.searchPath);
  if (plan.answers) return { url, started: false };
  const child = options.supervisor.spawn(
    "redis",
    plan.binary,
    [
      "--port",
      String(plan.port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      options.dir ?? tmpdir(),
    ],
    { env: process.env },
  );
  await options.supervisor.waitHealthy(
    child,
    { kind: "probe", what: `a PONG from ${url}`, probe: () => pingRedis(url, 1000) },
    options.timeoutMs ?? 15_000,
  );
  return { url, started: true, process: child };
}

/** Deletes every key under `${prefix}:` (a finished devnet's queues and state) in the Redis at `url`. */
export async function deleteRedisKeys(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on("error", () => {});
  let deleted = 0;
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
  return deleted;
}
