/**
 * Admin actions in tests, made the way governance makes them. Every admin power of the L1 contracts
 * belongs to the TimelockController (docs/trust-model.md): `govern` schedules one call on it as the
 * governor (`v.admin`, its proposer and executor), waits out the delay and executes it.
 */
import {
  type BaseContract,
  type ContractTransactionResponse,
  ZeroHash,
  hexlify,
  isAddressable,
  randomBytes,
} from "ethers";

import type { Veilnet } from "./veilnet.js";

/** One timelock operation: a call of `target` with `data`, no value, no predecessor. */
export interface TimelockOperation {
  target: string;
  data: string;
  salt: string;
  /** The operation id (`TimelockController.hashOperation`). */
  id: string;
}

/** `args` with every signer or contract replaced by its address, as a direct contract call resolves them. */
async function resolveAddressables(args: unknown[]): Promise<unknown[]> {
  return Promise.all(
    args.map(async (a) => {
      if (isAddressable(a)) return a.getAddress();
      if (Array.isArray(a)) return resolveAddressables(a);
      return a;
    }),
  );
}

/** The calldata of `method(...args)` on `contract`; throws naming the method when the ABI lacks it. */
export async function encodeCall(contract: BaseContract, method: string, args: unknown[]): Promise<string> {
  const fragment = contract.interface.getFunction(method);
  if (fragment === null) throw new Error(`govern: the contract has no method ${method}`);
  return contract.interface.encodeFunctionData(fragment, await resolveAddressables(args));
}

/**
 * Schedules `method(...args)` on `contract` through the timelock (from `v.admin`, with the timelock's
 * minimum delay unless `delay` is given), without executing it.
 */
export async function scheduleCall(
  v: Veilnet,
  contract: BaseContract,
  method: string,
  args: unknown[] = [],
  delay?: bigint,
): Promise<TimelockOperation> {
  const timelock = v.timelock.connect(v.admin);
  const target = await contract.getAddress();
  const data = await encodeCall(contract, method, args);
  const salt = hexlify(randomBytes(32));
  const minDelay = delay ?? (await timelock.getMinDelay());
  await (await timelock.schedule(target, 0n, data, ZeroHash, salt, minDelay)).wait();
  return { target, data, salt, id: await timelock.hashOperation(target, 0n, data, ZeroHash, salt) };
}

/**
 * Executes a scheduled operation (from `v.admin`). The call's revert data bubbles up unchanged, so
 * `revertedWithCustomError(target, …)` matches the target's errors.
 */
export async function executeCall(v: Veilnet, op: TimelockOperation): Promise<ContractTransactionResponse> {
  return v.timelock.connect(v.admin).execute(op.target, 0n, op.data, ZeroHash, op.salt);
}

/**
 * Calls `method(...args)` on `contract` as the suite's admin: scheduled on the timelock by the
 * governor, time moved past the delay when there is one, then executed.
 * @returns the execute transaction.
 */
export async function govern(
  v: Veilnet,
  contract: BaseContract,
  method: string,
  args: unknown[] = [],
): Promise<ContractTransactionResponse> {
  const op = await scheduleCall(v, contract, method, args);
  const delay = await v.timelock.getMinDelay();
  if (delay > 0n) await v.connection.networkHelpers.time.increase(delay);
  return executeCall(v, op);
}
