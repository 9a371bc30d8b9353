/**
 * What every veilnet process of the devnet shares: Redis (step 3) and the environment they start with
 * (L1, Redis, QUEUE_PREFIX, log level …), through a launcher that gives each a metrics port of its own.
 */
import path from "node:path";

import { projectRoot, veilnet } from "../commands.js";
import { freePort } from "../ports.js";
import type { ManagedProcess, Supervisor } from "../processes.js";
import { DEFAULT_REDIS_URL, type DevnetRedis, deleteRedisKeys, ensureRedis } from "../redis.js";
import type { DevnetRun } from "../run.js";
import type { DevnetOptions } from "../types.js";

/**
 * Step 3: uses the Redis at `redisUrl`, or starts a redis-server (in memory). A devnet on its own L1
 * leaves nothing behind in a shared Redis: its `queuePrefix` keys are deleted when it stops.
 */
export async function provideRedis(
  run: DevnetRun,
  redisUrl: string | undefined,
  dataDir: string,
  queuePrefix: string,
  external: boolean,
): Promise<DevnetRedis> {
  run.step("checking Redis");
  const redis = await ensureRedis({ url: redisUrl ?? DEFAULT_REDIS_URL, supervisor: run.supervisor, dir: dataDir });
  run.log(redis.started ? `started redis-server at ${redis.url} (in memory)` : `Redis answers at ${redis.url}`);
  if (!external && !redis.started) {
    run.onStop(async () => void (await deleteRedisKeys(redis.url, queuePrefix)));
  }
  run.checkCrash();
  return redis;
}

/**
 * The environment of the devnet's processes: this process's, without the Veilnet config and test
 * variables, plus the devnet's L1, Redis, queue prefix and settings.
 */
export function devnetEnv(
  options: Pick<DevnetOptions, "logLevel" | "graceMs" | "deploymentsDir">,
  l1Url: string,
  redisUrl: string,
  queuePrefix: string,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key === "VEILNET_CONFIG" || key.startsWith("VEILNET_TEST")) delete env[key];
  }
  Object.assign(env, {
    L1_RPC_URL: l1Url,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: queuePrefix,
    LOG_LEVEL: options.logLevel ?? "info",
    METRICS_HOST: "127.0.0.1",
    SHUTDOWN_TIMEOUT_MS: String(Math.max(1000, (options.graceMs ?? 10_000) - 2000)),
    // The nodes' L2 JSON-RPC is the dev accounts' URL: every method unfiltered (docs/privacy.md).
    L2_RPC_UNFILTERED: process.env.L2_RPC_UNFILTERED ?? "true",
  });
  if (options.deploymentsDir !== undefined) env.VEILNET_DEPLOYMENTS_DIR = path.resolve(options.deploymentsDir);
  return env;
}

/** A started veilnet process and the URL of its /healthz. */
export interface VeilnetChild {
  child: ManagedProcess;
  healthUrl: string;
}

/** Starts the devnet's veilnet processes. */
export interface VeilnetLauncher {
  /** The environment every process starts with. */
  readonly env: NodeJS.ProcessEnv;
  /** How long each process gets to become ready, ms. */
  readonly readyMs: number;
  readonly supervisor: Supervisor;
  /** Starts `veilnet <args>` as `name` with the devnet's environment, `env` and a metrics port of its own. */
  spawn(name: string, args: string[], env: NodeJS.ProcessEnv): Promise<VeilnetChild>;
}

export function veilnetLauncher(supervisor: Supervisor, baseEnv: NodeJS.ProcessEnv, readyMs: number): VeilnetLauncher {
  return {
    env: baseEnv,
    readyMs,
    supervisor,
    async spawn(name, args, env) {
      const metricsPort = await freePort();
      const cmd = veilnet(...args);
      const child = supervisor.spawn(name, cmd.command, cmd.args, {
        cwd: projectRoot,
        env: { ...baseEnv, METRICS_PORT: String(metricsPort), ...env },
      });
      return { child, healthUrl: `http://127.0.0.1:${metricsPort}/healthz` };
    },
  };
}
