/**
 * The TxSender's public contract. One TxSender owns one signing key's nonces; every L1 write of a
 * worker goes through it. See tx-sender.ts for the implementation.
 */

/** An L1 action to perform exactly once. */
export interface TxIntent {
  /**
   * Idempotency key: the same key is never sent as two different actions. Persisted (with the signed
   * transactions) before anything is broadcast, so a restart finds it and checks the chain first.
   * E.g. `respond-secret-<requestId>`, `relay-<sequence>`.
   */
  key: string;
  to: string;
  data: string;
  value?: bigint;
  /** Gas limit; estimated (+20%) when absent. */
  gasLimit?: bigint;
  /**
   * Asks the chain whether the action's effect is already there (e.g. the request is no longer open,
   * the message is already relayed). Checked before the first broadcast, after a restart, and when the
   * transaction reverts or is dropped: `true` ends the intent as `already-done` without (re)sending.
   */
  alreadyDone?: () => Promise<boolean>;
}

export type TxOutcome =
  /** Mined and successful with the required confirmations. */
  | { status: "mined"; key: string; hash: string; blockNumber: number; gasUsed: bigint; attempts: number }
  /** The effect was already on chain (someone else did it, or an earlier run did); nothing (more) sent. */
  | { status: "already-done"; key: string; hash?: string };

/** Thrown when the transaction reverted (or would revert); `errorName` is the decoded custom error. */
export class TxRevertedError extends Error {
  constructor(
    readonly key: string,
    /** Decoded revert, e.g. `RequestNotOpen(3)`, or the raw data when unknown. */
    readonly reason: string,
    /** The custom error's name (e.g. `RequestNotOpen`), when known. */
    readonly errorName: string | undefined,
    readonly hash?: string,
  ) {
    super(`${key}: reverted with ${reason}`);
    this.name = "TxRevertedError";
  }
}

/** send() of a sender that was stopped (the intent stays in Redis for the next process). */
export class TxSenderStoppedError extends Error {
  constructor(readonly key: string) {
    super(`${key}: tx sender stopped before the transaction was confirmed`);
    this.name = "TxSenderStoppedError";
  }
}
