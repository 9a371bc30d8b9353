/** Settings of the event-subscriber, parsed from the worker's config source (env / config file). */
import { z } from "zod";

import { type QueueName, QueueNames } from "../../platform/queues.js";

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

const EVENT_QUEUE_NAMES = [QueueNames.secretRequests, QueueNames.rollups] as const satisfies readonly QueueName[];

/** Queues a worker consumes (EVENT_ROUTES): the default of SUBSCRIBER_QUEUES. */
export const CONSUMED_EVENT_QUEUES: readonly QueueName[] = EVENT_QUEUE_NAMES;

export const subscriberConfigSchema = z.object({
  SUBSCRIBER_CONFIRMATIONS: int(0, 10_000)
    .default(2)
    .describe("Blocks a block must have on top of it before its logs are delivered (0: deliver the head)"),
  SUBSCRIBER_BLOCK_RANGE: int(1, 1_000_000).default(2000).describe("Most blocks asked in one eth_getLogs call"),
  SUBSCRIBER_POLL_INTERVAL_MS: int(10, 3_600_000)
    .default(1000)
    .describe("Pause between polls once caught up with the chain (ms)"),
  SUBSCRIBER_REORG_HISTORY: int(1, 100_000)
    .default(128)
    .describe("Recent processed blocks whose hashes (and delivered events) are kept to detect and undo reorgs"),
  SUBSCRIBER_START_BLOCK: int(0)
    .optional()
    .describe("First block to read when there is no checkpoint yet (default: the deployment's deploymentBlock)"),
  SUBSCRIBER_RPC_TIMEOUT_MS: int(100, 600_000)
    .default(10_000)
    .describe("Time limit of one JSON-RPC call (ms); a call that does not answer in time is retried"),
  SUBSCRIBER_QUEUES: z
    .string()
    .transform((v) =>
      v
        .split(",")
        .map((q) => q.trim())
        .filter((q) => q !== ""),
    )
    .pipe(z.array(z.enum(EVENT_QUEUE_NAMES)).min(1))
    .default(CONSUMED_EVENT_QUEUES.join(","))
    .describe(
      "Queues to deliver events to, comma-separated: secret-requests (for the secret-responder) and rollups (for the withdrawal-processor); a process whose workers need only one of them can name it",
    ),
});

export type SubscriberConfig = z.infer<typeof subscriberConfigSchema>;
