/**
 * The sequencer: every `batchInterval` it takes the L1 messages L1 has confirmed (in L1 order) and the
 * best transactions of the mempool, executes them as one batch on the L2 chain, and seals the batch
 * durably before anything else sees it. On start it rebuilds the L2 state by replaying its sealed
 * batches and restores its mempool from the journal.
 */
import { keccak256 } from "ethers";
import type { Logger } from "pino";

import { L2_GENESIS_BLOCKS } from "../../protocol/predeploys.js";
import type { L2Chain } from "../execution/l2-chain.js";
import { type EntropySource, replayBatch } from "../execution/replay.js";
import type { L1Reader } from "../l1/reader.js";
import type { SealedBatch } from "../rollup/batch.js";
import { Mempool, type MempoolOptions } from "./mempool.js";
import { StoreError, type SequencerStore } from "./store.js";

/**
 * The next batch as a sequencer proposes it, before execution: what a committee agrees on (the QBFT
 * value). Executing it on the parent named gives every member the same block.
 */
export interface BatchProposal {
  /** The batch's sequence number. */
  seq: bigint;
  /** The L2 head the batch builds on. */
  parentHash: string;
  timestamp: bigint;
  /** The L1 base fee the batch's L1 data fees are charged at. */
  l1BaseFee: bigint;
  /** L1 messages below this sequence are delivered after the batch. */
  l1MessagesTo: bigint;
  /** The newest L1 block the batch's L1 messages come from (0 without messages). */
  l1Block: bigint;
  /** Signed user transactions in order; one that cannot execute is left out of the block. */
  txs: string[];
}

export interface SequencerSettings {
  batchIntervalMs: number;
  maxTxsPerBatch: number;
  /** Most bytes of signed user transactions in one batch, so that its rollup fits one L1 transaction. */
  maxBatchBytes: number;
  maxL1MessagesPerBatch: number;
  /** Transactions waiting behind a nonce gap are dropped after this many newer arrivals. */
  maxGapArrivals: number;
}

export interface SequencerDeps {
  chain: L2Chain;
  store: SequencerStore;
  l1: L1Reader;
  entropy: EntropySource;
  /** The current L1 base fee (the batch's L1 data fees are charged at it). */
  l1BaseFee: () => Promise<bigint>;
  mempool: Omit<MempoolOptions, "blockGasLimit">;
  settings: SequencerSettings;
  logger: Logger;
  /** Wall clock in seconds (tests pass their own). */
  clock?: () => bigint;
}

const BLOCK_GAS_LIMIT = 60_000_000n;
/** Gas kept free in each block for the batch's L1 message deliveries. */
const SYSTEM_GAS_RESERVE = 3_000_000n;

export class Sequencer {
  readonly mempool: Mempool;
  private l1BaseFeeNow = 0n;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private lastError: string | undefined;

  private constructor(private readonly deps: SequencerDeps) {
    this.mempool = new Mempool(
      {
        nonce: (a) => deps.chain.nonce(a),
        balance: (a) => deps.chain.balance(a),
        l1BaseFee: () => this.l1BaseFeeNow,
      },
      { ...deps.mempool, blockGasLimit: BLOCK_GAS_LIMIT - SYSTEM_GAS_RESERVE },
      deps.store,
    );
  }

  /** Rebuilds the L2 state from the sealed batches and restores the mempool. */
  static async open(deps: SequencerDeps): Promise<Sequencer> {
    const sequencer = new Sequencer(deps);
    await sequencer.restore();
    return sequencer;
  }

  /** Sealed batches from `from` on (at most `max`). */
  sealedBatches(from: bigint, max: number): SealedBatch[] {
    return this.deps.store.batchesFrom(from, max);
  }

  get batchCount(): number {
    return this.deps.store.sealed.length;
  }

  health(): { ok: boolean; detail?: string } {
    return this.lastError === undefined ? { ok: true } : { ok: false, detail: this.lastError };
  }

  /**
   * Produces a batch every `batchIntervalMs` until stopped: a fixed cadence, as L1 and OP Stack chains
   * keep a block time (the next batch starts one interval after this one started, at once if producing
   * it took longer).
   */
  start(): void {
    const tick = (): void => {
      const startedAt = performance.now();
      this.running = this.produceBatch({ empty: true })
        .then(() => (this.lastError = undefined))
        .catch((e: unknown) => {
          this.lastError = (e as Error).message;
          this.deps.logger.error({ err: e }, "batch production failed; retrying next interval");
        })
        .finally(() => {
          const wait = Math.max(0, this.deps.settings.batchIntervalMs - (performance.now() - startedAt));
          if (!this.stopped) this.timer = setTimeout(tick, wait);
        });
    };
    this.timer = setTimeout(tick, this.deps.settings.batchIntervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /**
   * Seals one batch and returns it. Without `empty`, only when there is something to put in it; the
   * loop seals one every interval regardless, as L1 and OP Stack chains make blocks: wallets wait for
   * a new block before they look for their receipt again. A sequencer of its own decides alone: this is
   * `apply(propose())`; a committee member proposes, agrees through consensus, then applies.
   */
  async produceBatch(options: { empty?: boolean } = {}): Promise<SealedBatch | undefined> {
    const proposal = await this.propose(options);
    return proposal === undefined ? undefined : this.apply(proposal);
  }

  /**
   * What this sequencer would put in the next batch: the L1 messages L1 has confirmed (in L1 order) and
   * the best transactions of the mempool. Nothing is executed or changed. Without `empty`, undefined
   * when there is nothing to put in it.
   */
  async propose(options: { empty?: boolean } = {}): Promise<BatchProposal | undefined> {
    const { chain, l1, settings, store } = this.deps;
    await l1.sync();
    this.l1BaseFeeNow = await this.deps.l1BaseFee();
    const from = await chain.nextL1Sequence();
    const fromL1 = l1.messagesFrom(from, settings.maxL1MessagesPerBatch);
    const l1Block = fromL1.reduce((max, m) => (BigInt(m.blockNumber) > max ? BigInt(m.blockNumber) : max), 0n);
    const budget = BLOCK_GAS_LIMIT - SYSTEM_GAS_RESERVE * BigInt(Math.max(1, fromL1.length));
    const selected = await this.mempool.select(
      budget > 0n ? budget : 0n,
      settings.maxTxsPerBatch,
      settings.maxBatchBytes,
    );
    if (fromL1.length === 0 && selected.length === 0 && options.empty !== true) return undefined;
    const parent = await chain.head();
    const now = this.now();
    return {
      seq: BigInt(store.sealed.length),
      parentHash: parent.hash,
      timestamp: now > parent.timestamp ? now : parent.timestamp + 1n,
      l1BaseFee: this.l1BaseFeeNow,
      l1MessagesTo: from + BigInt(fromL1.length),
      l1Block,
      txs: selected.map((t) => t.raw),
    };
  }

  /**
   * Why `proposal` cannot be the next batch, or undefined when it can: it must follow this sequencer's
   * head, keep time moving forward (at most `maxDriftSeconds` ahead of this sequencer's clock), apply L1
   * messages this sequencer's L1 reader has (syncing it if needed) from blocks no newer than it names, and
   * stay within the batch limits. The transactions themselves are checked by execution: one that cannot
   * execute is left out of the block on every member alike.
   */
  async checkProposal(proposal: BatchProposal, maxDriftSeconds: bigint): Promise<string | undefined> {
    const { chain, l1, settings, store } = this.deps;
    const seq = BigInt(store.sealed.length);
    if (proposal.seq !== seq) return `proposal is for batch ${proposal.seq}, the next batch is ${seq}`;
    const parent = await chain.head();
    if (proposal.parentHash.toLowerCase() !== parent.hash.toLowerCase()) {
      return `proposal builds on ${proposal.parentHash}, the head is ${parent.hash}`;
    }
    if (proposal.timestamp <= parent.timestamp) {
      return `proposal timestamp ${proposal.timestamp} is not after the parent's ${parent.timestamp}`;
    }
    // An honest proposer takes max(its clock, parent + 1): batches faster than one a second run ahead of
    // the clock by one second each, which is not drift.
    const now = this.now();
    const honest = now > parent.timestamp ? now : parent.timestamp + 1n;
    if (proposal.timestamp > honest + maxDriftSeconds) {
      return `proposal timestamp ${proposal.timestamp} is more than ${maxDriftSeconds} s ahead of ${honest} (this clock, or the parent's + 1)`;
    }
    if (proposal.txs.length > settings.maxTxsPerBatch) {
      return `proposal holds ${proposal.txs.length} transactions, more than ${settings.maxTxsPerBatch}`;
    }
    const bytes = proposal.txs.reduce((sum, raw) => sum + (raw.length - 2) / 2, 0);
    if (bytes > settings.maxBatchBytes)
      return `proposal holds ${bytes} bytes of transactions, more than ${settings.maxBatchBytes}`;
    const from = await chain.nextL1Sequence();
    if (proposal.l1MessagesTo < from)
      return `proposal delivers L1 messages up to ${proposal.l1MessagesTo}, below ${from}`;
    const count = Number(proposal.l1MessagesTo - from);
    if (count > settings.maxL1MessagesPerBatch) {
      return `proposal delivers ${count} L1 messages, more than ${settings.maxL1MessagesPerBatch}`;
    }
    if (count > 0 && l1.messagesFrom(from, count).length < count) await l1.sync();
    const messages = l1.messagesFrom(from, count);
    if (messages.length < count) {
      return `proposal delivers L1 messages ${from}…${proposal.l1MessagesTo - 1n}; this node's L1 reader has ${messages.length} of them`;
    }
    const newest = messages.reduce((max, m) => (BigInt(m.blockNumber) > max ? BigInt(m.blockNumber) : max), 0n);
    if (newest !== proposal.l1Block) {
      return `proposal names L1 block ${proposal.l1Block}, its L1 messages come from up to block ${newest}`;
    }
    return undefined;
  }

  /**
   * Executes `proposal` as the next batch and seals it durably before anything else sees it. Every
   * member of a committee applies the decided proposal alike, so they reach the same block.
   */
  async apply(proposal: BatchProposal): Promise<SealedBatch> {
    const { chain, l1, settings, store } = this.deps;
    const seq = BigInt(store.sealed.length);
    if (proposal.seq !== seq) throw new StoreError(`cannot apply batch ${proposal.seq}: the next batch is ${seq}`);
    const from = await chain.nextL1Sequence();
    const count = Number(proposal.l1MessagesTo - from);
    const l1Messages = count > 0 ? l1.messagesFrom(from, count).map((m) => m.message) : [];
    if (l1Messages.length !== Math.max(count, 0)) {
      throw new StoreError(
        `batch ${seq} delivers L1 messages up to ${proposal.l1MessagesTo}; L1 has ${l1Messages.length} of ${count}`,
      );
    }
    const executed = await chain.executeBatch({
      timestamp: proposal.timestamp,
      prevrandao: this.deps.entropy(seq),
      l1BaseFee: proposal.l1BaseFee,
      l1Messages,
      txs: proposal.txs,
    });
    const batch: SealedBatch = {
      seq,
      hash: executed.hash,
      timestamp: executed.timestamp,
      l1BaseFee: proposal.l1BaseFee,
      l1MessagesTo: executed.l1MessagesTo,
      txs: executed.txs,
      l1Block: proposal.l1Block,
      messages: executed.messages,
    };
    store.appendBatch(batch);
    for (const r of executed.rejected) this.mempool.drop(r.hash, r.reason);
    this.mempool.includedRaw(executed.txs, seq);
    await this.mempool.prune(settings.maxGapArrivals);
    this.deps.logger.debug(
      {
        batch: seq,
        block: executed.number,
        txs: executed.txs.length,
        l1Messages: l1Messages.length,
        rejected: executed.rejected.length,
      },
      "batch sealed",
    );
    return batch;
  }

  private now(): bigint {
    return (this.deps.clock ?? (() => BigInt(Math.floor(Date.now() / 1000))))();
  }

  private async restore(): Promise<void> {
    const { chain, store, l1, logger } = this.deps;
    const head = await chain.head();
    if (head.number !== L2_GENESIS_BLOCKS - 1n)
      throw new StoreError(`the L2 chain is at block ${head.number}, not at genesis`);
    await l1.sync();
    for (const batch of store.sealed) {
      const executed = await replayBatch({ chain, l1, entropy: this.deps.entropy, seq: batch.seq, batch });
      if (executed.hash !== batch.hash) {
        throw new StoreError(
          `replaying sealed batch ${batch.seq} gives block ${executed.hash}, but it was sealed as ${batch.hash}`,
        );
      }
    }
    const { pending, dropped } = store.recoverMempool(keccak256);
    for (const [hash, reason] of dropped) this.mempool.rememberDropped(hash, reason);
    let readmitted = 0;
    for (const raw of pending) {
      try {
        await this.mempool.add(raw);
        readmitted++;
      } catch (e) {
        const reason = (e as Error).message;
        this.mempool.rememberDropped(keccak256(raw), reason);
        logger.warn({ hash: keccak256(raw), reason }, "a journaled transaction is no longer valid; dropped");
      }
    }
    if (store.sealed.length > 0 || readmitted > 0) {
      logger.info({ batches: store.sealed.length, mempool: readmitted }, "sequencer state restored");
    }
  }
}
