/**
 * What every worker is to the runtime: something that starts, reports health, and stops gracefully
 * (finishing or releasing its current jobs) when asked.
 */
export interface Service {
  /** Short name used in logs, metrics and `/healthz` (e.g. "event-subscriber"). */
  readonly name: string;
  /** Starts the service; resolves once it is running (not when it ends). Throws on a fatal start error. */
  start(): Promise<void>;
  /** Stops taking new work, lets the current job finish (or hands it back), releases connections. */
  stop(): Promise<void>;
  /** Health for `/healthz`: `ok: false` makes the endpoint answer 503 with `detail`. */
  health(): Promise<{ ok: boolean; detail?: string }>;
}
