/**
 * The sender's nonces against the chain's: the account's nonce on the node, and the two corrections of
 * the local counter (SenderState.nextNonce) when the chain disagrees with it.
 */
import type { SenderState } from "./state.js";

/** The account's nonce at `tag` ("pending": including the node's pool; "latest": mined). */
export async function chainNonce(state: SenderState, tag: "pending" | "latest"): Promise<number> {
  return Number(BigInt((await state.provider.send("eth_getTransactionCount", [state.address, tag])) as string));
}

/**
 * With nothing of ours in flight the chain's pending nonce is the truth. Below ours means transactions
 * we counted are gone (an L1 reorg dropped them): their nonces are reused, or every later transaction
 * would wait behind a gap forever. Call in the critical section, before assigning a nonce for `key`.
 */
export async function reconcileIdleNonce(state: SenderState, key: string): Promise<void> {
  if (state.flights.size !== 0) return;
  const pending = await chainNonce(state, "pending");
  if (pending < state.nextNonce) {
    state.log.warn(
      { key, chainNonce: pending, nextNonce: state.nextNonce },
      "the chain's nonce is below ours and nothing is in flight (reorged away?): continuing from the chain's",
    );
    state.nextNonce = pending;
  }
}

/** `nonce` was refused as used (another sender on this key?): the next one is past it and the chain's. */
export async function skipUsedNonce(state: SenderState, key: string, nonce: number, reason: string): Promise<void> {
  const pending = await chainNonce(state, "pending");
  state.nextNonce = Math.max(state.nextNonce, nonce + 1, pending);
  state.log.warn(
    { key, nonce, nextNonce: state.nextNonce, reason },
    "nonce already used (another sender on this key?): refreshed from the chain",
  );
}
