/**
 * A committee's threshold key dealt to its members (DESIGN §9.4; the dealer split of `veilnet keys
 * split`, as ssv-keys splits a validator key): the public key, the Feldman commitments and, per member,
 * its Shamir share sealed (ECIES, eciesjs) to that member's enclave key, so only that enclave can open it
 * — the shape of the `shares` ssv-network's registerValidator takes. The dealer, who held the whole key,
 * must forget it; the DKG (issue 13) removes the dealer.
 *
 * A sealed share's plaintext is tagged ("veilnet-key-share-v1", the committee id, the share index) so a
 * ciphertext made for another purpose (the network secret is also ECIES to the enclave key) never opens
 * as a share, and an enclave only ever reveals the share's public key, never the plaintext.
 */
import { encrypt } from "eciesjs";
import { getBytes, hexlify } from "ethers";
import { z } from "zod";

import {
  type PublicKey,
  generateSecretKey,
  hexOf,
  publicKeyFromPoint,
  publicKeyPoint,
  sharePublicKey,
  splitSecret,
  thresholdFor,
  verifyShare,
} from "../../platform/bls/index.js";

const TAG = new TextEncoder().encode("veilnet-key-share-v1");
const SHARE_LENGTH = 32;

/** A dealing that is malformed, or a share that does not open or does not match the commitments. */
export class KeyDealingError extends Error {
  constructor(message: string) {
    super(`key dealing: ${message}`);
    this.name = "KeyDealingError";
  }
}

/** One member's entry of a dealing. */
export interface DealtShare {
  operatorId: number;
  /** The share's index (1..n): the x at which the dealer's polynomial was evaluated. */
  index: number;
  /** The enclave the share is sealed to (its address, for the reader). */
  enclave: string;
  /** ECIES ciphertext of the tagged share, to the enclave's public key (hex). */
  sealedShare: string;
}

/** What `veilnet keys split` writes and every member's node reads (COMMITTEE_KEY_FILE). */
export interface KeyDealing {
  version: 1;
  committeeId: string;
  /** The committee's public key, EIP-2537 form (256 bytes, hex): what L1 registers. */
  publicKey: string;
  threshold: number;
  /** The Feldman commitments a_j·G2, EIP-2537 form (the first is the public key). */
  commitments: string[];
  /** In member order. */
  shares: DealtShare[];
}

/** A member to deal to: its operator id, its enclave's address and (uncompressed secp256k1) public key. */
export interface DealingMember {
  operatorId: number;
  enclave: string;
  enclavePublicKey: string;
}

function plaintextOf(committeeId: bigint, index: number, share: Uint8Array): Uint8Array {
  const out = new Uint8Array(TAG.length + 8 + 2 + SHARE_LENGTH);
  out.set(TAG, 0);
  new DataView(out.buffer).setBigUint64(TAG.length, committeeId);
  new DataView(out.buffer).setUint16(TAG.length + 8, index);
  out.set(share, TAG.length + 10);
  return out;
}

/**
 * Splits `secretKey` (a fresh one by default) among `members` (in member order, threshold 2f+1), each
 * share sealed to its member's enclave. Returns the dealing and the secret key (for the proof of
 * possession, which needs the whole key; then forget it).
 */
export function dealCommitteeKey(
  committeeId: bigint,
  members: readonly DealingMember[],
  secretKey: Uint8Array = generateSecretKey(),
): { dealing: KeyDealing; secretKey: Uint8Array } {
  if (members.length === 0) throw new KeyDealingError("no members to deal to");
  const split = splitSecret(secretKey, members.length, thresholdFor(members.length));
  const shares = members.map((m, i): DealtShare => {
    const share = split.shares[i];
    if (share === undefined) throw new KeyDealingError(`no share ${i + 1}`);
    return {
      operatorId: m.operatorId,
      index: share.index,
      enclave: m.enclave,
      sealedShare: hexlify(
        encrypt(getBytes(m.enclavePublicKey), plaintextOf(committeeId, share.index, share.secretKey)),
      ),
    };
  });
  return {
    dealing: {
      version: 1,
      committeeId: committeeId.toString(),
      publicKey: hexOf(split.publicKey.eip2537),
      threshold: split.threshold,
      commitments: split.commitments.map((c) => hexOf(c.eip2537)),
      shares,
    },
    secretKey,
  };
}

const hex = z.string().regex(/^0x([0-9a-fA-F]{2})+$/, "hex bytes");
const dealingJson = z
  .object({
    version: z.literal(1),
    committeeId: z.string().regex(/^[0-9]+$/, "a decimal committee id"),
    publicKey: hex,
    threshold: z.number().int().min(1),
    commitments: z.array(hex).min(1),
    shares: z
      .array(
        z
          .object({
            operatorId: z.number().int().min(1),
            index: z.number().int().min(1).max(1024),
            enclave: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "an address"),
            sealedShare: hex,
          })
          .strict(),
      )
      .min(1),
    /** What `veilnet keys split` adds for the registration (owner, nonce, proof of possession): not the node's. */
    registration: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/** Parses a dealing (JSON text or value); throws KeyDealingError naming the first bad field. */
export function parseKeyDealing(input: unknown): KeyDealing {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new KeyDealingError(`not JSON (${(error as Error).message})`);
    }
  }
  const parsed = dealingJson.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new KeyDealingError(`${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
  }
  const { registration: _registration, ...d } = parsed.data;
  if (d.commitments.length !== d.threshold) {
    throw new KeyDealingError(`${d.commitments.length} commitments for a threshold of ${d.threshold}`);
  }
  if (d.threshold !== thresholdFor(d.shares.length)) {
    throw new KeyDealingError(`threshold ${d.threshold} is not 2f+1 of ${d.shares.length} members`);
  }
  if (d.commitments[0]?.toLowerCase() !== d.publicKey.toLowerCase()) {
    throw new KeyDealingError("the first commitment is not the public key");
  }
  return d;
}

/** Each member's share (operator id → its index and public key, from the dealing's commitments). */
export function dealtShareKeys(dealing: KeyDealing): Map<number, { index: number; publicKey: PublicKey }> {
  return new Map(
    dealing.shares.map((s) => [
      s.operatorId,
      { index: s.index, publicKey: sharePublicKey(s.index, dealing.commitments) },
    ]),
  );
}

/** The public key in both forms (parsed: refuses a point that is not a valid key). */
export function dealingPublicKey(dealing: KeyDealing): PublicKey {
  return publicKeyFromPoint(publicKeyPoint(dealing.publicKey));
}

/**
 * Opens operator `operatorId`'s share with `decryptWith` (its enclave's ECIES decryption) and checks it
 * against the commitments; throws KeyDealingError (never showing the plaintext).
 */
export function openShare(
  dealing: KeyDealing,
  operatorId: number,
  decryptWith: (ciphertext: Uint8Array) => Uint8Array,
): { index: number; secretKey: Uint8Array } {
  const entry = dealing.shares.find((s) => s.operatorId === operatorId);
  if (entry === undefined) throw new KeyDealingError(`operator ${operatorId} has no share in the dealing`);
  let plaintext: Uint8Array;
  try {
    plaintext = decryptWith(getBytes(entry.sealedShare));
  } catch {
    throw new KeyDealingError(`operator ${operatorId}'s share does not open with this enclave's key`);
  }
  const expected = plaintextOf(BigInt(dealing.committeeId), entry.index, new Uint8Array(SHARE_LENGTH));
  const head = TAG.length + 10;
  if (
    plaintext.length !== head + SHARE_LENGTH ||
    !Buffer.from(plaintext.subarray(0, head)).equals(expected.subarray(0, head))
  ) {
    throw new KeyDealingError(
      `operator ${operatorId}'s sealed share is not a share of committee ${dealing.committeeId} at index ${entry.index}`,
    );
  }
  const secretKey = plaintext.slice(head);
  if (!verifyShare(entry.index, secretKey, dealing.commitments)) {
    throw new KeyDealingError(`operator ${operatorId}'s share does not match the dealing's commitments (a bad dealer)`);
  }
  return { index: entry.index, secretKey };
}
