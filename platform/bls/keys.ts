/**
 * BLS keys and signatures in Veilnet's suite (suite.ts): a secret key is a scalar of Fr (32 bytes
 * big-endian, never zero), its public key is sk·G2, a signature of a 32-byte digest is sk·H(digest)
 * with H RFC 9380's hash to G1 under a Veilnet tag. Each public key and signature comes in both its
 * compressed form and the EIP-2537 form L1 takes. The curve work is @noble/curves'.
 */
import { bytesToNumberBE, numberToBytesBE } from "@noble/curves/utils.js";

import {
  type BytesLike,
  type G1Point,
  type G2Point,
  bytesOf,
  decodeG1,
  decodeG2,
  g1ToEip2537,
  g2ToEip2537,
  hexOf,
} from "./encoding.js";
import { BlsError } from "./errors.js";
import { LENGTHS, R, ROLLUP_DST, curve } from "./suite.js";

/** A public key (a G2 point) in both forms. */
export interface PublicKey {
  /** 96 bytes, compressed. */
  readonly bytes: Uint8Array;
  /** 256 bytes, EIP-2537. */
  readonly eip2537: Uint8Array;
}

/** A signature (a G1 point) in both forms. */
export interface Signature {
  /** 48 bytes, compressed. */
  readonly bytes: Uint8Array;
  /** 128 bytes, EIP-2537. */
  readonly eip2537: Uint8Array;
}

/** A public key as a PublicKey, or its bytes (96 compressed or 256 EIP-2537, or the same as 0x-hex). */
export type PublicKeyInput = PublicKey | BytesLike;
/** A signature as a Signature, or its bytes (48 compressed or 128 EIP-2537, or the same as 0x-hex). */
export type SignatureInput = Signature | BytesLike;

/** Seeds shorter than this are refused by deriveSecretKey. */
const MIN_SEED_BYTES = 32;
/** The tag deriveSecretKey hashes its seed to Fr under. */
const KEYGEN_DST = "VEILNET-KEYGEN-V1_BLS12381_XMD:SHA-256_";

/** A fresh secret key from the system's CSPRNG: uniform in [1, r). */
export function generateSecretKey(): Uint8Array {
  return curve.utils.randomSecretKey();
}

/**
 * A secret key derived from `seed` (at least 32 bytes) by RFC 9380's hash to Fr: the same seed gives the
 * same key. For test vectors and fixtures; a production key comes from generateSecretKey or a DKG.
 */
export function deriveSecretKey(seed: Uint8Array): Uint8Array {
  if (seed.length < MIN_SEED_BYTES) throw new BlsError("seed", `at least ${MIN_SEED_BYTES} bytes, got ${seed.length}`);
  const scalar = curve.G1.hashToScalar(seed, { DST: KEYGEN_DST });
  if (scalar === 0n) throw new BlsError("seed", "hashes to the zero scalar");
  return numberToBytesBE(scalar, LENGTHS.secretKey);
}

/** The bytes of a secret key, checked: 32 bytes big-endian of a scalar in [1, r). */
function secretKeyBytes(secretKey: BytesLike): Uint8Array {
  const bytes = bytesOf(secretKey, "secret key");
  if (bytes.length !== LENGTHS.secretKey) throw new BlsError("secret key", `32 bytes, got ${bytes.length}`);
  const scalar = bytesToNumberBE(bytes);
  if (scalar === 0n) throw new BlsError("secret key", "is zero");
  if (scalar >= R) throw new BlsError("secret key", "is not below the group order r");
  return bytes;
}

/** The scalar of a secret key (32 bytes big-endian in [1, r)). */
export function scalarOf(secretKey: BytesLike): bigint {
  return bytesToNumberBE(secretKeyBytes(secretKey));
}

/** The secret key whose scalar is `scalar` (in [1, r)). */
export function secretKeyOf(scalar: bigint): Uint8Array {
  if (scalar <= 0n || scalar >= R) throw new BlsError("secret key", "scalar outside [1, r)");
  return numberToBytesBE(scalar, LENGTHS.secretKey);
}

/** The PublicKey of a G2 point. */
export function publicKeyFromPoint(p: G2Point): PublicKey {
  return { bytes: p.toBytes(true), eip2537: g2ToEip2537(p) };
}

/** The Signature of a G1 point. */
export function signatureFromPoint(p: G1Point): Signature {
  return { bytes: p.toBytes(true), eip2537: g1ToEip2537(p) };
}

/** Public keys parsed lately, by their bytes' hex: a node checks partials against the same few share keys. */
const parsedKeys = new Map<string, G2Point>();
const PARSED_KEYS_MAX = 1024;

/**
 * The G2 point of a public key: in the subgroup and not the point at infinity (which any signature would
 * fool). Parsing one (decompression, subgroup check) costs about an eighth of a verification, so the
 * last 1,024 keys parsed are kept.
 */
export function publicKeyPoint(input: PublicKeyInput): G2Point {
  const bytes = bytesOf(typeof input === "string" || input instanceof Uint8Array ? input : input.bytes, "public key");
  const key = hexOf(bytes);
  const known = parsedKeys.get(key);
  if (known !== undefined) return known;
  const p = decodeG2(bytes, "public key");
  if (p.is0()) throw new BlsError("public key", "is the point at infinity");
  if (parsedKeys.size >= PARSED_KEYS_MAX) parsedKeys.delete(parsedKeys.keys().next().value!);
  parsedKeys.set(key, p);
  return p;
}

/** The G1 point of a signature: in the subgroup and not the point at infinity. */
export function signaturePoint(input: SignatureInput): G1Point {
  const p = decodeG1(typeof input === "string" || input instanceof Uint8Array ? input : input.bytes, "signature");
  if (p.is0()) throw new BlsError("signature", "is the point at infinity");
  return p;
}

/** The public key sk·G2 of `secretKey`. */
export function publicKeyOf(secretKey: BytesLike): PublicKey {
  return publicKeyFromPoint(curve.shortSignatures.getPublicKey(secretKeyBytes(secretKey)));
}

/** The 32 bytes of a digest. */
function digestBytes(digest: BytesLike): Uint8Array {
  const bytes = bytesOf(digest, "digest");
  if (bytes.length !== LENGTHS.digest) throw new BlsError("digest", `32 bytes, got ${bytes.length}`);
  return bytes;
}

/** RFC 9380 hash_to_curve of `message` to G1 under `dst` (BLS12381G1_XMD:SHA-256_SSWU_RO_). */
export function hashToG1(message: Uint8Array, dst: string = ROLLUP_DST): G1Point {
  return curve.G1.hashToCurve(message, { DST: dst });
}

/** The signature sk·H(digest) of a 32-byte digest (a rollup header's EIP-712 digest), H under `dst`. */
export function sign(secretKey: BytesLike, digest: BytesLike, dst: string = ROLLUP_DST): Signature {
  const sk = secretKeyBytes(secretKey);
  return signatureFromPoint(curve.shortSignatures.sign(hashToG1(digestBytes(digest), dst), sk));
}

/**
 * Whether `signature` is `publicKey`'s signature of `digest` under `dst`: e(σ, G2) = e(H(digest), pk).
 * False for a well-formed signature that does not verify; a BlsError for a malformed key or signature.
 */
export function verify(
  publicKey: PublicKeyInput,
  digest: BytesLike,
  signature: SignatureInput,
  dst: string = ROLLUP_DST,
): boolean {
  const pk = publicKeyPoint(publicKey);
  const sig = signaturePoint(signature);
  return curve.shortSignatures.verify(sig, hashToG1(digestBytes(digest), dst), pk);
}
