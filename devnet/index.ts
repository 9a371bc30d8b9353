/**
 * A whole local Veilnet, started in order and stopped in reverse:
 *
 *   L1 (`hardhat node`, or L1_RPC_URL) → deploy the suite → Redis → genesis enclave (`veilnet enclave
 *   init`) → workers (`veilnet workers`: event-subscriber, secret-responder, withdrawal-processor) →
 *   sequencer (`veilnet node`, L2 JSON-RPC) → gateway (`veilnet gateway`: JSON-RPC for wallets, with
 *   viewing keys) → optional validator (`veilnet node --validator`, which joins through an on-chain
 *   secret request) → dev accounts funded on L2 by L1 deposits.
 *
 * Used by `npm run devnet` (scripts/devnet.ts), `npm run demo` and the end-to-end tests.
 */
import path from "node:path";

import { JsonRpcProvider, parseEther } from "ethers";

import type { Deployment, DeploymentAddresses } from "../deploy/deployment-file.js";
import { L2_CHAIN_ID } from "../protocol/predeploys.js";
import { AccountRole, type DevAccount, devAccounts } from "./accounts.js";
import { projectRoot, veilnet } from "./commands.js";
import { deployContracts } from "./deploy.js";
import { initSequencerEnclave } from "./enclave.js";
import { fundL2Accounts } from "./funding.js";
import { startL1 } from "./l1.js";
import { assertPortFree, freePort } from "./ports.js";
import { type ExitInfo, type ManagedProcess, ProcessError, Supervisor } from "./processes.js";
import { DEFAULT_REDIS_URL, checkRedis, deleteRedisKeys, ensureRedis } from "./redis.js";
import { devnetDir, externalDataDir, freshDir, lockDevnetDir, readRunFile, writeRunFile } from "./workspace.js";

export { AccountRole, DEV_MNEMONIC, type DevAccount, devAccounts, formatAccounts } from "./accounts.js";
export { ProcessError, Supervisor } from "./processes.js";
export { RedisSetupError } from "./redis.js";
export { PortInUseError } from "./ports.js";
export { DevnetBusyError } from "./workspace.js";
export { L1UnavailableError } from "./l1.js";
export { FundingTimeoutError, l2Balance } from "./funding.js";

/** The start was interrupted (`signal` aborted, e.g. Ctrl-C); whatever had started was stopped. */
export class DevnetAbortedError extends Error {
  constructor() {
    super("the devnet start was interrupted; everything started so far was stopped");
    this.name = "DevnetAbortedError";
  }
}

/** One step of the start, for progress output. */
export interface DevnetProgress {
  /** 1-based. */
  step: number;
  total: number;
  title: string;
}

/** A child process that exited while the devnet was up. */
export interface DevnetCrash {
  name: string;
  exit: ExitInfo;
  logFile: string;
  lastLines: string[];
}

export interface DevnetOptions {
  /** Use this L1 instead of starting one (env L1_RPC_URL). */
  l1RpcUrl?: string;
  /** Port of the L1 node to start (default 8545). */
  l1Port?: number;
  /** Port of the sequencer's L2 JSON-RPC (default 8645). */
  l2RpcPort?: number;
  /** Port of the validator's read-only L2 JSON-RPC (default l2RpcPort + 1). */
  validatorL2RpcPort?: number;
  /** Port of the gateway (default 8745; 0: any free port). */
  gatewayPort?: number;
  /** Redis to use or start (default redis://127.0.0.1:6379). */
  redisUrl?: string;
  /** Also run a validator enclave (default false). */
  validator?: boolean;
  /** The devnet directory (default $DEVNET_DIR or <repo>/.devnet): logs and data. */
  dir?: string;
  /** Directory of deployments/<chainId>.json (default: the deploy task's, ./deployments). */
  deploymentsDir?: string;
  /** Challenge period of a new deployment, seconds (default 60). */
  challengePeriod?: number;
  /** L2 balance each funded dev account gets, wei (default 100 ETH; 0n: no funding). */
  fundAmount?: bigint;
  /** How many dev accounts (from index 0) are funded on L2 (default 5). */
  fundAccounts?: number;
  /** L1 interval mining of a started node, ms (default 1000). */
  blockIntervalMs?: number;
  /** Sequencer batch interval, ms (default 1000). */
  batchIntervalMs?: number;
  /** Sequencer rollup interval, ms (default 5000). */
  rollupIntervalMs?: number;
  /** Bounty the validator pays for the network secret, ether (default "0"). */
  joinBountyEth?: string;
  /** LOG_LEVEL of the child processes (default "info"). */
  logLevel?: string;
  /** How long each component gets to become ready, ms (default 120 000). */
  readyTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace period when stopping, ms (default 10 000). */
  graceMs?: number;
  /** Progress: called as each step begins. */
  onProgress?: (progress: DevnetProgress) => void;
  /** Detail lines within a step. */
  onLog?: (line: string) => void;
  /** Every line a child process prints (verbose mode). */
  onOutput?: (name: string, line: string) => void;
  /** A child exited while the devnet was up (after the start; during it, the start fails instead). */
  onCrash?: (crash: DevnetCrash) => void;
  /** Aborting interrupts the start: what started is stopped and startDevnet rejects with DevnetAbortedError. */
  signal?: AbortSignal;
}

/** What `devnet.json` and the summary describe. */
export interface DevnetInfo {
  l1: { url: string; chainId: bigint; external: boolean; blockIntervalMs?: number };
  l2: { url: string; chainId: bigint; validatorUrl?: string };
  /** The gateway: its web page (`url`/) and JSON-RPC (`url`/v1/?token=…); its user store. */
  gateway: { url: string; dataDir: string };
  redis: { url: string; started: boolean };
  /** QUEUE_PREFIX of every worker and node of this devnet. */
  queuePrefix: string;
  deployment: Deployment;
  /** Address of the sequencer (genesis) enclave. */
  sequencerEnclave: string;
  /** /healthz URL of each long-running veilnet process. */
  health: { workers: string; sequencer: string; gateway: string; validator?: string };
  dataDir: string;
  logDir: string;
}

/** A running devnet. */
export interface Devnet extends DevnetInfo {
  l1Url: string;
  l2Url: string;
  validatorL2Url?: string;
  /** The gateway's base URL (web page at `/`, JSON-RPC at `/v1/?token=…`). */
  gatewayUrl: string;
  addresses: DeploymentAddresses;
  /** Dev accounts (Hardhat's mnemonic) with their roles; keys included (public test keys). */
  accounts: DevAccount[];
  /** L2 balances of the funded accounts after funding, wei. */
  l2Balances: Map<string, bigint>;
  /** `<dataDir>/devnet.json`. */
  runFile: string;
  /** Child processes that exited while the devnet was up (also reported to `onCrash`). */
  crashes: DevnetCrash[];
  /** The supervisor of the child processes (their logs, state). */
  supervisor: Supervisor;
  /** Stops every child in reverse start order (idempotent). */
  stop(): Promise<void>;
}

const TOTAL_BASE_STEPS = 8;

interface RunFile {
  queuePrefix?: string;
}

/** Starts the devnet; see the module comment for the sequence. */
export async function startDevnet(options: DevnetOptions = {}): Promise<Devnet> {
  const total = TOTAL_BASE_STEPS + (options.validator === true ? 1 : 0);
  let stepNo = 0;
  const step = (title: string) => {
    if (options.signal?.aborted === true) throw new DevnetAbortedError();
    stepNo += 1;
    options.onProgress?.({ step: stepNo, total, title });
  };
  const log = (line: string) => options.onLog?.(line);

  const root = devnetDir(options.dir);
  const release = lockDevnetDir(root);
  const logDir = path.join(root, "logs");
  let started = false;
  let crash: ProcessError | undefined;
  const crashes: DevnetCrash[] = [];
  const supervisor = new Supervisor({
    logDir,
    graceMs: options.graceMs,
    onLine: options.onOutput,
    onUnexpectedExit: (p: ManagedProcess, exit: ExitInfo) => {
      const info: DevnetCrash = { name: p.name, exit, logFile: p.logFile, lastLines: p.lastLines() };
      if (started) {
        crashes.push(info);
        options.onCrash?.(info);
      } else {
        crash ??= new ProcessError(
          `${p.name} stopped during the start (${exit.signal ?? `exit code ${exit.code}`})`,
          p.name,
          p.logFile,
          info.lastLines,
        );
      }
    },
  });
  const checkCrash = () => {
    if (crash !== undefined) throw crash;
  };

  let cleanupRedis: (() => Promise<void>) | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await supervisor.stopAll((name) => log(`stopping ${name}`));
      if (cleanupRedis !== undefined) await cleanupRedis().catch(() => {});
      release();
    })());
  const onAbort = () => void stop();
  options.signal?.addEventListener("abort", onAbort, { once: true });

  try {
    const l2RpcPort = options.l2RpcPort ?? 8645;
    const validatorPort = options.validatorL2RpcPort ?? l2RpcPort + 1;
    const external = options.l1RpcUrl !== undefined && options.l1RpcUrl !== "";
    // Fail fast on taken ports and a missing Redis, before anything slow.
    if (!external) await assertPortFree(options.l1Port ?? 8545, "the L1 node", "L1_PORT");
    await assertPortFree(l2RpcPort, "the L2 JSON-RPC", "L2_RPC_PORT");
    const gatewayPort = options.gatewayPort === 0 ? await freePort() : (options.gatewayPort ?? 8745);
    await assertPortFree(gatewayPort, "the gateway", "GATEWAY_PORT");
    if (options.validator === true) {
      await assertPortFree(validatorPort, "the validator's L2 JSON-RPC", "L2_RPC_PORT (the validator uses it + 1)");
    }
    await checkRedis({ url: options.redisUrl });

    // 1. L1
    step(external ? `connecting to the L1 at ${options.l1RpcUrl}` : `starting the L1 node (hardhat node)`);
    const runDir = path.join(root, "run");
    if (!external) freshDir(runDir);
    const l1 = await startL1({
      url: options.l1RpcUrl,
      port: options.l1Port,
      supervisor,
      blockIntervalMs: options.blockIntervalMs,
    });
    log(`L1 ${l1.url} answers: chain ${l1.chainId}`);

    // 2. Contracts
    const accounts = devAccounts(Math.max(5, options.fundAccounts ?? 5));
    step(`deploying the Veilnet contracts to chain ${l1.chainId}`);
    const challengePeriod = options.challengePeriod ?? 60;
    const { deployment, deployed } = await deployContracts({
      l1,
      supervisor,
      workDir: external ? path.join(root, "deploy") : runDir,
      challengePeriod,
      deploymentsDir: options.deploymentsDir,
      governor: accounts[AccountRole.admin].address,
      guardian: accounts[AccountRole.admin].address,
      initializer: accounts[AccountRole.sequencer].address,
    });
    log(
      deployed
        ? `deployed (challenge period ${deployment.parameters.challengePeriod} s, timelock delay ${deployment.parameters.timelockDelay} s)`
        : `using the deployment already on chain ${l1.chainId} (challenge period ${deployment.parameters.challengePeriod} s, timelock delay ${deployment.parameters.timelockDelay} s)`,
    );
    let dataDir = runDir;
    if (external) {
      const provider = new JsonRpcProvider(l1.url, undefined, { staticNetwork: true });
      const block = await provider.getBlock(deployment.deploymentBlock).finally(() => provider.destroy());
      dataDir = externalDataDir(root, l1.chainId, block?.hash ?? "0x00000000");
    }
    const previous = readRunFile<RunFile>(dataDir);
    const queuePrefix =
      external && previous?.queuePrefix !== undefined
        ? previous.queuePrefix
        : `devnet-${l1.chainId}-${Date.now().toString(36)}`;
    checkCrash();

    // 3. Redis
    step("checking Redis");
    const redis = await ensureRedis({
      url: options.redisUrl ?? DEFAULT_REDIS_URL,
      supervisor,
      dir: dataDir,
    });
    log(redis.started ? `started redis-server at ${redis.url} (in memory)` : `Redis answers at ${redis.url}`);
    if (!external && !redis.started) {
      // A devnet on its own L1 leaves nothing behind in a shared Redis.
      cleanupRedis = async () => void (await deleteRedisKeys(redis.url, queuePrefix));
    }
    checkCrash();

    const baseEnv: NodeJS.ProcessEnv = { ...process.env };
    for (const key of Object.keys(baseEnv)) {
      if (key === "VEILNET_CONFIG" || key.startsWith("VEILNET_TEST")) delete baseEnv[key];
    }
    Object.assign(baseEnv, {
      L1_RPC_URL: l1.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: queuePrefix,
      LOG_LEVEL: options.logLevel ?? "info",
      METRICS_HOST: "127.0.0.1",
      SHUTDOWN_TIMEOUT_MS: String(Math.max(1000, (options.graceMs ?? 10_000) - 2000)),
      // The nodes' L2 JSON-RPC is the dev accounts' URL: every method unfiltered (docs/privacy.md).
      L2_RPC_UNFILTERED: process.env.L2_RPC_UNFILTERED ?? "true",
    });
    if (options.deploymentsDir !== undefined) baseEnv.VEILNET_DEPLOYMENTS_DIR = path.resolve(options.deploymentsDir);
    const readyMs = options.readyTimeoutMs ?? 120_000;
    /** Starts `veilnet <args>` as `name` with the devnet's settings and a metrics port of its own. */
    const spawnVeilnet = async (name: string, args: string[], env: NodeJS.ProcessEnv) => {
      const metricsPort = await freePort();
      const cmd = veilnet(...args);
      const child = supervisor.spawn(name, cmd.command, cmd.args, {
        cwd: projectRoot,
        env: { ...baseEnv, METRICS_PORT: String(metricsPort), ...env },
      });
      return { child, healthUrl: `http://127.0.0.1:${metricsPort}/healthz` };
    };

    // 4. Genesis enclave
    step("creating the sequencer enclave and the network secret (veilnet enclave init)");
    const sequencerState = path.join(dataDir, "sequencer-enclave.json");
    const sequencerEnclave = await initSequencerEnclave({
      supervisor,
      l1Url: l1.url,
      deployment,
      stateFile: sequencerState,
      attestationService: accounts[AccountRole.admin],
      operator: accounts[AccountRole.sequencer],
      env: baseEnv,
    });
    log(`sequencer enclave ${sequencerEnclave} (${sequencerState})`);
    checkCrash();

    // 5. Workers
    step("starting the workers (event-subscriber, secret-responder, withdrawal-processor)");
    const workers = await spawnVeilnet("workers", ["workers"], {
      SIGNER_PRIVATE_KEY: accounts[AccountRole.workers].privateKey,
      ENCLAVE_STATE_FILE: sequencerState,
      // Notice quickly that a challenge period is over (also after an evm_increaseTime).
      WITHDRAWAL_ACTIVATION_POLL_MS: "2000",
      WITHDRAWAL_L2_RPC_URLS: `http://127.0.0.1:${l2RpcPort}`, // the sequencer's node serves the rollups' messages
    });
    const health: DevnetInfo["health"] = { workers: workers.healthUrl, sequencer: "", gateway: "" };
    await supervisor.waitHealthy(workers.child, { kind: "http", url: health.workers }, readyMs);
    checkCrash();

    // 6. Sequencer
    step(`starting the sequencer enclave node (L2 JSON-RPC on port ${l2RpcPort})`);
    const l2Url = `http://127.0.0.1:${l2RpcPort}`;
    const sequencer = await spawnVeilnet("sequencer", ["node"], {
      SIGNER_PRIVATE_KEY: accounts[AccountRole.sequencer].privateKey,
      ENCLAVE_STATE_FILE: sequencerState,
      NODE_DATA_DIR: path.join(dataDir, "sequencer-l2"),
      L2_RPC_PORT: String(l2RpcPort),
      BATCH_INTERVAL_MS: String(options.batchIntervalMs ?? 1000),
      ROLLUP_INTERVAL_MS: String(options.rollupIntervalMs ?? 5000),
    });
    health.sequencer = sequencer.healthUrl;
    await supervisor.waitHealthy(sequencer.child, { kind: "json-rpc", url: l2Url, chainId: L2_CHAIN_ID }, readyMs);
    await supervisor.waitHealthy(sequencer.child, { kind: "http", url: health.sequencer }, readyMs);
    checkCrash();

    // 7. Gateway (wallets' JSON-RPC in front of the sequencer's endpoint)
    step(`starting the gateway (wallets' JSON-RPC and web page on port ${gatewayPort})`);
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const gatewayData = path.join(dataDir, "gateway");
    const gateway = await spawnVeilnet("gateway", ["gateway"], {
      GATEWAY_PORT: String(gatewayPort),
      GATEWAY_ENCLAVE_URL: l2Url,
      GATEWAY_DATA_DIR: gatewayData,
    });
    health.gateway = gateway.healthUrl;
    // Healthy once the enclave's RPC key is verified (its signer attested on L1).
    await supervisor.waitHealthy(gateway.child, { kind: "http", url: health.gateway }, readyMs);
    log(`wallets: ${gatewayUrl}/ — join there, then use the RPC URL with your token`);
    checkCrash();

    // 8. Validator (joins in the background while the accounts are funded)
    let validatorUrl: string | undefined;
    let validatorReady: Promise<void> | undefined;
    if (options.validator === true) {
      step(
        `starting a validator enclave node (joins by an on-chain secret request; L2 JSON-RPC on port ${validatorPort})`,
      );
      validatorUrl = `http://127.0.0.1:${validatorPort}`;
      const { child: validator, healthUrl: validatorHealth } = await spawnVeilnet(
        "validator",
        ["node", "--validator", "--bounty", options.joinBountyEth ?? "0"],
        {
          SIGNER_PRIVATE_KEY: accounts[AccountRole.validator].privateKey,
          ATTESTATION_SERVICE_KEY: accounts[AccountRole.admin].privateKey,
          ENCLAVE_STATE_FILE: path.join(dataDir, "validator-enclave.json"),
          NODE_DATA_DIR: path.join(dataDir, "validator-l2"),
          L2_RPC_PORT: String(validatorPort),
        },
      );
      health.validator = validatorHealth;
      const url = validatorUrl;
      const healthUrl = health.validator;
      validatorReady = (async () => {
        await supervisor.waitHealthy(validator, { kind: "json-rpc", url, chainId: L2_CHAIN_ID }, readyMs * 2);
        await supervisor.waitHealthy(validator, { kind: "http", url: healthUrl }, readyMs);
      })();
      // Reported when awaited below; never an unhandled rejection meanwhile.
      validatorReady.catch(() => {});
    }

    // 9. Funding
    const fundAmount = options.fundAmount ?? parseEther("100");
    const funded = accounts.slice(0, options.fundAccounts ?? 5);
    step(
      fundAmount > 0n
        ? `funding ${funded.length} dev accounts on L2 (Bridge.depositNative on L1, paid by #0)`
        : "dev accounts: no L2 funding asked",
    );
    const l2Balances =
      fundAmount > 0n
        ? await fundL2Accounts({
            l1Url: l1.url,
            l2Url,
            deployment,
            accounts: funded,
            funder: accounts[AccountRole.admin],
            amount: fundAmount,
            log,
            signal: options.signal,
          })
        : new Map<string, bigint>();
    checkCrash();
    if (validatorReady !== undefined) {
      log("waiting for the validator to join and serve its L2 JSON-RPC");
      await validatorReady;
      checkCrash();
    }

    const info: DevnetInfo = {
      l1: { url: l1.url, chainId: l1.chainId, external: l1.external, blockIntervalMs: l1.blockIntervalMs },
      l2: { url: l2Url, chainId: L2_CHAIN_ID, validatorUrl },
      gateway: { url: gatewayUrl, dataDir: gatewayData },
      redis: { url: redis.url, started: redis.started },
      queuePrefix,
      deployment,
      sequencerEnclave,
      health,
      dataDir,
      logDir,
    };
    const runFile = writeRunFile(dataDir, {
      ...info,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      accounts: accounts.map((a) => ({ index: a.index, role: a.role, address: a.address })),
    });
    started = true;
    options.signal?.removeEventListener("abort", onAbort);
    return {
      ...info,
      l1Url: l1.url,
      l2Url,
      validatorL2Url: validatorUrl,
      gatewayUrl,
      addresses: deployment.addresses,
      accounts,
      l2Balances,
      runFile,
      crashes,
      supervisor,
      stop,
    };
  } catch (e) {
    options.signal?.removeEventListener("abort", onAbort);
    await stop();
    if (options.signal?.aborted === true) throw new DevnetAbortedError();
    throw e;
  }
}
