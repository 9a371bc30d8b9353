/**
 * A whole local Veilnet, started in order and stopped in reverse:
 *
 *   L1 (`hardhat node`, or L1_RPC_URL) → deploy the suite → Redis → genesis enclave (`veilnet enclave
 *   init`) → workers (`veilnet workers`: event-subscriber, secret-responder, withdrawal-processor) →
 *   sequencer (`veilnet node`, L2 JSON-RPC; or a committee of `veilnet node --operator`s) → gateway (`veilnet gateway`: JSON-RPC for wallets, with
 *   viewing keys) → optional validator (`veilnet node --validator`, which joins through an on-chain
 *   secret request) → dev accounts funded on L2 by L1 deposits.
 *
 * Each step is a function of its own (steps/*.ts) with its inputs and outputs; run.ts holds what they
 * share (the supervisor, the progress output, the unwinding).
 *
 * Used by `npm run devnet` (scripts/devnet.ts), `npm run demo` and the end-to-end tests.
 */
import type { DeploymentAddresses } from "../deploy/deployment-file.js";
import { L2_CHAIN_ID } from "../protocol/predeploys.js";
import { type DevAccount, devAccounts } from "./accounts.js";
import type { Supervisor } from "./processes.js";
import { DevnetRun } from "./run.js";
import { checkPrerequisites, connectL1, deploySuite } from "./steps/chain.js";
import { devnetEnv, provideRedis, veilnetLauncher } from "./steps/environment.js";
import { awaitValidator, fundDevAccounts, recordRun } from "./steps/ready.js";
import { type CommitteeControl, startCommittee } from "./steps/committee.js";
import { initEnclave, startGateway, startSequencer, startValidator, startWorkers } from "./steps/services.js";
import type { DevnetCrash, DevnetInfo, DevnetOptions } from "./types.js";

export {
  AccountRole,
  type AccountRoleName,
  DEV_MNEMONIC,
  type DevAccount,
  devAccounts,
  formatAccounts,
  roleAccount,
} from "./accounts.js";
export { ProcessError, Supervisor } from "./processes.js";
export { RedisSetupError } from "./redis.js";
export { PortInUseError } from "./ports.js";
export { DevnetBusyError } from "./workspace.js";
export { L1UnavailableError } from "./l1.js";
export { FundingTimeoutError, l2Balance } from "./funding.js";
export { DevnetAbortedError } from "./run.js";
export type { DevnetCrash, DevnetInfo, DevnetOptions, DevnetProgress } from "./types.js";

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
  /** With `committee`: kills and restarts its operators (failover drills; an exit is reported to `onCrash`). */
  operators?: CommitteeControl;
  /** Stops every child in reverse start order (idempotent). */
  stop(): Promise<void>;
}

/** Starts the devnet; see the module comment for the sequence. On a failure, what started is stopped. */
export async function startDevnet(options: DevnetOptions = {}): Promise<Devnet> {
  const run = new DevnetRun(options);
  try {
    const external = options.l1RpcUrl !== undefined && options.l1RpcUrl !== "";
    const ports = await checkPrerequisites(options, external);
    const { l1, runDir } = await connectL1(run, options, external);
    const accounts = devAccounts(Math.max(5, options.fundAccounts ?? 5));
    const { deployment, dataDir, queuePrefix } = await deploySuite(run, options, l1, runDir, external, accounts);
    const redis = await provideRedis(run, options.redisUrl, dataDir, queuePrefix, external);
    const env = devnetEnv(options, l1.url, redis.url, queuePrefix);
    const launcher = veilnetLauncher(run.supervisor, env, options.readyTimeoutMs ?? 120_000);
    const enclave = await initEnclave(run, launcher, l1.url, deployment, dataDir, accounts);
    const workersHealth = await startWorkers(run, launcher, accounts, enclave, ports.l2Rpc);
    const committee =
      (options.committee ?? 1) > 1
        ? await startCommittee(run, launcher, accounts, enclave, dataDir, {
            size: options.committee ?? 1,
            port: ports.l2Rpc,
            l1Url: l1.url,
            external: l1.external,
            deployment,
            batchIntervalMs: options.batchIntervalMs,
            rollupIntervalMs: options.rollupIntervalMs,
            thresholdKey: options.thresholdKey === true,
          })
        : undefined;
    const sequencer =
      committee ??
      (await startSequencer(run, launcher, accounts, enclave, dataDir, {
        port: ports.l2Rpc,
        batchIntervalMs: options.batchIntervalMs,
        rollupIntervalMs: options.rollupIntervalMs,
      }));
    const gateway = await startGateway(run, launcher, ports.gateway, sequencer.url, dataDir);
    const validator =
      options.validator === true
        ? await startValidator(run, launcher, accounts, dataDir, {
            port: ports.validatorL2Rpc,
            bountyEth: options.joinBountyEth,
            ...(committee === undefined ? {} : { committee: committee.members }),
          })
        : undefined;
    const l2Balances = await fundDevAccounts(run, options, l1.url, sequencer.url, deployment, accounts);
    if (validator !== undefined) await awaitValidator(run, validator.ready);

    const info: DevnetInfo = {
      l1: { url: l1.url, chainId: l1.chainId, external: l1.external, blockIntervalMs: l1.blockIntervalMs },
      l2: { url: sequencer.url, chainId: L2_CHAIN_ID, validatorUrl: validator?.url },
      gateway: { url: gateway.url, dataDir: gateway.dataDir },
      redis: { url: redis.url, started: redis.started },
      queuePrefix,
      deployment,
      sequencerEnclave: enclave.address,
      health: {
        workers: workersHealth,
        sequencer: sequencer.healthUrl,
        gateway: gateway.healthUrl,
        ...(validator === undefined ? {} : { validator: validator.healthUrl }),
        ...(committee === undefined
          ? {}
          : {
              ...Object.fromEntries(committee.members.map((m) => [`committee-${m.operatorId}`, m.healthUrl])),
              exporter: committee.exporter.healthUrl,
            }),
      },
      ...(committee === undefined ? {} : { committee: committee.members, exporter: committee.exporter }),
      dataDir,
      logDir: run.logDir,
    };
    const runFile = recordRun(info, accounts);
    run.markStarted();
    return {
      ...info,
      l1Url: l1.url,
      l2Url: sequencer.url,
      validatorL2Url: validator?.url,
      gatewayUrl: gateway.url,
      addresses: deployment.addresses,
      accounts,
      l2Balances,
      runFile,
      crashes: run.crashes,
      supervisor: run.supervisor,
      ...(committee === undefined ? {} : { operators: committee.control }),
      stop: () => run.stop(),
    };
  } catch (e) {
    throw await run.fail(e);
  }
}
