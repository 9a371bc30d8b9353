/**
 * Deploying the L1 suite for the devnet: `hardhat deploy --network localhost` with the devnet's
 * parameters (a short challenge period, the shortest revelation period, a one-minute timelock and no
 * admin-transfer delay, the dev accounts as governor, guardian and genesis initializer), or, on an L1
 * given with L1_RPC_URL that already holds a live deployment, that deployment as it is.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

import { CONTRACT_NAMES, type Deployment, DeploymentFileError, readDeployment } from "../deploy/deployment-file.js";
import { MIN_REVELATION_PERIOD, VEILNET_MODULE_ID } from "../deploy/parameters.js";
import { hardhat, projectRoot } from "./commands.js";
import type { DevnetL1 } from "./l1.js";
import { type Supervisor, jsonRpc } from "./processes.js";

export interface DeployOptions {
  l1: DevnetL1;
  supervisor: Supervisor;
  /** Where the parameters file (and, for a started L1, the Ignition journal) go. */
  workDir: string;
  /** Challenge period of the new deployment, seconds. */
  challengePeriod: number;
  /**
   * Revelation period of the new deployment, L1 blocks after an epoch's end (default 256, the contract's
   * minimum: at one block a second an epoch key becomes public about 4 minutes after its 2-hour epoch).
   */
  revelationPeriod?: number;
  /** Governor (timelock proposer/executor) and guardian (pause, rejectRollup) of the new deployment. */
  governor: string;
  guardian: string;
  /** Holder of GENESIS_ROLE: runs `veilnet enclave init` and so becomes the genesis enclave's operator. */
  initializer: string;
  /** The timelock's delay, seconds (default {@link DEVNET_TIMELOCK_DELAY}). */
  timelockDelay?: number;
  /** DEFAULT_ADMIN_ROLE transfer delay, seconds (default {@link DEVNET_ADMIN_DELAY}). */
  adminDelay?: number;
  /** Directory of deployments/<chainId>.json (default: the deploy task's, ./deployments or $VEILNET_DEPLOYMENTS_DIR). */
  deploymentsDir?: string;
  /** Time limit of the deploy command (which compiles first), ms (default 600 000). */
  timeoutMs?: number;
}

/**
 * The devnet's timelock delay: 60 s, so that a developer sees governance work (schedule, wait a minute,
 * execute: `npx hardhat veil:govern … --network localhost`) without waiting the 2 days of a real deployment.
 */
export const DEVNET_TIMELOCK_DELAY = 60;
/** The devnet's DEFAULT_ADMIN_ROLE transfer delay: none (still two steps: begin, then accept). */
export const DEVNET_ADMIN_DELAY = 0;

export interface DeployResult {
  deployment: Deployment;
  /** False when an existing deployment on an L1_RPC_URL chain was used as is. */
  deployed: boolean;
}

/** The recorded deployment of `chainId` if every contract of it has code on the L1, else undefined. */
export async function liveDeployment(
  l1Url: string,
  chainId: bigint,
  deploymentsDir?: string,
): Promise<Deployment | undefined> {
  let deployment: Deployment;
  try {
    deployment = readDeployment(chainId, deploymentsDir);
  } catch (e) {
    if (e instanceof DeploymentFileError) return undefined;
    throw e;
  }
  for (const name of CONTRACT_NAMES) {
    const code = (await jsonRpc(l1Url, "eth_getCode", [deployment.addresses[name], "latest"])) as string;
    if (code === "0x") return undefined;
  }
  return deployment;
}

/**
 * Deploys the suite (compiling first). On a started L1 the Ignition journal lives in `workDir`, so a
 * fresh chain always gets a fresh deployment; on an external L1 the deploy task's own journal is used
 * and a live deployment is kept.
 */
export async function deployContracts(options: DeployOptions): Promise<DeployResult> {
  const { l1 } = options;
  if (l1.external) {
    const existing = await liveDeployment(l1.url, l1.chainId, options.deploymentsDir);
    if (existing !== undefined) return { deployment: existing, deployed: false };
  }
  mkdirSync(options.workDir, { recursive: true });
  const parametersFile = path.join(options.workDir, "deploy-parameters.json");
  const parameters = {
    challengePeriod: options.challengePeriod,
    revelationPeriod: options.revelationPeriod ?? Number(MIN_REVELATION_PERIOD),
    timelockDelay: options.timelockDelay ?? DEVNET_TIMELOCK_DELAY,
    adminDelay: options.adminDelay ?? DEVNET_ADMIN_DELAY,
    governor: options.governor,
    guardian: options.guardian,
    initializer: options.initializer,
  };
  writeFileSync(parametersFile, `${JSON.stringify({ [VEILNET_MODULE_ID]: parameters }, null, 2)}\n`);
  const args = ["deploy", "--network", "localhost", "--parameters", parametersFile];
  if (options.deploymentsDir !== undefined) args.push("--deployments-dir", options.deploymentsDir);
  if (!l1.external) args.push("--journal-dir", path.join(options.workDir, "ignition"));
  const { command, args: argv } = hardhat(...args);
  await options.supervisor.run("deploy", command, argv, {
    env: { ...process.env, L1_RPC_URL: l1.url },
    cwd: projectRoot,
    timeoutMs: options.timeoutMs ?? 600_000,
  });
  return { deployment: readDeployment(l1.chainId, options.deploymentsDir), deployed: true };
}
