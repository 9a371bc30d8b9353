/**
 * A committee key's proof of possession, which L1 checks when the key is registered (issue 13): the key
 * signs keccak256(abi.encode(bytes publicKey, address owner, uint256 nonce)) — publicKey in its
 * 256-byte EIP-2537 form — hashed to G1 under POP_DST, a tag no rollup signature uses. It shows the
 * registrant holds (a threshold of shares of) the secret key, which stops rogue-key registrations, and
 * binds the registration to its owner and nonce so it cannot be replayed for another.
 */
import { AbiCoder, getAddress, getBytes, keccak256 } from "ethers";

import { type BytesLike, hexOf } from "./encoding.js";
import { BlsError } from "./errors.js";
import {
  type PublicKeyInput,
  type Signature,
  type SignatureInput,
  publicKeyFromPoint,
  publicKeyOf,
  publicKeyPoint,
  sign,
  verify,
} from "./keys.js";
import { POP_DST } from "./suite.js";

const UINT256_MAX = (1n << 256n) - 1n;

/** The 32-byte message a proof of possession signs: keccak256(abi.encode(bytes pk, address owner, uint256 nonce)). */
export function popMessage(publicKey: PublicKeyInput, owner: string, nonce: bigint): Uint8Array {
  const pk = publicKeyFromPoint(publicKeyPoint(publicKey));
  let address: string;
  try {
    address = getAddress(owner);
  } catch {
    throw new BlsError("owner", `not an address: ${owner}`);
  }
  if (nonce < 0n || nonce > UINT256_MAX) throw new BlsError("nonce", `outside uint256: ${nonce}`);
  const encoded = AbiCoder.defaultAbiCoder().encode(
    ["bytes", "address", "uint256"],
    [hexOf(pk.eip2537), address, nonce],
  );
  return getBytes(keccak256(encoded));
}

/** The proof that the holder of `secretKey` registers its public key for `owner` with `nonce`. */
export function proofOfPossession(secretKey: BytesLike, owner: string, nonce: bigint): Signature {
  return sign(secretKey, popMessage(publicKeyOf(secretKey), owner, nonce), POP_DST);
}

/** Whether `proof` is `publicKey`'s proof of possession for `owner` and `nonce`. */
export function verifyProofOfPossession(
  publicKey: PublicKeyInput,
  owner: string,
  nonce: bigint,
  proof: SignatureInput,
): boolean {
  return verify(publicKey, popMessage(publicKey, owner, nonce), proof, POP_DST);
}
