/**
 * QBFT message signatures with the operator's secp256k1 key: 65 bytes (r, s, v) over
 * keccak256(encodeMessage(message)), recoverable to the operator's address as L1 records it. RFC 6979
 * signatures are deterministic, so a member replaying its log after a restart re-signs its messages
 * byte for byte.
 */
import { type SigningKey, keccak256 } from "ethers";

import { recoverSigner, signDigest } from "../../platform/secp256k1.js";

import { type Message, type OperatorId, type Signed, type Signer, type Verifier, encodeMessage } from "./qbft/index.js";

/** The digest an operator signs for `message`. */
export function messageDigest(message: Message): string {
  return keccak256(encodeMessage(message));
}

/** Signs this operator's QBFT messages with `key`. */
export function ecdsaSigner(key: SigningKey): Signer {
  return { sign: (message) => signDigest(key.privateKey, messageDigest(message)) };
}

/** Verifies QBFT signatures against the addresses of the committee's operators (`addressOf` gives undefined for a non-member). */
export function ecdsaVerifier(addressOf: (id: OperatorId) => string | undefined): Verifier {
  return {
    verify(signed: Signed, sender: OperatorId): boolean {
      const expected = addressOf(sender);
      if (expected === undefined || signed.signature.length !== 65) return false;
      try {
        const recovered = recoverSigner(messageDigest(signed.message), signed.signature);
        return recovered !== undefined && recovered.toLowerCase() === expected.toLowerCase();
      } catch {
        return false;
      }
    },
  };
}
