/**
 * Building a rollup from sealed batches, inside the enclave: the payload sealed under the revelation
 * epoch's key, the header naming the L1 binding block and the previous rollup's last batch, the message
 * root of the batches' L2→L1 messages, and the enclave's signature (as a committee of one).
 */
import { type TypedDataDomain, ZeroHash, keccak256 } from "ethers";

import { type CrossChainMessage, MessageTree } from "../../protocol/messages.js";
import {
  type CommitteeSignatures,
  type RollupHeader,
  epochOf,
  packCommitteeSignatures,
  rollupHash,
} from "../../protocol/rollup.js";
import { DerivationLabels } from "../crypto/derive.js";
import type { SealedBatch } from "./batch.js";
import { sealRollupPayload } from "./codec.js";

// One key per revelation epoch (DESIGN §6); the epoch length is the protocol's (protocol/rollup.ts).
export { EPOCH_LENGTH, epochOf } from "../../protocol/rollup.js";

/** What the builder needs of the enclave: key derivation and its signing key (and its address). */
export interface RollupSigningEnclave {
  /** The enclave's signing address (its member address in the committee). */
  readonly address: string;
  derive(label: string): string;
  signRollupHeader(domain: TypedDataDomain, header: RollupHeader): Promise<string>;
}

export interface L1Binding {
  number: bigint;
  hash: string;
}

export interface BuiltRollup {
  hash: string;
  header: RollupHeader;
  payload: string;
  /** This enclave's signature of the header. */
  signature: string;
  /** The signatures as RollupRegistry.addRollup takes them: this enclave as a committee of one. */
  committee: CommitteeSignatures;
  /** The L2→L1 messages under `header.messageRoot`, in order. */
  messages: CrossChainMessage[];
}

/** The AES-256-GCM key of epoch `epoch`'s rollups. */
export function epochKey(enclave: Pick<RollupSigningEnclave, "derive">, epoch: bigint): string {
  return enclave.derive(DerivationLabels.rollupEpoch(epoch));
}

/** What L1 commits to for an epoch key (RollupRegistry.epochKeyCommitment; checked on reveal). */
export function epochKeyCommitment(key: string): string {
  return keccak256(key);
}

export async function buildRollup(args: {
  enclave: RollupSigningEnclave;
  batches: readonly SealedBatch[];
  binding: L1Binding;
  domain: TypedDataDomain;
  /** `lastBatchHash` of the previous accepted rollup (RollupRegistry.lastBatchHash(); ZeroHash at first). */
  previousBatchHash: string;
}): Promise<BuiltRollup> {
  const { batches } = args;
  const first = batches.at(0);
  const last = batches.at(-1);
  if (first === undefined || last === undefined) throw new Error("a rollup needs at least one batch");
  let previous = first;
  for (const batch of batches.slice(1)) {
    if (batch.seq !== previous.seq + 1n) {
      throw new Error(`batches ${previous.seq} and ${batch.seq} are not consecutive`);
    }
    previous = batch;
  }
  const epoch = epochOf(args.binding.number);
  const key = epochKey(args.enclave, epoch);
  const payload = await sealRollupPayload(
    {
      firstSeq: first.seq,
      batches: batches.map((b) => ({
        timestamp: b.timestamp,
        l1BaseFee: b.l1BaseFee,
        l1MessagesTo: b.l1MessagesTo,
        txs: b.txs,
      })),
    },
    key,
  );
  const messages = batches.flatMap((b) => b.messages);
  const header: RollupHeader = {
    firstBatchSeq: first.seq,
    lastBatchSeq: last.seq,
    lastBatchHash: last.hash,
    previousBatchHash: args.previousBatchHash,
    l1BlockNumber: args.binding.number,
    l1BlockHash: args.binding.hash,
    messageRoot: messages.length === 0 ? ZeroHash : new MessageTree(messages).root,
    payloadHash: keccak256(payload),
    revelationEpoch: epoch,
    keyCommitment: epochKeyCommitment(key),
  };
  const signature = await args.enclave.signRollupHeader(args.domain, header);
  const committee = packCommitteeSignatures([args.enclave.address], new Map([[0, signature]]));
  return { hash: rollupHash(header), header, payload, signature, committee, messages };
}
