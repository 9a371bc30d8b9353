/**
 * Admin actions in tests, made the way governance makes them. Every admin power of the L1 contracts
 * belongs to the TimelockController (docs/trust-model.md); `govern` schedules and executes one call.
 */
import type { BaseContract, ContractTransactionResponse } from "ethers";

import type { Veilnet } from "./veilnet.js";

/** Calls `method(...args)` on `contract` as the suite's admin (interim: directly from `v.admin`). */
export async function govern(
  v: Veilnet,
  contract: BaseContract,
  method: string,
  args: unknown[] = [],
): Promise<ContractTransactionResponse> {
  const bound = contract.connect(v.admin) as unknown as Record<
    string,
    (...a: unknown[]) => Promise<ContractTransactionResponse>
  >;
  const fn = bound[method];
  if (fn === undefined) throw new Error(`govern: no method ${method}`);
  return fn(...args);
}
