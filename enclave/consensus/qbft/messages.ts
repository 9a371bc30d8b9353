/**
 * QBFT messages (Moniz 2020, §3 and Algorithms 2–4): PRE-PREPARE, PREPARE, COMMIT and ROUND-CHANGE for one
 * height, their canonical encoding for signatures, and the Signer/Verifier interfaces a transport and the
 * enclave's keys plug into. Values travel whole only in PRE-PREPARE and ROUND-CHANGE; votes carry the digest.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";

/** An operator's id: its index-free identity in the committee. */
export type OperatorId = number;

/** A value's digest: lower-case hex of sha256(value), no 0x prefix. */
export type Digest = string;

/** The digest every vote carries for `value`. */
export function valueDigest(value: Uint8Array): Digest {
  return bytesToHex(sha256(value));
}

/** Fields every message carries. Rounds start at 1 (the paper's ri := 1). */
export interface MessageBase {
  readonly height: number;
  readonly round: number;
  readonly sender: OperatorId;
}

/** PREPARE (Algorithm 2): the sender accepted the round's proposal with this digest. */
export interface Prepare extends MessageBase {
  readonly type: "prepare";
  readonly digest: Digest;
}

/** COMMIT (Algorithm 2): the sender saw a PREPARE quorum for this digest in this round. */
export interface Commit extends MessageBase {
  readonly type: "commit";
  readonly digest: Digest;
}

/**
 * ROUND-CHANGE (Algorithm 3): the sender moves to `round`. If it prepared a value in an earlier round it carries
 * that round, the value, its digest and the PREPARE quorum proving it (the prepared certificate); otherwise all
 * four are null / empty.
 */
export interface RoundChange extends MessageBase {
  readonly type: "round-change";
  readonly preparedRound: number | null;
  readonly digest: Digest | null;
  readonly preparedValue: Uint8Array | null;
  readonly prepareJustification: readonly Signed<Prepare>[];
}

/**
 * PRE-PREPARE (Algorithms 2 and 4): the round's proposer proposes `value`. In round 1 both justifications are
 * empty; in a later round `roundChangeJustification` is a ROUND-CHANGE quorum for the round and
 * `prepareJustification` the PREPARE quorum of the highest prepared value among them (empty if none prepared),
 * as JustifyPrePrepare requires.
 */
export interface PrePrepare extends MessageBase {
  readonly type: "pre-prepare";
  readonly digest: Digest;
  readonly value: Uint8Array;
  readonly roundChangeJustification: readonly Signed<RoundChange>[];
  readonly prepareJustification: readonly Signed<Prepare>[];
}

/** Any QBFT message. */
export type Message = PrePrepare | Prepare | Commit | RoundChange;

/** The message types, by name. */
export type MessageType = Message["type"];

/** A message and the signature of its sender over {@link encodeMessage}. */
export interface Signed<M extends Message = Message> {
  readonly message: M;
  readonly signature: Uint8Array;
}

/** Signs this operator's messages (the enclave's key later; an HMAC stand-in in tests). */
export interface Signer {
  sign(message: Message): Uint8Array;
}

/** Checks that `signed.signature` is `sender`'s signature over `signed.message`. */
export interface Verifier {
  verify(signed: Signed, sender: OperatorId): boolean;
}

type Canonical = string | number | null | Canonical[];

function canonicalSigned(signed: Signed): Canonical {
  return [canonical(signed.message), bytesToHex(signed.signature)];
}

function canonical(message: Message): Canonical {
  const head: Canonical[] = [message.type, message.height, message.round, message.sender];
  switch (message.type) {
    case "prepare":
    case "commit":
      return [...head, message.digest];
    case "round-change":
      return [
        ...head,
        message.preparedRound,
        message.digest,
        message.preparedValue === null ? null : bytesToHex(message.preparedValue),
        message.prepareJustification.map(canonicalSigned),
      ];
    case "pre-prepare":
      return [
        ...head,
        message.digest,
        bytesToHex(message.value),
        message.roundChangeJustification.map(canonicalSigned),
        message.prepareJustification.map(canonicalSigned),
      ];
  }
}

/** The bytes a signature covers: a fixed-order JSON array of every field, nested signatures included. */
export function encodeMessage(message: Message): Uint8Array {
  return utf8ToBytes(JSON.stringify(["veilnet-qbft-v1", canonical(message)]));
}
