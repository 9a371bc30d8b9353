/**
 * The wire format of the remote signer's HTTP API (EIP-3030, at Web3Signer's paths, adapted to rollup
 * headers; docs/distributed-key.md), shared by the server (`veilnet signer`) and its client
 * (remote.ts): the paths, the sign request's body with its zod schema, and the header and domain as
 * JSON (integers as decimal strings, bytes as 0x-hex).
 */
import { TypedDataEncoder, getAddress, isAddress } from "ethers";
import { z } from "zod";

import { ROLLUP_HEADER_TYPES, type RollupHeader, rollupRegistryDomain } from "../../protocol/rollup.js";

/** The API's paths. */
export const SIGNER_PATHS = {
  upcheck: "/upcheck",
  publicKeys: "/api/v1/eth2/publicKeys",
  /** Followed by the share's public key (0x-hex, 96 bytes compressed). */
  sign: "/api/v1/eth2/sign/",
} as const;

/** The only signing type the signer knows. */
export const ROLLUP_HEADER_TYPE = "ROLLUP_HEADER";

/** The EIP-712 domain of a RollupRegistry, as the API carries it. */
export interface SigningDomain {
  chainId: bigint;
  verifyingContract: string;
}

const UINT64_MAX = (1n << 64n) - 1n;
const uint = (max: bigint) =>
  z
    .string()
    .regex(/^(0|[1-9][0-9]*)$/, "must be a decimal string")
    .refine((s) => BigInt(s) <= max, "out of range")
    .transform((s) => BigInt(s));
const bytes32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "must be 0x and 32 bytes of hex")
  .transform((s) => s.toLowerCase());

const headerSchema = z
  .object({
    firstBatchSeq: uint(UINT64_MAX),
    lastBatchSeq: uint(UINT64_MAX),
    lastBatchHash: bytes32,
    previousBatchHash: bytes32,
    l1BlockNumber: uint(UINT64_MAX),
    l1BlockHash: bytes32,
    messageRoot: bytes32,
    payloadHash: bytes32,
    revelationEpoch: uint(UINT64_MAX),
    keyCommitment: bytes32,
  })
  .strict()
  .refine((h) => h.lastBatchSeq >= h.firstBatchSeq, { message: "lastBatchSeq is below firstBatchSeq" });

/** The body of `POST /api/v1/eth2/sign/{identifier}`. */
export const signRequestSchema = z
  .object({
    type: z.literal(ROLLUP_HEADER_TYPE, { errorMap: () => ({ message: `type must be "${ROLLUP_HEADER_TYPE}"` }) }),
    /** Optional: when given, it must be the digest the signer computes from the header and domain. */
    signingRoot: bytes32.optional(),
    rollupHeader: headerSchema,
    domain: z
      .object({
        chainId: uint(UINT64_MAX),
        verifyingContract: z
          .string()
          .refine((a) => isAddress(a), "must be an address")
          .transform((a) => getAddress(a)),
      })
      .strict(),
  })
  .strict();

export type SignRequest = z.infer<typeof signRequestSchema>;

/** The JSON of a sign request for `header` under `domain`. */
export function signRequestJson(header: RollupHeader, domain: SigningDomain, signingRoot?: string): unknown {
  const h: Record<string, string> = {};
  for (const { name } of ROLLUP_HEADER_TYPES.RollupHeader) {
    const v = header[name as keyof RollupHeader];
    h[name] = typeof v === "bigint" ? v.toString() : v;
  }
  return {
    type: ROLLUP_HEADER_TYPE,
    ...(signingRoot === undefined ? {} : { signingRoot }),
    rollupHeader: h,
    domain: { chainId: domain.chainId.toString(), verifyingContract: domain.verifyingContract },
  };
}

/** A rollup header's signing root: its EIP-712 digest under the RollupRegistry domain (lower-case hex). */
export function signingRootOf(header: RollupHeader, domain: SigningDomain): string {
  return TypedDataEncoder.hash(
    rollupRegistryDomain(domain.chainId, domain.verifyingContract),
    ROLLUP_HEADER_TYPES,
    header,
  ).toLowerCase();
}

/** The body of a successful sign: the share's signature, 48 bytes compressed G1, 0x-hex. */
export interface SignResponse {
  signature: string;
}

/** The body of an error answer. */
export interface ErrorResponse {
  error: string;
  /** For a 412: the slashing-protection rule that refused ("double-sign" or "overlap"). */
  reason?: string;
}

/** A public key as the API spells it: 0x and 192 lower-case hex digits (96 bytes, compressed G2). */
export function normalizePublicKey(input: string): string | undefined {
  return /^0x[0-9a-fA-F]{192}$/.test(input) ? input.toLowerCase() : undefined;
}
