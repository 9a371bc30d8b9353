/**
 * Sealed batches: one L2 block each, as the sequencer seals it and as validators replay it. A batch
 * holds what its block depends on and nothing derivable: the L1 messages are named by the sequence
 * they run to (validators read them from L1), the entropy is derived from the network secret.
 */
import { type CrossChainMessage, type MessageJson, messageFromJson, messageToJson } from "../../protocol/messages.js";

export interface SealedBatch {
  /** Position in the batch sequence (0, 1, 2 …); L2 block number = seq + L2_GENESIS_BLOCKS. */
  seq: bigint;
  /** The L2 block's hash: what validators must reach by re-executing. */
  hash: string;
  timestamp: bigint;
  /** L1 base fee the batch's L1 data fees were charged at. */
  l1BaseFee: bigint;
  /** The L2 MessageBus's `nextL1Sequence` after the batch: L1 messages below it have been delivered. */
  l1MessagesTo: bigint;
  /** Signed user transactions in block order. */
  txs: string[];
  /**
   * The newest L1 block the batch's L1 messages come from (0 without messages). A rollup must bind to
   * an L1 block at least this new: validators refuse messages from after the binding block.
   */
  l1Block: bigint;
  /** L2→L1 messages the batch published (not part of the rollup payload: validators recompute them). */
  messages: CrossChainMessage[];
}

/** JSON form of a batch (bigints as decimal strings). */
export interface StoredBatch {
  seq: string;
  hash: string;
  timestamp: string;
  l1BaseFee: string;
  l1MessagesTo: string;
  txs: string[];
  l1Block?: string;
  messages: MessageJson[];
}

export function batchToJson(b: SealedBatch): StoredBatch {
  return {
    seq: b.seq.toString(),
    hash: b.hash,
    timestamp: b.timestamp.toString(),
    l1BaseFee: b.l1BaseFee.toString(),
    l1MessagesTo: b.l1MessagesTo.toString(),
    txs: b.txs,
    l1Block: b.l1Block.toString(),
    messages: b.messages.map(messageToJson),
  };
}

export function batchFromJson(j: StoredBatch): SealedBatch {
  return {
    seq: BigInt(j.seq),
    hash: j.hash,
    timestamp: BigInt(j.timestamp),
    l1BaseFee: BigInt(j.l1BaseFee),
    l1MessagesTo: BigInt(j.l1MessagesTo),
    txs: j.txs,
    l1Block: BigInt(j.l1Block ?? "0"),
    messages: j.messages.map(messageFromJson),
  };
}
