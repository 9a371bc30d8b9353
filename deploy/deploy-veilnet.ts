/**
 * Deploys the Veilnet L1 suite with Hardhat Ignition and records it in deployments/<chainId>.json.
 *
 * Idempotent and resumable through Ignition's journal (by default
 * ignition/deployments/chain-<chainId>): a second run sends nothing and rewrites the same file.
 * Used by the `deploy` task; callable from scripts (e.g. a devnet) with any connection.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import {
  HardhatArtifactResolver,
  errorDeploymentResultToExceptionMessage,
  readDeploymentParameters,
} from "@nomicfoundation/hardhat-ignition/helpers";
import {
  DeploymentResultType,
  type ExecutionEventListener,
  ExecutionEventResultType,
  TransactionStatus,
  deploy,
  listTransactions,
} from "@nomicfoundation/ignition-core";
import { getAddress } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import type { NetworkConnection } from "hardhat/types/network";

import {
  CONTRACT_NAMES,
  type ContractName,
  type Deployment,
  type DeploymentAddresses,
  writeDeployment,
} from "./deployment-file.js";
import VeilnetModule from "./modules/Veilnet.js";
import {
  type PartialVeilnetParameters,
  type VeilnetParameters,
  VEILNET_MODULE_ID,
  parseParametersFile,
  resolveParameters,
  toIgnitionParameters,
} from "./parameters.js";

export interface DeployVeilnetOptions {
  /** Path of a parameters file (Ignition format), relative to the working directory. */
  parametersFile?: string;
  /** Parameters layered over the file's (for scripts). */
  parameters?: PartialVeilnetParameters;
  /** Discard the Ignition journal first and deploy a new suite. */
  reset?: boolean;
  /** Directory of deployments/<chainId>.json (default: see `deploymentsDir`). */
  deploymentsDir?: string;
  /**
   * Ignition journal directory. Default: ignition/deployments/chain-<chainId> for networks that
   * outlive the process, a temporary directory (removed at exit) for in-process ones.
   */
  journalDir?: string;
  /** Where progress lines go (default console.log). */
  log?: (line: string) => void;
}

export interface DeployVeilnetResult {
  deployment: Deployment;
  /** The deployments/<chainId>.json written. */
  file: string;
  /** Whether the file's content changed. */
  fileChanged: boolean;
  journalDir: string;
  /** Ignition futures that sent a transaction in this run (empty: nothing new was deployed). */
  executedFutures: string[];
  /** Contracts deployed in this run. */
  newContracts: ContractName[];
}

/** An error meant for the user: the message says what is wrong and what to do. */
export class DeployError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeployError";
  }
}

const INSTANCE_MARKER = "veilnet-chain-instance.json";

export async function deployVeilnet(
  hre: HardhatRuntimeEnvironment,
  connection: NetworkConnection,
  options: DeployVeilnetOptions = {},
): Promise<DeployVeilnetResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const { provider } = connection;
  const chainId = Number(await provider.request({ method: "eth_chainId" }));
  const accounts = (await provider.request({ method: "eth_accounts" })) as string[];
  const [account] = accounts;
  if (account === undefined) {
    throw new DeployError(
      `Network "${connection.networkName}" has no account to deploy from: configure its accounts ` +
        `(for sepolia: SEPOLIA_PRIVATE_KEY as an env var or in the Hardhat keystore).`,
    );
  }
  const deployer = getAddress(account);
  const inProcess = connection.networkConfig.type === "edr-simulated";
  const isLocalChain = inProcess || chainId === 31337 || chainId === 1337;

  // Parameters: defaults, then the file, then programmatic ones.
  let given: PartialVeilnetParameters = {};
  if (options.parametersFile !== undefined && options.parametersFile !== "") {
    given = await loadParametersFile(options.parametersFile);
  }
  if (options.parameters !== undefined) {
    given = { ...given, ...parseParametersFile({ [VEILNET_MODULE_ID]: options.parameters }, "(options)") };
  }
  let parameters: VeilnetParameters;
  try {
    parameters = resolveParameters(given, { deployer, isLocalChain, networkName: connection.networkName });
  } catch (e) {
    throw new DeployError((e as Error).message);
  }

  const journalDir = await resolveJournalDir(hre, connection, chainId, options.journalDir);
  const instanceId = await chainInstanceId(connection);
  if (options.reset === true) {
    if (existsSync(journalDir)) log(`--reset: discarding the Ignition journal ${journalDir}`);
    rmSync(journalDir, { recursive: true, force: true });
  } else {
    discardStaleJournal(journalDir, instanceId, chainId, log);
  }
  if (instanceId !== undefined) {
    // Recorded before sending anything, so that an interrupted run is recognised too.
    mkdirSync(journalDir, { recursive: true });
    writeFileSync(path.join(journalDir, INSTANCE_MARKER), `${JSON.stringify({ chainId, instanceId })}\n`);
  }

  log(`Deploying Veilnet to network "${connection.networkName}" (chain ${chainId}) from ${deployer}`);
  log(`  Ignition journal: ${journalDir}`);

  const executed = new Set<string>();
  const newContracts: ContractName[] = [];
  const futureContract = new Map<string, ContractName>(
    Object.values(VeilnetModule.results).map((f) => [f.id, asContractName(f.contractName)]),
  );
  const listener = progressListener({
    transactionSend: async (e) => {
      executed.add(e.futureId);
    },
    deploymentExecutionStateComplete: async (e) => {
      const name = futureContract.get(e.futureId);
      if (e.result.type === ExecutionEventResultType.SUCCESS && name !== undefined) {
        newContracts.push(name);
        log(`  deployed ${name.padEnd(20)} ${e.result.result ?? ""}`);
      }
    },
    callExecutionStateComplete: async (e) => {
      if (e.result.type === ExecutionEventResultType.SUCCESS) log(`  called   ${e.futureId}`);
    },
  });

  const networkIgnition = connection.networkConfig.ignition;
  const result = await deploy({
    config: hre.config.ignition,
    provider,
    executionEventListener: listener,
    artifactResolver: new HardhatArtifactResolver(hre.artifacts),
    deploymentDir: journalDir,
    ignitionModule: VeilnetModule,
    deploymentParameters: toIgnitionParameters(parameters),
    accounts,
    defaultSender: deployer,
    maxFeePerGasLimit: networkIgnition.maxFeePerGasLimit,
    maxFeePerGas: networkIgnition.maxFeePerGas,
    maxPriorityFeePerGas: networkIgnition.maxPriorityFeePerGas,
    gasPrice: networkIgnition.gasPrice,
    disableFeeBumping: hre.config.ignition.disableFeeBumping ?? networkIgnition.disableFeeBumping,
  });
  if (result.type !== DeploymentResultType.SUCCESSFUL_DEPLOYMENT) {
    let hint = "";
    if (result.type === DeploymentResultType.RECONCILIATION_ERROR) {
      hint =
        `\nThe journal ${journalDir} records a deployment made with other parameters or code: ` +
        `deploy with the same parameters, or pass --reset to deploy a new suite.`;
    } else if (result.type === DeploymentResultType.EXECUTION_ERROR) {
      hint = `\nRun the command again to resume from the journal ${journalDir}.`;
    }
    throw new DeployError(`Veilnet deployment failed: ${errorDeploymentResultToExceptionMessage(result)}${hint}`);
  }
  const addresses = {} as DeploymentAddresses;
  for (const future of Object.values(VeilnetModule.results)) {
    const deployed = result.contracts[future.id];
    if (deployed === undefined) throw new DeployError(`Ignition returned no address for ${future.id}`);
    addresses[asContractName(future.contractName)] = getAddress(deployed.address);
  }
  for (const name of CONTRACT_NAMES) {
    const code = (await provider.request({ method: "eth_getCode", params: [addresses[name], "latest"] })) as string;
    if (code === "0x") {
      throw new DeployError(
        `The Ignition journal ${journalDir} says ${name} is at ${addresses[name]}, but chain ${chainId} has no code ` +
          `there (was the chain reset?). Run again with --reset to deploy a new suite.`,
      );
    }
  }

  const deployment: Deployment = {
    chainId,
    network: connection.networkName,
    deployer,
    deploymentBlock: await firstDeploymentBlock(hre, connection, journalDir, addresses),
    addresses,
    parameters,
  };
  const { file, changed } = writeDeployment(deployment, options.deploymentsDir);

  log("");
  if (executed.size === 0) {
    log(`Nothing new was deployed: the journal ${journalDir} already holds the whole suite.`);
  } else {
    log(`Deployed ${newContracts.length} contract(s) and sent ${executed.size} transaction(s).`);
  }
  log(formatDeploymentTable(deployment));
  log(changed ? `Wrote ${file}` : `${file} is up to date (unchanged)`);
  return {
    deployment,
    file,
    fileChanged: changed,
    journalDir,
    executedFutures: [...executed],
    newContracts,
  };
}

/** Addresses and key facts of a deployment as an aligned table. */
export function formatDeploymentTable(d: Deployment): string {
  const rows: Array<[string, string]> = [
    ["network", `${d.network} (chain ${d.chainId})`],
    ["deployer", d.deployer],
    ["deployment block", String(d.deploymentBlock)],
    ["governor", d.parameters.governor],
    ["guardian", d.parameters.guardian],
    ["timelock delay", `${d.parameters.timelockDelay} s (admin transfer delay ${d.parameters.adminDelay} s)`],
    ...CONTRACT_NAMES.map((n): [string, string] => [n, d.addresses[n]]),
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const v = Math.max(...rows.map(([, val]) => val.length));
  const line = `+${"-".repeat(w + 2)}+${"-".repeat(v + 2)}+`;
  const body = rows.map(([k, val], i) => {
    const row = `| ${k.padEnd(w)} | ${val.padEnd(v)} |`;
    return i === 3 || i === 6 ? `${line}\n${row}` : row;
  });
  return [line, ...body, line].join("\n");
}

async function loadParametersFile(file: string): Promise<PartialVeilnetParameters> {
  const full = path.resolve(process.cwd(), file);
  if (!existsSync(full)) throw new DeployError(`Parameters file not found: ${full}`);
  let content: unknown;
  try {
    content = await readDeploymentParameters(full);
  } catch (e) {
    const cause = (e as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? cause.message : (e as Error).message;
    throw new DeployError(`Parameters file ${full} is not valid JSON: ${detail}`);
  }
  try {
    return parseParametersFile(content, full);
  } catch (e) {
    throw new DeployError((e as Error).message);
  }
}

async function resolveJournalDir(
  hre: HardhatRuntimeEnvironment,
  connection: NetworkConnection,
  chainId: number,
  given: string | undefined,
): Promise<string> {
  if (given !== undefined && given !== "") return path.resolve(given);
  if (connection.networkConfig.type !== "edr-simulated") {
    return path.join(hre.config.paths.ignition, "deployments", `chain-${chainId}`);
  }
  // An in-process chain lives as long as this process: so does its journal.
  const dir = path.join(os.tmpdir(), `veilnet-ignition-${process.pid}-${connection.id}`);
  if (!temporaryJournals.has(dir)) {
    temporaryJournals.add(dir);
    if (temporaryJournals.size === 1) {
      process.once("exit", () => {
        for (const d of temporaryJournals) rmSync(d, { recursive: true, force: true });
      });
    }
  }
  return dir;
}

const temporaryJournals = new Set<string>();

/** The node's instance id (Hardhat / EDR nodes): changes when a dev node restarts. */
async function chainInstanceId(connection: NetworkConnection): Promise<string | undefined> {
  try {
    const metadata = (await connection.provider.request({ method: "hardhat_metadata" })) as { instanceId?: unknown };
    return typeof metadata.instanceId === "string" ? metadata.instanceId : undefined;
  } catch {
    return undefined;
  }
}

/** A journal written against an earlier instance of a dev node describes contracts that no longer exist. */
function discardStaleJournal(
  journalDir: string,
  instanceId: string | undefined,
  chainId: number,
  log: (line: string) => void,
): void {
  const marker = path.join(journalDir, INSTANCE_MARKER);
  if (instanceId === undefined || !existsSync(marker)) return;
  let recorded: unknown;
  try {
    recorded = (JSON.parse(readFileSync(marker, "utf8")) as { instanceId?: unknown }).instanceId;
  } catch {
    recorded = undefined;
  }
  if (recorded !== instanceId) {
    log(
      `Chain ${chainId} was restarted since the Ignition journal was written: ` +
        `discarding the stale journal ${journalDir}`,
    );
    rmSync(journalDir, { recursive: true, force: true });
  }
}

/** Block of the earliest receipt among the suite's contract creations recorded in the journal. */
async function firstDeploymentBlock(
  hre: HardhatRuntimeEnvironment,
  connection: NetworkConnection,
  journalDir: string,
  addresses: DeploymentAddresses,
): Promise<number> {
  const ours = new Set(Object.values(addresses).map((a) => a.toLowerCase()));
  const txs = (await listTransactions(journalDir, new HardhatArtifactResolver(hre.artifacts))).filter(
    (tx) =>
      tx.type === "DEPLOYMENT_EXECUTION_STATE" &&
      tx.status === TransactionStatus.SUCCESS &&
      tx.address !== undefined &&
      ours.has(tx.address.toLowerCase()),
  );
  const found = new Set(txs.map((tx) => tx.address!.toLowerCase()));
  if (found.size !== ours.size) {
    throw new DeployError(
      `The Ignition journal ${journalDir} lacks the creation transactions of some contracts; ` +
        `run again with --reset to deploy a new suite.`,
    );
  }
  let first: number | undefined;
  for (const tx of txs) {
    const receipt = (await connection.provider.request({
      method: "eth_getTransactionReceipt",
      params: [tx.txHash],
    })) as { blockNumber: string } | null;
    if (receipt === null) {
      throw new DeployError(
        `Creation transaction ${tx.txHash} of ${tx.address} is unknown to chain ${connection.networkName}; ` +
          `run again with --reset to deploy a new suite.`,
      );
    }
    const block = Number(BigInt(receipt.blockNumber));
    if (first === undefined || block < first) first = block;
  }
  return first!;
}

/** Artifact names whose address-book name differs. */
const BOOK_NAMES: Record<string, ContractName> = { TimelockController: "Timelock" };

function asContractName(name: string): ContractName {
  const found = BOOK_NAMES[name] ?? CONTRACT_NAMES.find((n) => n === name);
  if (found === undefined) throw new DeployError(`Unexpected contract ${name} in the Veilnet module`);
  return found;
}

/** An Ignition execution listener that ignores every event but the ones handled. */
function progressListener(handlers: Partial<ExecutionEventListener>): ExecutionEventListener {
  const ignore = async (): Promise<void> => {};
  return {
    wipeApply: ignore,
    deploymentExecutionStateInitialize: ignore,
    deploymentExecutionStateComplete: ignore,
    callExecutionStateInitialize: ignore,
    callExecutionStateComplete: ignore,
    staticCallExecutionStateInitialize: ignore,
    staticCallExecutionStateComplete: ignore,
    sendDataExecutionStateInitialize: ignore,
    sendDataExecutionStateComplete: ignore,
    contractAtExecutionStateInitialize: ignore,
    readEventArgumentExecutionStateInitialize: ignore,
    encodeFunctionCallExecutionStateInitialize: ignore,
    networkInteractionRequest: ignore,
    transactionPrepareSend: ignore,
    transactionSend: ignore,
    transactionConfirm: ignore,
    staticCallComplete: ignore,
    onchainInteractionBumpFees: ignore,
    onchainInteractionDropped: ignore,
    onchainInteractionReplacedByUser: ignore,
    onchainInteractionTimeout: ignore,
    deploymentStart: ignore,
    deploymentInitialize: ignore,
    reconciliationWarnings: ignore,
    batchInitialize: ignore,
    runStart: ignore,
    beginNextBatch: ignore,
    deploymentComplete: ignore,
    setModuleId: ignore,
    setStrategy: ignore,
    ...handlers,
  };
}
