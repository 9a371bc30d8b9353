/**
 * The L1 data fee: what an L2 transaction pays for its share of publishing rollups on L1. Like OP
 * Stack's L1 fee, it is the transaction's estimated compressed size priced at L1 calldata gas and the
 * L1 base fee of its batch (recorded in the batch, so validators charge exactly the same), times a
 * scalar. The enclave charges it from the sender after the batch executes and credits the fee
 * collector; the mempool refuses a transaction whose sender cannot pay it on top of gas and value.
 */
export interface L1FeeModel {
  /** Estimated compressed size of a transaction per raw byte, in thousandths (rollups are brotli-compressed). */
  compressionPermille: bigint;
  /** Multiplier of the L1 cost in percent (100 = charge the estimated cost exactly). */
  scalarPercent: bigint;
}

/** Gas per byte of L1 calldata (EIP-2028, non-zero bytes; encrypted payloads are effectively random). */
export const L1_CALLDATA_GAS_PER_BYTE = 16n;

/**
 * Compressed bytes per raw byte of a transaction, as bench/l2.ts measures for signed transfers under
 * brotli (signatures and addresses do not compress; the rest mostly does).
 */
export const DEFAULT_L1_FEE_MODEL: L1FeeModel = { compressionPermille: 900n, scalarPercent: 100n };

/** L1 gas of the bytes a transaction of `rawLength` bytes adds to a rollup. */
export function l1DataGas(rawLength: number, model: L1FeeModel = DEFAULT_L1_FEE_MODEL): bigint {
  const compressed = (BigInt(rawLength) * model.compressionPermille + 999n) / 1000n;
  return compressed * L1_CALLDATA_GAS_PER_BYTE;
}

/** The L1 data fee in L2 wei of a transaction of `rawLength` bytes at L1 base fee `l1BaseFee`. */
export function l1DataFee(rawLength: number, l1BaseFee: bigint, model: L1FeeModel = DEFAULT_L1_FEE_MODEL): bigint {
  return (l1DataGas(rawLength, model) * l1BaseFee * model.scalarPercent) / 100n;
}

/**
 * What a transaction was charged for L1 data, as its receipt shows it (OP Stack Bedrock's receipt
 * fields): `l1Fee = l1GasUsed × l1GasPrice × scalarPercent / 100`, rounded down, or less when the
 * sender could not pay it all.
 */
export interface L1FeeCharge {
  /** L2 wei taken from the sender. */
  l1Fee: bigint;
  /** L1 calldata gas of the transaction's estimated compressed bytes. */
  l1GasUsed: bigint;
  /** The batch's L1 base fee, wei per L1 gas. */
  l1GasPrice: bigint;
  scalarPercent: bigint;
}
