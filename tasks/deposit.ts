/**
 * `npx hardhat veil:deposit --amount <amount> [--token <address>] [--to <l2Recipient>]`:
 * deposits ETH (amount in ether; the message fee is added on top) or a registered ERC-20 (amount in
 * token units using its decimals; approves the Bridge first when the allowance is short).
 */
import {
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
  formatEther,
  formatUnits,
  getAddress,
  isAddress,
  parseUnits,
} from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { type IERC20Metadata, IERC20Metadata__factory } from "../types/ethers-contracts/index.js";
import {
  VeilnetTaskError,
  connect,
  erc20ErrorInterfaces,
  loadDeployment,
  taskSigner,
  transactionError,
} from "./lib.js";

export interface DepositTaskArguments {
  amount?: string;
  token?: string;
  to?: string;
  deploymentsDir?: string;
}

export interface DepositResult {
  /** The ERC-20 deposited, or null for ETH. */
  token: string | null;
  from: string;
  to: string;
  /** Amount asked for, in wei / token base units. */
  amount: bigint;
  /** Amount the bridge received and L2 credits (DepositInitiated.amount). */
  credited: bigint;
  /** Message fee paid, in wei. */
  fee: bigint;
  /** Sequence number of the deposit message (DepositInitiated.sequence). */
  sequence: bigint;
  txHash: string;
  /** The approval sent first, if the allowance was short. */
  approvalTxHash?: string;
}

export default async function depositTask(
  args: DepositTaskArguments,
  hre: HardhatRuntimeEnvironment,
): Promise<DepositResult> {
  if (args.amount === undefined || args.amount === "") {
    throw new VeilnetTaskError("Missing --amount: in ether for ETH (e.g. 0.5), in token units for an ERC-20");
  }
  const tokenArg = args.token === undefined || args.token === "" ? undefined : args.token;
  if (tokenArg !== undefined && !isAddress(tokenArg))
    throw new VeilnetTaskError(`--token ${tokenArg} is not an address`);
  if (args.to !== undefined && args.to !== "" && !isAddress(args.to)) {
    throw new VeilnetTaskError(`--to ${args.to} is not an address`);
  }

  const connection = await connect(hre);
  const deployment = await loadDeployment(connection, args.deploymentsDir);
  const { ethers } = connection;
  const signer = await taskSigner(connection);
  const from = getAddress(signer.address);
  const to = args.to !== undefined && args.to !== "" ? getAddress(args.to) : from;
  const bridge = await ethers.getContractAt("Bridge", deployment.addresses.Bridge, signer);
  const messageBus = await ethers.getContractAt("MessageBus", deployment.addresses.MessageBus, signer);
  const errors = [bridge.interface, messageBus.interface, ...erc20ErrorInterfaces()];
  const fee = await messageBus.messageFee();

  let amount: bigint;
  let unit: { decimals: number; symbol: string };
  let approvalTxHash: string | undefined;
  let send: () => Promise<ContractTransactionResponse>;
  let what: string;
  if (tokenArg === undefined) {
    unit = { decimals: 18, symbol: "ETH" };
    amount = parseAmount(args.amount, 18, "ETH");
    // The fee read above is the most the deposit may take: raised before inclusion, it reverts (FeeAboveMax)
    // instead of crediting less than `amount`.
    what = `Bridge.depositNativeWithMaxFee(${to}, ${fee})`;
    send = () => bridge.depositNativeWithMaxFee(to, fee, { value: amount + fee });
  } else {
    const token = getAddress(tokenArg);
    const info = await bridge.tokenInfo(token);
    if (!info.registered) {
      throw new VeilnetTaskError(
        `${token} is not registered on the Bridge (TokenNotRegistered): run \`npx hardhat veil:register-token --token ${token}\` first`,
      );
    }
    if (info.paused) throw new VeilnetTaskError(`Deposits of ${token} are paused on the Bridge (TokenIsPaused)`);
    const erc20 = IERC20Metadata__factory.connect(token, signer);
    unit = await tokenUnit(erc20, token);
    amount = parseAmount(args.amount, unit.decimals, unit.symbol);
    const balance = await erc20.balanceOf(from);
    if (balance < amount) {
      throw new VeilnetTaskError(
        `${from} holds ${formatUnits(balance, unit.decimals)} ${unit.symbol}, less than the ${args.amount} to deposit`,
      );
    }
    const allowance = await erc20.allowance(from, deployment.addresses.Bridge);
    if (allowance < amount) {
      try {
        const approval = await erc20.approve(deployment.addresses.Bridge, amount);
        await approval.wait();
        approvalTxHash = approval.hash;
      } catch (e) {
        throw transactionError(`${unit.symbol}.approve(Bridge, ${amount})`, e, errors);
      }
      console.log(
        `Approved the Bridge for ${formatUnits(amount, unit.decimals)} ${unit.symbol} (tx ${approvalTxHash})`,
      );
    }
    what = `Bridge.depositERC20(${token}, ${amount}, ${to})`;
    send = () => bridge.depositERC20(token, amount, to, { value: fee });
  }

  let receipt: ContractTransactionReceipt | null;
  try {
    receipt = await (await send()).wait();
  } catch (e) {
    throw transactionError(what, e, errors);
  }
  if (receipt === null) throw new VeilnetTaskError(`${what}: no receipt`);

  let event: { credited: bigint; sequence: bigint } | undefined;
  for (const log of receipt.logs) {
    if (getAddress(log.address) !== deployment.addresses.Bridge) continue;
    const parsed = bridge.interface.parseLog(log);
    if (parsed?.name === "DepositInitiated") {
      event = { credited: BigInt(parsed.args.amount), sequence: BigInt(parsed.args.sequence) };
    }
  }
  if (event === undefined) throw new VeilnetTaskError(`Transaction ${receipt.hash} emitted no DepositInitiated event`);

  console.log(
    `Deposited ${formatUnits(event.credited, unit.decimals)} ${unit.symbol} from ${from} to ${to} on L2` +
      (event.credited !== amount ? ` (asked ${formatUnits(amount, unit.decimals)}; the bridge received less)` : ""),
  );
  console.log(`  message sequence ${event.sequence}, message fee ${formatEther(fee)} ETH`);
  console.log(`  tx ${receipt.hash} (block ${receipt.blockNumber})`);
  return {
    token: tokenArg === undefined ? null : getAddress(tokenArg),
    from,
    to,
    amount,
    credited: event.credited,
    fee,
    sequence: event.sequence,
    txHash: receipt.hash,
    ...(approvalTxHash !== undefined ? { approvalTxHash } : {}),
  };
}

function parseAmount(value: string, decimals: number, symbol: string): bigint {
  let amount: bigint;
  try {
    amount = parseUnits(value.trim(), decimals);
  } catch {
    throw new VeilnetTaskError(
      `--amount ${value} is not a ${symbol} amount with at most ${decimals} decimals (e.g. 1.5)`,
    );
  }
  if (amount <= 0n) throw new VeilnetTaskError(`--amount must be positive, got ${value}`);
  return amount;
}

async function tokenUnit(erc20: IERC20Metadata, token: string): Promise<{ decimals: number; symbol: string }> {
  let decimals: number;
  try {
    decimals = Number(await erc20.decimals());
  } catch {
    throw new VeilnetTaskError(`${token} has no decimals(): is it an ERC-20 on this network?`);
  }
  let symbol = "tokens";
  try {
    symbol = await erc20.symbol();
  } catch {
    // symbol is optional (or bytes32): only used for display
  }
  return { decimals, symbol };
}
