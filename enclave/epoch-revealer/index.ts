/**
 * The epoch-revealer as a service of `npx veilnet node` (the sequencer runs it next to its enclave, which
 * derives the epoch keys; it is not a standalone worker). Its L1 writes go through the TxSender of
 * SIGNER_PRIVATE_KEY, shared with the rollup-producer of the same process.
 *
 * Settings (environment or config file), besides the common ones: SIGNER_PRIVATE_KEY and TX_*, and the
 * REVEAL_* below.
 */
import { ZeroHash } from "ethers";
import { z } from "zod";

import type { RollupSigningEnclave } from "../rollup/builder.js";
import { parseConfig } from "../../platform/config.js";
import type { WorkerContext } from "../../platform/context.js";
import type { Service } from "../../platform/service.js";
import { acquireSender } from "../../platform/tx-sender/shared.js";
import { type IntentRecord, txSenderConfigSchema } from "../../platform/tx-sender/tx-sender.js";
import { EpochRevealer, REVEAL_INTENT_KEY } from "./revealer.js";

export * from "./revealer.js";
export * from "./metrics.js";

export const epochRevealerConfigSchema = txSenderConfigSchema.extend({
  REVEAL_POLL_MS: z.coerce
    .number()
    .int()
    .min(10)
    .default(30_000)
    .describe("Pause between two looks at L1 for epochs whose key may be revealed (revealEpochKey), ms"),
});

export type EpochRevealerConfig = z.infer<typeof epochRevealerConfigSchema>;

/**
 * The epoch-revealer of a sequencer node: `enclave` derives the epoch keys. Started and stopped by the
 * node.
 */
export function createEpochRevealerService(
  ctx: WorkerContext,
  deps: { enclave: Pick<RollupSigningEnclave, "derive"> },
): Promise<Service> {
  const settings = parseConfig(epochRevealerConfigSchema, ctx.source);
  const registry = ctx.contracts.rollupRegistry;
  // One sender per key per process: the rollup-producer signing with the same key shares it.
  const { sender, release } = acquireSender(ctx);
  const revealer = new EpochRevealer({
    chainId: ctx.chainId,
    enclave: deps.enclave,
    writer: sender,
    contracts: ctx.contracts,
    provider: ctx.provider,
    fromBlock: ctx.deployment.deploymentBlock,
    logger: ctx.logger,
    metrics: ctx.metrics,
    settings: { pollMs: settings.REVEAL_POLL_MS },
  });
  // A reveal a previous process left in flight is done once L1 holds the epoch's key.
  const alreadyDone = (record: IntentRecord) => {
    const [, chainId, epochText] = REVEAL_INTENT_KEY.exec(record.key) ?? [];
    if (chainId === undefined || epochText === undefined || Number(chainId) !== ctx.chainId) return undefined;
    const epoch = BigInt(epochText);
    return async () => (await registry.epochKey(epoch)) !== ZeroHash;
  };
  return Promise.resolve({
    name: revealer.name,
    async start() {
      sender.recover(alreadyDone).then(
        (outcomes) => {
          if (outcomes.length > 0) ctx.logger.info({ outcomes: outcomes.length }, "recovered transactions in flight");
        },
        (err: unknown) => ctx.logger.warn({ err }, "recovering reveals in flight failed"),
      );
      await revealer.start();
    },
    async stop() {
      await revealer.stop();
      await release();
    },
    health: () => revealer.health(),
  });
}
