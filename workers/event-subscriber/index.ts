/**
 * The event-subscriber service: follows the deployment's L1 logs (platform/l1-events/) and enqueues them
 * as domain events for the workers (see subscriber.ts). Settings: subscriberConfigSchema (SUBSCRIBER_*).
 */
import { parseConfig } from "../../platform/config.js";
import type { ServiceFactory } from "../../platform/context.js";
import { subscriberConfigSchema } from "./config.js";
import { createSubscriberProvider } from "./rpc.js";
import { EventSubscriber } from "./subscriber.js";

export { CONSUMED_EVENT_QUEUES, type SubscriberConfig, subscriberConfigSchema } from "./config.js";
export type { Checkpoint } from "../../platform/l1-events/checkpoint.js";
export { RedisCheckpointStore } from "./checkpoint.js";
export {
  DOMAIN_EVENT_TYPES,
  LogDecoder,
  type RawLog,
  WORKER_EVENT_SOURCES,
  type WorkerEventSourceAddresses as EventSourceAddresses,
} from "./decode.js";
export { BullMqSink } from "./sink.js";
export { subscriberMetrics, type SubscriberMetrics } from "./metrics.js";
export { createSubscriberProvider } from "./rpc.js";
export {
  DEFAULT_SUBSCRIBER_OPTIONS,
  EVENT_QUEUES,
  EventSubscriber,
  type EventSubscriberDeps,
  type PollResult,
  type SubscriberOptions,
} from "./subscriber.js";

export const createEventSubscriber: ServiceFactory = async (ctx) => {
  const s = parseConfig(subscriberConfigSchema, ctx.source);
  const url = ctx.config.L1_RPC_URL;
  // Over HTTP the subscriber uses its own provider whose requests are aborted after the RPC timeout
  // (ctx.provider keeps ethers' 5-minute default); over WebSocket calls are bounded by withTimeout.
  const own = url.startsWith("http")
    ? createSubscriberProvider(url, ctx.chainId, s.SUBSCRIBER_RPC_TIMEOUT_MS)
    : undefined;
  return new EventSubscriber({
    provider: own ?? ctx.provider,
    ownsProvider: own !== undefined,
    chainId: ctx.chainId,
    addresses: ctx.deployment.addresses,
    deploymentBlock: s.SUBSCRIBER_START_BLOCK ?? ctx.deployment.deploymentBlock,
    redis: ctx.redis,
    queues: ctx.queues,
    logger: ctx.logger.child({ service: "event-subscriber" }),
    metrics: ctx.metrics,
    options: {
      confirmations: s.SUBSCRIBER_CONFIRMATIONS,
      blockRange: s.SUBSCRIBER_BLOCK_RANGE,
      pollIntervalMs: s.SUBSCRIBER_POLL_INTERVAL_MS,
      reorgHistory: s.SUBSCRIBER_REORG_HISTORY,
      rpcTimeoutMs: s.SUBSCRIBER_RPC_TIMEOUT_MS,
      deliverTo: s.SUBSCRIBER_QUEUES,
    },
  });
};
