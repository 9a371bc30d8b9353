/**
 * `npx veilnet worker withdrawal-processor`: tracks the withdrawals of each accepted rollup and relays
 * them on L1 once the challenge period is over (see processor.ts). Its L1 writes go through its own
 * TxSender (SIGNER_PRIVATE_KEY); the rollups' messages come from the L2 nodes (WITHDRAWAL_L2_RPC_URLS).
 */
import { z } from "zod";

import { parseConfig } from "../../platform/config.js";
import type { ServiceFactory } from "../../platform/context.js";
import type { Service } from "../../platform/service.js";
import { acquireSender } from "../../platform/tx-sender/shared.js";
import { txSenderConfigSchema } from "../../platform/tx-sender/tx-sender.js";
import { WithdrawalProcessor } from "./processor.js";
import { L2NodeWithdrawalSource } from "./source.js";

export * from "./processor.js";
export * from "./tracking.js";
export * from "./relaying.js";
export * from "./source.js";
export * from "./status.js";
export * from "./metrics.js";

/** The withdrawal-processor's settings: its TxSender's (SIGNER_PRIVATE_KEY, TX_*) and its own. */
export const withdrawalProcessorConfigSchema = txSenderConfigSchema.extend({
  /** Longest wait between two checks of whether a rollup's message root is active yet (ms). */
  WITHDRAWAL_ACTIVATION_POLL_MS: z.coerce
    .number()
    .int()
    .min(10)
    .default(300_000)
    .describe(
      "Longest wait between two checks of whether a rollup's message root has activated, ms (jobs first sleep until the activation time L1 reports)",
    ),
  /** The L2 nodes serving the rollups' messages (veil_getRollupMessages), asked in order. */
  WITHDRAWAL_L2_RPC_URLS: z
    .string()
    .default("http://127.0.0.1:8645")
    .transform((value, ctx) => {
      const urls = value
        .split(",")
        .map((u) => u.trim())
        .filter((u) => u !== "");
      if (urls.length === 0) ctx.addIssue({ code: "custom", message: "expected at least one URL" });
      for (const url of urls) {
        if (!/^https?:\/\/[^\s]+$/.test(url)) ctx.addIssue({ code: "custom", message: `${url} is not an http(s) URL` });
      }
      return urls;
    })
    .describe(
      "L2 node JSON-RPC URLs (sequencer or validator, comma-separated) serving the rollups' L2→L1 messages (veil_getRollupMessages); asked in order, the next when one fails. Default: a node on this host with the default L2_RPC_PORT",
    ),
});

export const createWithdrawalProcessor: ServiceFactory = async (ctx) => {
  const settings = parseConfig(withdrawalProcessorConfigSchema, ctx.source);
  // One sender per key per process: other workers signing with the same key share it.
  const { sender, release } = acquireSender(ctx);
  const processor = new WithdrawalProcessor({
    chainId: ctx.chainId,
    contracts: ctx.contracts,
    provider: ctx.provider,
    writer: sender,
    redis: ctx.redis,
    queues: ctx.queues,
    logger: ctx.logger,
    metrics: ctx.metrics,
    source: new L2NodeWithdrawalSource(settings.WITHDRAWAL_L2_RPC_URLS, { logger: ctx.logger }),
    settings: {
      activationPollMs: settings.WITHDRAWAL_ACTIVATION_POLL_MS,
      fromBlock: ctx.deployment.deploymentBlock,
    },
  });
  const service: Service = {
    name: processor.name,
    start: () => processor.start(),
    stop: async () => {
      // Let the running job finish first (it may be waiting on a transaction), then the sender.
      await processor.stop();
      await release();
    },
    health: () => processor.health(),
  };
  return service;
};
