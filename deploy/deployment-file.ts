/**
 * deployments/<chainId>.json: where a Veilnet deployment lives on one chain. Written by
 * `npx hardhat deploy`, read by the veil:* tasks and the off-chain workers (which backfill logs from
 * `deploymentBlock`).
 *
 * No Hardhat import here: workers load this module.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { getAddress, isAddress } from "ethers";
import { z } from "zod";

import {
  type SerializedVeilnetParameters,
  type VeilnetParameters,
  formatZodIssues,
  recordedParametersSchema,
  serializeParameters,
} from "./parameters.js";

/**
 * The contracts of a deployment, in deployment order, as named in NetworkConfig's address book (which
 * books every one but itself): the TimelockController first (it is every contract's admin), NetworkConfig last.
 */
export const CONTRACT_NAMES = [
  "Timelock",
  "SignedReportVerifier",
  "EnclaveRegistry",
  "FeeVault",
  "MessageBus",
  "OperatorRegistry",
  "RollupRegistry",
  "CrossChainMessenger",
  "Bridge",
  "NetworkConfig",
] as const;

export type ContractName = (typeof CONTRACT_NAMES)[number];

export type DeploymentAddresses = Record<ContractName, string>;

/** A deployment as the code uses it (integers as bigint). */
export interface Deployment {
  chainId: number;
  /** Hardhat network name the deployment was made with (e.g. "localhost", "sepolia"). */
  network: string;
  /**
   * Account that deployed the contracts. It holds no role of its own: the Timelock is every contract's admin,
   * and the governor, guardian and initializer are in `parameters` (on local chains they default to it).
   */
  deployer: string;
  /** Block of the earliest contract creation of the deployment: where log backfills start. */
  deploymentBlock: number;
  addresses: DeploymentAddresses;
  parameters: VeilnetParameters;
}

/** Environment variable overriding the directory of the deployment files. */
export const DEPLOYMENTS_DIR_ENV = "VEILNET_DEPLOYMENTS_DIR";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** `dir` if given, else $VEILNET_DEPLOYMENTS_DIR, else <project>/deployments. */
export function deploymentsDir(dir?: string): string {
  if (dir !== undefined && dir !== "") return path.resolve(dir);
  const fromEnv = process.env[DEPLOYMENTS_DIR_ENV];
  if (fromEnv !== undefined && fromEnv !== "") return path.resolve(fromEnv);
  return path.join(projectRoot, "deployments");
}

export function deploymentFilePath(chainId: number | bigint, dir?: string): string {
  return path.join(deploymentsDir(dir), `${chainId.toString()}.json`);
}

const addressSchema = z
  .string()
  .refine((v) => isAddress(v), { message: "expected a 20-byte hex address" })
  .transform((v) => getAddress(v));

const addressesSchema = z
  .object(
    Object.fromEntries(CONTRACT_NAMES.map((name) => [name, addressSchema])) as Record<
      ContractName,
      typeof addressSchema
    >,
  )
  .strict();

/** Schema of the file content; transforms into a {@link Deployment}. */
export const deploymentFileSchema = z
  .object({
    chainId: z.number().int().positive(),
    network: z.string().min(1),
    deployer: addressSchema,
    deploymentBlock: z.number().int().nonnegative(),
    addresses: addressesSchema,
    parameters: recordedParametersSchema,
  })
  .strict();

/** Error reading a deployment file: names the file and what is missing or wrong. */
export class DeploymentFileError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = "DeploymentFileError";
  }
}

/** Validates parsed JSON as a deployment (of `chainId` when given). */
export function parseDeployment(content: unknown, file: string, chainId?: number | bigint): Deployment {
  const parsed = deploymentFileSchema.safeParse(content);
  if (!parsed.success) {
    throw new DeploymentFileError(`Invalid deployment file ${file}:\n${formatZodIssues(parsed.error)}`, file);
  }
  const deployment: Deployment = parsed.data;
  if (chainId !== undefined && BigInt(deployment.chainId) !== BigInt(chainId)) {
    throw new DeploymentFileError(
      `Invalid deployment file ${file}: it is for chain ${deployment.chainId}, expected chain ${chainId.toString()}`,
      file,
    );
  }
  return deployment;
}

/**
 * Reads and validates deployments/<chainId>.json (in `dir`, see {@link deploymentsDir}).
 * Throws a {@link DeploymentFileError} naming the missing file or the missing/invalid field.
 */
export function readDeployment(chainId: number | bigint, dir?: string): Deployment {
  const file = deploymentFilePath(chainId, dir);
  if (!existsSync(file)) {
    throw new DeploymentFileError(
      `No Veilnet deployment for chain ${chainId.toString()}: ${file} does not exist. ` +
        `Deploy first with \`npx hardhat deploy --network <network>\`` +
        (dir === undefined ? ` (or set ${DEPLOYMENTS_DIR_ENV} to the directory holding it).` : "."),
      file,
    );
  }
  let content: unknown;
  try {
    content = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new DeploymentFileError(`Invalid deployment file ${file}: not valid JSON (${(e as Error).message})`, file);
  }
  return parseDeployment(content, file, chainId);
}

/** JSON form of a deployment file, fields in a fixed order. */
export interface SerializedDeployment {
  chainId: number;
  network: string;
  deployer: string;
  deploymentBlock: number;
  addresses: DeploymentAddresses;
  parameters: SerializedVeilnetParameters;
}

export function serializeDeployment(d: Deployment): string {
  const out: SerializedDeployment = {
    chainId: d.chainId,
    network: d.network,
    deployer: getAddress(d.deployer),
    deploymentBlock: d.deploymentBlock,
    addresses: Object.fromEntries(CONTRACT_NAMES.map((n) => [n, getAddress(d.addresses[n])])) as DeploymentAddresses,
    parameters: serializeParameters(d.parameters),
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}

/**
 * Writes deployments/<chainId>.json atomically. Leaves an identical file untouched.
 * @returns the file path and whether its content changed.
 */
export function writeDeployment(d: Deployment, dir?: string): { file: string; changed: boolean } {
  const file = deploymentFilePath(d.chainId, dir);
  const content = serializeDeployment(d);
  if (existsSync(file) && readFileSync(file, "utf8") === content) return { file, changed: false };
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
  return { file, changed: true };
}
