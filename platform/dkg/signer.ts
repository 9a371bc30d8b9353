/**
 * Who signs DKG messages: each operator signs every message it sends with a secp256k1 key the others
 * know by its address (the operator's enclave key, say), through the `DkgSigner` the caller provides.
 * `secp256k1Signer` is one on platform/secp256k1.ts (libsecp256k1, RFC 6979, low s); checking is
 * recovery of the signer's address.
 */
import { computeAddress, getAddress } from "ethers";

import { recoverSigner, signDigest } from "../secp256k1.js";

/** Signs 32-byte digests (0x-hex) for the operator whose address is `address`. */
export interface DkgSigner {
  readonly address: string;
  sign(digest: string): Uint8Array;
}

/** A DkgSigner with the secp256k1 private key `privateKey` (0x-hex, 32 bytes). */
export function secp256k1Signer(privateKey: string): DkgSigner {
  const address = computeAddress(privateKey);
  return { address, sign: (digest) => signDigest(privateKey, digest) };
}

/** Whether `signature` over `digest` recovers to `address`. */
export function signedBy(address: string, digest: string, signature: Uint8Array): boolean {
  const signer = recoverSigner(digest, signature);
  return signer !== undefined && signer === getAddress(address);
}
