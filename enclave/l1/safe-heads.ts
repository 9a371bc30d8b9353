/**
 * The `safe` and `finalized` L2 blocks of a node, from the rollups it knows to be on L1 (op-node's
 * meaning): `safe` is the last block of the last such rollup, `finalized` the last block of the last
 * one whose challenge period is over by the L1 head's time. Before any rollup, both are the last block
 * of the genesis, which every node builds alike.
 */
import { L2_GENESIS_BLOCKS } from "../../protocol/predeploys.js";
import type { SafeHeads } from "../rpc/block-tags.js";
import type { L1Rollup } from "./reader.js";

/** The L2 block of batch `seq`: batches follow the genesis blocks, one block each. */
export function blockOfBatch(seq: bigint): bigint {
  return L2_GENESIS_BLOCKS + seq;
}

const GENESIS_HEAD = L2_GENESIS_BLOCKS - 1n;

/**
 * Safe heads from `rollups()` (in L1 order; a validator gives those it has replayed) and the L1 time
 * `l1Timestamp()` (seconds).
 */
export function rollupHeads(rollups: () => readonly L1Rollup[], l1Timestamp: () => bigint): SafeHeads {
  return {
    safe() {
      const last = rollups().at(-1);
      return last === undefined ? GENESIS_HEAD : blockOfBatch(last.header.lastBatchSeq);
    },
    finalized() {
      const now = l1Timestamp();
      const over = rollups().findLast((r) => r.challengeEndsAt <= now);
      return over === undefined ? GENESIS_HEAD : blockOfBatch(over.header.lastBatchSeq);
    },
  };
}
