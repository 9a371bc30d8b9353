/**
 * The chain's answers made to look as geth and OP Stack nodes give them, and stripped of the batch
 * entropy:
 * - blocks: `mixHash` (the batch's `prevrandao`, derived from the network secret) is published as zero;
 *   the pending block has its number and no hash, nonce or miner, as geth answers it;
 * - legacy EIP-155 transactions carry their `chainId`;
 * - receipts carry the L1 data fee the transaction was charged, in OP Stack Bedrock's fields.
 */
import { ZeroHash, toQuantity } from "ethers";

import type { L1FeeCharge } from "../execution/l1-fee.js";

type Json = Record<string, unknown>;

/** `mixHash` as every RPC answer shows it: the real one is the batch's secret entropy. */
export const PUBLISHED_MIX_HASH = ZeroHash;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A transaction object with `chainId`, which EDR leaves out of legacy transactions (EIP-155: v = 2·id + 35/36). */
export function transactionAnswer<T>(tx: T): T {
  if (!isObject(tx) || tx.chainId !== undefined || tx.type !== "0x0" || typeof tx.v !== "string") return tx;
  const v = BigInt(tx.v);
  return v >= 35n ? ({ ...tx, chainId: toQuantity((v - 35n) / 2n) } as T) : tx;
}

/**
 * A block as the endpoint answers it: `mixHash` zeroed; with `pendingNumber`, the pending block as geth
 * shows it (its number, and null hash, nonce and miner); full transactions with their chain id.
 */
export function blockAnswer<T>(block: T, pendingNumber?: bigint): T {
  if (!isObject(block)) return block;
  const answer: Json = { ...block, mixHash: PUBLISHED_MIX_HASH };
  if ("prevRandao" in answer) answer.prevRandao = PUBLISHED_MIX_HASH;
  if (pendingNumber !== undefined) {
    Object.assign(answer, { number: toQuantity(pendingNumber), hash: null, nonce: null, miner: null });
  }
  if (Array.isArray(answer.transactions)) answer.transactions = answer.transactions.map((t) => transactionAnswer(t));
  return answer as T;
}

/** The Bedrock-style scalar of `scalarPercent` as a decimal string ("1", "1.25"), as op-geth writes `l1FeeScalar`. */
export function l1FeeScalar(scalarPercent: bigint): string {
  const whole = scalarPercent / 100n;
  const cents = scalarPercent % 100n;
  if (cents === 0n) return whole.toString();
  return `${whole}.${cents.toString().padStart(2, "0").replace(/0$/, "")}`;
}

/**
 * A receipt with the L1 data fee its transaction paid: `l1Fee`, `l1GasUsed`, `l1GasPrice` (hex, like the
 * other receipt quantities) and `l1FeeScalar` (a decimal string), as OP Stack Bedrock receipts carry
 * them. value + gasUsed × effectiveGasPrice + l1Fee is what the sender's balance lost.
 */
export function receiptAnswer<T>(receipt: T, charge: L1FeeCharge | undefined): T {
  if (!isObject(receipt) || charge === undefined) return receipt;
  return {
    ...receipt,
    l1Fee: toQuantity(charge.l1Fee),
    l1GasUsed: toQuantity(charge.l1GasUsed),
    l1GasPrice: toQuantity(charge.l1GasPrice),
    l1FeeScalar: l1FeeScalar(charge.scalarPercent),
  } as T;
}

/** A call frame of EDR's `erc7562Tracer`: the opcodes it ran, and its sub-calls. */
export interface OpcodeTrace {
  usedOpcodes?: Record<string, number>;
  calls?: OpcodeTrace[];
  error?: string;
  output?: string;
}

const PREVRANDAO_OPCODE = "0x44";

/** Whether a traced call read `block.prevrandao` (opcode 0x44) in any of its frames. */
export function readsPrevrandao(trace: OpcodeTrace): boolean {
  if ((trace.usedOpcodes?.[PREVRANDAO_OPCODE] ?? 0) > 0) return true;
  return (trace.calls ?? []).some(readsPrevrandao);
}
