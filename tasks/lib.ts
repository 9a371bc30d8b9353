/**
 * Shared by the veil:* task actions: the network connection, the deployment of the selected chain,
 * and revert decoding to custom error names.
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { Interface } from "ethers";
import { HardhatPluginError } from "hardhat/plugins";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import type { NetworkConnection } from "hardhat/types/network";

import { CONTRACT_NAMES, type Deployment, DeploymentFileError, readDeployment } from "../deploy/deployment-file.js";
import { decodeRevert, revertData } from "../platform/revert.js";
import { IERC20Errors__factory, SafeERC20__factory } from "../types/ethers-contracts/index.js";

/** A task failure meant for the user: Hardhat prints the message without a stack trace. */
export class VeilnetTaskError extends HardhatPluginError {
  constructor(message: string, parent?: Error) {
    super("veilnet", message, parent);
  }
}

/**
 * The connection to the selected network (`--network`, else the default). Cached: tasks run in one
 * process (e.g. from tests) share the same in-process chain.
 */
export async function connect(hre: HardhatRuntimeEnvironment): Promise<NetworkConnection> {
  return hre.network.getOrCreate();
}

export async function chainIdOf(connection: NetworkConnection): Promise<number> {
  return Number(await connection.provider.request({ method: "eth_chainId" }));
}

/** The first account of the connected network: the one the veil:* tasks send from. */
export async function taskSigner(connection: NetworkConnection): Promise<HardhatEthersSigner> {
  const [signer] = await connection.ethers.getSigners();
  if (signer === undefined) {
    throw new VeilnetTaskError(
      `Network "${connection.networkName}" has no account to send from: configure its accounts ` +
        `(for sepolia: SEPOLIA_PRIVATE_KEY as an env var or in the Hardhat keystore).`,
    );
  }
  return signer;
}

/**
 * Reads deployments/<chainId>.json for the connected chain and checks its contracts exist there.
 */
export async function loadDeployment(connection: NetworkConnection, deploymentsDir?: string): Promise<Deployment> {
  const chainId = await chainIdOf(connection);
  let deployment: Deployment;
  try {
    deployment = readDeployment(chainId, deploymentsDir);
  } catch (e) {
    if (e instanceof DeploymentFileError) {
      throw new VeilnetTaskError(e.message.replace("--network <network>", `--network ${connection.networkName}`));
    }
    throw e;
  }
  for (const name of CONTRACT_NAMES) {
    const code = (await connection.provider.request({
      method: "eth_getCode",
      params: [deployment.addresses[name], "latest"],
    })) as string;
    if (code === "0x") {
      throw new VeilnetTaskError(
        `The deployment file for chain ${chainId} is stale: no contract at ${name} ${deployment.addresses[name]} ` +
          `on network "${connection.networkName}" (was the node restarted?). ` +
          `Run \`npx hardhat deploy --network ${connection.networkName}\` again.`,
      );
    }
  }
  return deployment;
}

/**
 * Errors a transaction to the bridge may bubble up from an ERC-20 (OpenZeppelin 5's IERC20Errors) and from
 * the bridge's SafeERC20.
 */
export function erc20ErrorInterfaces(): Interface[] {
  return [IERC20Errors__factory.createInterface(), SafeERC20__factory.createInterface()];
}

/** A task error for a failed transaction `what`, naming the custom error it reverted with. */
export function transactionError(what: string, error: unknown, interfaces: readonly Interface[]): VeilnetTaskError {
  const data = revertData(error);
  if (data !== undefined) {
    const decoded = decodeRevert(data, interfaces);
    return new VeilnetTaskError(
      decoded.name !== undefined
        ? `${what} reverted with ${decoded.reason}`
        : `${what} reverted with an unknown custom error (data ${data})`,
      error instanceof Error ? error : undefined,
    );
  }
  const message =
    error !== null && typeof error === "object" && "shortMessage" in error
      ? String((error as { shortMessage: unknown }).shortMessage)
      : error instanceof Error
        ? error.message
        : String(error);
  return new VeilnetTaskError(`${what} failed: ${message}`, error instanceof Error ? error : undefined);
}

/** Lines of an aligned two-or-more-column table. */
export function table(rows: string[][], indent = "  "): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  "))
    .join("\n");
}
