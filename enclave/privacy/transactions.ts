/**
 * Who sees a transaction (`eth_getTransactionByHash`, its receipt, its status): its sender, and the
 * recipient of a plain value transfer (no calldata), for whom it is an incoming payment. A contract
 * call's recipient is a contract, which has no viewer; what the call did for others shows in its
 * events, under the event rules. To anyone else the transaction does not exist: the answer is the
 * one for an unknown hash, so that not even its existence leaks.
 */
import type { LogLike } from "./events.js";
import type { Viewer } from "./viewer.js";

export interface TxParties {
  from: string;
  /** null for a contract creation. */
  to: string | null;
  /** The calldata ("0x" for a plain transfer). */
  input: string;
}

/** A logs bloom with no bit set: blooms would let anyone test which accounts a block's events name. */
export const EMPTY_BLOOM = `0x${"00".repeat(256)}`;

export function isPlainTransfer(tx: TxParties): boolean {
  return tx.to !== null && (tx.input === "0x" || tx.input === "");
}

export function canSeeTransaction(viewer: Viewer, tx: TxParties): boolean {
  return viewer.has(tx.from) || (isPlainTransfer(tx) && viewer.has(tx.to));
}

/** A receipt as a viewer who may see its transaction gets it: only the logs it may see, no bloom. */
export function redactReceipt<R extends { logs: LogLike[] }>(receipt: R, visibleLogs: R["logs"]): R {
  return { ...receipt, logs: visibleLogs, logsBloom: EMPTY_BLOOM };
}
