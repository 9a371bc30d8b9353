/**
 * QBFT consensus core (issue 12, DESIGN §9.3), after Moniz 2020, "The Istanbul BFT Consensus Algorithm":
 *
 * - messages.ts — the four message types of §3 (PRE-PREPARE, PREPARE, COMMIT, ROUND-CHANGE) with the
 *   justifications Algorithm 4 defines (the ROUND-CHANGE quorum and the prepared certificate), their canonical
 *   signing encoding, and the Signer/Verifier interfaces the enclave's keys will implement.
 * - instance.ts — one instance per height: Algorithm 1 (start, leader(λ, r) round-robin, timer t(r)), Algorithm 2
 *   (normal case: PRE-PREPARE → PREPARE → COMMIT → decide), Algorithm 3 (round change: timeout, the f+1 jump,
 *   the new proposer's quorum rule) and Algorithm 4 (JustifyPrePrepare, JustifyRoundChange, HighestPrepared),
 *   with quorum ⌈(n + f + 1) / 2⌉ of §2.
 *
 * The core is pure: no transport, clock or storage. The caller carries out the returned actions, delivers
 * messages, fires timers and records votes through `onVote` before they leave.
 */
export {
  type Commit,
  type Digest,
  type Message,
  type MessageBase,
  type MessageType,
  type OperatorId,
  type PrePrepare,
  type Prepare,
  type RoundChange,
  type Signed,
  type Signer,
  type Verifier,
  encodeMessage,
  valueDigest,
} from "./messages.js";
export {
  type Action,
  DEFAULT_ROUND_TIMER,
  Instance,
  type InstanceConfig,
  type ReceiveResult,
  type RejectReason,
  type RoundTimerConfig,
  type Vote,
  faultTolerance,
  proposerOf,
  quorumSize,
  roundTimeout,
} from "./instance.js";
