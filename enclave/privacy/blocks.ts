/**
 * Blocks, as everyone gets them: the header (number, hash, parent, state root, timestamp, gas used …)
 * but no transactions (neither hashes nor their count) and an empty logs bloom. The header is what
 * wallets and the gateway need to follow the chain; the transaction list would tell who is active and
 * link the hashes to their senders' later receipts, and the bloom which accounts the events name.
 */
import { EMPTY_BLOOM } from "./transactions.js";

export function redactBlock<B extends Record<string, unknown>>(block: B | null): B | null {
  if (block === null) return null;
  return { ...block, transactions: [], logsBloom: EMPTY_BLOOM };
}
