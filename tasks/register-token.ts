/**
 * `npx hardhat veil:register-token --token <address>`: registers an ERC-20 on the Bridge, paying the
 * message fee, so that the L2 bridge creates its wrapped token.
 */
import { type ContractTransactionReceipt, formatEther, getAddress, isAddress } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import {
  VeilnetTaskError,
  connect,
  erc20ErrorInterfaces,
  loadDeployment,
  taskSigner,
  transactionError,
} from "./lib.js";

export interface RegisterTokenTaskArguments {
  token?: string;
  deploymentsDir?: string;
}

export interface RegisterTokenResult {
  token: string;
  name: string;
  symbol: string;
  decimals: number;
  /** Message fee paid, in wei. */
  fee: bigint;
  /** Sequence number of the token-registration message on the MessageBus. */
  sequence: bigint;
  txHash: string;
}

export default async function registerTokenTask(
  args: RegisterTokenTaskArguments,
  hre: HardhatRuntimeEnvironment,
): Promise<RegisterTokenResult> {
  if (args.token === undefined || args.token === "") {
    throw new VeilnetTaskError("Missing --token <address>: the ERC-20 to register");
  }
  if (!isAddress(args.token)) throw new VeilnetTaskError(`--token ${args.token} is not an address`);
  const token = getAddress(args.token);

  const connection = await connect(hre);
  const deployment = await loadDeployment(connection, args.deploymentsDir);
  const { ethers } = connection;
  const signer = await taskSigner(connection);
  const bridge = await ethers.getContractAt("Bridge", deployment.addresses.Bridge, signer);
  const messageBus = await ethers.getContractAt("MessageBus", deployment.addresses.MessageBus, signer);
  const fee = await messageBus.messageFee();

  let receipt: ContractTransactionReceipt | null;
  try {
    const tx = await bridge.registerToken(token, { value: fee });
    receipt = await tx.wait();
  } catch (e) {
    throw transactionError(`Bridge.registerToken(${token})`, e, [
      bridge.interface,
      messageBus.interface,
      ...erc20ErrorInterfaces(),
    ]);
  }
  if (receipt === null) throw new VeilnetTaskError("registerToken: no receipt");

  let registered: { name: string; symbol: string; decimals: number } | undefined;
  let sequence: bigint | undefined;
  for (const log of receipt.logs) {
    const addr = getAddress(log.address);
    if (addr === deployment.addresses.Bridge) {
      const parsed = bridge.interface.parseLog(log);
      if (parsed?.name === "TokenRegistered") {
        registered = {
          name: String(parsed.args.name),
          symbol: String(parsed.args.symbol),
          decimals: Number(parsed.args.decimals),
        };
      }
    } else if (addr === deployment.addresses.MessageBus) {
      const parsed = messageBus.interface.parseLog(log);
      if (parsed?.name === "MessagePublished") sequence = BigInt(parsed.args.sequence);
    }
  }
  if (registered === undefined || sequence === undefined) {
    throw new VeilnetTaskError(`Transaction ${receipt.hash} emitted no TokenRegistered / MessagePublished event`);
  }

  console.log(`Registered ${registered.name} (${registered.symbol}, ${registered.decimals} decimals) ${token}`);
  console.log(`  message fee paid: ${fee} wei (${formatEther(fee)} ETH), message sequence ${sequence}`);
  console.log(`  tx ${receipt.hash} (block ${receipt.blockNumber})`);
  return { token, ...registered, fee, sequence, txHash: receipt.hash };
}
