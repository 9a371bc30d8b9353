/**
 * The gas a transaction needs before it runs, as the L2's EVM (EDR, hardfork Osaka) charges it, so that
 * the mempool refuses at admission what the EVM would refuse at execution (geth's words:
 * "intrinsic gas too low: have X, want Y"):
 * - 21,000 (53,000 for a creation), 4 per zero and 16 per non-zero calldata byte (EIP-2028);
 * - 2,400 per access-list address and 1,900 per storage key (EIP-2930);
 * - for a creation, 2 per 32-byte word of initcode (EIP-3860), whose size is at most 49,152 bytes;
 * - the EIP-7623 floor: 21,000 + 10 per calldata token (zero byte 1 token, non-zero byte 4), which the
 *   gas limit must reach even though the transaction may use less.
 * Osaka also caps any transaction's gas limit at 2^24 (EIP-7825).
 */
import type { Transaction } from "ethers";
import { getBytes } from "ethers";

export const TX_GAS = 21_000n;
export const TX_CREATE_GAS = 53_000n;
const ZERO_BYTE_GAS = 4n;
const NONZERO_BYTE_GAS = 16n;
const ACCESS_LIST_ADDRESS_GAS = 2_400n;
const ACCESS_LIST_KEY_GAS = 1_900n;
const INITCODE_WORD_GAS = 2n;
const FLOOR_GAS_PER_TOKEN = 10n;
/** EIP-3860: the largest initcode. */
export const MAX_INITCODE_SIZE = 49_152;
/** EIP-7825 (Osaka): the largest gas limit of one transaction. */
export const MAX_TX_GAS = 1n << 24n;

export interface IntrinsicGas {
  /** What execution charges before the first opcode. */
  intrinsic: bigint;
  /** EIP-7623's floor on the gas a transaction pays. */
  floor: bigint;
}

export function intrinsicGas(tx: Transaction): IntrinsicGas {
  const data = getBytes(tx.data);
  let zeros = 0n;
  for (const byte of data) if (byte === 0) zeros++;
  const nonZeros = BigInt(data.length) - zeros;
  const creation = tx.to === null;
  let intrinsic = (creation ? TX_CREATE_GAS : TX_GAS) + zeros * ZERO_BYTE_GAS + nonZeros * NONZERO_BYTE_GAS;
  for (const entry of tx.accessList ?? []) {
    intrinsic += ACCESS_LIST_ADDRESS_GAS + BigInt(entry.storageKeys.length) * ACCESS_LIST_KEY_GAS;
  }
  if (creation) intrinsic += ((BigInt(data.length) + 31n) / 32n) * INITCODE_WORD_GAS;
  const tokens = zeros + nonZeros * 4n;
  return { intrinsic, floor: TX_GAS + tokens * FLOOR_GAS_PER_TOKEN };
}
