/**
 * Key derivation from the network secret (DESIGN §6):
 * `derive(secret, label) = keccak256(keccak256(secret) ‖ utf8(label))`.
 *
 * Every enclave holding the secret derives the same keys, so keys never travel: only the secret does
 * (ECIES to an attested enclave). Labels name what a key is for; use the helpers below so every
 * component spells them the same way.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { concatBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { type BytesLike, getBytes, hexlify } from "ethers";

/** Bytes of the network secret and of every derived key. */
export const SECRET_LENGTH = 32;

/** The 32-byte key for `label`, derived from `secret` (32 bytes), as 0x-hex. */
export function derive(secret: BytesLike, label: string): string {
  return hexlify(deriveBytes(secret, label));
}

/** `derive` as raw bytes (for ciphers that take a Uint8Array key). */
export function deriveBytes(secret: BytesLike, label: string): Uint8Array {
  const bytes = getBytes(secret);
  if (bytes.length !== SECRET_LENGTH) {
    throw new Error(`derive: the secret must be ${SECRET_LENGTH} bytes, got ${bytes.length}`);
  }
  if (label === "") throw new Error("derive: the label must not be empty");
  return keccak_256(concatBytes(keccak_256(bytes), utf8ToBytes(label)));
}

/** Labels of the keys derived from the network secret. */
export const DerivationLabels = {
  /** AES-256-GCM key of the rollup payloads of revelation epoch `epoch`. */
  rollupEpoch: (epoch: bigint | number): string => `veilnet/rollup-epoch/${BigInt(epoch).toString()}`,
  /** Key of the gateway's encrypted RPC channel. */
  rpc: "veilnet/rpc",
  /** Entropy of batch `batchSeq` (exposed to L2 contracts as `prevrandao`). */
  batchEntropy: (batchSeq: bigint | number): string => `veilnet/entropy/${BigInt(batchSeq).toString()}`,
  /** AES-256-GCM key of the committee's batch proposals (the QBFT values in gossip). */
  consensusValue: "veilnet/consensus/value",
  /** AES-256-GCM key of users' transactions forwarded to the committee over gossip. */
  txGossip: "veilnet/gossip/tx",
} as const;
