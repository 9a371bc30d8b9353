/**
 * Decrypting a rollup whose revelation epoch key is public (DESIGN §6): the RollupAdded log found by
 * rollup hash, the header and payload read from the addRollup transaction's calldata, the key read from
 * RollupRegistry.epochKey and checked against the header's commitment, then the payload opened with the
 * rollup codec and every transaction decoded. Used by `npx veilnet decrypt`.
 */
import { type Provider, Transaction, ZeroHash, getAddress, getBytes, hexlify, keccak256 } from "ethers";

import { RollupPayloadError, openRollupPayload } from "../../enclave/rollup/codec.js";
import {
  type AddRollupCall,
  type RollupHeader,
  committeeSigners,
  decodeAddRollup,
  rollupHash as hashOf,
} from "../../protocol/rollup.js";
import type { RollupRegistry } from "../../types/ethers-contracts/index.js";

/** Why a rollup cannot be decrypted (unknown, not revealed yet, unreadable): one line for the user. */
export class DecryptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DecryptError";
  }
}

/** The rollup's epoch key is not on L1 yet. */
export class EpochKeyNotRevealedError extends DecryptError {
  constructor(
    readonly rollupHash: string,
    readonly epoch: bigint,
    readonly revealableAt: bigint,
    readonly head: bigint,
  ) {
    super(
      `rollup ${rollupHash} is in revelation epoch ${epoch}, whose key is not revealed yet: ` +
        `it can be revealed from L1 block ${revealableAt} (the head is ${head})`,
    );
    this.name = "EpochKeyNotRevealedError";
  }
}

export interface DecryptDeps {
  provider: Provider;
  /** The deployment's RollupRegistry. */
  registry: RollupRegistry;
  /** The deployment block: where the search for the rollup's log ends. */
  fromBlock: number;
  /** Blocks per eth_getLogs request (searched from the head backwards). Default 10 000. */
  logRange?: number;
}

/** A rollup as L1 holds it. */
export interface L1RollupRecord {
  hash: string;
  blockNumber: number;
  transactionHash: string;
  /** The OperatorRegistry committee that signed it. */
  committeeId: bigint;
  /** Who of it signed (the members at the set bits of its signer bitmap). */
  signers: string[];
  header: RollupHeader;
  /** The calldata payload ("0x" when the rollup was posted as a blob). */
  payload: string;
}

/** One L2 transaction of a decrypted batch. */
export interface DecodedTransaction {
  hash: string;
  type: number;
  chainId: bigint;
  from: string;
  /** null: a contract creation. */
  to: string | null;
  value: bigint;
  nonce: number;
  gasLimit: bigint;
  /** Legacy and EIP-2930 transactions. */
  gasPrice?: bigint;
  /** EIP-1559 transactions. */
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  dataLength: number;
  /** The first 4 bytes of the data of a call (not a creation) when there are at least 4. */
  selector?: string;
}

/** A transaction the decoder could not read (the rollup carries it anyway). */
export interface UndecodableTransaction {
  raw: string;
  error: string;
}

export interface DecryptedBatch {
  seq: bigint;
  timestamp: bigint;
  l1BaseFee: bigint;
  /** L1→L2 messages (deposits) applied before this batch's transactions: sequence numbers below this. */
  l1MessagesTo: bigint;
  transactions: (DecodedTransaction | UndecodableTransaction)[];
}

export interface DecryptedRollup {
  rollup: L1RollupRecord;
  epoch: bigint;
  key: string;
  batches: DecryptedBatch[];
}

const ROLLUP_HASH = /^0x[0-9a-fA-F]{64}$/;

/** Whether `value` is a rollup hash (32 bytes of 0x-hex). */
export function isRollupHash(value: string): boolean {
  return ROLLUP_HASH.test(value);
}

/** Finds rollup `rollupHash` on L1 (its RollupAdded log and addRollup calldata); throws DecryptError. */
export async function findRollup(deps: DecryptDeps, rollupHash: string): Promise<L1RollupRecord> {
  if (!isRollupHash(rollupHash)) throw new DecryptError(`"${rollupHash}" is not a rollup hash (0x + 64 hex digits)`);
  const hash = rollupHash.toLowerCase();
  const { provider, registry } = deps;
  const address = await registry.getAddress();
  const topic = registry.interface.getEvent("RollupAdded").topicHash;
  const range = deps.logRange ?? 10_000;
  const head = await provider.getBlockNumber();
  for (let to = head; to >= deps.fromBlock; to -= range) {
    const from = Math.max(deps.fromBlock, to - range + 1);
    const logs = await provider.getLogs({ address, topics: [topic, hash], fromBlock: from, toBlock: to });
    const log = logs.at(-1);
    if (log === undefined) continue;
    const event = registry.interface.parseLog(log)!;
    const tx = await provider.getTransaction(log.transactionHash);
    if (tx === null) throw new DecryptError(`the transaction ${log.transactionHash} of rollup ${hash} is not found`);
    let call: AddRollupCall | null;
    try {
      call = tx.to !== null && getAddress(tx.to) === getAddress(address) ? decodeAddRollup(tx.data) : null;
    } catch {
      call = null;
    }
    if (call === null) {
      throw new DecryptError(
        `rollup ${hash} was added by a call this tool cannot read (transaction ${log.transactionHash} ` +
          "does not call RollupRegistry.addRollup directly)",
      );
    }
    const { header } = call;
    if (hashOf(header) !== hash) {
      // Several addRollup calls in one transaction (through a contract) cannot be told apart here.
      throw new DecryptError(`the addRollup call of transaction ${log.transactionHash} is not rollup ${hash}`);
    }
    return {
      hash,
      blockNumber: log.blockNumber,
      transactionHash: log.transactionHash,
      committeeId: event.args.committeeId as bigint,
      signers: committeeSigners(call),
      header,
      payload: call.payload,
    };
  }
  throw new DecryptError(
    `no rollup ${hash} on L1: RollupRegistry ${address} emitted no RollupAdded with that hash ` +
      `between blocks ${deps.fromBlock} and ${head}`,
  );
}

function decodeTransaction(raw: string): DecodedTransaction | UndecodableTransaction {
  let tx: Transaction;
  try {
    tx = Transaction.from(raw);
  } catch (e) {
    return { raw, error: (e as Error).message };
  }
  if (tx.hash === null || tx.from === null) return { raw, error: "not signed" };
  const data = getBytes(tx.data);
  const decoded: DecodedTransaction = {
    hash: tx.hash,
    type: tx.type ?? 0,
    chainId: tx.chainId,
    from: tx.from,
    to: tx.to,
    value: tx.value,
    nonce: tx.nonce,
    gasLimit: tx.gasLimit,
    dataLength: data.length,
  };
  if (tx.type === 2) {
    decoded.maxFeePerGas = tx.maxFeePerGas ?? 0n;
    decoded.maxPriorityFeePerGas = tx.maxPriorityFeePerGas ?? 0n;
  } else {
    decoded.gasPrice = tx.gasPrice ?? 0n;
  }
  if (data.length >= 4 && tx.to !== null) decoded.selector = hexlify(data.subarray(0, 4));
  return decoded;
}

/**
 * Decrypts rollup `rollupHash` with its epoch key from L1. Throws EpochKeyNotRevealedError before the
 * reveal, DecryptError when the rollup is unknown or cannot be read.
 */
export async function decryptRollup(deps: DecryptDeps, rollupHash: string): Promise<DecryptedRollup> {
  const rollup = await findRollup(deps, rollupHash);
  if (getBytes(rollup.payload).length === 0) {
    throw new DecryptError(
      `rollup ${rollup.hash} was posted as a blob (versioned hash ${rollup.header.payloadHash}): its payload is ` +
        "not in the calldata, and reading blobs needs a blob archive (not supported)",
    );
  }
  const { registry, provider } = deps;
  const epoch = rollup.header.revelationEpoch;
  const key = await registry.epochKey(epoch);
  if (key === ZeroHash) {
    const [revealableAt, head] = await Promise.all([registry.revealableAt(epoch), provider.getBlockNumber()]);
    throw new EpochKeyNotRevealedError(rollup.hash, epoch, revealableAt, BigInt(head));
  }
  if (keccak256(key) !== rollup.header.keyCommitment.toLowerCase()) {
    throw new DecryptError(
      `the key L1 holds for epoch ${epoch} does not hash to rollup ${rollup.hash}'s key commitment ` +
        `${rollup.header.keyCommitment}`,
    );
  }
  let content;
  try {
    content = openRollupPayload(rollup.payload, key);
  } catch (e) {
    if (e instanceof RollupPayloadError) throw new DecryptError(`rollup ${rollup.hash}: ${e.message}`);
    throw e;
  }
  if (content.firstSeq !== rollup.header.firstBatchSeq) {
    throw new DecryptError(
      `rollup ${rollup.hash}: the payload starts at batch ${content.firstSeq}, the header at ${rollup.header.firstBatchSeq}`,
    );
  }
  const batches = content.batches.map((b, i) => ({
    seq: content.firstSeq + BigInt(i),
    timestamp: b.timestamp,
    l1BaseFee: b.l1BaseFee,
    l1MessagesTo: b.l1MessagesTo,
    transactions: b.txs.map(decodeTransaction),
  }));
  return { rollup, epoch, key, batches };
}

function isDecoded(tx: DecodedTransaction | UndecodableTransaction): tx is DecodedTransaction {
  return "hash" in tx;
}

/** The decrypted rollup as text lines. */
export function formatDecryptedRollup(d: DecryptedRollup): string[] {
  const { rollup } = d;
  const h = rollup.header;
  const txCount = d.batches.reduce((n, b) => n + b.transactions.length, 0);
  const lines = [
    `rollup ${rollup.hash}`,
    `  on L1:        block ${rollup.blockNumber}, transaction ${rollup.transactionHash}, committee ${rollup.committeeId} (signed by ${rollup.signers.join(", ")})`,
    `  batches:      ${h.firstBatchSeq} to ${h.lastBatchSeq}, last batch hash ${h.lastBatchHash}`,
    `  binding:      L1 block ${h.l1BlockNumber} (${h.l1BlockHash})`,
    `  message root: ${h.messageRoot === ZeroHash ? "none (no L2→L1 messages)" : h.messageRoot}`,
    `  epoch key:    epoch ${d.epoch}, key ${d.key} (revealed on L1, matches the commitment)`,
    `  transactions: ${txCount} (deposits are not in the payload: they are the MessagePublished events on L1)`,
  ];
  for (const b of d.batches) {
    const when = new Date(Number(b.timestamp) * 1000).toISOString();
    lines.push(
      "",
      `batch ${b.seq}  timestamp ${b.timestamp} (${when}), L1 base fee ${b.l1BaseFee} wei, ` +
        `L1 messages below ${b.l1MessagesTo}, ${b.transactions.length} transaction(s)`,
    );
    b.transactions.forEach((tx, i) => {
      if (!isDecoded(tx)) {
        lines.push(`  ${i}  undecodable (${getBytes(tx.raw).length} bytes): ${tx.error}`);
        return;
      }
      const fee =
        tx.maxFeePerGas !== undefined
          ? `max fee ${tx.maxFeePerGas} wei, priority ${tx.maxPriorityFeePerGas} wei`
          : `gas price ${tx.gasPrice} wei`;
      const data =
        tx.selector === undefined
          ? `data ${tx.dataLength} bytes`
          : `data ${tx.dataLength} bytes (selector ${tx.selector})`;
      lines.push(
        `  ${i}  ${tx.hash}`,
        `     from ${tx.from} to ${tx.to ?? "(contract creation)"}`,
        `     value ${tx.value} wei, nonce ${tx.nonce}, gas ${tx.gasLimit}, ${fee}, type ${tx.type}, ${data}`,
      );
    });
  }
  return lines;
}

/** JSON-ready form of the decrypted rollup (integers as decimal strings). */
export function decryptedRollupJson(d: DecryptedRollup): unknown {
  const str = (v: bigint | undefined) => v?.toString();
  const h = d.rollup.header;
  return {
    rollupHash: d.rollup.hash,
    l1: {
      blockNumber: d.rollup.blockNumber,
      transactionHash: d.rollup.transactionHash,
      committeeId: d.rollup.committeeId.toString(),
      signers: d.rollup.signers,
    },
    header: {
      firstBatchSeq: str(h.firstBatchSeq),
      lastBatchSeq: str(h.lastBatchSeq),
      lastBatchHash: h.lastBatchHash,
      l1BlockNumber: str(h.l1BlockNumber),
      l1BlockHash: h.l1BlockHash,
      messageRoot: h.messageRoot,
      payloadHash: h.payloadHash,
      revelationEpoch: str(h.revelationEpoch),
      keyCommitment: h.keyCommitment,
    },
    epoch: str(d.epoch),
    key: d.key,
    batches: d.batches.map((b) => ({
      seq: str(b.seq),
      timestamp: str(b.timestamp),
      l1BaseFee: str(b.l1BaseFee),
      l1MessagesTo: str(b.l1MessagesTo),
      transactions: b.transactions.map((tx) =>
        isDecoded(tx)
          ? {
              hash: tx.hash,
              type: tx.type,
              chainId: str(tx.chainId),
              from: tx.from,
              to: tx.to,
              value: str(tx.value),
              nonce: tx.nonce,
              gasLimit: str(tx.gasLimit),
              gasPrice: str(tx.gasPrice),
              maxFeePerGas: str(tx.maxFeePerGas),
              maxPriorityFeePerGas: str(tx.maxPriorityFeePerGas),
              dataLength: tx.dataLength,
              selector: tx.selector,
            }
          : { raw: tx.raw, error: tx.error },
      ),
    })),
  };
}
