/**
 * The worker process: validates the configuration, connects Redis and the L1, loads the deployment,
 * builds the WorkerContext, starts the requested services, serves /healthz and /metrics, and shuts
 * down gracefully on SIGINT/SIGTERM (a second signal forces the exit).
 *
 * Exit codes: 0 after a clean shutdown, 2 for a configuration error, 1 for anything else (Redis or the
 * L1 unreachable at start, missing deployment, a service failing to start or to stop in time).
 *
 * After a successful start, losing Redis or the L1 does not end the process: ioredis reconnects, the
 * services retry, and /healthz answers 503 meanwhile.
 */
import type { Redis, RedisOptions } from "ioredis";
import { z } from "zod";

import { DeploymentFileError } from "../deploy/deployment-file.js";
import type { WorkerEntry, WorkerRegistry } from "./settings.js";
import {
  type L1Provider,
  RpcUnavailableError,
  bindContracts,
  connectL1,
  l1DependencyCheck,
  loadDeployment,
} from "./chain.js";
import { type CommonConfig, ConfigError, commonConfigSchema, configSource, parseConfig } from "./config.js";
import type { WorkerContext } from "./context.js";
import {
  type DependencyCheck,
  type HealthReport,
  type OpsServer,
  createMetricsRegistry,
  healthReport,
  registerHealthGauge,
  startOpsServer,
} from "./http.js";
import { type Logger, createLogger } from "./logger.js";
import type { QueueSettings } from "./queues.js";
import { RedisUnavailableError, connectRedis, redactUrl, redisOptions, withTimeout } from "./redis.js";
import type { Service } from "./service.js";

/** Settings of the runtime itself (besides the common ones). */
export const runtimeConfigSchema = z.object({
  METRICS_HOST: z.string().min(1).default("0.0.0.0").describe("Interface the /healthz and /metrics server binds"),
  SHUTDOWN_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(30_000)
    .describe("How long the services get to stop on SIGINT/SIGTERM before the process exits anyway (ms)"),
  JOB_LOCK_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(30_000)
    .describe(
      "Lock of a consumer on its current job (ms), renewed while the job runs: the job of a process that died goes back to the queue once this expired (at the next stalled-job check)",
    ),
  JOB_STALLED_CHECK_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(30_000)
    .describe("Period of the stalled-job check that hands the jobs of dead processes to live ones (ms)"),
  VEILNET_TEST_CRASH_POINT: z
    .enum(["after-broadcast"])
    .optional()
    .describe(
      "Test only: `after-broadcast` makes every L1 transaction broadcast block forever once the node has accepted it (after printing `VEILNET_TEST_CRASH_POINT after-broadcast <hash>` to stderr), so a test can kill the process at that exact point",
    ),
});

export type RuntimeConfig = z.infer<typeof runtimeConfigSchema>;

/** Marker printed to stderr when a test crash point is reached. */
export const CRASH_POINT_MARKER = "VEILNET_TEST_CRASH_POINT";

export interface RuntimeOptions {
  /** The workers that can be run, by name. */
  registry: WorkerRegistry;
  env?: NodeJS.ProcessEnv;
  /** JSON config file (`--config`); defaults to $VEILNET_CONFIG. */
  configFile?: string;
  /** Where one-line startup errors go (default: stderr). */
  printError?: (line: string) => void;
  /** Handle SIGINT/SIGTERM (default true). */
  handleSignals?: boolean;
}

/** A started process: its context, services and ops server. */
export interface RunningWorkers {
  context: WorkerContext;
  services: Service[];
  /** Port of /healthz and /metrics. */
  port: number;
  health(): Promise<HealthReport>;
  /** Stops everything (idempotent); resolves with the exit code (0 when everything stopped in time). */
  shutdown(reason: string): Promise<number>;
  /** Resolves with the exit code once the process has shut down. */
  readonly done: Promise<number>;
}

/** The exit code for an error that ended the start. */
export function exitCodeOf(error: unknown): number {
  return error instanceof ConfigError ? 2 : 1;
}

/** Known startup errors carry a message meant for the operator; others get their name too. */
function startupMessage(error: unknown): string {
  if (
    error instanceof ConfigError ||
    error instanceof RedisUnavailableError ||
    error instanceof RpcUnavailableError ||
    error instanceof DeploymentFileError ||
    error instanceof StartupError
  ) {
    return error.message;
  }
  return `error: ${error instanceof Error ? error.message : String(error)}`;
}

/** A start failure other than the typed connection/config errors. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartupError";
  }
}

/** Connection options for BullMQ from a redis:// URL (BullMQ opens its own connections from these). */
export function redisConnectionOptions(url: string, logger?: Logger): RedisOptions {
  const u = new URL(url);
  const options: RedisOptions = {
    ...redisOptions(logger),
    host: u.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1",
    port: u.port === "" ? 6379 : Number(u.port),
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
  };
  if (u.username !== "") options.username = decodeURIComponent(u.username);
  if (u.password !== "") options.password = decodeURIComponent(u.password);
  if (u.protocol === "rediss:") options.tls = {};
  return options;
}

export function queueSettings(
  config: Pick<CommonConfig, "REDIS_URL" | "QUEUE_PREFIX" | "JOB_ATTEMPTS" | "JOB_BACKOFF_MS">,
  logger?: Logger,
): QueueSettings {
  return {
    connection: redisConnectionOptions(config.REDIS_URL, logger),
    prefix: config.QUEUE_PREFIX,
    attempts: config.JOB_ATTEMPTS,
    backoffMs: config.JOB_BACKOFF_MS,
  };
}

/**
 * Test hook (VEILNET_TEST_CRASH_POINT=after-broadcast): once the node has answered an
 * `eth_sendRawTransaction`, print the marker and never return, so the sender hangs right after the
 * broadcast. Installed on the provider's transport (`_send`), which every request goes through, also
 * the ones that bypass `send()`'s batching.
 */
function installCrashPoint(provider: L1Provider, point: RuntimeConfig["VEILNET_TEST_CRASH_POINT"]): void {
  if (point !== "after-broadcast") return;
  const transport = provider._send.bind(provider);
  provider._send = async (payload) => {
    const results = await transport(payload);
    const payloads = Array.isArray(payload) ? payload : [payload];
    const raw = payloads.find((p) => p.method === "eth_sendRawTransaction");
    if (raw !== undefined) {
      const answer = results.find((r) => r.id === raw.id);
      const shown = answer === undefined ? undefined : "result" in answer ? answer.result : answer.error;
      process.stderr.write(`${CRASH_POINT_MARKER} after-broadcast ${JSON.stringify(shown)}\n`);
      return new Promise<never>(() => {});
    }
    return results;
  };
}

function redisCheck(redis: Redis): DependencyCheck {
  return {
    name: "redis",
    check: async () => (redis.status === "ready" ? { ok: true } : { ok: false, detail: `connection ${redis.status}` }),
  };
}

/** Logs the losses and recoveries of the state connection (ioredis reconnects by itself). */
function watchRedis(redis: Redis, logger: Logger): void {
  let lost = false;
  redis.on("close", () => {
    if (!lost) logger.warn("redis: connection lost, reconnecting");
    lost = true;
  });
  redis.on("ready", () => {
    if (lost) logger.info("redis: reconnected");
    lost = false;
  });
  redis.on("error", (err: Error) => logger.debug({ err }, "redis: connection error"));
}

async function closeQuietly(what: string, close: () => Promise<unknown>, logger: Logger, ms = 5000): Promise<void> {
  try {
    await withTimeout(close(), ms, `${what} did not close within ${ms} ms`);
  } catch (err) {
    logger.warn({ err }, `shutdown: closing ${what} failed`);
  }
}

/** The registry entry of each of `names`; a ConfigError when there is none or a name is not registered. */
function workerEntries(names: readonly string[], registry: WorkerRegistry): { name: string; entry: WorkerEntry }[] {
  if (names.length === 0) throw new ConfigError("no worker to run");
  const entries: { name: string; entry: WorkerEntry }[] = [];
  const unknown: string[] = [];
  for (const name of names) {
    const entry = registry[name];
    if (entry === undefined) unknown.push(`"${name}"`);
    else entries.push({ name, entry });
  }
  if (unknown.length > 0) {
    throw new ConfigError(
      `unknown worker ${unknown.join(", ")}: valid workers are ${Object.keys(registry).join(", ")}`,
    );
  }
  return entries;
}

/**
 * Starts the named workers. Throws ConfigError, RedisUnavailableError, RpcUnavailableError,
 * DeploymentFileError or StartupError (after releasing whatever it had opened).
 */
export async function startWorkers(names: readonly string[], options: RuntimeOptions): Promise<RunningWorkers> {
  const env = options.env ?? process.env;
  const entries = workerEntries(names, options.registry);
  const source = configSource(env, options.configFile ?? env.VEILNET_CONFIG);
  const config = parseConfig(commonConfigSchema, source);
  const runtime = parseConfig(runtimeConfigSchema, source);
  const logger = createLogger(config.LOG_LEVEL);

  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c();
  };
  try {
    const factories = await Promise.all(
      entries.map(async ({ name, entry }) => {
        try {
          return { name, factory: await entry.load() };
        } catch (e) {
          throw new StartupError(`worker ${name} cannot be loaded: ${(e as Error).message}`);
        }
      }),
    );

    const redis = await connectRedis(config.REDIS_URL, logger);
    cleanups.push(async () => {
      // QUIT waits for a reconnect when Redis is down: then (or if it takes too long) just disconnect.
      if (redis.status === "ready") await closeQuietly("redis", () => redis.quit(), logger, 2000);
      redis.disconnect();
    });
    watchRedis(redis, logger);

    const { provider, chainId } = await connectL1(config.L1_RPC_URL);
    cleanups.push(async () => provider.destroy());
    installCrashPoint(provider, runtime.VEILNET_TEST_CRASH_POINT);

    const deployment = loadDeployment(chainId, config.VEILNET_DEPLOYMENTS_DIR);
    logger.info(
      { chainId, l1: redactUrl(config.L1_RPC_URL), redis: redactUrl(config.REDIS_URL), workers: names },
      "runtime: connected",
    );

    const metrics = createMetricsRegistry();
    const context: WorkerContext = {
      config,
      source,
      logger,
      redis,
      queues: {
        ...queueSettings(config, logger),
        lockDurationMs: runtime.JOB_LOCK_MS,
        stalledIntervalMs: runtime.JOB_STALLED_CHECK_MS,
      },
      provider,
      chainId,
      deployment,
      contracts: bindContracts(deployment.addresses, provider),
      metrics,
    };

    const services: Service[] = [];
    for (const { name, factory } of factories) {
      try {
        services.push(await factory({ ...context, logger: logger.child({ service: name }) }));
      } catch (e) {
        if (e instanceof ConfigError) throw e;
        throw new StartupError(`worker ${name} failed to initialize: ${(e as Error).message}`);
      }
    }

    const dependencies = [redisCheck(redis), l1DependencyCheck(provider)];
    const health = () => healthReport(services, dependencies);
    registerHealthGauge(metrics, health);
    let ops: OpsServer;
    try {
      ops = await startOpsServer({
        port: config.METRICS_PORT,
        host: runtime.METRICS_HOST,
        registry: metrics,
        health,
        logger,
      });
    } catch (e) {
      throw new StartupError(
        `cannot serve /healthz and /metrics on ${runtime.METRICS_HOST}:${config.METRICS_PORT}: ${(e as Error).message}`,
      );
    }
    cleanups.push(() => closeQuietly("http server", () => ops.close(), logger));
    logger.info({ port: ops.port, host: runtime.METRICS_HOST }, "runtime: serving /healthz and /metrics");

    const started: Service[] = [];
    const stopServices = async (): Promise<boolean> => {
      const results = await Promise.allSettled(
        [...started].reverse().map(async (s) => {
          try {
            await s.stop();
            logger.info({ service: s.name }, "runtime: service stopped");
          } catch (err) {
            logger.error({ err, service: s.name }, "runtime: service failed to stop cleanly");
            throw err;
          }
        }),
      );
      return results.every((r) => r.status === "fulfilled");
    };
    for (const service of services) {
      try {
        await service.start();
        started.push(service);
        logger.info({ service: service.name }, "runtime: service started");
      } catch (e) {
        await withTimeout(stopServices(), runtime.SHUTDOWN_TIMEOUT_MS, "stop timed out").catch(() => false);
        throw new StartupError(`worker ${service.name} failed to start: ${(e as Error).message}`);
      }
    }

    let resolveDone!: (code: number) => void;
    const done = new Promise<number>((r) => (resolveDone = r));
    let stopping: Promise<number> | undefined;
    const shutdown = (reason: string): Promise<number> => {
      stopping ??= (async () => {
        logger.info({ reason, timeoutMs: runtime.SHUTDOWN_TIMEOUT_MS }, "runtime: shutting down");
        let code = 0;
        try {
          const clean = await withTimeout(
            stopServices(),
            runtime.SHUTDOWN_TIMEOUT_MS,
            `services did not stop within ${runtime.SHUTDOWN_TIMEOUT_MS} ms`,
          );
          if (!clean) code = 1;
        } catch (err) {
          logger.error({ err }, "runtime: shutdown timed out");
          code = 1;
        }
        await cleanup();
        logger.info({ code }, "runtime: stopped");
        resolveDone(code);
        return code;
      })();
      return stopping;
    };
    return { context, services, port: ops.port, health, shutdown, done };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/**
 * Runs the named workers until SIGINT/SIGTERM. Startup errors are printed as one line (to stderr);
 * resolves with the process exit code.
 */
export async function runWorkers(names: readonly string[], options: RuntimeOptions): Promise<number> {
  const printError = options.printError ?? ((line: string) => process.stderr.write(`${line}\n`));
  let running: RunningWorkers;
  try {
    running = await startWorkers(names, options);
  } catch (e) {
    printError(startupMessage(e));
    return exitCodeOf(e);
  }
  const { logger } = running.context;

  // A lost connection must not end the process: log what nobody handled and keep going.
  const onRejection = (reason: unknown) => logger.error({ err: reason }, "runtime: unhandled rejection");
  process.on("unhandledRejection", onRejection);

  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM"];
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received += 1;
    if (received === 1) {
      void running.shutdown(signal);
      return;
    }
    logger.warn({ signal }, "runtime: second signal, exiting now");
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  if (options.handleSignals ?? true) for (const s of signals) process.on(s, onSignal);

  const code = await running.done;
  for (const s of signals) process.off(s, onSignal);
  process.off("unhandledRejection", onRejection);
  // Let the asynchronous log stream drain in order before the caller exits the process.
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  return code;
}
