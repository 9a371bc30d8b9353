/**
 * Veilnet's BLS12-381 suite (docs/distributed-key.md): the "short signatures" variant — signature in G1
 * (48 bytes compressed), public key in G2 (96 bytes) — because L1 hashes to G1 for 2 × 5,500 gas against
 * 2 × 23,800 for G2 (EIP-2537). Hash-to-curve is RFC 9380's BLS12381G1_XMD:SHA-256_SSWU_RO_ under
 * Veilnet's own domain separation tags; the Solidity verifier uses the same tags and message encoding.
 * Every curve and field operation is @noble/curves'.
 */
import { bls12_381 } from "@noble/curves/bls12-381.js";

/** The tag a rollup header's 32-byte EIP-712 digest is hashed to G1 under (RFC 9380 §3.1). */
export const ROLLUP_DST = "VEILNET-ROLLUP-V1_BLS12381G1_XMD:SHA-256_SSWU_RO_";

/** The tag a proof of possession's message is hashed to G1 under: never the rollup tag. */
export const POP_DST = "VEILNET-POP-V1_BLS12381G1_XMD:SHA-256_SSWU_RO_";

/** The curve (G1, G2, pairing, hash-to-curve) and the scalar field Fr of order r. */
export const curve = bls12_381;
export const G1 = bls12_381.G1.Point;
export const G2 = bls12_381.G2.Point;
export const Fp = bls12_381.fields.Fp;
export const Fr = bls12_381.fields.Fr;

/** The order r of G1, G2 and Fr. */
export const R = Fr.ORDER;

/** Byte lengths of each form. */
export const LENGTHS = {
  secretKey: 32,
  digest: 32,
  /** ZCash/IETF compressed forms. */
  signature: 48,
  publicKey: 96,
  /** EIP-2537's uncompressed forms: each Fp as 64 bytes big-endian (16 zero bytes, then 48). */
  eip2537G1: 128,
  eip2537G2: 256,
} as const;

/** The EIP-2537 precompile addresses the Solidity verifier calls (Prague). */
export const EIP2537 = {
  G1ADD: "0x000000000000000000000000000000000000000b",
  G1MSM: "0x000000000000000000000000000000000000000c",
  G2ADD: "0x000000000000000000000000000000000000000d",
  G2MSM: "0x000000000000000000000000000000000000000e",
  PAIRING_CHECK: "0x000000000000000000000000000000000000000f",
  MAP_FP_TO_G1: "0x0000000000000000000000000000000000000010",
  MAP_FP2_TO_G2: "0x0000000000000000000000000000000000000011",
} as const;
