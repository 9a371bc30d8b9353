/**
 * What the runtime hands every worker: validated common config, logger, Redis, queue settings, the L1
 * provider, the deployment and its typed contracts, and the metrics registry. Worker-specific settings
 * are parsed by each worker from `source` with its own zod schema (so errors name the field).
 */
import type { Redis } from "ioredis";
import type { Registry } from "prom-client";

import type { Deployment } from "../deploy/deployment-file.js";
import type { L1Provider, VeilnetContracts } from "./chain.js";
import type { CommonConfig } from "./config.js";
import type { Logger } from "./logger.js";
import type { QueueSettings } from "./queues.js";
import type { Service } from "./service.js";

export interface WorkerContext {
  config: CommonConfig;
  /** The raw configuration (config file overlaid by the environment), for worker-specific schemas. */
  source: Record<string, unknown>;
  logger: Logger;
  /** Connection for worker state (checkpoints, intents, statuses); BullMQ opens its own from `queues`. */
  redis: Redis;
  queues: QueueSettings;
  provider: L1Provider;
  chainId: number;
  deployment: Deployment;
  /** The deployment's contracts, read-only (bound to `provider`). */
  contracts: VeilnetContracts;
  metrics: Registry;
}

export type ServiceFactory = (ctx: WorkerContext) => Promise<Service>;
