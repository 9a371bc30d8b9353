/**
 * Whether a rollup someone else built is the one this node would build from its own sealed batches:
 * the same batch range and content (the payload decrypted under the epoch key and compared), the same
 * last batch hash and message root, the epoch and key commitment of its binding block, and a payload
 * hash that is the payload's. The binding block and the previous batch hash are L1 facts the caller
 * checks against its own view of L1. A committee member signs a rollup only when this finds nothing.
 */
import { ZeroHash, keccak256 } from "ethers";

import { MessageTree } from "../../protocol/messages.js";
import { type RollupHeader, epochOf } from "../../protocol/rollup.js";
import type { SealedBatch } from "./batch.js";
import { type RollupSigningEnclave, epochKey, epochKeyCommitment } from "./builder.js";
import { RollupPayloadError, encodeRollupContent, openRollupPayload } from "./codec.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Why `header` with `payload` is not the rollup of `batches` (this node's), or undefined when it is. */
export function rollupProblem(
  enclave: Pick<RollupSigningEnclave, "derive">,
  header: RollupHeader,
  payload: string,
  batches: readonly SealedBatch[],
): string | undefined {
  const first = batches.at(0);
  const last = batches.at(-1);
  if (first === undefined || last === undefined) return "no batches to compare with";
  if (header.firstBatchSeq !== first.seq || header.lastBatchSeq !== last.seq) {
    return `covers batches ${header.firstBatchSeq}…${header.lastBatchSeq}, this node compared ${first.seq}…${last.seq}`;
  }
  if (header.lastBatchHash.toLowerCase() !== last.hash.toLowerCase()) {
    return `last batch hash ${header.lastBatchHash}, this node sealed ${last.hash}`;
  }
  const epoch = epochOf(header.l1BlockNumber);
  if (header.revelationEpoch !== epoch) return `epoch ${header.revelationEpoch}, its binding block is in ${epoch}`;
  const key = epochKey(enclave, epoch);
  if (header.keyCommitment.toLowerCase() !== epochKeyCommitment(key).toLowerCase()) {
    return `key commitment ${header.keyCommitment} is not epoch ${epoch}'s`;
  }
  const messages = batches.flatMap((b) => b.messages);
  const root = messages.length === 0 ? ZeroHash : new MessageTree(messages).root;
  if (header.messageRoot.toLowerCase() !== root.toLowerCase()) {
    return `message root ${header.messageRoot}, this node's batches give ${root}`;
  }
  if (header.payloadHash.toLowerCase() !== keccak256(payload).toLowerCase()) {
    return "payload hash is not the payload's keccak256";
  }
  let content;
  try {
    content = openRollupPayload(payload, key);
  } catch (error) {
    if (error instanceof RollupPayloadError) return error.message;
    throw error;
  }
  const mine = encodeRollupContent({
    firstSeq: first.seq,
    batches: batches.map((b) => ({
      timestamp: b.timestamp,
      l1BaseFee: b.l1BaseFee,
      l1MessagesTo: b.l1MessagesTo,
      txs: b.txs,
    })),
  });
  if (hex(encodeRollupContent(content)) !== hex(mine)) return "payload content differs from this node's batches";
  return undefined;
}
