/**
 * The QBFT value of a committee: a batch proposal (enclave/sequencer's BatchProposal) in one canonical
 * binary form, RLP of [tag, seq, parentHash, timestamp, l1BaseFee, l1MessagesTo, l1Block, [txs]]. Every
 * member hashes the same bytes, so the digest a vote carries names exactly one batch. Decoding accepts
 * only the canonical form (it re-encodes and compares), and names the first field that is wrong.
 */
import { type RlpItem, RlpError, bytesToBigInt, rlpDecode, rlpEncode, toHex } from "../../platform/rlp.js";
import type { BatchProposal } from "../sequencer/sequencer.js";

const TAG = new TextEncoder().encode("veilnet-batch-proposal-v1");

/** A proposal that cannot be decoded, with the reason. */
export class ProposalFormatError extends Error {
  constructor(message: string) {
    super(`batch proposal: ${message}`);
    this.name = "ProposalFormatError";
  }
}

/** The canonical bytes of `proposal`. */
export function encodeProposal(proposal: BatchProposal): Uint8Array {
  return rlpEncode([
    TAG,
    proposal.seq,
    proposal.parentHash,
    proposal.timestamp,
    proposal.l1BaseFee,
    proposal.l1MessagesTo,
    proposal.l1Block,
    proposal.txs,
  ]);
}

function field(items: RlpItem[], index: number, name: string): Uint8Array {
  const item = items[index];
  if (!(item instanceof Uint8Array)) throw new ProposalFormatError(`${name} is not a byte string`);
  return item;
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(b);

/** Decodes canonical proposal bytes; throws ProposalFormatError naming what is wrong. */
export function decodeProposal(bytes: Uint8Array): BatchProposal {
  let decoded: RlpItem;
  try {
    decoded = rlpDecode(bytes);
  } catch (error) {
    if (!(error instanceof RlpError)) throw error;
    throw new ProposalFormatError(`not RLP (${error.message})`);
  }
  if (!Array.isArray(decoded) || decoded.length !== 8) throw new ProposalFormatError("not a list of 8 fields");
  const items = decoded;
  if (!sameBytes(field(items, 0, "tag"), TAG)) throw new ProposalFormatError("unknown tag or version");
  const parentHash = field(items, 2, "parentHash");
  if (parentHash.length !== 32) throw new ProposalFormatError("parentHash is not 32 bytes");
  const txs = items[7];
  if (!Array.isArray(txs) || !txs.every((t): t is Uint8Array => t instanceof Uint8Array && t.length > 0)) {
    throw new ProposalFormatError("txs is not a list of non-empty byte strings");
  }
  const number = (index: number, name: string): bigint => bytesToBigInt(field(items, index, name));
  const proposal: BatchProposal = {
    seq: number(1, "seq"),
    parentHash: toHex(parentHash),
    timestamp: number(3, "timestamp"),
    l1BaseFee: number(4, "l1BaseFee"),
    l1MessagesTo: number(5, "l1MessagesTo"),
    l1Block: number(6, "l1Block"),
    txs: txs.map(toHex),
  };
  if (!sameBytes(encodeProposal(proposal), bytes)) {
    throw new ProposalFormatError("not in canonical form (leading zeros or trailing bytes)");
  }
  return proposal;
}
