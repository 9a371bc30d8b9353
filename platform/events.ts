/**
 * Typed domain events: the Veilnet contract logs that workers and nodes react to, decoded and made
 * JSON-safe (bigints and uint64 as decimal strings, small integers as numbers, addresses checksummed).
 * They come from one reader, the L1 event follower (platform/l1-events/): the event-subscriber worker
 * runs it and enqueues them for the workers; every node runs it in-process for the OperatorRegistry's
 * events, to know who may sign (enclave/committee/registry-view.ts). Not every L1 log goes through it:
 * the enclave node's L1 reader (enclave/l1/reader.ts) takes deposits and rollups, with their
 * transactions and blocks, straight from L1 in L1 order, and the host interface reads one secret
 * request's log from its receipt (enclave/host/secret-answers.ts).
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

// ------------------------------------------------------------------------------------------------
// OperatorRegistry (contracts/l1/OperatorRegistry.sol). Ids (uint64) are decimal strings.

export interface OperatorRegistered {
  type: "OperatorRegistered";
  operatorId: string;
  owner: string;
  /** The operator's compressed secp256k1 key (hex). */
  publicKey: string;
  fee: string;
}
export interface OperatorEnclaveSet {
  type: "OperatorEnclaveSet";
  operatorId: string;
  /** The zero address on removal. */
  enclave: string;
}
export interface OperatorRemoved {
  type: "OperatorRemoved";
  operatorId: string;
}
export interface OperatorFeeDeclared {
  type: "OperatorFeeDeclared";
  operatorId: string;
  fee: string;
  /** Unix time (s). */
  executableFrom: string;
  executableUntil: string;
}
export interface OperatorFeeDeclarationCancelled {
  type: "OperatorFeeDeclarationCancelled";
  operatorId: string;
}
export interface OperatorFeeExecuted {
  type: "OperatorFeeExecuted";
  operatorId: string;
  fee: string;
}
export interface OperatorWithdrawn {
  type: "OperatorWithdrawn";
  operatorId: string;
  to: string;
  amount: string;
}
export interface OperatorWhitelistUpdated {
  type: "OperatorWhitelistUpdated";
  account: string;
  whitelisted: boolean;
}
export interface WhitelistEnabledSet {
  type: "WhitelistEnabledSet";
  enabled: boolean;
}
export interface CommitteeCreated {
  type: "CommitteeCreated";
  committeeId: string;
  owner: string;
  operatorIds: string[];
  quorum: number;
  balance: string;
}
export interface CommitteeSignersUpdated {
  type: "CommitteeSignersUpdated";
  committeeId: string;
  /** The members' enclaves in member order. */
  signers: string[];
  /** The EnclaveRegistry revocation generation they were checked at. */
  generation: string;
}
export interface ActiveCommitteeChanged {
  type: "ActiveCommitteeChanged";
  /** "0": none. */
  previous: string;
  next: string;
}
export interface CommitteeDeposited {
  type: "CommitteeDeposited";
  committeeId: string;
  from: string;
  amount: string;
  balance: string;
}
export interface CommitteeWithdrawn {
  type: "CommitteeWithdrawn";
  committeeId: string;
  owner: string;
  amount: string;
  balance: string;
}
export interface CommitteeLiquidated {
  type: "CommitteeLiquidated";
  committeeId: string;
  liquidator: string;
  amount: string;
}
export interface CommitteeReactivated {
  type: "CommitteeReactivated";
  committeeId: string;
  amount: string;
  balance: string;
}
export interface RewardsCollected {
  type: "RewardsCollected";
  committeeId: string;
  amount: string;
}
export interface NetworkEarningsWithdrawn {
  type: "NetworkEarningsWithdrawn";
  to: string;
  amount: string;
}
export interface FeeParametersSet {
  type: "FeeParametersSet";
  maxOperatorFee: string;
  /** Seconds. */
  declarePeriod: string;
  executePeriod: string;
  maxIncreaseBps: number;
}
export interface NetworkFeeSet {
  type: "NetworkFeeSet";
  fee: string;
}
export interface LiquidationThresholdsSet {
  type: "LiquidationThresholdsSet";
  minimumBlocks: string;
  minimumCollateral: string;
}
export interface PausedSet {
  type: "PausedSet";
  paused: boolean;
}

/** The OperatorRegistry's events (no worker consumes them: nodes follow them in-process). */
export type OperatorRegistryEvent =
  | OperatorRegistered
  | OperatorEnclaveSet
  | OperatorRemoved
  | OperatorFeeDeclared
  | OperatorFeeDeclarationCancelled
  | OperatorFeeExecuted
  | OperatorWithdrawn
  | OperatorWhitelistUpdated
  | WhitelistEnabledSet
  | CommitteeCreated
  | CommitteeSignersUpdated
  | ActiveCommitteeChanged
  | CommitteeDeposited
  | CommitteeWithdrawn
  | CommitteeLiquidated
  | CommitteeReactivated
  | RewardsCollected
  | NetworkEarningsWithdrawn
  | FeeParametersSet
  | NetworkFeeSet
  | LiquidationThresholdsSet
  | PausedSet;

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
  | TokenRegistered
  | OperatorRegistryEvent;

export type DomainEventType = DomainEvent["type"];

/**
 * One delivery of the L1 event follower: the payload of every job the event-subscriber enqueues, and
 * what a node's in-process view takes. `removed: true` is the compensation for an event of a block that
 * a reorg took away: consumers undo or forget what the original delivery did.
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
