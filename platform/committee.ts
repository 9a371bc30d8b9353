/**
 * The genesis committee (DESIGN §9.1): after the network secret is initialized, the deployment's
 * initializer makes the genesis enclave's operator a committee of one and the OperatorRegistry's active
 * committee, so that RollupRegistry accepts the rollups that enclave signs alone.
 *
 * INTERIM: until contracts/l1/OperatorRegistry.sol lands, the deployment's OperatorRegistry is the
 * test double TestOperatorRegistry (deploy/modules/Veilnet.ts), which anyone may set. Once it lands this
 * becomes registerOperator, setOperatorEnclave, createCommittee and initializeActiveCommittee.
 */
import type { ContractRunner } from "ethers";

import { type RollupRegistry, TestOperatorRegistry__factory } from "../types/ethers-contracts/index.js";

/** The genesis committee's id (the first committee the OperatorRegistry creates). */
export const GENESIS_COMMITTEE_ID = 1n;

/**
 * Makes the committee of one of `enclave` (an attested sequencer) the active committee, sent by
 * `initializer`; does nothing when it already is. Returns whether a transaction was sent.
 */
export async function formGenesisCommittee(
  contracts: { rollupRegistry: RollupRegistry; enclaveRegistry: { revocationGeneration(): Promise<bigint> } },
  initializer: ContractRunner,
  enclave: { address: string },
): Promise<boolean> {
  const operators = TestOperatorRegistry__factory.connect(
    await contracts.rollupRegistry.operatorRegistry(),
    initializer,
  );
  const generation = await contracts.enclaveRegistry.revocationGeneration();
  const [id, , signersGeneration] = await operators.activeCommittee();
  if (id !== 0n && signersGeneration === generation) return false;
  await (await operators.setCommittee(GENESIS_COMMITTEE_ID, [enclave.address], 1, generation)).wait();
  return true;
}
