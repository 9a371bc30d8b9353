/**
 * The workers a `veilnet` process can run, by name, each loaded lazily (so a process only imports the
 * workers it runs), with the documentation of the settings each one reads (for `--help`).
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { z } from "zod";

import { commonConfigSchema, senderConfigSchema } from "./core/config.js";
import type { ServiceFactory } from "./core/context.js";

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

let commented: Map<string, string> | undefined;

/**
 * The doc comments of the settings in the workers' sources (`/** … *\/ NAME: z…` in a zod schema),
 * for help texts: the schemas are documented with comments, which do not exist at run time.
 */
export function settingComments(): Map<string, string> {
  if (commented !== undefined) return commented;
  commented = new Map();
  const root = path.dirname(fileURLToPath(import.meta.url));
  const files = (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith(".ts"));
  const pattern = /\/\*\*((?:[^*]|\*(?!\/))*)\*\/\s*([A-Z][A-Z0-9_]*)\s*:/g;
  for (const file of files) {
    const text = readFileSync(path.join(root, file), "utf8");
    for (const m of text.matchAll(pattern)) {
      const comment = m[1]
        .split("\n")
        .map((l) => l.replace(/^\s*\*?\s?/, "").trim())
        .filter((l) => l !== "")
        .join(" ")
        .replace(/\.$/, "");
      if (!commented.has(m[2])) commented.set(m[2], comment);
    }
  }
  return commented;
}

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
      description: field.description ?? inner.description ?? descriptions[name] ?? settingComments().get(name) ?? "",
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

/** The settings a worker module documents (`fallback` when it exports no schema or does not load). */
async function settingsOf(load: () => Promise<object>, fallback: SettingDoc[]): Promise<SettingDoc[]> {
  try {
    return moduleSettings((await load()) as Record<string, unknown>, fallback);
  } catch {
    return fallback;
  }
}

const senderSettings = describeSchema(senderConfigSchema);

/** The built-in workers. */
export const WORKERS: WorkerRegistry = {
  "event-subscriber": {
    description: "Reads the Veilnet contracts' L1 logs (with reorg detection) and enqueues them as domain events",
    load: () => import("./event-subscriber/index.js").then((m) => m.createEventSubscriber),
    settings: () => settingsOf(() => import("./event-subscriber/index.js"), []),
  },
  "secret-responder": {
    description: "Answers NetworkSecretRequested with the enclave's encrypted network secret (respondNetworkSecret)",
    load: () => import("./secret-responder/index.js").then((m) => m.createSecretResponder),
    settings: () => settingsOf(() => import("./secret-responder/index.js"), senderSettings),
  },
  "withdrawal-processor": {
    description: "Tracks the withdrawals of each rollup and relays them on L1 once the challenge period is over",
    load: () => import("./withdrawal-processor/index.js").then((m) => m.createWithdrawalProcessor),
    settings: () => settingsOf(() => import("./withdrawal-processor/index.js"), senderSettings),
  },
};

/**
 * Test-only: the environment variable naming a module whose `workers` export (a WorkerRegistry)
 * replaces the built-in registry, so tests can run the runtime with stand-in services.
 */
export const TEST_REGISTRY_ENV = "VEILNET_TEST_REGISTRY";

/** The registry to use: the built-in workers, or the test registry named by VEILNET_TEST_REGISTRY. */
export async function workerRegistry(env: NodeJS.ProcessEnv = process.env): Promise<WorkerRegistry> {
  const file = env[TEST_REGISTRY_ENV];
  if (file === undefined || file === "") return WORKERS;
  const module = (await import(pathToFileURL(file).href)) as { workers?: WorkerRegistry };
  if (module.workers === undefined) throw new Error(`${TEST_REGISTRY_ENV}: ${file} exports no \`workers\``);
  return module.workers;
}
