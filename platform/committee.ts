/**
 * The genesis committee (DESIGN §9.1): after the network secret is initialized, the deployment's
 * initializer (who holds the OperatorRegistry's GENESIS_ROLE) registers the genesis operator, binds the
 * genesis enclave to it, creates the committee of one and makes it the active committee
 * (`initializeActiveCommittee`, once: the call renounces the role). From then on RollupRegistry accepts
 * the rollups that enclave signs alone, and only the timelock can set another active committee.
 */
import type { ContractRunner } from "ethers";

import type { OperatorRegistry } from "../types/ethers-contracts/index.js";

/** The genesis committee's id (the first committee the OperatorRegistry creates). */
export const GENESIS_COMMITTEE_ID = 1n;

/** What the genesis committee is made of. */
export interface GenesisCommitteeMember {
  /** The genesis enclave (an attested sequencer): the committee's only signer. */
  address: string;
  /** The genesis operator's secp256k1 public key (33 or 65 bytes, hex). */
  operatorKey: string;
}

/**
 * Forms the genesis committee of one around `member`, sent by `initializer`, and makes it the active
 * committee. Idempotent: does nothing when an active committee exists, and reuses an operator already
 * registered with the key (and its enclave binding). Returns whether it activated the committee.
 * `deposit`: the committee's initial balance, wei (its fee is zero; the deposit only keeps it funded).
 */
export async function formGenesisCommittee(
  contracts: { operatorRegistry: OperatorRegistry },
  initializer: ContractRunner,
  member: GenesisCommitteeMember,
  deposit = 10n ** 15n,
): Promise<boolean> {
  const registry = contracts.operatorRegistry.connect(initializer);
  const [active] = await registry.activeCommittee();
  if (active !== 0n) return false;
  let operatorId = await registry.operatorIdOf(member.operatorKey);
  if (operatorId === 0n) {
    operatorId = await registry.registerOperator.staticCall(member.operatorKey, 0n);
    await (await registry.registerOperator(member.operatorKey, 0n)).wait();
  }
  if ((await registry.operatorIdOfEnclave(member.address)) !== operatorId) {
    await (await registry.setOperatorEnclave(operatorId, member.address)).wait();
  }
  const committeeId = await registry.createCommittee.staticCall([operatorId], { value: deposit });
  await (await registry.createCommittee([operatorId], { value: deposit })).wait();
  await (await registry.initializeActiveCommittee(committeeId)).wait();
  return true;
}
