/**
 * `npx veilnet gateway`: the gateway as a process, on the worker runtime's conventions — settings from
 * the environment or a JSON file validated at start (one line naming a bad one, exit 2), JSON logs,
 * `/healthz` and `/metrics` on METRICS_PORT, graceful stop on SIGINT/SIGTERM (a second signal exits at once).
 *
 * Start: the L1 and the deployment (to reach EnclaveRegistry), the user store, the gateway's port, then
 * the enclave's RPC key — retried with a log line while the enclave is not up. When the key's signer is
 * not attested on L1 the gateway refuses to serve: one line naming the signer, exit code 1.
 */
import { DeploymentFileError } from "../deploy/deployment-file.js";
import { EnclaveRegistry__factory } from "../types/ethers-contracts/index.js";
import { RpcUnavailableError, connectL1, l1DependencyCheck, loadDeployment } from "../platform/chain.js";
import { ConfigError, configSource, parseConfig } from "../platform/config.js";
import { type OpsServer, createMetricsRegistry, registerHealthGauge, startOpsServer } from "../platform/http.js";
import { createLogger } from "../platform/logger.js";
import { redactUrl } from "../platform/redis.js";
import {
  type GatewayProcessConfig,
  gatewayCommonConfigSchema,
  gatewayConfigSchema,
  gatewayRuntimeConfigSchema,
} from "./config.js";
import { EnclaveNotAttestedError, EnclaveProtocolError } from "./enclave/client.js";
import { type Gateway, startGateway } from "./gateway.js";
import { UserStoreBusyError, UserStoreError } from "./users/store.js";

export interface RunGatewayOptions {
  env?: NodeJS.ProcessEnv;
  /** JSON config file (`--config`); defaults to $VEILNET_CONFIG. */
  configFile?: string;
  /** Where one-line startup errors go (default: stderr). */
  printError?: (line: string) => void;
  /** Handle SIGINT/SIGTERM (default true). */
  handleSignals?: boolean;
}

/** The gateway process's settings (every schema it reads). */
export function parseGatewayConfig(source: Record<string, unknown>): GatewayProcessConfig {
  return {
    ...parseConfig(gatewayCommonConfigSchema, source),
    ...parseConfig(gatewayRuntimeConfigSchema, source),
    ...parseConfig(gatewayConfigSchema, source),
  };
}

function isOperatorError(e: unknown): e is Error {
  return (
    e instanceof ConfigError ||
    e instanceof RpcUnavailableError ||
    e instanceof DeploymentFileError ||
    e instanceof UserStoreBusyError ||
    e instanceof UserStoreError ||
    e instanceof EnclaveNotAttestedError ||
    e instanceof EnclaveProtocolError
  );
}

/** Runs the gateway until SIGINT/SIGTERM; resolves with the process exit code. */
export async function runGateway(options: RunGatewayOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const printError = options.printError ?? ((line: string) => process.stderr.write(`${line}\n`));
  let config: GatewayProcessConfig;
  try {
    config = parseGatewayConfig(configSource(env, options.configFile ?? env.VEILNET_CONFIG));
  } catch (e) {
    printError(e instanceof Error ? e.message : String(e));
    return e instanceof ConfigError ? 2 : 1;
  }
  const logger = createLogger(config.LOG_LEVEL, "veilnet-gateway");
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const c of cleanups.splice(0).reverse())
      await c().catch((err: unknown) => logger.warn({ err }, "stop failed"));
  };

  let gateway: Gateway;
  let stopped = false;
  let resolveStop!: () => void;
  const stopRequested = new Promise<void>((r) => (resolveStop = r));
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received += 1;
    if (received > 1) {
      logger.warn({ signal }, "gateway: second signal, exiting now");
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    logger.info({ signal }, "gateway: stopping");
    stopped = true;
    resolveStop();
  };
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM"];
  if (options.handleSignals ?? true) for (const s of signals) process.on(s, onSignal);
  // A lost connection must not end the process: log what nobody handled and keep going.
  const onRejection = (reason: unknown) => logger.error({ err: reason }, "gateway: unhandled rejection");
  process.on("unhandledRejection", onRejection);
  const done = async (code: number) => {
    await cleanup();
    for (const s of signals) process.off(s, onSignal);
    process.off("unhandledRejection", onRejection);
    logger.info({ code }, "gateway: stopped");
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    return code;
  };

  try {
    const { provider, chainId } = await connectL1(config.L1_RPC_URL);
    cleanups.push(async () => provider.destroy());
    const deployment = loadDeployment(chainId, config.VEILNET_DEPLOYMENTS_DIR);
    const registryAddress = deployment.addresses.EnclaveRegistry;
    const registry = EnclaveRegistry__factory.connect(registryAddress, provider);
    const metrics = createMetricsRegistry();
    try {
      gateway = await startGateway({
        settings: config,
        registry: { isAttested: (enclave) => registry.isAttested(enclave) },
        registryAddress,
        logger,
        metrics,
        dependencies: [l1DependencyCheck(provider)],
      });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EADDRINUSE" || (e as NodeJS.ErrnoException).code === "EACCES") {
        throw new ConfigError(
          `cannot serve the gateway on ${config.GATEWAY_HOST}:${config.GATEWAY_PORT}: ${(e as Error).message} (set GATEWAY_PORT)`,
        );
      }
      throw e;
    }
    cleanups.push(() => gateway.close());
    registerHealthGauge(metrics, gateway.health);
    let ops: OpsServer;
    try {
      ops = await startOpsServer({
        port: config.METRICS_PORT,
        host: config.METRICS_HOST,
        registry: metrics,
        health: gateway.health,
        logger,
      });
    } catch (e) {
      throw new ConfigError(
        `cannot serve /healthz and /metrics on ${config.METRICS_HOST}:${config.METRICS_PORT}: ${(e as Error).message}`,
      );
    }
    cleanups.push(() => ops.close());
    logger.info({ port: ops.port, host: config.METRICS_HOST }, "runtime: serving /healthz and /metrics");
    logger.info(
      {
        url: gateway.url,
        port: gateway.port,
        enclave: redactUrl(config.GATEWAY_ENCLAVE_URL),
        l1: redactUrl(config.L1_RPC_URL),
        chainId,
        enclaveRegistry: registryAddress,
        users: gateway.store.size,
        dataDir: config.GATEWAY_DATA_DIR,
      },
      "gateway: listening; verifying the enclave's RPC key",
    );

    const outcome = await Promise.race([gateway.ready.then((key) => ({ key })), stopRequested.then(() => undefined)]);
    if (outcome === undefined) return await done(0);
    logger.info(
      { url: gateway.url, rpcKey: outcome.key.publicKey, signer: outcome.key.signer },
      `gateway: serving wallets at ${gateway.url}/ (JSON-RPC: ${gateway.url}/v1/?token=<token>)`,
    );
    await stopRequested;
    return await done(0);
  } catch (e) {
    if (stopped && !isOperatorError(e)) return await done(0);
    if (isOperatorError(e)) {
      logger.error({ err: e }, "gateway: cannot serve");
      printError(e.message);
    } else {
      logger.error({ err: e }, "gateway: failed");
      printError(`error: ${e instanceof Error ? e.message : String(e)}`);
    }
    return await done(e instanceof ConfigError ? 2 : 1);
  }
}
