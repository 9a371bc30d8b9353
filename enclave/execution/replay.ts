/**
 * Replaying a batch someone sealed (a validator replaying a rollup, a sequencer rebuilding its state
 * after a restart): its L1 messages are taken from L1, its entropy derived from the network secret,
 * and every transaction must execute as it did for the sequencer.
 */
import type { L1Reader } from "../l1/reader.js";
import type { RollupBatch } from "../rollup/codec.js";
import { BatchExecutionError, type ExecutedBatch, type L2Chain } from "./l2-chain.js";

/** The entropy (`prevrandao`) of batch `seq`. */
export type EntropySource = (seq: bigint) => string;

/**
 * Executes `batch` as batch `seq` on `chain` strictly. `maxL1Block`, when given, is the newest L1
 * block the batch's L1 messages may come from (the rollup's binding block).
 */
export async function replayBatch(args: {
  chain: L2Chain;
  l1: L1Reader;
  entropy: EntropySource;
  seq: bigint;
  batch: RollupBatch;
  maxL1Block?: number;
}): Promise<ExecutedBatch> {
  const { chain, batch } = args;
  const from = await chain.nextL1Sequence();
  if (batch.l1MessagesTo < from) {
    throw new BatchExecutionError(`batch ${args.seq} claims L1 messages up to ${batch.l1MessagesTo}, below ${from}`);
  }
  const count = Number(batch.l1MessagesTo - from);
  const messages = args.l1.messagesFrom(from, count);
  if (messages.length !== count) {
    throw new BatchExecutionError(
      `batch ${args.seq} applies L1 messages ${from}…${batch.l1MessagesTo - 1n}, but L1 has only ${messages.length} of them`,
    );
  }
  const late = messages.find((m) => args.maxL1Block !== undefined && m.blockNumber > args.maxL1Block);
  if (late !== undefined) {
    throw new BatchExecutionError(
      `batch ${args.seq} applies L1 message ${late.message.sequence} from L1 block ${late.blockNumber}, after its binding block ${args.maxL1Block}`,
    );
  }
  const executed = await chain.executeBatch(
    {
      timestamp: batch.timestamp,
      prevrandao: args.entropy(args.seq),
      l1BaseFee: batch.l1BaseFee,
      l1Messages: messages.map((m) => m.message),
      txs: batch.txs,
    },
    true,
  );
  if (executed.l1MessagesTo !== batch.l1MessagesTo) {
    throw new BatchExecutionError(
      `batch ${args.seq} delivered L1 messages up to ${executed.l1MessagesTo}, not ${batch.l1MessagesTo}`,
    );
  }
  return executed;
}
