/**
 * Veilnet's BLS12-381 threshold key (DESIGN §9.4, docs/distributed-key.md), on @noble/curves: keys and
 * signatures (signature in G1, public key in G2), the EIP-2537 forms L1 takes, Shamir shares with
 * Feldman commitments, threshold recovery, and the proof of possession.
 */
export * from "./errors.js";
export * from "./suite.js";
export * from "./encoding.js";
export * from "./keys.js";
export * from "./shares.js";
export * from "./pop.js";
