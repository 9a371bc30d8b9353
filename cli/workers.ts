/**
 * The workers a `veilnet` process can run, by name, each loaded lazily (so a process only imports the
 * workers it runs), with the documentation of the settings each one reads (for `--help`).
 */
import { senderConfigSchema } from "../platform/config.js";
import { type SettingDoc, type WorkerRegistry, describeSchema, moduleSettings } from "../platform/settings.js";

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
    load: () => import("../workers/event-subscriber/index.js").then((m) => m.createEventSubscriber),
    settings: () => settingsOf(() => import("../workers/event-subscriber/index.js"), []),
  },
  "secret-responder": {
    description: "Answers NetworkSecretRequested with the enclave's encrypted network secret (respondNetworkSecret)",
    load: () => import("../workers/secret-responder/index.js").then((m) => m.createSecretResponder),
    settings: () => settingsOf(() => import("../workers/secret-responder/index.js"), senderSettings),
  },
  "withdrawal-processor": {
    description: "Tracks the withdrawals of each rollup and relays them on L1 once the challenge period is over",
    load: () => import("../workers/withdrawal-processor/index.js").then((m) => m.createWithdrawalProcessor),
    settings: () => settingsOf(() => import("../workers/withdrawal-processor/index.js"), senderSettings),
  },
};
