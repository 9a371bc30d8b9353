/**
 * The rollup-producer as a service of `npx veilnet node` (the sequencer runs it next to its enclave and
 * hands it the sealed batches; it is not a standalone worker). Its L1 writes go through the TxSender of
 * SIGNER_PRIVATE_KEY, shared with other services of the process that sign with the same key.
 *
 * Settings (environment or config file), besides the common ones: SIGNER_PRIVATE_KEY and TX_*, and the
 * ROLLUP_* below.
 */
import { z } from "zod";

import type { RollupSigningEnclave } from "../rollup/builder.js";
import { parseConfig } from "../../platform/config.js";
import type { WorkerContext } from "../../platform/context.js";
import type { Service } from "../../platform/service.js";
import { acquireSender } from "../../platform/tx-sender/shared.js";
import { type IntentRecord, txSenderConfigSchema } from "../../platform/tx-sender/tx-sender.js";
import { ROLLUP_INTENT_KEY, RollupProducer, type RollupProducerDeps, type SealedBatchSource } from "./producer.js";

export * from "./producer.js";
export * from "./metrics.js";

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

export const rollupProducerConfigSchema = txSenderConfigSchema.extend({
  ROLLUP_INTERVAL_MS: int(1)
    .default(10_000)
    .describe("Time threshold: a rollup is submitted once its oldest batch has waited this long, ms"),
  ROLLUP_MAX_BYTES: int(1024, 126_000)
    .default(120_000)
    .describe(
      "Size threshold: payload bytes (compressed and encrypted) at which a rollup is submitted at once; no rollup is bigger unless a single batch is. At most 126000 (nodes refuse transactions over 128 KiB)",
    ),
  ROLLUP_BINDING_DEPTH: int(0, 200)
    .default(1)
    .describe("A rollup binds to the L1 block this many blocks below the head (its reorg anchor; L1 accepts 256)"),
  ROLLUP_POLL_MS: int(10).default(500).describe("Pause between two looks for new sealed batches, ms"),
});

export type RollupProducerConfig = z.infer<typeof rollupProducerConfigSchema>;

/**
 * The rollup-producer of a sequencer node: `source` is its sequencer's sealed batches, `enclave` builds
 * and signs the rollups. Started and stopped by the node.
 */
export function createRollupProducerService(
  ctx: WorkerContext,
  deps: {
    source: SealedBatchSource;
    enclave: RollupSigningEnclave;
    /** A committee member's turn to post (RollupProducerSettings.turnDelayMs); default: always its turn. */
    turnDelayMs?: (firstBatchSeq: bigint) => number;
    /** A committee member gathers a quorum's signatures (RollupProducerDeps.cosign). */
    cosign?: RollupProducerDeps["cosign"];
  },
): Promise<Service> {
  const settings = parseConfig(rollupProducerConfigSchema, ctx.source);
  const registry = ctx.contracts.rollupRegistry;
  // One sender per key per process: other services signing with the same key share it.
  const { sender, release } = acquireSender(ctx);
  const producer = new RollupProducer({
    chainId: ctx.chainId,
    source: deps.source,
    enclave: deps.enclave,
    writer: sender,
    contracts: ctx.contracts,
    provider: ctx.provider,
    logger: ctx.logger,
    metrics: ctx.metrics,
    ...(deps.cosign === undefined ? {} : { cosign: deps.cosign }),
    settings: {
      rollupIntervalMs: settings.ROLLUP_INTERVAL_MS,
      maxRollupBytes: settings.ROLLUP_MAX_BYTES,
      bindingDepth: settings.ROLLUP_BINDING_DEPTH,
      pollMs: settings.ROLLUP_POLL_MS,
      ...(deps.turnDelayMs === undefined ? {} : { turnDelayMs: deps.turnDelayMs }),
    },
  });
  // A rollup a previous process left in flight is done once L1 has moved past its first batch.
  const alreadyDone = (record: IntentRecord) => {
    const [, chainId, firstSeq] = ROLLUP_INTENT_KEY.exec(record.key) ?? [];
    if (chainId === undefined || firstSeq === undefined || Number(chainId) !== ctx.chainId) return undefined;
    const first = BigInt(firstSeq);
    return async () => (await registry.nextBatchSeq()) > first;
  };
  return Promise.resolve({
    name: producer.name,
    async start() {
      sender.recover(alreadyDone).then(
        (outcomes) => {
          if (outcomes.length > 0) ctx.logger.info({ outcomes: outcomes.length }, "recovered rollups in flight");
        },
        (err: unknown) => ctx.logger.warn({ err }, "recovering rollups in flight failed"),
      );
      await producer.start();
    },
    async stop() {
      // The current round may be waiting for its transaction: let it end, then give the sender back.
      await producer.stop();
      await release();
    },
    health: () => producer.health(),
  });
}
