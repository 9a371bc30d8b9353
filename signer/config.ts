/**
 * Settings of `veilnet signer` (docs/distributed-key.md, "Slashing protection and the remote signer"):
 * environment variables, optionally layered over a JSON file (`--config` or VEILNET_CONFIG), validated
 * with zod at start like every process's (a bad one stops it with one line naming it, exit 2). The
 * signer needs neither Redis nor the L1: its shares come from SIGNER_KEYSTORE, its slashing-protection
 * record lives in SIGNER_DATA_DIR and is bound to one RollupRegistry (SIGNER_CHAIN_ID and
 * SIGNER_ROLLUP_REGISTRY).
 */
import { isAddress } from "ethers";
import { z } from "zod";

import { commonConfigSchema } from "../platform/config.js";
import { runtimeConfigSchema } from "../platform/runtime.js";

/** Default port of the signer's API (Web3Signer's). */
export const DEFAULT_SIGNER_PORT = 9000;

/** The shortest shared secret accepted. */
export const MIN_AUTH_TOKEN_LENGTH = 32;

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

export const signerConfigSchema = z.object({
  SIGNER_PORT: int(0, 65535)
    .default(DEFAULT_SIGNER_PORT)
    .describe("Port of the signer's API (/upcheck, /api/v1/eth2/publicKeys, /api/v1/eth2/sign/{key}; 0: any free)"),
  SIGNER_HOST: z
    .string()
    .min(1)
    .default("127.0.0.1")
    .describe("Interface the signer's API binds (keep it on a private network: see docs/distributed-key.md)"),
  SIGNER_AUTH_TOKEN: z
    .string()
    .min(MIN_AUTH_TOKEN_LENGTH, `must be at least ${MIN_AUTH_TOKEN_LENGTH} characters`)
    .describe("Shared secret every client sends as `Authorization: Bearer <token>`"),
  SIGNER_KEYSTORE: z
    .string()
    .min(1)
    .describe('JSON file of the BLS shares ({"version":1,"shares":[{"secretKey":"0x…"}]}), plaintext, mode 0600'),
  SIGNER_DATA_DIR: z
    .string()
    .min(1)
    .default("signer-data")
    .describe("Directory of the slashing-protection record (signed.jsonl, registry.json, signer.lock; mode 0700)"),
  SIGNER_CHAIN_ID: z
    .string()
    .regex(/^[1-9][0-9]{0,19}$/, "must be a positive decimal chain id")
    .transform((c) => BigInt(c))
    .describe("Chain id of the L1 the RollupRegistry is on (the EIP-712 domain's chainId)"),
  SIGNER_ROLLUP_REGISTRY: z
    .string()
    .refine((a) => isAddress(a), "must be an address")
    .describe("The RollupRegistry address the shares sign for (the EIP-712 domain's verifyingContract)"),
});

/** The common settings the signer reads (no Redis, no L1). */
export const signerCommonConfigSchema = commonConfigSchema.pick({ METRICS_PORT: true, LOG_LEVEL: true });

/** The runtime settings the signer reads. */
export const signerRuntimeConfigSchema = runtimeConfigSchema.pick({ METRICS_HOST: true });

export type SignerConfig = z.infer<typeof signerConfigSchema>;
export type SignerProcessConfig = SignerConfig &
  z.infer<typeof signerCommonConfigSchema> &
  z.infer<typeof signerRuntimeConfigSchema>;

/** Settings of `veilnet slashing-protection export|import`: where the record is and what it is for. */
export const slashingProtectionCommandSchema = signerConfigSchema.pick({
  SIGNER_DATA_DIR: true,
  SIGNER_CHAIN_ID: true,
  SIGNER_ROLLUP_REGISTRY: true,
});
