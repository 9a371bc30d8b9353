/**
 * The byte forms of BLS12-381 points that Veilnet uses, and their strict parsing:
 * - the compressed forms (ZCash / IETF: G1 48 bytes, G2 96), on the wire and in key files;
 * - EIP-2537's uncompressed forms (G1 128 bytes, G2 256), which the L1 precompiles take: each Fp
 *   element as 64 bytes big-endian (16 zero bytes, then 48), a G2 coordinate c0 + c1·u as c0 then c1,
 *   the point at infinity as all zeros.
 * Parsing refuses what is not a point of the prime-order subgroup (a G1 or G2 point off the subgroup
 * would break the pairing check's meaning), with a BlsError naming the input.
 */
import type { Fp2 } from "@noble/curves/abstract/tower.js";
import type { WeierstrassPoint } from "@noble/curves/abstract/weierstrass.js";
import { bytesToHex, bytesToNumberBE, hexToBytes, numberToBytesBE } from "@noble/curves/utils.js";

import { type BlsInput, BlsError } from "./errors.js";
import { Fp, G1, G2, LENGTHS } from "./suite.js";

/** A point of G1 (signatures, hashed messages). */
export type G1Point = WeierstrassPoint<bigint>;
/** A point of G2 (public keys, share commitments). */
export type G2Point = WeierstrassPoint<Fp2>;

/** Bytes, or the same as 0x-hex. */
export type BytesLike = Uint8Array | string;

const FP_BYTES = 48;
const EIP2537_FP_BYTES = 64;

/** `input` as bytes; 0x-hex is decoded (an odd length or a non-hex digit is refused). */
export function bytesOf(input: BytesLike, what: BlsInput): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (!/^0x([0-9a-fA-F]{2})*$/.test(input)) throw new BlsError(what, "expected bytes or 0x-hex of whole bytes");
  return hexToBytes(input.slice(2));
}

/** 0x-hex of `bytes`. */
export function hexOf(bytes: Uint8Array): string {
  return `0x${bytesToHex(bytes)}`;
}

/** One Fp element in EIP-2537's 64-byte form. */
function encodeFp(x: bigint): Uint8Array {
  const out = new Uint8Array(EIP2537_FP_BYTES);
  out.set(numberToBytesBE(x, FP_BYTES), EIP2537_FP_BYTES - FP_BYTES);
  return out;
}

/** One Fp element from EIP-2537's 64-byte form at `offset`: the padding must be zero and the value below p. */
function decodeFp(bytes: Uint8Array, offset: number, what: BlsInput): bigint {
  const padding = bytes.subarray(offset, offset + EIP2537_FP_BYTES - FP_BYTES);
  if (padding.some((b) => b !== 0)) throw new BlsError(what, "an EIP-2537 field element's top 16 bytes are not zero");
  const x = bytesToNumberBE(bytes.subarray(offset + EIP2537_FP_BYTES - FP_BYTES, offset + EIP2537_FP_BYTES));
  if (x >= Fp.ORDER) throw new BlsError(what, "an EIP-2537 field element is not below the field modulus");
  return x;
}

/** `p` checked to be on the curve and in the prime-order subgroup, else a BlsError. */
function validated<P extends G1Point | G2Point>(p: P, what: BlsInput): P {
  try {
    p.assertValidity();
  } catch (e) {
    throw new BlsError(what, `not a point of the prime-order subgroup (${(e as Error).message})`);
  }
  return p;
}

/** EIP-2537's 128-byte form of a G1 point. */
export function g1ToEip2537(p: G1Point): Uint8Array {
  const out = new Uint8Array(LENGTHS.eip2537G1);
  if (p.is0()) return out;
  const { x, y } = p.toAffine();
  out.set(encodeFp(x), 0);
  out.set(encodeFp(y), EIP2537_FP_BYTES);
  return out;
}

/** A G1 point from EIP-2537's 128-byte form (all zeros is the point at infinity). */
export function g1FromEip2537(input: BytesLike, what: BlsInput = "signature"): G1Point {
  const bytes = bytesOf(input, what);
  if (bytes.length !== LENGTHS.eip2537G1) throw new BlsError(what, `EIP-2537 G1 is 128 bytes, got ${bytes.length}`);
  const x = decodeFp(bytes, 0, what);
  const y = decodeFp(bytes, EIP2537_FP_BYTES, what);
  return validated(G1.fromAffine({ x, y }), what);
}

/** EIP-2537's 256-byte form of a G2 point: x.c0, x.c1, y.c0, y.c1. */
export function g2ToEip2537(p: G2Point): Uint8Array {
  const out = new Uint8Array(LENGTHS.eip2537G2);
  if (p.is0()) return out;
  const { x, y } = p.toAffine();
  [x.c0, x.c1, y.c0, y.c1].forEach((c, i) => out.set(encodeFp(c), i * EIP2537_FP_BYTES));
  return out;
}

/** A G2 point from EIP-2537's 256-byte form (all zeros is the point at infinity). */
export function g2FromEip2537(input: BytesLike, what: BlsInput = "public key"): G2Point {
  const bytes = bytesOf(input, what);
  if (bytes.length !== LENGTHS.eip2537G2) throw new BlsError(what, `EIP-2537 G2 is 256 bytes, got ${bytes.length}`);
  const [xc0, xc1, yc0, yc1] = [0, 1, 2, 3].map((i) => decodeFp(bytes, i * EIP2537_FP_BYTES, what)) as [
    bigint,
    bigint,
    bigint,
    bigint,
  ];
  return validated(G2.fromAffine({ x: { c0: xc0, c1: xc1 }, y: { c0: yc0, c1: yc1 } }), what);
}

/** A G1 point from its 48-byte compressed form or its 128-byte EIP-2537 form. */
export function decodeG1(input: BytesLike, what: BlsInput): G1Point {
  const bytes = bytesOf(input, what);
  if (bytes.length === LENGTHS.eip2537G1) return g1FromEip2537(bytes, what);
  if (bytes.length !== LENGTHS.signature) {
    throw new BlsError(what, `expected 48 bytes (compressed G1) or 128 (EIP-2537), got ${bytes.length}`);
  }
  try {
    return G1.fromBytes(bytes);
  } catch (e) {
    throw new BlsError(what, `not a compressed G1 point of the subgroup (${(e as Error).message})`);
  }
}

/** A G2 point from its 96-byte compressed form or its 256-byte EIP-2537 form. */
export function decodeG2(input: BytesLike, what: BlsInput): G2Point {
  const bytes = bytesOf(input, what);
  if (bytes.length === LENGTHS.eip2537G2) return g2FromEip2537(bytes, what);
  if (bytes.length !== LENGTHS.publicKey) {
    throw new BlsError(what, `expected 96 bytes (compressed G2) or 256 (EIP-2537), got ${bytes.length}`);
  }
  try {
    return G2.fromBytes(bytes);
  } catch (e) {
    throw new BlsError(what, `not a compressed G2 point of the subgroup (${(e as Error).message})`);
  }
}
