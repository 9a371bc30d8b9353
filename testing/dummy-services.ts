/**
 * Stand-in services for the runtime tests, loaded by the `veilnet` child process through
 * TESTING_WORKER_REGISTRY (which replaces the built-in workers with these). No Hardhat import: this
 * module runs inside the worker process.
 *
 * Controlled by the environment of the child:
 * - DUMMY_UNHEALTHY_FILE: while this file exists, `dummy` reports itself unhealthy;
 * - DUMMY_STOP_MS: how long `dummy`'s stop() takes (default 0).
 */
import { existsSync } from "node:fs";

import { Counter } from "prom-client";

import type { ServiceFactory, WorkerContext } from "../platform/context.js";
import type { Service } from "../platform/service.js";
import type { WorkerRegistry } from "../platform/settings.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const createDummy: ServiceFactory = async (ctx: WorkerContext): Promise<Service> => {
  const starts = new Counter({
    name: "veilnet_dummy_starts_total",
    help: "Times the dummy service started",
    registers: [ctx.metrics],
  });
  const unhealthyFile = typeof ctx.source.DUMMY_UNHEALTHY_FILE === "string" ? ctx.source.DUMMY_UNHEALTHY_FILE : "";
  const stopMs = Number(ctx.source.DUMMY_STOP_MS ?? 0);
  return {
    name: "dummy",
    start: async () => {
      starts.inc();
      ctx.logger.info("dummy: started");
    },
    stop: async () => {
      await sleep(stopMs);
      ctx.logger.info("dummy: stopped");
    },
    health: async () =>
      unhealthyFile !== "" && existsSync(unhealthyFile)
        ? { ok: false, detail: "unhealthy file present" }
        : { ok: true },
  };
};

/** Its stop() never resolves: the runtime must give up after SHUTDOWN_TIMEOUT_MS. */
const createHangingStop: ServiceFactory = async (ctx) => ({
  name: "hanging-stop",
  start: async () => ctx.logger.info("hanging-stop: started"),
  stop: () => new Promise<void>(() => {}),
  health: async () => ({ ok: true }),
});

/** Its start() fails. */
const createFailingStart: ServiceFactory = async () => ({
  name: "failing-start",
  start: async () => {
    throw new Error("the dummy refuses to start");
  },
  stop: async () => {},
  health: async () => ({ ok: true }),
});

const entry = (description: string, factory: ServiceFactory) => ({
  description,
  load: async () => factory,
  settings: async () => [],
});

export const workers: WorkerRegistry = {
  dummy: entry("A service that does nothing", createDummy),
  "hanging-stop": entry("A service whose stop() never ends", createHangingStop),
  "failing-start": entry("A service whose start() fails", createFailingStart),
};
