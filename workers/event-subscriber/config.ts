/** Settings of the event-subscriber, parsed from the worker's config source (env / config file). */
import { z } from "zod";

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

export const subscriberConfigSchema = z.object({
  /** Blocks a block must have on top of it before its logs are delivered (0: deliver the head). */
  SUBSCRIBER_CONFIRMATIONS: int(0, 10_000).default(2),
  /** Most blocks asked in one eth_getLogs call. */
  SUBSCRIBER_BLOCK_RANGE: int(1, 1_000_000).default(2000),
  /** Pause between polls once caught up with the chain (ms). */
  SUBSCRIBER_POLL_INTERVAL_MS: int(10, 3_600_000).default(1000),
  /** Recent processed blocks whose hashes (and delivered events) are kept to detect and undo reorgs. */
  SUBSCRIBER_REORG_HISTORY: int(1, 100_000).default(128),
  /** First block to read when there is no checkpoint yet (default: the deployment's deploymentBlock). */
  SUBSCRIBER_START_BLOCK: int(0).optional(),
  /** Time limit of one JSON-RPC call (ms); a call that does not answer in time is retried. */
  SUBSCRIBER_RPC_TIMEOUT_MS: int(100, 600_000).default(10_000),
});

export type SubscriberConfig = z.infer<typeof subscriberConfigSchema>;
