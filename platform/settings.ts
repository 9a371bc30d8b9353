/**
 * The settings of a service (environment variables / config file keys) as documentation, read from
 * the zod schemas that parse them (`.describe()`), and the shape of a registry of services by name:
 * what `veilnet --help` prints and what the runtime starts.
 */
import { z } from "zod";

import { commonConfigSchema } from "./config.js";
import type { ServiceFactory } from "./context.js";

/** One setting (environment variable / config file key), for help texts. */
export interface SettingDoc {
  name: string;
  description: string;
  required: boolean;
  /** Default value, as text. */
  default?: string;
}

export interface WorkerEntry {
  /** One line for `--help`. */
  description: string;
  /** Imports the worker's module and returns its factory. */
  load(): Promise<ServiceFactory>;
  /** The worker's own settings (besides the common ones). */
  settings(): Promise<SettingDoc[]>;
}

export type WorkerRegistry = Readonly<Record<string, WorkerEntry>>;

/** What the comments of the schemas say, for settings whose schema carries no `.describe()`. */
export const SETTING_DESCRIPTIONS: Readonly<Record<string, string>> = {
  L1_RPC_URL: "L1 JSON-RPC endpoint (http(s):// or ws(s)://)",
  REDIS_URL: "Redis holding the queues, checkpoints and tx intents (redis:// or rediss://)",
  VEILNET_DEPLOYMENTS_DIR: "Directory of deployments/<chainId>.json (default: <repo>/deployments)",
  METRICS_PORT: "Port of the HTTP server with /healthz and /metrics (0: any free port)",
  LOG_LEVEL: "fatal, error, warn, info, debug, trace or silent",
  QUEUE_PREFIX: "Prefix of every Redis key and queue (several networks can share one Redis)",
  JOB_ATTEMPTS: "Attempts of a job before it goes to the dead-letter queue",
  JOB_BACKOFF_MS: "First retry delay in ms (doubles each attempt)",
  SIGNER_PRIVATE_KEY: "Key that signs this worker's L1 transactions (0x + 64 hex digits)",
  TX_CONFIRMATIONS: "Confirmations a transaction needs before it counts as done",
  TX_RESEND_AFTER_MS: "A transaction not mined within this many ms is re-sent with higher fees",
  TX_FEE_BUMP_PERCENT: "Fee bump per re-send, percent (at least 10)",
  TX_MAX_FEE_GWEI: "Cap on maxFeePerGas, in gwei",
  METRICS_HOST: "Interface the /healthz and /metrics server binds",
  SHUTDOWN_TIMEOUT_MS: "On SIGINT/SIGTERM, how long the services get to stop before the process exits anyway (ms)",
};

/** The settings a zod object schema reads: name, required or default, description. */
export function describeSchema(schema: z.AnyZodObject, descriptions = SETTING_DESCRIPTIONS): SettingDoc[] {
  return Object.entries(schema.shape as Record<string, z.ZodTypeAny>).map(([name, field]) => {
    let inner: z.ZodTypeAny = field;
    let defaultValue: string | undefined;
    for (;;) {
      if (inner instanceof z.ZodDefault) {
        const d: unknown = (inner._def as z.ZodDefaultDef).defaultValue();
        defaultValue ??= typeof d === "string" ? d : typeof d === "bigint" ? d.toString() : JSON.stringify(d);
        inner = (inner._def as z.ZodDefaultDef).innerType;
      } else if (inner instanceof z.ZodOptional || inner instanceof z.ZodNullable) {
        inner = inner.unwrap() as z.ZodTypeAny;
      } else if (inner instanceof z.ZodEffects) {
        inner = inner.innerType() as z.ZodTypeAny;
      } else break;
    }
    const doc: SettingDoc = {
      name,
      description: field.description ?? inner.description ?? descriptions[name] ?? "",
      required: !field.isOptional(),
    };
    if (defaultValue !== undefined) doc.default = defaultValue;
    return doc;
  });
}

/** The settings of the common schema (every worker reads them). */
export function commonSettings(): SettingDoc[] {
  return describeSchema(commonConfigSchema);
}

/**
 * The settings a worker module documents: every exported zod object schema whose export name ends in
 * `Schema` (e.g. `withdrawalProcessorConfigSchema`): their UPPER_SNAKE keys but the common ones;
 * `fallback` when it exports none.
 */
export function moduleSettings(module: Record<string, unknown>, fallback: SettingDoc[]): SettingDoc[] {
  const common = new Set(Object.keys(commonConfigSchema.shape));
  const found = new Map<string, SettingDoc>();
  for (const [exportName, value] of Object.entries(module)) {
    if (!exportName.endsWith("Schema") || !(value instanceof z.ZodObject)) continue;
    for (const doc of describeSchema(value as z.AnyZodObject)) {
      if (/^[A-Z][A-Z0-9_]*$/.test(doc.name) && !common.has(doc.name) && !found.has(doc.name)) {
        found.set(doc.name, doc);
      }
    }
  }
  return found.size > 0 ? [...found.values()] : fallback;
}
