/**
 * The DKG's messages, what each one signs, and their parsing. Every message names the ceremony (a
 * 32-byte id the initiator chose), its round and its sender's index, and carries the sender's secp256k1
 * signature of keccak256("VEILNET-DKG-V1" ‖ ceremonyId ‖ round ‖ sender ‖ keccak256(RLP(payload))), so a
 * message binds to one ceremony, one round and one sender. Three kinds, one per round:
 * 1. `deal`: the dealer's Feldman commitments (t compressed G2 points) and its n shares, each ECIES-
 *    encrypted to its recipient (one broadcast, so every operator sees every ciphertext);
 * 2. `complaints`: the sender's echo of every deal it accepted (dealer, payload hash, dealer's
 *    signature: two different signed deals of one dealer prove it equivocated) and its complaints;
 * 3. `justification`: an accused dealer's deal again and, for each complaint, the ephemeral secret of
 *    that recipient's ciphertext, so anyone can open it and see who lied.
 * `parseMessage` checks the shape of anything a peer sent (never throws); the participant checks the rest.
 */
import { concat, getBytes, keccak256, toUtf8Bytes } from "ethers";
import { z } from "zod";

import { rlpEncode } from "../rlp.js";

/** The DKG's rounds. */
export const ROUNDS = { deal: 1, complaints: 2, justification: 3 } as const;
export type Round = (typeof ROUNDS)[keyof typeof ROUNDS];

/** What a complaint says: the dealer's share did not verify (or open), or its deal never came. */
export type ComplaintReason = "bad-share" | "missing";

interface Header {
  readonly ceremonyId: Uint8Array;
  readonly sender: number;
  /** 65 bytes (r, s, v). */
  readonly signature: Uint8Array;
}

/** Round 1: a dealer's commitments and encrypted shares (ciphertexts[j − 1] is for operator j). */
export interface DealMessage extends Header {
  readonly round: 1;
  readonly commitments: readonly Uint8Array[];
  readonly ciphertexts: readonly Uint8Array[];
}

/** A deal as an operator saw it: its payload hash and the dealer's signature. */
export interface DealEcho {
  readonly dealer: number;
  readonly payloadHash: Uint8Array;
  readonly signature: Uint8Array;
}

/** A complaint against `dealer`. */
export interface Complaint {
  readonly dealer: number;
  readonly reason: ComplaintReason;
}

/** Round 2: every operator's echoes and complaints (none is a message too: it says "all good"). */
export interface ComplaintsMessage extends Header {
  readonly round: 2;
  readonly echoes: readonly DealEcho[];
  readonly complaints: readonly Complaint[];
}

/** The ephemeral secret of the ciphertext a dealer sent `accuser`. */
export interface Answer {
  readonly accuser: number;
  readonly ephemeralSecret: Uint8Array;
}

/** Round 3: an accused dealer's deal and its answers. */
export interface JustificationMessage extends Header {
  readonly round: 3;
  readonly deal: DealMessage;
  readonly answers: readonly Answer[];
}

export type DkgMessage = DealMessage | ComplaintsMessage | JustificationMessage;

/** A message before it is signed. */
export type Unsigned<M extends DkgMessage> = M extends DkgMessage ? Omit<M, "signature"> : never;

const TAG = toUtf8Bytes("VEILNET-DKG-V1");
const REASON_CODES: Record<ComplaintReason, bigint> = { "bad-share": 1n, missing: 2n };

/** keccak256 of the RLP of a message's payload (what follows its header). */
export function payloadHash(message: Unsigned<DkgMessage>): Uint8Array {
  switch (message.round) {
    case 1:
      return getBytes(keccak256(rlpEncode([[...message.commitments], [...message.ciphertexts]])));
    case 2:
      return getBytes(
        keccak256(
          rlpEncode([
            message.echoes.map((e) => [BigInt(e.dealer), e.payloadHash, e.signature]),
            message.complaints.map((c) => [BigInt(c.dealer), REASON_CODES[c.reason]]),
          ]),
        ),
      );
    case 3:
      return getBytes(
        keccak256(
          rlpEncode([
            payloadHash(message.deal),
            message.deal.signature,
            message.answers.map((a) => [BigInt(a.accuser), a.ephemeralSecret]),
          ]),
        ),
      );
  }
}

/** The digest the sender of a round-`round` message with payload hash `hash` signs (0x-hex). */
export function signingDigest(ceremonyId: Uint8Array, round: Round, sender: number, hash: Uint8Array): string {
  const header = new Uint8Array(3);
  header[0] = round;
  new DataView(header.buffer).setUint16(1, sender);
  return keccak256(concat([TAG, ceremonyId, header, hash]));
}

/** The digest `message` is signed over. */
export function digestOf(message: Unsigned<DkgMessage>): string {
  return signingDigest(message.ceremonyId, message.round, message.sender, payloadHash(message));
}

const bytes = z.instanceof(Uint8Array);
const index = z.number().int().min(1).max(0xffff);
const header = { ceremonyId: bytes, sender: index, signature: bytes };
const deal = z.object({
  ...header,
  round: z.literal(1),
  commitments: z.array(bytes).max(1024),
  ciphertexts: z.array(bytes).max(1024),
});
const complaints = z.object({
  ...header,
  round: z.literal(2),
  echoes: z.array(z.object({ dealer: index, payloadHash: bytes, signature: bytes })).max(1024),
  complaints: z.array(z.object({ dealer: index, reason: z.enum(["bad-share", "missing"]) })).max(1024),
});
const justification = z.object({
  ...header,
  round: z.literal(3),
  deal,
  answers: z.array(z.object({ accuser: index, ephemeralSecret: bytes })).max(1024),
});
const message = z.discriminatedUnion("round", [deal, complaints, justification]);

/** `input` as a DkgMessage if it has a message's shape, else why not. */
export function parseMessage(input: unknown): { message: DkgMessage } | { problem: string } {
  const parsed = message.safeParse(input);
  if (parsed.success) return { message: parsed.data as DkgMessage };
  const issue = parsed.error.issues[0];
  return { problem: issue === undefined ? "not a message" : `${issue.path.join(".") || "message"}: ${issue.message}` };
}
