/**
 * The encryption of a dealer's share to its recipient: ECIES on secp256k1 with eciesjs's defaults (the
 * scheme protocol/secret.ts uses for the network secret: ephemeral key ‖ AES-256-GCM nonce ‖ tag ‖
 * ciphertext, HKDF-SHA256 of the ephemeral and shared points), built from eciesjs's own parts so that
 * - the ephemeral key comes from the DKG's injected randomness, and the dealer can reveal it: with it,
 *   anyone can open that one ciphertext and check a complaint against it (GJKR's justification, made
 *   verifiable for an encrypted share);
 * - the ciphertext is bound (AES-GCM's associated data) to the ceremony, the dealer and the recipient,
 *   so it cannot be replayed into another ceremony or to another recipient.
 */
import { ECIES_CONFIG, PrivateKey, PublicKey } from "eciesjs";
import { symDecrypt, symEncrypt } from "eciesjs/utils";
import { concat, getBytes, toUtf8Bytes } from "ethers";

import type { DkgRandom } from "./random.js";

/** Bytes of a share's encryption: ephemeral key, nonce, GCM tag and the 32-byte share. */
export const SEALED_SHARE_LENGTH = ECIES_CONFIG.ephemeralKeySize + ECIES_CONFIG.symmetricNonceLength + 16 + 32;

const AAD_TAG = toUtf8Bytes("VEILNET-DKG-SHARE-V1");

/** The associated data of the share `dealer` encrypts to `recipient` in ceremony `ceremonyId`. */
export function shareAad(ceremonyId: Uint8Array, dealer: number, recipient: number): Uint8Array {
  const indices = new Uint8Array(4);
  new DataView(indices.buffer).setUint16(0, dealer);
  new DataView(indices.buffer).setUint16(2, recipient);
  return getBytes(concat([AAD_TAG, ceremonyId, indices]));
}

/** A fresh ephemeral secp256k1 secret key from `random`. */
export function ephemeralSecret(random: DkgRandom): Uint8Array {
  for (;;) {
    const candidate = random.bytes(32);
    try {
      return new PrivateKey(candidate).secret;
    } catch {
      // not below the curve order, or zero: draw again
    }
  }
}

/** `share` encrypted to `recipientKey` (a secp256k1 public key) under the ephemeral key `ephemeral`. */
export function sealShare(
  recipientKey: Uint8Array,
  share: Uint8Array,
  ephemeral: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  const sk = new PrivateKey(ephemeral);
  const shared = sk.encapsulate(new PublicKey(recipientKey), ECIES_CONFIG.isHkdfKeyCompressed);
  const body = symEncrypt(ECIES_CONFIG, shared, share, aad);
  const out = new Uint8Array(ECIES_CONFIG.ephemeralKeySize + body.length);
  out.set(sk.publicKey.toBytes(ECIES_CONFIG.isEphemeralKeyCompressed), 0);
  out.set(body, ECIES_CONFIG.ephemeralKeySize);
  return out;
}

/** The share in `sealed`, opened by its recipient's secret key; throws if it does not open. */
export function openShare(recipientSecret: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  const ephemeralKey = new PublicKey(sealed.subarray(0, ECIES_CONFIG.ephemeralKeySize));
  const shared = ephemeralKey.decapsulate(new PrivateKey(recipientSecret), ECIES_CONFIG.isHkdfKeyCompressed);
  return symDecrypt(ECIES_CONFIG, shared, sealed.subarray(ECIES_CONFIG.ephemeralKeySize), aad);
}

/**
 * The share in `sealed`, opened by anyone with the ephemeral secret the dealer revealed: it must be the
 * secret of the ephemeral key in `sealed`. Throws if it is not, or the ciphertext does not open.
 */
export function openRevealed(
  ephemeral: Uint8Array,
  recipientKey: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  const sk = new PrivateKey(ephemeral);
  const claimed = sealed.subarray(0, ECIES_CONFIG.ephemeralKeySize);
  const actual = sk.publicKey.toBytes(ECIES_CONFIG.isEphemeralKeyCompressed);
  if (!Buffer.from(claimed).equals(Buffer.from(actual))) throw new Error("the revealed key is not the ciphertext's");
  const shared = sk.encapsulate(new PublicKey(recipientKey), ECIES_CONFIG.isHkdfKeyCompressed);
  return symDecrypt(ECIES_CONFIG, shared, sealed.subarray(ECIES_CONFIG.ephemeralKeySize), aad);
}
