/**
 * Worker configuration: environment variables, optionally layered over a JSON config file
 * (`--config file.json` or VEILNET_CONFIG) whose keys are the same variable names. Validated with zod
 * at start; a bad or missing field fails with one line naming it.
 */
import { existsSync, readFileSync } from "node:fs";

import { isHexString } from "ethers";
import { z } from "zod";

/** A configuration problem, meant to be printed as one line and end the process with a non-zero code. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const url = (protocols: string[]) =>
  z
    .string()
    .url()
    .refine((u) => protocols.some((p) => u.startsWith(`${p}://`)), {
      message: `must start with ${protocols.map((p) => `${p}://`).join(" or ")}`,
    });

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

const privateKey = z
  .string()
  .refine((k) => isHexString(k, 32), { message: "must be a 0x-prefixed 32-byte hex private key" });

/** Settings every worker shares. */
export const commonConfigSchema = z.object({
  L1_RPC_URL: url(["http", "https", "ws", "wss"]).describe("L1 JSON-RPC endpoint"),
  REDIS_URL: url(["redis", "rediss"])
    .default("redis://127.0.0.1:6379")
    .describe("Redis holding the queues, checkpoints and tx intents"),
  VEILNET_DEPLOYMENTS_DIR: z.string().min(1).optional().describe("Directory of deployments/<chainId>.json"),
  METRICS_PORT: int(0, 65535)
    .default(9464)
    .describe("Port of the HTTP server with /healthz and /metrics (0: any free port)"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/, "letters, digits, _ and - only")
    .default("veilnet")
    .describe("Prefix of every Redis key and queue (several networks can share one Redis)"),
  JOB_ATTEMPTS: int(1, 100).default(5).describe("Attempts of a job before it goes to the dead-letter queue"),
  JOB_BACKOFF_MS: int(1).default(1000).describe("First retry delay (ms); doubles each attempt"),
});

/** Settings of workers that send L1 transactions (one TxSender per key). */
export const senderConfigSchema = z.object({
  SIGNER_PRIVATE_KEY: privateKey.describe("Key that signs this worker's L1 transactions"),
  TX_CONFIRMATIONS: int(1, 1000).default(1).describe("Confirmations a transaction needs before it counts as done"),
  TX_RESEND_AFTER_MS: int(100)
    .default(30_000)
    .describe("A transaction not mined within this many ms is re-sent with higher fees"),
  TX_FEE_BUMP_PERCENT: int(10, 1000)
    .default(20)
    .describe("Fee bump per re-send, percent (at least 10, which nodes require to replace a transaction)"),
  TX_MAX_FEE_GWEI: z.coerce.number().positive().default(500).describe("Cap on maxFeePerGas in gwei"),
});

export type CommonConfig = z.infer<typeof commonConfigSchema>;
export type SenderConfig = z.infer<typeof senderConfigSchema>;

/** The raw key/value source: the config file (if any) overlaid by the environment. */
export function configSource(
  env: NodeJS.ProcessEnv = process.env,
  file: string | undefined = env.VEILNET_CONFIG,
): Record<string, unknown> {
  let fromFile: Record<string, unknown> = {};
  if (file !== undefined && file !== "") {
    if (!existsSync(file)) throw new ConfigError(`config: file ${file} does not exist`);
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new Error("not a JSON object");
      }
      fromFile = parsed as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`config: file ${file} is not valid: ${(e as Error).message}`);
    }
  }
  const fromEnv = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  return { ...fromFile, ...fromEnv };
}

/**
 * Validates `source` against `schema`. Fails with a ConfigError whose message is one line naming every
 * bad field, e.g. `config: L1_RPC_URL: Required; METRICS_PORT: Number must be less than or equal to 65535`.
 */
export function parseConfig<S extends z.ZodTypeAny>(schema: S, source: Record<string, unknown>): z.infer<S> {
  const result = schema.safeParse(source);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new ConfigError(`config: ${issues.join("; ")}`);
  }
  return result.data as z.infer<S>;
}
