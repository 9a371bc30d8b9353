/**
 * Typed domain events: the Veilnet contract logs the workers react to, decoded and made JSON-safe
 * (bigints as decimal strings, addresses checksummed). The event-subscriber is the only component that
 * reads L1 logs; it turns them into these and enqueues them.
 */

/** Where a log sits on L1. Together with `removed`, identifies a delivery. */
export interface EventRef {
  chainId: number;
  blockNumber: number;
  blockHash: string;
  transactionHash: string;
  logIndex: number;
  /** Contract that emitted the log. */
  address: string;
}

export interface NetworkSecretRequested {
  type: "NetworkSecretRequested";
  requestId: string;
  enclaveId: string;
  enclavePubKey: string;
  bounty: string;
  /** The rest of the request's fields (EnclaveRegistry.SecretRequest), passed back to respond or cancel. */
  payer: string;
  createdAt: string;
}
export interface NetworkSecretResponded {
  type: "NetworkSecretResponded";
  requestId: string;
  responder: string;
  requester: string;
  encryptedSecret: string;
}
export interface SecretRequestCancelled {
  type: "SecretRequestCancelled";
  requestId: string;
  refund: string;
}
export interface RollupAdded {
  type: "RollupAdded";
  rollupHash: string;
  firstSeq: string;
  lastSeq: string;
  messageRoot: string;
  /** The OperatorRegistry committee that signed the rollup (decimal). */
  committeeId: string;
  /** Which of its members signed (bit i: member i), decimal. */
  signerBitmap: string;
}
export interface RollupRejected {
  type: "RollupRejected";
  rollupHash: string;
  messageRoot: string;
  guardian: string;
}
export interface MessagePublished {
  type: "MessagePublished";
  sender: string;
  sequence: string;
  topic: number;
  payload: string;
  consistencyLevel: number;
}
export interface MessageRelayed {
  type: "MessageRelayed";
  leaf: string;
  sequence: string;
  target: string;
}
export interface MessageRelayFailed {
  type: "MessageRelayFailed";
  leaf: string;
  sequence: string;
  target: string;
  reason: string;
}
export interface DepositInitiated {
  type: "DepositInitiated";
  token: string;
  from: string;
  to: string;
  amount: string;
  sequence: string;
}
export interface WithdrawalFinalized {
  type: "WithdrawalFinalized";
  token: string;
  to: string;
  amount: string;
}
export interface TokenRegistered {
  type: "TokenRegistered";
  token: string;
  name: string;
  symbol: string;
  decimals: number;
}

export type DomainEvent =
  | NetworkSecretRequested
  | NetworkSecretResponded
  | SecretRequestCancelled
  | RollupAdded
  | RollupRejected
  | MessagePublished
  | MessageRelayed
  | MessageRelayFailed
  | DepositInitiated
  | WithdrawalFinalized
  | TokenRegistered;

export type DomainEventType = DomainEvent["type"];

/**
 * The payload of every job the event-subscriber enqueues. `removed: true` is the compensation for an
 * event of a block that a reorg took away: consumers undo or forget what the original delivery did.
 */
export interface EventJob<E extends DomainEvent = DomainEvent> {
  ref: EventRef;
  event: E;
  removed: boolean;
}

/**
 * Job id of a delivery: `chainId-blockHash-logIndex` (BullMQ forbids ":" in custom ids, so "-" separates
 * the parts), with a `removed-` prefix for the compensation of a reorged event. Re-delivering the same log
 * yields the same id, which BullMQ ignores: delivery is idempotent.
 */
export function eventJobId(ref: Pick<EventRef, "chainId" | "blockHash" | "logIndex">, removed = false): string {
  return `${removed ? "removed-" : ""}${ref.chainId}-${ref.blockHash}-${ref.logIndex}`;
}
