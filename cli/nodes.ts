/** The enclave node's roles as entries of the worker runtime's registry (`npx veilnet node [--validator]`). */
import type { WorkerRegistry } from "../platform/settings.js";

const VALIDATOR_ONLY = new Set(["VALIDATOR_POLL_MS"]);
const SEQUENCER_ONLY = new Set(["BATCH_INTERVAL_MS", "MAX_TXS_PER_BATCH", "MAX_BATCH_BYTES"]);

export const NODE_ROLES: WorkerRegistry = {
  sequencer: {
    description:
      "Sequencer enclave: L2 EVM, mempool, batches every BATCH_INTERVAL_MS, L2 JSON-RPC, the rollup-producer " +
      "and the epoch-revealer",
    load: () => import("../enclave/node/services.js").then((m) => m.createSequencerNode),
    settings: async () => {
      const { describeSchema } = await import("../platform/settings.js");
      const { nodeConfigSchema } = await import("../enclave/node/config.js");
      const { rollupProducerConfigSchema } = await import("../enclave/rollup-producer/index.js");
      const { epochRevealerConfigSchema } = await import("../enclave/epoch-revealer/index.js");
      return [
        ...describeSchema(nodeConfigSchema).filter((d) => !VALIDATOR_ONLY.has(d.name)),
        ...describeSchema(rollupProducerConfigSchema).filter(
          (d) => d.name.startsWith("ROLLUP_") || d.name.startsWith("SIGNER") || d.name.startsWith("TX_"),
        ),
        ...describeSchema(epochRevealerConfigSchema).filter((d) => d.name.startsWith("REVEAL_")),
      ];
    },
  },
  operator: {
    description:
      "Committee member: the sequencer's L2 EVM, mempool, L2 JSON-RPC, rollup-producer and epoch-revealer, with " +
      "batches decided by the committee through QBFT over p2p (transactions forwarded to the other members)",
    load: () => import("../enclave/node/operator.js").then((m) => m.createOperatorNode),
    settings: async () => {
      const { describeSchema } = await import("../platform/settings.js");
      const { operatorConfigSchema } = await import("../enclave/committee/config.js");
      return describeSchema(operatorConfigSchema);
    },
  },
  exporter: {
    description:
      "Exporter (read-only, no enclave): follows the committee's gossip and exports each height's proposer, round, " +
      "signers and missed duties as metrics and a JSON API",
    load: () => import("../enclave/exporter/service.js").then((m) => m.createExporterNode),
    settings: async () => {
      const { describeSchema } = await import("../platform/settings.js");
      const { exporterConfigSchema } = await import("../enclave/exporter/service.js");
      return describeSchema(exporterConfigSchema);
    },
  },
  validator: {
    description:
      "Validator enclave: replays every rollup from L1, refuses one that does not re-execute, serves L2 JSON-RPC " +
      "(read-only; with COMMITTEE_MEMBERS it forwards users' transactions to the committee over p2p)",
    load: () => import("../enclave/node/services.js").then((m) => m.createValidatorNode),
    settings: async () => {
      const { describeSchema } = await import("../platform/settings.js");
      const { nodeConfigSchema } = await import("../enclave/node/config.js");
      const { followerConfigSchema } = await import("../enclave/committee/config.js");
      return [
        ...describeSchema(nodeConfigSchema).filter((d) => !SEQUENCER_ONLY.has(d.name)),
        ...describeSchema(followerConfigSchema),
      ];
    },
  },
};
