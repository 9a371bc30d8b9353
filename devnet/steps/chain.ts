/**
 * The devnet's first steps: the checks before anything slow, the L1, and the deployment of the suite
 * (with where this deployment's data lives and the QUEUE_PREFIX of its processes).
 */
import path from "node:path";

import { JsonRpcProvider } from "ethers";

import type { Deployment } from "../../deploy/deployment-file.js";
import { type DevAccount, roleAccount } from "../accounts.js";
import { deployContracts } from "../deploy.js";
import { type DevnetL1, startL1 } from "../l1.js";
import { assertPortFree, freePort } from "../ports.js";
import { checkRedis } from "../redis.js";
import type { DevnetRun } from "../run.js";
import type { DevnetOptions } from "../types.js";
import { externalDataDir, freshDir, readRunFile } from "../workspace.js";

/** The ports the devnet's services listen on. */
export interface DevnetPorts {
  l2Rpc: number;
  validatorL2Rpc: number;
  gateway: number;
}

/** Fails fast on taken ports and a missing Redis, before anything slow; the ports to use. */
export async function checkPrerequisites(
  options: Pick<
    DevnetOptions,
    "l1RpcUrl" | "l1Port" | "l2RpcPort" | "validatorL2RpcPort" | "gatewayPort" | "redisUrl" | "validator"
  >,
  external: boolean,
): Promise<DevnetPorts> {
  const l2Rpc = options.l2RpcPort ?? 8645;
  const validatorL2Rpc = options.validatorL2RpcPort ?? l2Rpc + 1;
  if (!external) await assertPortFree(options.l1Port ?? 8545, "the L1 node", "L1_PORT");
  await assertPortFree(l2Rpc, "the L2 JSON-RPC", "L2_RPC_PORT");
  const gateway = options.gatewayPort === 0 ? await freePort() : (options.gatewayPort ?? 8745);
  await assertPortFree(gateway, "the gateway", "GATEWAY_PORT");
  if (options.validator === true) {
    await assertPortFree(validatorL2Rpc, "the validator's L2 JSON-RPC", "L2_RPC_PORT (the validator uses it + 1)");
  }
  await checkRedis({ url: options.redisUrl });
  return { l2Rpc, validatorL2Rpc, gateway };
}

/** Step 1: starts the L1 node (in a fresh `<root>/run`) or connects to `l1RpcUrl`. */
export async function connectL1(
  run: DevnetRun,
  options: Pick<DevnetOptions, "l1RpcUrl" | "l1Port" | "blockIntervalMs">,
  external: boolean,
): Promise<{ l1: DevnetL1; runDir: string }> {
  run.step(external ? `connecting to the L1 at ${options.l1RpcUrl}` : `starting the L1 node (hardhat node)`);
  const runDir = path.join(run.root, "run");
  if (!external) freshDir(runDir);
  const l1 = await startL1({
    url: options.l1RpcUrl,
    port: options.l1Port,
    supervisor: run.supervisor,
    blockIntervalMs: options.blockIntervalMs,
  });
  run.log(`L1 ${l1.url} answers: chain ${l1.chainId}`);
  return { l1, runDir };
}

/** The deployed suite, the directory of this deployment's data, and the QUEUE_PREFIX of its processes. */
export interface DevnetSuite {
  deployment: Deployment;
  dataDir: string;
  queuePrefix: string;
}

interface RunFile {
  queuePrefix?: string;
}

/**
 * Step 2: deploys the contracts (or reuses the deployment already on an external L1). A started L1 keeps
 * its data in `runDir`; an external one in a directory of its deployment, where the queue prefix of the
 * previous run is kept too.
 */
export async function deploySuite(
  run: DevnetRun,
  options: Pick<DevnetOptions, "challengePeriod" | "deploymentsDir">,
  l1: DevnetL1,
  runDir: string,
  external: boolean,
  accounts: readonly DevAccount[],
): Promise<DevnetSuite> {
  run.step(`deploying the Veilnet contracts to chain ${l1.chainId}`);
  const challengePeriod = options.challengePeriod ?? 60;
  const { deployment, deployed } = await deployContracts({
    l1,
    supervisor: run.supervisor,
    workDir: external ? path.join(run.root, "deploy") : runDir,
    challengePeriod,
    deploymentsDir: options.deploymentsDir,
    governor: roleAccount(accounts, "admin").address,
    guardian: roleAccount(accounts, "admin").address,
    initializer: roleAccount(accounts, "sequencer").address,
  });
  run.log(
    deployed
      ? `deployed (challenge period ${deployment.parameters.challengePeriod} s, timelock delay ${deployment.parameters.timelockDelay} s)`
      : `using the deployment already on chain ${l1.chainId} (challenge period ${deployment.parameters.challengePeriod} s, timelock delay ${deployment.parameters.timelockDelay} s)`,
  );
  let dataDir = runDir;
  if (external) {
    const provider = new JsonRpcProvider(l1.url, undefined, { staticNetwork: true });
    const block = await provider.getBlock(deployment.deploymentBlock).finally(() => provider.destroy());
    dataDir = externalDataDir(run.root, l1.chainId, block?.hash ?? "0x00000000");
  }
  const previous = readRunFile<RunFile>(dataDir);
  const queuePrefix =
    external && previous?.queuePrefix !== undefined
      ? previous.queuePrefix
      : `devnet-${l1.chainId}-${Date.now().toString(36)}`;
  run.checkCrash();
  return { deployment, dataDir, queuePrefix };
}
