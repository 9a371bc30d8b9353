/**
 * The DKG's source of randomness, injected so a ceremony is reproducible in tests: the dealer's
 * polynomial (scalars of BLS12-381's Fr) and the ephemeral secp256k1 keys of the ECIES share
 * encryptions both come from it. In production it is the system CSPRNG (`systemRandom`).
 */
import { bytesToNumberBE } from "@noble/curves/utils.js";
import { randomBytes } from "@noble/hashes/utils.js";

import { Fr } from "../bls/index.js";

/** Uniform random bytes. */
export interface DkgRandom {
  bytes(length: number): Uint8Array;
}

/** The system CSPRNG. */
export const systemRandom: DkgRandom = { bytes: (length) => randomBytes(length) };

/** Bytes drawn to reduce into Fr: 48 (r is 255 bits), so the bias mod r is below 2⁻¹²⁸. */
const WIDE_SCALAR_BYTES = 48;

/** A scalar uniform in [1, r). */
export function randomScalar(random: DkgRandom): bigint {
  for (;;) {
    const x = Fr.create(bytesToNumberBE(random.bytes(WIDE_SCALAR_BYTES)));
    if (x !== 0n) return x;
  }
}
