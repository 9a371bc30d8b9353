/**
 * A sequencer on the L2 chain for tests: a fresh L2Chain, its store in `dataDir`, L1 messages read from a
 * deployed Veilnet without confirmations, the L1 base fee of its latest block, and test-sized batches.
 */
import pino, { type Logger } from "pino";

import { L2Chain } from "../enclave/execution/l2-chain.js";
import type { EntropySource } from "../enclave/execution/replay.js";
import { L1Reader } from "../enclave/l1/reader.js";
import { Sequencer } from "../enclave/sequencer/sequencer.js";
import { SequencerStore } from "../enclave/sequencer/store.js";
import type { Veilnet } from "./veilnet.js";

/** The L1 side of a node on `v`: its MessageBus and RollupRegistry from block 0, no confirmations. */
export function testL1Reader(v: Veilnet): L1Reader {
  return new L1Reader({
    provider: v.connection.ethers.provider,
    messageBus: v.addresses.MessageBus,
    rollupRegistry: v.addresses.RollupRegistry,
    fromBlock: 0,
    confirmations: 0,
  });
}

export interface TestSequencerOptions {
  dataDir: string;
  entropy: EntropySource;
  minPriorityFee: bigint;
  batchIntervalMs: number;
  /** Default 100. */
  maxGapArrivals?: number;
  /** Default silent. */
  logger?: Logger;
  clock?: () => bigint;
}

/** Opens (restores) a sequencer on a fresh L2 chain; not started. */
export async function openTestSequencer(
  v: Veilnet,
  options: TestSequencerOptions,
): Promise<{ chain: L2Chain; store: SequencerStore; sequencer: Sequencer; l1: L1Reader }> {
  const chain = await L2Chain.create({ l1Bridge: v.addresses.Bridge, l1FeeRecipient: v.addresses.FeeVault });
  const store = new SequencerStore(options.dataDir);
  const l1 = testL1Reader(v);
  const sequencer = await Sequencer.open({
    chain,
    store,
    l1,
    entropy: options.entropy,
    l1BaseFee: async () => (await v.connection.ethers.provider.getBlock("latest"))!.baseFeePerGas ?? 0n,
    mempool: { minPriorityFee: options.minPriorityFee },
    settings: {
      batchIntervalMs: options.batchIntervalMs,
      maxTxsPerBatch: 1000,
      maxBatchBytes: 100_000,
      maxL1MessagesPerBatch: 64,
      maxGapArrivals: options.maxGapArrivals ?? 100,
    },
    logger: options.logger ?? pino({ level: "silent" }),
    clock: options.clock,
  });
  return { chain, store, sequencer, l1 };
}
