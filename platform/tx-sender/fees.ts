/** EIP-1559 fee arithmetic of the TxSender: capped suggestions and replacement bumps. */

export interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

/** Nodes (geth, Hardhat, ...) replace a pending transaction only when both fee fields rise by at least this. */
export const MIN_REPLACEMENT_BUMP_PERCENT = 10n;

const raise = (x: bigint, percent: bigint) => (x * (100n + percent) + 99n) / 100n;
const max = (...xs: bigint[]) => xs.reduce((a, b) => (a > b ? a : b));
const min = (...xs: bigint[]) => xs.reduce((a, b) => (a < b ? a : b));

/** The node's suggestion (2 × base fee + tip) limited to `cap`. */
export function suggestedFees(baseFee: bigint, priorityFee: bigint, cap: bigint): Fees {
  const maxFeePerGas = min(baseFee * 2n + priorityFee, cap);
  return { maxFeePerGas, maxPriorityFeePerGas: min(priorityFee, maxFeePerGas) };
}

/**
 * Fees of a replacement of a transaction that paid `old`: both fields raised by `bumpPercent` (and at least
 * to the current suggestion), limited to `cap`. Undefined when the cap leaves no valid replacement (less than
 * +10% on either field): the caller keeps the old transaction and waits.
 */
export function bumpedFees(old: Fees, current: Fees, bumpPercent: number, cap: bigint): Fees | undefined {
  const pct = BigInt(bumpPercent);
  let maxPriorityFeePerGas = max(raise(old.maxPriorityFeePerGas, pct), current.maxPriorityFeePerGas);
  let maxFeePerGas = max(raise(old.maxFeePerGas, pct), current.maxFeePerGas, maxPriorityFeePerGas);
  maxFeePerGas = min(maxFeePerGas, cap);
  maxPriorityFeePerGas = min(maxPriorityFeePerGas, maxFeePerGas);
  if (
    maxFeePerGas < raise(old.maxFeePerGas, MIN_REPLACEMENT_BUMP_PERCENT) ||
    maxPriorityFeePerGas < raise(old.maxPriorityFeePerGas, MIN_REPLACEMENT_BUMP_PERCENT)
  ) {
    return undefined;
  }
  return { maxFeePerGas, maxPriorityFeePerGas };
}
