/** The enclave node's roles as entries of the worker runtime's registry (`npx veilnet node [--validator]`). */
import type { WorkerRegistry } from "../platform/settings.js";

const VALIDATOR_ONLY = new Set(["VALIDATOR_POLL_MS"]);
const SEQUENCER_ONLY = new Set(["NODE_DATA_DIR", "BATCH_INTERVAL_MS", "MAX_TXS_PER_BATCH", "MAX_BATCH_BYTES"]);

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
  validator: {
    description:
      "Validator enclave: replays every rollup from L1, refuses one that does not re-execute, serves read-only L2 JSON-RPC",
    load: () => import("../enclave/node/services.js").then((m) => m.createValidatorNode),
    settings: async () => {
      const { describeSchema } = await import("../platform/settings.js");
      const { nodeConfigSchema } = await import("../enclave/node/config.js");
      return describeSchema(nodeConfigSchema).filter((d) => !SEQUENCER_ONLY.has(d.name));
    },
  },
};
