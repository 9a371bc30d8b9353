/**
 * The QBFT value of a committee: a batch proposal (enclave/sequencer's BatchProposal) in one canonical
 * binary form, RLP of [tag, seq, parentHash, timestamp, l1BaseFee, l1MessagesTo, l1Block, [txs]]. Every
 * member hashes the same bytes, so the digest a vote carries names exactly one batch. Decoding accepts
 * only the canonical form (it re-encodes and compares), and names the first field that is wrong.
 */
import { decodeRlp, encodeRlp, getBytes, hexlify, isHexString, toBeHex, toBigInt } from "ethers";

import type { BatchProposal } from "../sequencer/sequencer.js";

const TAG = hexlify(new TextEncoder().encode("veilnet-batch-proposal-v1"));

/** A proposal that cannot be decoded, with the reason. */
export class ProposalFormatError extends Error {
  constructor(message: string) {
    super(`batch proposal: ${message}`);
    this.name = "ProposalFormatError";
  }
}

function quantity(value: bigint): string {
  return value === 0n ? "0x" : toBeHex(value);
}

/** The canonical bytes of `proposal`. */
export function encodeProposal(proposal: BatchProposal): Uint8Array {
  return getBytes(
    encodeRlp([
      TAG,
      quantity(proposal.seq),
      proposal.parentHash.toLowerCase(),
      quantity(proposal.timestamp),
      quantity(proposal.l1BaseFee),
      quantity(proposal.l1MessagesTo),
      quantity(proposal.l1Block),
      proposal.txs.map((raw) => raw.toLowerCase()),
    ]),
  );
}

function field(items: unknown[], index: number, name: string): string {
  const item = items[index];
  if (typeof item !== "string") throw new ProposalFormatError(`${name} is not a byte string`);
  return item;
}

/** Decodes canonical proposal bytes; throws ProposalFormatError naming what is wrong. */
export function decodeProposal(bytes: Uint8Array): BatchProposal {
  let decoded: unknown;
  try {
    decoded = decodeRlp(bytes);
  } catch (error) {
    throw new ProposalFormatError(`not RLP (${(error as Error).message})`);
  }
  if (!Array.isArray(decoded) || decoded.length !== 8) throw new ProposalFormatError("not a list of 8 fields");
  const items = decoded as unknown[];
  if (field(items, 0, "tag") !== TAG) throw new ProposalFormatError("unknown tag or version");
  const parentHash = field(items, 2, "parentHash");
  if (!isHexString(parentHash, 32)) throw new ProposalFormatError("parentHash is not 32 bytes");
  const txs = items[7];
  if (!Array.isArray(txs) || !txs.every((t): t is string => typeof t === "string" && t.length > 2)) {
    throw new ProposalFormatError("txs is not a list of non-empty byte strings");
  }
  const number = (index: number, name: string): bigint => {
    const value = field(items, index, name);
    return value === "0x" ? 0n : toBigInt(value);
  };
  const proposal: BatchProposal = {
    seq: number(1, "seq"),
    parentHash,
    timestamp: number(3, "timestamp"),
    l1BaseFee: number(4, "l1BaseFee"),
    l1MessagesTo: number(5, "l1MessagesTo"),
    l1Block: number(6, "l1Block"),
    txs,
  };
  if (hexlify(encodeProposal(proposal)) !== hexlify(bytes)) {
    throw new ProposalFormatError("not in canonical form (leading zeros or trailing bytes)");
  }
  return proposal;
}
