/** Settings of `npx veilnet node` (sequencer or validator), besides the common worker settings. */
import path from "node:path";

import { z } from "zod";

import { Enclave, EnclaveStateError } from "../secret/enclave.js";
import { ConfigError } from "../../platform/config.js";

export const nodeConfigSchema = z.object({
  /** The enclave's state file (key, measurement, network secret; mode 0600, a dev stand-in for sealing). */
  ENCLAVE_STATE_FILE: z
    .string()
    .min(1)
    .describe("The enclave's state file (key, measurement and network secret; mode 0600)"),
  /** Where the sequencer keeps its sealed batches and mempool journal (default: l2-data beside the state file). */
  NODE_DATA_DIR: z
    .string()
    .min(1)
    .optional()
    .describe("Directory of the sealed batches and mempool journal (default: <state file dir>/l2-data)"),
  /** Port of the plain L2 JSON-RPC endpoint (0: any free port). */
  L2_RPC_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(8645)
    .describe("Port of the L2 JSON-RPC endpoint (0: any free port)"),
  /** Interface the L2 JSON-RPC endpoint binds. */
  L2_RPC_HOST: z.string().min(1).default("127.0.0.1").describe("Interface the L2 JSON-RPC endpoint binds"),
  /**
   * Serve every L2 JSON-RPC method in plain, unfiltered (balances, transactions, logs of everyone).
   * Operators and debugging only: it breaks privacy. Off, the endpoint serves the public methods in
   * plain and everything else through the gateway's encrypted channel, under the privacy rules.
   */
  L2_RPC_UNFILTERED: z
    .enum(["true", "false", "1", "0"])
    .default("false")
    .transform((v) => v === "true" || v === "1")
    .describe(
      "Serves every L2 JSON-RPC method unfiltered in plain (true/false): operators and debugging only, breaks privacy",
    ),
  /**
   * Port of the enclave host interface (enclave/host): `enclave_status` and `enclave_answerSecretRequest`
   * for this operator's secret-responder (its ENCLAVE_HOST_URL). Unset: not served. 0: any free port.
   */
  ENCLAVE_HOST_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .optional()
    .describe(
      "Port of the enclave host interface the secret-responder asks (ENCLAVE_HOST_URL); unset: not served, 0: any free port",
    ),
  /** Interface the enclave host interface binds: keep it off public interfaces (docs/trust-model.md). */
  ENCLAVE_HOST_ADDRESS: z
    .string()
    .min(1)
    .default("127.0.0.1")
    .describe("Interface the enclave host interface binds (keep it private: only the operator's workers call it)"),
  /** Time between two batches, ms. */
  BATCH_INTERVAL_MS: z.coerce.number().int().min(10).default(1000).describe("Time between two batches, ms"),
  /** Most user transactions in one batch. */
  MAX_TXS_PER_BATCH: z.coerce.number().int().min(1).default(5000).describe("Most user transactions in one batch"),
  /** Most bytes of signed user transactions in one batch (a rollup must fit one 128 KiB L1 transaction). */
  MAX_BATCH_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(120_000)
    .default(100_000)
    .describe("Most bytes of signed user transactions in one batch (a rollup must fit one 128 KiB L1 transaction)"),
  /** Lowest priority fee the mempool accepts, wei per gas (the L2 base fee is 0). */
  MIN_PRIORITY_FEE_WEI: z.coerce
    .bigint()
    .min(0n)
    .default(1_000_000n)
    .describe("Lowest priority fee the mempool accepts, wei per gas (the L2 base fee is 0)"),
  /** Multiplier of the L1 data fee, percent. */
  L1_FEE_SCALAR_PERCENT: z.coerce
    .bigint()
    .min(0n)
    .default(100n)
    .describe(
      "Multiplier of the L1 data fee charged to L2 transactions, percent (part of consensus: validators must use the sequencer's)",
    ),
  /** L1 blocks a deposit or rollup must be buried under before the node reads it. */
  L1_CONFIRMATIONS: z.coerce
    .number()
    .int()
    .min(0)
    .default(1)
    .describe("L1 blocks a deposit or rollup must be buried under before the node reads it"),
  /** How often a validator looks for new rollups, ms. */
  VALIDATOR_POLL_MS: z.coerce
    .number()
    .int()
    .min(10)
    .default(1000)
    .describe("How often a validator looks for new rollups, ms"),
});

export type NodeConfig = z.infer<typeof nodeConfigSchema>;

/** The enclave of ENCLAVE_STATE_FILE; it must hold the network secret. */
export function loadNodeEnclave(file: string): Enclave {
  let enclave: Enclave;
  try {
    enclave = Enclave.load(file);
  } catch (e) {
    if (e instanceof EnclaveStateError) throw new ConfigError(`config: ENCLAVE_STATE_FILE: ${e.message}`);
    throw e;
  }
  if (!enclave.hasSecret) {
    throw new ConfigError(
      `config: ENCLAVE_STATE_FILE: enclave ${enclave.address} in ${file} holds no network secret (run \`veilnet enclave init\` or \`veilnet node --validator\`, which joins)`,
    );
  }
  return enclave;
}

export function dataDirOf(config: NodeConfig): string {
  return config.NODE_DATA_DIR ?? path.join(path.dirname(path.resolve(config.ENCLAVE_STATE_FILE)), "l2-data");
}
