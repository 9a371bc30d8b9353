/**
 * What an enclave node derives from L1, read by the node itself (as OP's node derives from L1): the
 * L1→L2 messages of the MessageBus, in sequence order, and the rollups of the RollupRegistry with
 * their payloads. Only blocks `confirmations` deep are read, so a shallow L1 reorg never reaches the
 * L2. A node reads L1 itself rather than through the workers' queues so that a validator can join at
 * any time and replay everything from the deployment block. It also reads the RollupRegistry's
 * `BatchSequenceReopened`: a guardian rejection, after which the rejected rollup and every later one are
 * void and the sequence continues from the rejected rollup's first batch.
 */
import { type Log, type Provider, getAddress } from "ethers";

import type { L1Message } from "../../protocol/messages.js";
import { type RollupHeader, committeeSigners, decodeAddRollup } from "../../protocol/rollup.js";
import { IMessageBus__factory, RollupRegistry__factory } from "../../types/ethers-contracts/index.js";

export interface L1MessageRead {
  message: L1Message;
  blockNumber: number;
}

export interface L1Rollup {
  hash: string;
  txHash: string;
  blockNumber: number;
  header: RollupHeader;
  /** The payload from the transaction's calldata (empty when it was posted as a blob). */
  payload: string;
  /** The OperatorRegistry committee that signed it (RollupAdded). */
  committeeId: bigint;
  /** Who of it signed: the members at the set bits of its signer bitmap, in bit order. */
  signers: string[];
  /** When its messages activate on L1: its L1 block's timestamp plus the challenge period then (seconds). */
  challengeEndsAt: bigint;
}

/** A guardian rejection: rollups from batch `nextBatchSeq` on are void; the next rollup starts there. */
export interface L1Reopening {
  nextBatchSeq: bigint;
  /** How many rollups had been read before it (it applies after them, in L1 order). */
  afterRollups: number;
  blockNumber: number;
}

export interface L1ReaderOptions {
  provider: Provider;
  messageBus: string;
  rollupRegistry: string;
  fromBlock: number;
  confirmations: number;
  /** Blocks per eth_getLogs request. */
  range?: number;
}

/** The MessageBus's event and the RollupRegistry's events and call the node reads. */
const messageBusInterface = IMessageBus__factory.createInterface();
const rollupRegistryInterface = RollupRegistry__factory.createInterface();
const MESSAGE_TOPIC = messageBusInterface.getEvent("MessagePublished").topicHash;
const ROLLUP_TOPIC = rollupRegistryInterface.getEvent("RollupAdded").topicHash;
const REOPENED_TOPIC = rollupRegistryInterface.getEvent("BatchSequenceReopened").topicHash;

export class L1ReaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "L1ReaderError";
  }
}

export class L1Reader {
  private readonly messages = new Map<bigint, L1MessageRead>();
  private readonly rollups: L1Rollup[] = [];
  private readonly reopenings: L1Reopening[] = [];
  private next: number;
  private readonly range: number;
  private l1Time = 0n;

  constructor(private readonly options: L1ReaderOptions) {
    this.next = options.fromBlock;
    this.range = options.range ?? 5_000;
  }

  /** The first L1 block not read yet. */
  get nextBlock(): number {
    return this.next;
  }

  /** The timestamp of the L1 head at the last sync (seconds; 0 before the first). */
  get l1Timestamp(): bigint {
    return this.l1Time;
  }

  /** Reads every confirmed block not read yet. Returns how many blocks it read. */
  async sync(): Promise<number> {
    const latest = await this.options.provider.getBlock("latest");
    if (latest === null) throw new L1ReaderError("the L1 has no latest block");
    const head = latest.number;
    if (BigInt(latest.timestamp) > this.l1Time) this.l1Time = BigInt(latest.timestamp);
    const safe = head - this.options.confirmations;
    const start = this.next;
    while (this.next <= safe) {
      const to = Math.min(safe, this.next + this.range - 1);
      const logs = await this.options.provider.getLogs({
        address: [this.options.messageBus, this.options.rollupRegistry],
        topics: [[MESSAGE_TOPIC, ROLLUP_TOPIC, REOPENED_TOPIC]],
        fromBlock: this.next,
        toBlock: to,
      });
      for (const log of logs) await this.take(log);
      this.next = to + 1;
    }
    return this.next - start;
  }

  /** Up to `max` consecutive L1 messages from `sequence` on (fewer when later ones are not read yet). */
  messagesFrom(sequence: bigint, max: number): L1MessageRead[] {
    const out: L1MessageRead[] = [];
    for (let s = sequence; out.length < max; s++) {
      const m = this.messages.get(s);
      if (m === undefined) break;
      out.push(m);
    }
    return out;
  }

  /** The rollups read so far, in L1 order (rejected and voided ones included; see `reopeningsRead`). */
  rollupsRead(): readonly L1Rollup[] {
    return this.rollups;
  }

  /** The L1 time a rollup's challenge period ends: its block's timestamp plus the period at that block. */
  private async challengeEndOf(log: Log): Promise<bigint> {
    const block = await this.options.provider.getBlock(log.blockNumber);
    if (block === null) throw new L1ReaderError(`L1 block ${log.blockNumber} not found`);
    const data = await this.options.provider.call({
      to: this.options.rollupRegistry,
      data: rollupRegistryInterface.encodeFunctionData("challengePeriod"),
      blockTag: log.blockNumber,
    });
    return (
      BigInt(block.timestamp) + (rollupRegistryInterface.decodeFunctionResult("challengePeriod", data)[0] as bigint)
    );
  }

  /** The guardian rejections read so far, in L1 order, each placed after the rollups read before it. */
  reopeningsRead(): readonly L1Reopening[] {
    return this.reopenings;
  }

  private async take(log: Log): Promise<void> {
    const event = messageBusInterface.parseLog(log) ?? rollupRegistryInterface.parseLog(log);
    if (event === null) return;
    if (event.name === "MessagePublished" && getAddress(log.address) === getAddress(this.options.messageBus)) {
      const message: L1Message = {
        sender: getAddress(event.args.sender as string),
        sequence: event.args.sequence as bigint,
        topic: Number(event.args.topic),
        payload: event.args.payload as string,
        consistencyLevel: Number(event.args.consistencyLevel),
      };
      this.messages.set(message.sequence, { message, blockNumber: log.blockNumber });
    } else if (
      event.name === "BatchSequenceReopened" &&
      getAddress(log.address) === getAddress(this.options.rollupRegistry)
    ) {
      this.reopenings.push({
        nextBatchSeq: event.args.nextBatchSeq as bigint,
        afterRollups: this.rollups.length,
        blockNumber: log.blockNumber,
      });
    } else if (event.name === "RollupAdded") {
      const tx = await this.options.provider.getTransaction(log.transactionHash);
      if (tx === null) throw new L1ReaderError(`rollup transaction ${log.transactionHash} not found`);
      const call = decodeAddRollup(tx.data);
      if (call === null) {
        throw new L1ReaderError(
          `rollup ${event.args.rollupHash} was added by a call the node cannot read (${log.transactionHash})`,
        );
      }
      this.rollups.push({
        hash: event.args.rollupHash as string,
        txHash: log.transactionHash,
        blockNumber: log.blockNumber,
        header: call.header,
        payload: call.payload,
        committeeId: event.args.committeeId as bigint,
        signers: committeeSigners(call),
        challengeEndsAt: await this.challengeEndOf(log),
      });
    }
  }
}
