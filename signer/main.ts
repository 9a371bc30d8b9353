/**
 * `veilnet signer`: the remote share signer as a process (docs/distributed-key.md), on the other
 * processes' conventions — settings from the environment or a JSON file validated at start (one line
 * naming a bad one, exit 2), JSON logs, `/healthz` and `/metrics` on METRICS_PORT, graceful stop on
 * SIGINT/SIGTERM. It loads the shares (SIGNER_KEYSTORE), opens the slashing-protection record
 * (SIGNER_DATA_DIR, bound to SIGNER_CHAIN_ID and SIGNER_ROLLUP_REGISTRY) and serves the API on
 * SIGNER_HOST:SIGNER_PORT.
 */
import { getAddress } from "ethers";

import { ConfigError, configSource, parseConfig } from "../platform/config.js";
import { type OpsServer, createMetricsRegistry, registerHealthGauge, startOpsServer } from "../platform/http.js";
import { createLogger } from "../platform/logger.js";
import {
  LocalShareSigner,
  SignerInputError,
  SlashingProtection,
  SlashingProtectionError,
  loadKeystore,
} from "../platform/signer/index.js";
import {
  type SignerProcessConfig,
  signerCommonConfigSchema,
  signerConfigSchema,
  signerRuntimeConfigSchema,
} from "./config.js";
import { type SignerServer, startSignerServer } from "./server.js";

export interface RunSignerOptions {
  env?: NodeJS.ProcessEnv;
  /** JSON config file (`--config`); defaults to $VEILNET_CONFIG. */
  configFile?: string;
  /** Where one-line startup errors go (default: stderr). */
  printError?: (line: string) => void;
  /** Handle SIGINT/SIGTERM (default true). */
  handleSignals?: boolean;
}

/** The signer process's settings (every schema it reads). */
export function parseSignerConfig(source: Record<string, unknown>): SignerProcessConfig {
  const parts = [signerCommonConfigSchema, signerRuntimeConfigSchema, signerConfigSchema] as const;
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const schema of parts) {
    try {
      Object.assign(out, parseConfig(schema, source));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(e.message.replace(/^config: /, ""));
    }
  }
  if (problems.length > 0) throw new ConfigError(`config: ${problems.join("; ")}`);
  return out as SignerProcessConfig;
}

/** Opens what the signer signs with; a ConfigError names the setting at fault. */
function openSigner(config: SignerProcessConfig): { signer: LocalShareSigner; protection: SlashingProtection } {
  let shares;
  try {
    shares = loadKeystore(config.SIGNER_KEYSTORE);
  } catch (e) {
    if (e instanceof SignerInputError) throw new ConfigError(`config: SIGNER_KEYSTORE: ${e.message}`);
    throw e;
  }
  let protection: SlashingProtection;
  try {
    protection = SlashingProtection.open(config.SIGNER_DATA_DIR, {
      chainId: config.SIGNER_CHAIN_ID,
      address: getAddress(config.SIGNER_ROLLUP_REGISTRY),
    });
  } catch (e) {
    if (e instanceof SlashingProtectionError) throw new ConfigError(`config: SIGNER_DATA_DIR: ${e.message}`);
    throw e;
  }
  return { signer: new LocalShareSigner({ shares, protection }), protection };
}

/** Runs the signer until SIGINT/SIGTERM; resolves with the process exit code. */
export async function runSigner(options: RunSignerOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const printError = options.printError ?? ((line: string) => process.stderr.write(`${line}\n`));
  let config: SignerProcessConfig;
  try {
    config = parseSignerConfig(configSource(env, options.configFile ?? env.VEILNET_CONFIG));
  } catch (e) {
    printError(e instanceof Error ? e.message : String(e));
    return e instanceof ConfigError ? 2 : 1;
  }
  const logger = createLogger(config.LOG_LEVEL, "veilnet-signer");
  const cleanups: Array<() => Promise<void> | void> = [];
  let resolveStop!: () => void;
  const stopRequested = new Promise<void>((r) => (resolveStop = r));
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, "signer: stopping");
    resolveStop();
  };
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM"];
  if (options.handleSignals ?? true) for (const s of signals) process.on(s, onSignal);
  const done = async (code: number) => {
    for (const c of cleanups.splice(0).reverse()) {
      await Promise.resolve(c()).catch((err: unknown) => logger.warn({ err }, "stop failed"));
    }
    for (const s of signals) process.off(s, onSignal);
    logger.info({ code }, "signer: stopped");
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    return code;
  };

  try {
    const { signer, protection } = openSigner(config);
    cleanups.push(() => protection.close());
    const metrics = createMetricsRegistry();
    let api: SignerServer;
    try {
      api = await startSignerServer({
        signer,
        token: config.SIGNER_AUTH_TOKEN,
        host: config.SIGNER_HOST,
        port: config.SIGNER_PORT,
        metrics,
        logger,
      });
    } catch (e) {
      throw new ConfigError(
        `config: SIGNER_PORT: cannot serve on ${config.SIGNER_HOST}:${config.SIGNER_PORT}: ${(e as Error).message}`,
      );
    }
    cleanups.push(() => api.close());
    const health = async () => ({
      status: "ok" as const,
      services: { signer: { ok: true } },
      dependencies: {},
    });
    registerHealthGauge(metrics, health);
    let ops: OpsServer;
    try {
      ops = await startOpsServer({
        port: config.METRICS_PORT,
        host: config.METRICS_HOST,
        registry: metrics,
        health,
        logger,
      });
    } catch (e) {
      throw new ConfigError(
        `config: METRICS_PORT: cannot serve /healthz and /metrics on ${config.METRICS_HOST}:${config.METRICS_PORT}: ${(e as Error).message}`,
      );
    }
    cleanups.push(() => ops.close());
    logger.info({ port: ops.port, host: config.METRICS_HOST }, "runtime: serving /healthz and /metrics");
    logger.info(
      {
        url: api.url,
        port: api.port,
        publicKeys: await signer.publicKeys(),
        dataDir: protection.dir,
        chainId: config.SIGNER_CHAIN_ID.toString(),
        rollupRegistry: protection.registry.address,
      },
      "signer: serving",
    );
    await stopRequested;
    return await done(0);
  } catch (e) {
    if (e instanceof ConfigError) {
      logger.error({ err: e }, "signer: cannot serve");
      printError(e.message);
      return await done(2);
    }
    logger.error({ err: e }, "signer: failed");
    printError(`error: ${e instanceof Error ? e.message : String(e)}`);
    return await done(1);
  }
}
