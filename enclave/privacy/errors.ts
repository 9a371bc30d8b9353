/**
 * Errors that carry private data go only to their owner. Some of the mempool's refusals describe the
 * sender's state: its balance ("have X want Y"), its nonce, what it has pending. Anyone holding a
 * signed transaction could submit it to read them. So a refusal keeps its code and its words (which
 * wallets match on), with the numbers, only when the sender is bound to the viewer; anyone else gets
 * the words alone. Refusals about the transaction's own bytes (malformed, wrong chain, underpriced …)
 * carry nothing private and go to anyone. Every refusal is classified here, so that a new one cannot
 * slip through unexamined.
 */
import type { MempoolErrorCode } from "../sequencer/mempool.js";

/** What a viewer other than the sender is told of each refusal (null: the message as it is). */
const FOR_OTHERS: Record<MempoolErrorCode, string | null> = {
  malformed: null,
  unsigned: null,
  "wrong-chain": null,
  "unsupported-type": null,
  oversized: null,
  "gas-limit": null,
  "intrinsic-gas": null,
  "initcode-size": null,
  "tip-above-fee-cap": null,
  underpriced: null,
  "already-known": null,
  "pool-full": null,
  "insufficient-funds": "insufficient funds for gas * price + value + L1 data fee",
  "nonce-too-low": "nonce too low",
  "nonce-too-high": "nonce too high",
  "replacement-underpriced": "replacement transaction underpriced",
};

/** The message of a refused submission for a viewer who is (`toSender`) or is not its sender. */
export function submissionErrorMessage(code: MempoolErrorCode, message: string, toSender: boolean): string {
  if (toSender) return message;
  return FOR_OTHERS[code] ?? message;
}

/** What anyone but the sender is told of a submission failure that is not a mempool refusal. */
export const GENERIC_SUBMISSION_ERROR = "transaction refused";
