/**
 * The L2 chain's fixed parameters: chain id, the system account, genesis time and the addresses of the
 * system contracts the genesis deploys. Every enclave builds the same genesis from these (and the L1
 * bridge's address), so sequencer and validators start from the same block hash.
 */
import { getCreateAddress } from "ethers";

/** Chain id of the Veilnet L2. */
export const L2_CHAIN_ID = 4417n;

/**
 * The enclave's system account: deploys the genesis contracts and delivers L1 messages. It has no
 * private key; only the enclave can send its transactions (impersonated, gas price 0).
 */
export const L2_SYSTEM_ADDRESS = "0x7e110000000000000000000000000000000000FF";

/** Timestamp of the L2 genesis block (seconds); genesis contracts are deployed one second later. */
export const L2_GENESIS_TIMESTAMP = 1_767_225_600n; // 2026-01-01T00:00:00Z

/** L2 blocks before the first batch: the genesis block and the block deploying the system contracts. */
export const L2_GENESIS_BLOCKS = 2n;

/** The L2 ETH supply the genesis gives the L2 bridge (deposits pay out of it, withdrawals return to it). */
export const L2_ETH_SUPPLY = 10n ** 27n;

/** Fixed addresses of the system contracts in the L2 genesis (created by the system account, nonces 0–2). */
export const L2Predeploys = {
  messageBus: getCreateAddress({ from: L2_SYSTEM_ADDRESS, nonce: 0 }),
  bridge: getCreateAddress({ from: L2_SYSTEM_ADDRESS, nonce: 1 }),
  feeCollector: getCreateAddress({ from: L2_SYSTEM_ADDRESS, nonce: 2 }),
} as const;
