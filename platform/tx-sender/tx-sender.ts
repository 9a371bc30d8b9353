/**
 * TxSender: the only way workers write to L1. One instance owns one signing key's nonces.
 *
 * - Nonces are assigned locally (starting from the chain's pending nonce) in one critical section that
 *   signs, persists and broadcasts in nonce order, so many intents are in flight at once (pipelining) and
 *   each is awaited independently. "Nonce too low" (someone else used the key) refreshes the nonce.
 * - Every intent is persisted in Redis with its signed raw transactions BEFORE broadcast. A restarted
 *   process adopts the pending ones and checks the chain first: one of its hashes mined → that outcome;
 *   otherwise `alreadyDone()` → the nonce is taken by a cancellation and nothing more happens; otherwise
 *   the very same signed transaction is broadcast again. The same action is never sent twice.
 * - Intents are simulated (eth_estimateGas on the pending block) first: a revert is not broadcast, it
 *   throws TxRevertedError with the decoded custom error (or ends `already-done`).
 * - One monitor loop per sender polls the account's mined nonce and the head: it fetches receipts of the
 *   intents whose nonce got used, waits for `confirmations`, re-sends with fees bumped (≥ +10%, up to the
 *   cap) what is not mined within `resendAfterMs`, and re-broadcasts what the node dropped.
 */
import {
  type BaseWallet,
  type Interface,
  type JsonRpcApiProvider,
  JsonRpcProvider,
  Transaction,
  Wallet,
  getAddress,
  parseUnits,
  toQuantity,
} from "ethers";
import type { Redis } from "ioredis";
import { Registry } from "prom-client";
import { z } from "zod";

import { parseConfig, senderConfigSchema } from "../config.js";
import type { WorkerContext } from "../context.js";
import type { Logger } from "../logger.js";
import { type Fees, bumpedFees, suggestedFees } from "./fees.js";
import { type TxSenderMetrics, txSenderMetrics } from "./metrics.js";
import { type DecodedRevert, decodeRevertError, isRevert, veilnetErrorInterfaces } from "../revert.js";
import { type IntentRecord, IntentStore, type SignedTx } from "./store.js";
import { type TxIntent, type TxOutcome, TxRevertedError } from "./types.js";

export { TxRevertedError };
export type { TxIntent, TxOutcome, IntentRecord };

export interface TxSenderOptions {
  provider: JsonRpcApiProvider;
  /** The signing key (0x-prefixed hex) or a wallet holding it. */
  signer: string | BaseWallet;
  /** Redis for the intents (QUEUE_PREFIX-scoped keys). */
  redis: Redis;
  /** QUEUE_PREFIX. */
  keyPrefix: string;
  logger: Logger;
  /** Registry for the metrics (a private one when absent). */
  metrics?: Registry;
  /** Blocks an intent's transaction needs (1 = mined). Default 1. */
  confirmations?: number;
  /** A transaction not mined within this many ms is replaced with higher fees. Default 30 000. */
  resendAfterMs?: number;
  /** Fee raise per replacement, percent; at least 10. Default 20. */
  feeBumpPercent?: number;
  /** Cap on maxFeePerGas, wei. */
  maxFeePerGas: bigint;
  /** Period of the monitor loop (mined nonce, receipts, resends). Default 1000. */
  pollIntervalMs?: number;
  /** How often a pending transaction is looked up on the node to notice it was dropped. Default 4 polls. */
  dropCheckMs?: number;
  /** Interfaces decoding revert data (default: every Veilnet contract). */
  errorInterfaces?: Interface[];
  /** Block tag intents are simulated against. Default "pending" (sees our own in-flight transactions). */
  simulateBlockTag?: "pending" | "latest";
  /** How long finished intents are remembered (idempotency by key), seconds. Default 7 days. */
  finishedTtlSeconds?: number;
  /**
   * Test-only hooks around the first broadcast of an intent: `beforeBroadcast` sees the record once it is
   * persisted; `afterBroadcast` throwing simulates a crash right after the broadcast (the intent is left
   * pending in Redis and no longer watched by this instance).
   */
  testHooks?: {
    beforeBroadcast?: (record: IntentRecord) => void | Promise<void>;
    afterBroadcast?: (record: IntentRecord) => void | Promise<void>;
  };
}

/** send() of a sender that was stopped (the intent stays in Redis for the next process). */
export class TxSenderStoppedError extends Error {
  constructor(readonly key: string) {
    super(`${key}: tx sender stopped before the transaction was confirmed`);
    this.name = "TxSenderStoppedError";
  }
}

/** Resolves the on-chain check of an intent found in Redis after a restart (alreadyDone is not stored). */
export type AlreadyDoneResolver = (record: IntentRecord) => (() => Promise<boolean>) | undefined;

/** How a node answered a raw transaction. */
type BroadcastResult =
  | { kind: "ok" }
  /** Already in the node's pool. */
  | { kind: "known" }
  | { kind: "nonce-too-low"; message: string }
  | { kind: "underpriced"; message: string }
  /** Definitive refusal (funds, gas limit, malformed): retrying the same transaction cannot help. */
  | { kind: "rejected"; message: string }
  /** Anything else (transport error, node busy, nonce gap under automine): retried by the monitor. */
  | { kind: "unknown"; message: string };

interface Flight {
  record: IntentRecord;
  alreadyDone?: () => Promise<boolean>;
  promise: Promise<TxOutcome>;
  resolve: (outcome: TxOutcome) => void;
  reject: (error: Error) => void;
  /** Adopted from Redis (a previous process): checked against the chain before anything else. */
  adopted: boolean;
  needsCheck: boolean;
  firstSentAt: number;
  lastSentAt: number;
  lastDropCheckAt: number;
  /** Consecutive polls that saw the nonce used with no receipt for any of our hashes. */
  lostPolls: number;
  /** The block our transaction was first seen mined in (waiting for confirmations). */
  minedAt?: number;
  finished: boolean;
}

interface RpcReceipt {
  transactionHash: string;
  blockNumber: string;
  blockHash: string;
  status: string;
  gasUsed: string;
}

const DEFAULT_PRIORITY_FEE = parseUnits("1", "gwei");
const GAS_MARGIN_PERCENT = 20n;
const MAX_NONCE_RETRIES = 8;

export class TxSender {
  readonly address: string;
  private readonly provider: JsonRpcApiProvider;
  private readonly wallet: BaseWallet;
  private readonly log: Logger;
  private readonly metrics: TxSenderMetrics;
  private readonly labels: { signer: string };
  private readonly confirmations: number;
  private readonly resendAfterMs: number;
  private readonly feeBumpPercent: number;
  private readonly maxFeePerGas: bigint;
  private readonly pollIntervalMs: number;
  private readonly dropCheckMs: number;
  private readonly interfaces: readonly Interface[];
  private readonly simulateBlockTag: "pending" | "latest";

  private store?: IntentStore;
  private chainId = 0n;
  private initializing?: Promise<void>;
  private nextNonce = 0;
  private readonly flights = new Map<string, Flight>();
  private readonly starting = new Map<string, Promise<TxOutcome>>();
  private lock: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private stopped = false;
  private feeCache?: { at: number; fees: Promise<Fees> };
  private rpcId = 1_000_000_000;

  constructor(private readonly options: TxSenderOptions) {
    this.provider = options.provider;
    this.wallet = typeof options.signer === "string" ? new Wallet(options.signer) : options.signer;
    this.address = getAddress(this.wallet.address);
    this.log = options.logger.child({ component: "tx-sender", signer: this.address });
    this.metrics = txSenderMetrics(options.metrics ?? new Registry());
    this.labels = { signer: this.address };
    this.confirmations = options.confirmations ?? 1;
    this.resendAfterMs = options.resendAfterMs ?? 30_000;
    this.feeBumpPercent = options.feeBumpPercent ?? 20;
    if (this.feeBumpPercent < 10) throw new Error("feeBumpPercent must be at least 10");
    if (this.confirmations < 1) throw new Error("confirmations must be at least 1");
    this.maxFeePerGas = options.maxFeePerGas;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.dropCheckMs = options.dropCheckMs ?? this.pollIntervalMs * 4;
    this.interfaces = options.errorInterfaces ?? veilnetErrorInterfaces();
    this.simulateBlockTag = options.simulateBlockTag ?? "pending";
  }

  /** The sender's policies. */
  get settings(): {
    confirmations: number;
    resendAfterMs: number;
    feeBumpPercent: number;
    maxFeePerGas: bigint;
    pollIntervalMs: number;
  } {
    return {
      confirmations: this.confirmations,
      resendAfterMs: this.resendAfterMs,
      feeBumpPercent: this.feeBumpPercent,
      maxFeePerGas: this.maxFeePerGas,
      pollIntervalMs: this.pollIntervalMs,
    };
  }

  /** What Redis holds of intent `key` (status, nonce, signed transactions), if anything. */
  async intent(key: string): Promise<IntentRecord | undefined> {
    await this.init();
    return this.requireStore().get(key);
  }

  /** Intents broadcast and not finished yet. */
  get inFlight(): number {
    return this.flights.size;
  }

  /**
   * Performs `intent` once: resolves when its transaction is mined with the required confirmations (or
   * the effect turned out to be on chain already); throws TxRevertedError when it reverts or would revert.
   * A key already completed returns the stored outcome without sending anything.
   */
  send(intent: TxIntent): Promise<TxOutcome> {
    if (this.stopped) return Promise.reject(new TxSenderStoppedError(intent.key));
    const flight = this.flights.get(intent.key);
    if (flight !== undefined) {
      flight.alreadyDone ??= intent.alreadyDone;
      return flight.promise;
    }
    const started = this.starting.get(intent.key);
    if (started !== undefined) return started;
    const promise = this.start(intent).finally(() => this.starting.delete(intent.key));
    this.starting.set(intent.key, promise);
    return promise;
  }

  /** Whether stop() was called. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /**
   * Finishes the intents a previous process left pending (the sender adopts them when it starts; this
   * waits for them). `resolve` may supply each one's `alreadyDone` check. Returns the outcomes of those
   * that ended mined or already-done; reverted ones are logged and counted.
   */
  async recover(resolve?: AlreadyDoneResolver): Promise<TxOutcome[]> {
    if (this.stopped) throw new Error("tx sender stopped");
    await this.init();
    for (const record of await this.requireStore().pending()) {
      if (!this.flights.has(record.key) && !this.starting.has(record.key)) this.adopt(record);
    }
    const adopted = [...this.flights.values()].filter((f) => f.adopted);
    if (resolve !== undefined) for (const f of adopted) f.alreadyDone ??= resolve(f.record);
    const settled = await Promise.allSettled(adopted.map((f) => f.promise));
    return settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  }

  /**
   * Stops the monitor; unfinished sends reject with TxSenderStoppedError (their intents stay in Redis and
   * the next process finishes them). Does not close the provider or Redis.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking?.catch(() => undefined);
    await this.lock;
    for (const flight of this.flights.values()) {
      if (flight.finished) continue; // settling its outcome right now
      flight.finished = true;
      flight.reject(new TxSenderStoppedError(flight.record.key));
    }
    this.flights.clear();
    this.metrics.pending.set(this.labels, 0);
  }

  // ---------------------------------------------------------------------------------------------------
  // Start of an intent

  private async start(intent: TxIntent): Promise<TxOutcome> {
    await this.init();
    const store = this.requireStore();
    const inFlight = this.flights.get(intent.key);
    if (inFlight !== undefined) {
      inFlight.alreadyDone ??= intent.alreadyDone;
      return inFlight.promise;
    }
    const stored = await store.get(intent.key);
    if (stored !== undefined) {
      if (stored.status === "mined" || stored.status === "already-done") {
        this.log.debug({ key: intent.key, status: stored.status }, "intent already completed");
        return storedOutcome(stored);
      }
      if (stored.status === "pending") {
        this.log.info({ key: intent.key, nonce: stored.nonce }, "intent found pending in Redis: resuming it");
        return this.adopt(stored, intent.alreadyDone).promise;
      }
      // A reverted intent left no effect: it may be tried again.
    }

    const now = Date.now();
    const record: IntentRecord = {
      key: intent.key,
      from: this.address,
      to: getAddress(intent.to),
      data: intent.data,
      value: (intent.value ?? 0n).toString(),
      gasLimit: "0",
      nonce: -1,
      status: "pending",
      txs: [],
      createdAt: now,
      updatedAt: now,
    };
    if (intent.alreadyDone !== undefined && (await intent.alreadyDone())) {
      return this.finishAlreadyDoneUnsent(record);
    }
    const gas = await this.simulate(record, intent.gasLimit, intent.alreadyDone);
    if (gas === "already-done") return this.finishAlreadyDoneUnsent(record);
    record.gasLimit = gas.toString();

    const flight = this.newFlight(record, intent.alreadyDone, false);
    await this.submitWithNewNonce(flight);
    return flight.promise;
  }

  /** Simulates the intent; returns its gas limit, or "already-done", or throws TxRevertedError. */
  private async simulate(
    record: IntentRecord,
    gasLimit: bigint | undefined,
    alreadyDone: (() => Promise<boolean>) | undefined,
  ): Promise<bigint | "already-done"> {
    const tx = { from: record.from, to: record.to, data: record.data, value: toQuantity(BigInt(record.value)) };
    try {
      if (gasLimit !== undefined) {
        await this.provider.send("eth_call", [{ ...tx, gas: toQuantity(gasLimit) }, this.simulateBlockTag]);
        return gasLimit;
      }
      const estimate = BigInt((await this.provider.send("eth_estimateGas", [tx, this.simulateBlockTag])) as string);
      return (estimate * (100n + GAS_MARGIN_PERCENT)) / 100n;
    } catch (e) {
      if (!isRevert(e)) throw e;
      const decoded = decodeRevertError(e, this.interfaces);
      if (alreadyDone !== undefined && (await alreadyDone())) {
        this.log.info({ key: record.key, reason: decoded.reason }, "would revert, but the effect is already on chain");
        return "already-done";
      }
      this.metrics.reverted.inc(this.labels);
      this.log.warn(
        { key: record.key, errorName: decoded.name, reason: decoded.reason },
        "transaction would revert: not sent",
      );
      throw new TxRevertedError(record.key, decoded.reason, decoded.name);
    }
  }

  private async finishAlreadyDoneUnsent(record: IntentRecord): Promise<TxOutcome> {
    record.status = "already-done";
    record.outcome = {};
    await this.requireStore().saveFinished(record);
    this.metrics.alreadyDone.inc(this.labels);
    this.log.info({ key: record.key }, "effect already on chain: nothing sent");
    return { status: "already-done", key: record.key };
  }

  private newFlight(record: IntentRecord, alreadyDone: (() => Promise<boolean>) | undefined, adopted: boolean): Flight {
    let resolve!: (outcome: TxOutcome) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<TxOutcome>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined); // adopted intents may have nobody awaiting them
    const first = record.txs[0]?.signedAt ?? Date.now();
    return {
      record,
      alreadyDone,
      promise,
      resolve,
      reject,
      adopted,
      needsCheck: adopted,
      firstSentAt: first,
      lastSentAt: Date.now(),
      lastDropCheckAt: Date.now(),
      lostPolls: 0,
      finished: false,
    };
  }

  /** Takes over an intent found pending in Redis: the monitor checks it against the chain first. */
  private adopt(record: IntentRecord, alreadyDone?: () => Promise<boolean>): Flight {
    const existing = this.flights.get(record.key);
    if (existing !== undefined) return existing;
    const flight = this.newFlight(record, alreadyDone, true);
    this.nextNonce = Math.max(this.nextNonce, record.nonce + 1);
    this.track(flight);
    return flight;
  }

  private track(flight: Flight): void {
    if (this.stopped) {
      flight.finished = true;
      flight.reject(new TxSenderStoppedError(flight.record.key));
      return;
    }
    this.flights.set(flight.record.key, flight);
    this.metrics.pending.set(this.labels, this.flights.size);
    this.schedule();
  }

  // ---------------------------------------------------------------------------------------------------
  // Nonces, signing, broadcasting

  private async init(): Promise<void> {
    this.initializing ??= (async () => {
      const network = await this.provider.getNetwork();
      this.chainId = network.chainId;
      const store = new IntentStore(
        this.options.redis,
        this.options.keyPrefix,
        this.chainId,
        this.address,
        this.options.finishedTtlSeconds ?? 7 * 24 * 3600,
      );
      const [pendingNonce, records] = await Promise.all([this.chainNonce("pending"), store.pending()]);
      this.store = store;
      this.nextNonce = Math.max(this.nextNonce, pendingNonce);
      for (const record of records) this.adopt(record);
      this.log.info(
        { chainId: Number(this.chainId), nextNonce: this.nextNonce, adopted: records.length },
        "tx sender ready",
      );
    })().catch((e: unknown) => {
      this.initializing = undefined;
      throw e;
    });
    return this.initializing;
  }

  private requireStore(): IntentStore {
    if (this.store === undefined) throw new Error("tx sender not initialized");
    return this.store;
  }

  private async chainNonce(tag: "pending" | "latest"): Promise<number> {
    return Number(BigInt((await this.provider.send("eth_getTransactionCount", [this.address, tag])) as string));
  }

  /** Runs `fn` alone: nonce assignment, persistence and broadcasts happen in nonce order. */
  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.lock;
    let release!: () => void;
    this.lock = new Promise<void>((r) => (release = r));
    await previous;
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private sign(record: IntentRecord, nonce: number, fees: Fees, cancel: boolean): SignedTx {
    const tx = Transaction.from({
      type: 2,
      chainId: this.chainId,
      nonce,
      to: cancel ? record.from : record.to,
      data: cancel ? "0x" : record.data,
      value: cancel ? 0n : BigInt(record.value),
      gasLimit: cancel ? 21_000n : BigInt(record.gasLimit),
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    });
    tx.signature = this.wallet.signingKey.sign(tx.unsignedHash);
    return {
      hash: tx.hash!,
      raw: tx.serialized,
      nonce,
      maxFeePerGas: fees.maxFeePerGas.toString(),
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString(),
      cancel,
      signedAt: Date.now(),
    };
  }

  /** The node's fee suggestion (cached for one poll interval), capped. */
  private async currentFees(): Promise<Fees> {
    const now = Date.now();
    if (this.feeCache === undefined || now - this.feeCache.at > Math.max(this.pollIntervalMs, 200)) {
      const fees = (async () => {
        const [block, tip] = await Promise.all([
          this.provider.send("eth_getBlockByNumber", ["latest", false]) as Promise<{ baseFeePerGas?: string }>,
          (this.provider.send("eth_maxPriorityFeePerGas", []) as Promise<string>).catch(() => undefined),
        ]);
        const baseFee = block.baseFeePerGas === undefined ? 0n : BigInt(block.baseFeePerGas);
        return suggestedFees(baseFee, tip === undefined ? DEFAULT_PRIORITY_FEE : BigInt(tip), this.maxFeePerGas);
      })();
      this.feeCache = { at: now, fees };
      fees.catch(() => (this.feeCache = undefined));
    }
    return this.feeCache.fees;
  }

  /**
   * Assigns the next nonce to `flight`, signs, persists and broadcasts (in the critical section). A nonce
   * used behind our back is refreshed from the chain and the transaction signed again.
   */
  private async submitWithNewNonce(flight: Flight): Promise<void> {
    const record = flight.record;
    const store = this.requireStore();
    const fees = await this.currentFees();
    await this.exclusive(async () => {
      if (this.stopped) throw new TxSenderStoppedError(record.key);
      const previousNonce = record.nonce;
      /** Gives the nonce back (nothing was broadcast with it). */
      const release = (nonce: number) => {
        record.txs.pop();
        record.nonce = previousNonce;
        if (this.nextNonce === nonce + 1) this.nextNonce = nonce;
      };
      if (this.flights.size === 0) {
        // Nothing of ours is in flight, so the chain's pending nonce is the truth. Below ours means
        // transactions we counted are gone (an L1 reorg dropped them): reuse their nonces, or every
        // later transaction would wait behind a gap forever.
        const chainNonce = await this.chainNonce("pending");
        if (chainNonce < this.nextNonce) {
          this.log.warn(
            { key: record.key, chainNonce, nextNonce: this.nextNonce },
            "the chain's nonce is below ours and nothing is in flight (reorged away?): continuing from the chain's",
          );
          this.nextNonce = chainNonce;
        }
      }
      for (let attempt = 0; ; attempt++) {
        const nonce = this.nextNonce++;
        const signed = this.sign(record, nonce, fees, false);
        record.nonce = nonce;
        record.txs.push(signed);
        try {
          await store.savePending(record);
          await this.options.testHooks?.beforeBroadcast?.(record);
        } catch (e) {
          release(nonce);
          throw e;
        }
        const result = await this.broadcast(signed.raw);
        if (result.kind === "ok" || result.kind === "known" || result.kind === "unknown") {
          if (result.kind === "unknown") {
            this.log.warn({ key: record.key, nonce, reason: result.message }, "broadcast failed: will retry");
          }
          this.metrics.sent.inc(this.labels);
          this.log.info({ key: record.key, nonce, hash: signed.hash, to: record.to }, "transaction broadcast");
          flight.lastSentAt = Date.now();
          flight.lastDropCheckAt = flight.lastSentAt;
          if (!this.flights.has(record.key)) flight.firstSentAt = flight.lastSentAt;
          await this.options.testHooks?.afterBroadcast?.(record);
          this.track(flight);
          return;
        }
        release(nonce);
        if ((result.kind === "nonce-too-low" || result.kind === "underpriced") && attempt < MAX_NONCE_RETRIES) {
          const chainNonce = await this.chainNonce("pending");
          this.nextNonce = Math.max(this.nextNonce, nonce + 1, chainNonce);
          this.log.warn(
            { key: record.key, nonce, nextNonce: this.nextNonce, reason: result.message },
            "nonce already used (another sender on this key?): refreshed from the chain",
          );
          continue;
        }
        if (record.txs.length === 0) await store.delete(record.key);
        else await store.savePending(record);
        throw new Error(`${record.key}: transaction refused by the node: ${result.message}`);
      }
    });
  }

  /** eth_sendRawTransaction, classified. Never throws. */
  private async broadcast(raw: string): Promise<BroadcastResult> {
    try {
      await this.fastSend("eth_sendRawTransaction", [raw]);
      return { kind: "ok" };
    } catch (e) {
      return classifyBroadcastError(errorMessage(e));
    }
  }

  /**
   * A JSON-RPC call sent at once. ethers' `send` waits up to `batchStallTime` (10 ms) to batch requests,
   * which would cap a critical section that broadcasts one transaction at a time at ~100 tx/s; over HTTP
   * we post the request directly.
   */
  private async fastSend(method: string, params: unknown[]): Promise<unknown> {
    if (!(this.provider instanceof JsonRpcProvider)) return this.provider.send(method, params);
    const payload = { jsonrpc: "2.0" as const, id: this.rpcId++, method, params };
    const [response] = (await this.provider._send(payload)) as unknown as {
      result?: unknown;
      error?: { code: number; message?: string; data?: unknown };
    }[];
    if (response === undefined) throw new Error(`${method}: empty response`);
    if (response.error !== undefined) {
      throw Object.assign(new Error(response.error.message ?? JSON.stringify(response.error)), {
        error: response.error,
      });
    }
    return response.result;
  }

  // ---------------------------------------------------------------------------------------------------
  // The monitor

  private schedule(): void {
    if (this.stopped || this.timer !== undefined || this.ticking !== undefined || this.flights.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.ticking = this.tick()
        .catch((err: unknown) => this.log.warn({ err }, "tx monitor: poll failed; retrying"))
        .finally(() => {
          this.ticking = undefined;
          this.schedule();
        });
    }, this.pollIntervalMs);
  }

  private async tick(): Promise<void> {
    if (this.flights.size === 0) return;
    const [minedNonce, headHex] = await Promise.all([
      this.chainNonce("latest"),
      this.provider.send("eth_blockNumber", []) as Promise<string>,
    ]);
    const head = Number(BigInt(headHex));
    const flights = [...this.flights.values()]
      .filter((f) => !f.finished)
      .sort((a, b) => a.record.nonce - b.record.nonce);
    const used = flights.filter((f) => f.record.nonce < minedNonce);
    const open = flights.filter((f) => f.record.nonce >= minedNonce);

    await Promise.all(used.map((f) => this.guard(f, () => this.settle(f, head))));

    // Decide what the open ones need (in parallel), then broadcast in nonce order.
    const now = Date.now();
    const actions = await Promise.all(open.map((f) => this.guard(f, () => this.openAction(f, now))));
    for (const [i, action] of actions.entries()) {
      const flight = open[i];
      if (action === undefined || flight.finished || this.stopped) continue;
      await this.guard(flight, () => action());
    }
  }

  /** Runs a monitor step of `flight`; a failure is logged and retried next poll. */
  private async guard<T>(flight: Flight, step: () => Promise<T>): Promise<T | undefined> {
    try {
      return await step();
    } catch (err) {
      this.log.warn({ err, key: flight.record.key }, "tx monitor: step failed; retrying next poll");
      return undefined;
    }
  }

  /** The nonce of `flight` was used: find which transaction took it. */
  private async settle(flight: Flight, head: number): Promise<void> {
    const record = flight.record;
    if (flight.minedAt !== undefined && head - flight.minedAt + 1 < this.confirmations) return;
    const receipts = await Promise.all(
      record.txs.map((t) => this.provider.send("eth_getTransactionReceipt", [t.hash]) as Promise<RpcReceipt | null>),
    );
    const receipt = receipts.find((r): r is RpcReceipt => r !== null);
    if (receipt === undefined) {
      flight.minedAt = undefined;
      // One more poll before concluding (a node behind a load balancer may lag on receipts).
      if (++flight.lostPolls < 2) return;
      flight.lostPolls = 0;
      await this.nonceTaken(flight);
      return;
    }
    flight.lostPolls = 0;
    flight.needsCheck = false;
    const blockNumber = Number(BigInt(receipt.blockNumber));
    if (flight.minedAt === undefined) {
      this.metrics.timeToMine.observe(this.labels, (Date.now() - flight.firstSentAt) / 1000);
    }
    flight.minedAt = blockNumber;
    if (head - blockNumber + 1 < this.confirmations) return;

    const tx = record.txs.find((t) => t.hash.toLowerCase() === receipt.transactionHash.toLowerCase());
    if (tx?.cancel === true) {
      this.log.info({ key: record.key, hash: receipt.transactionHash }, "cancellation mined: effect already on chain");
      await this.finish(flight, { status: "already-done", key: record.key });
      return;
    }
    if (BigInt(receipt.status) === 1n) {
      const attempts = record.txs.filter((t) => !t.cancel).length;
      const outcome: TxOutcome = {
        status: "mined",
        key: record.key,
        hash: receipt.transactionHash,
        blockNumber,
        gasUsed: BigInt(receipt.gasUsed),
        attempts,
      };
      this.log.info({ key: record.key, hash: outcome.hash, blockNumber, attempts }, "transaction mined");
      await this.finish(flight, outcome);
      return;
    }
    const decoded = await this.replayRevert(record, blockNumber);
    if (flight.alreadyDone !== undefined && (await flight.alreadyDone())) {
      this.log.info(
        { key: record.key, hash: receipt.transactionHash, reason: decoded.reason },
        "transaction reverted, but the effect is on chain",
      );
      await this.finish(flight, { status: "already-done", key: record.key });
      return;
    }
    await this.finish(flight, new TxRevertedError(record.key, decoded.reason, decoded.name, receipt.transactionHash));
  }

  /** The revert reason of a mined failed transaction: replayed at its block (then at the one before). */
  private async replayRevert(record: IntentRecord, blockNumber: number): Promise<DecodedRevert> {
    const tx = {
      from: record.from,
      to: record.to,
      data: record.data,
      value: toQuantity(BigInt(record.value)),
      gas: toQuantity(BigInt(record.gasLimit)),
    };
    for (const block of [blockNumber, blockNumber - 1]) {
      try {
        await this.provider.send("eth_call", [tx, toQuantity(block)]);
      } catch (e) {
        if (isRevert(e)) return decodeRevertError(e, this.interfaces);
      }
    }
    return { name: undefined, reason: "reverted on chain (not reproducible by eth_call)", data: undefined };
  }

  /** Our nonce was used by a transaction that is not ours: the action did not happen. */
  private async nonceTaken(flight: Flight): Promise<void> {
    const record = flight.record;
    const cancelling = record.txs.at(-1)?.cancel === true;
    if (cancelling || (flight.alreadyDone !== undefined && (await flight.alreadyDone()))) {
      this.log.warn({ key: record.key, nonce: record.nonce }, "nonce used elsewhere; effect already on chain");
      await this.finish(flight, { status: "already-done", key: record.key });
      return;
    }
    this.log.warn(
      { key: record.key, nonce: record.nonce },
      "nonce used by another transaction of this key: sending again with a new nonce",
    );
    let gas: bigint | "already-done";
    try {
      gas = await this.simulate(record, BigInt(record.gasLimit), flight.alreadyDone);
    } catch (e) {
      if (e instanceof TxRevertedError) {
        await this.finish(flight, e, false);
        return;
      }
      throw e;
    }
    if (gas === "already-done") {
      await this.finish(flight, { status: "already-done", key: record.key });
      return;
    }
    await this.submitWithNewNonce(flight);
  }

  /** What an unmined intent needs now (adoption check, fee bump, re-broadcast), if anything. */
  private async openAction(flight: Flight, now: number): Promise<(() => Promise<void>) | undefined> {
    const record = flight.record;
    const last = record.txs.at(-1);
    if (last === undefined) return undefined;
    flight.lostPolls = 0;
    flight.minedAt = undefined;
    if (flight.needsCheck) {
      const done = last.cancel !== true && flight.alreadyDone !== undefined && (await flight.alreadyDone());
      flight.needsCheck = false;
      if (done) return () => this.cancel(flight);
      return () => this.rebroadcast(flight, "resuming an intent of a previous run");
    }
    if (now - flight.lastSentAt >= this.resendAfterMs) return () => this.bump(flight);
    if (now - flight.lastDropCheckAt >= this.dropCheckMs) {
      flight.lastDropCheckAt = now;
      const known = await this.provider.send("eth_getTransactionByHash", [last.hash]);
      if (known !== null) return undefined;
      if (last.cancel !== true && flight.alreadyDone !== undefined && (await flight.alreadyDone())) {
        return () => this.cancel(flight);
      }
      return () => this.rebroadcast(flight, "transaction dropped by the node");
    }
    return undefined;
  }

  /** Broadcasts the latest signed transaction of `flight` again (same nonce, same hash). */
  private async rebroadcast(flight: Flight, why: string): Promise<void> {
    const last = flight.record.txs.at(-1);
    if (last === undefined) return;
    await this.exclusive(async () => {
      const result = await this.broadcast(last.raw);
      flight.lastDropCheckAt = Date.now();
      this.log.info(
        { key: flight.record.key, nonce: last.nonce, hash: last.hash, result: result.kind },
        `re-broadcast: ${why}`,
      );
    });
  }

  /** Replaces the pending transaction with the same one (or the cancellation) at higher fees. */
  private async bump(flight: Flight, cancel = flight.record.txs.at(-1)?.cancel === true): Promise<void> {
    const record = flight.record;
    const last = record.txs.at(-1);
    if (last === undefined) return;
    const current = await this.currentFees();
    const old = { maxFeePerGas: BigInt(last.maxFeePerGas), maxPriorityFeePerGas: BigInt(last.maxPriorityFeePerGas) };
    const fees = bumpedFees(old, current, this.feeBumpPercent, this.maxFeePerGas);
    if (fees === undefined) {
      this.log.warn(
        { key: record.key, nonce: last.nonce, maxFeePerGas: last.maxFeePerGas, cap: this.maxFeePerGas.toString() },
        "fee cap reached: not bumping, waiting and re-broadcasting",
      );
      flight.lastSentAt = Date.now();
      await this.rebroadcast(flight, "waiting at the fee cap");
      return;
    }
    await this.exclusive(async () => {
      if (flight.finished || this.stopped) return;
      const signed = this.sign(record, last.nonce, fees, cancel);
      record.txs.push(signed);
      await this.requireStore().savePending(record);
      const result = await this.broadcast(signed.raw);
      flight.lastSentAt = Date.now();
      flight.lastDropCheckAt = flight.lastSentAt;
      if (result.kind === "underpriced" || result.kind === "rejected") {
        record.txs.pop();
        await this.requireStore().savePending(record);
        this.log.warn({ key: record.key, nonce: last.nonce, reason: result.message }, "replacement refused");
        return;
      }
      this.metrics.resent.inc(this.labels);
      this.log.warn(
        {
          key: record.key,
          nonce: last.nonce,
          hash: signed.hash,
          replaces: last.hash,
          maxFeePerGas: signed.maxFeePerGas,
          maxPriorityFeePerGas: signed.maxPriorityFeePerGas,
          cancel,
          result: result.kind,
        },
        cancel && !last.cancel ? "effect already on chain: cancelling the pending transaction" : "fees bumped",
      );
    });
  }

  /** Takes the intent's nonce with a 0-value self-transfer, so the pending action can never be mined. */
  private async cancel(flight: Flight): Promise<void> {
    await this.bump(flight, true);
  }

  /** Ends `flight` with an outcome or an error, persists it and settles its promise. */
  private async finish(flight: Flight, result: TxOutcome | TxRevertedError, countRevert = true): Promise<void> {
    if (flight.finished) return;
    flight.finished = true;
    const record = flight.record;
    if (result instanceof TxRevertedError) {
      record.status = "reverted";
      record.outcome = { hash: result.hash, reason: result.reason, errorName: result.errorName };
      if (countRevert) this.metrics.reverted.inc(this.labels);
      this.log.error(
        { key: record.key, hash: result.hash, errorName: result.errorName, reason: result.reason },
        "transaction reverted",
      );
    } else if (result.status === "mined") {
      record.status = "mined";
      record.outcome = {
        hash: result.hash,
        blockNumber: result.blockNumber,
        gasUsed: result.gasUsed.toString(),
        attempts: result.attempts,
      };
      this.metrics.mined.inc(this.labels);
    } else {
      record.status = "already-done";
      record.outcome = { hash: result.hash };
      this.metrics.alreadyDone.inc(this.labels);
    }
    try {
      await this.requireStore().saveFinished(record);
    } catch (err) {
      // Left pending in Redis: the next process finds it and reads the same outcome from the chain.
      this.log.error({ err, key: record.key }, "could not persist the outcome");
    }
    // Removed only now, so a send() of the same key meanwhile joins this flight instead of reading Redis.
    this.flights.delete(record.key);
    this.metrics.pending.set(this.labels, this.flights.size);
    if (result instanceof TxRevertedError) flight.reject(result);
    else flight.resolve(result);
  }
}

function storedOutcome(record: IntentRecord): TxOutcome {
  const o = record.outcome ?? {};
  if (record.status === "mined") {
    return {
      status: "mined",
      key: record.key,
      hash: o.hash ?? "",
      blockNumber: o.blockNumber ?? 0,
      gasUsed: BigInt(o.gasUsed ?? "0"),
      attempts: o.attempts ?? 1,
    };
  }
  return o.hash === undefined
    ? { status: "already-done", key: record.key }
    : { status: "already-done", key: record.key, hash: o.hash };
}

/** The message of an ethers / JSON-RPC error, including the node's own message when nested. */
function errorMessage(e: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number) => {
    if (value === null || typeof value !== "object" || seen.has(value) || depth > 5) return;
    seen.add(value);
    const r = value as Record<string, unknown>;
    if (typeof r.message === "string") parts.push(r.message);
    if (typeof r.code === "string") parts.push(r.code);
    for (const k of ["error", "info", "cause"]) visit(r[k], depth + 1);
  };
  visit(e, 0);
  return parts.length > 0 ? parts.join(" | ") : String(e);
}

function classifyBroadcastError(message: string): BroadcastResult {
  if (/already known|known transaction|alreadyknown|already imported|already exists/i.test(message)) {
    return { kind: "known" };
  }
  if (/nonce too low|nonce.*too low|nonce has already been used|NONCE_EXPIRED|oldnonce/i.test(message)) {
    return { kind: "nonce-too-low", message };
  }
  if (/replacement.*underpriced|underpriced replacement|REPLACEMENT_UNDERPRICED/i.test(message)) {
    return { kind: "underpriced", message };
  }
  if (
    /insufficient funds|enough funds|intrinsic gas too low|exceeds block gas limit|gas limit reached|invalid sender|invalid signature|invalid chain id|oversized data|INSUFFICIENT_FUNDS/i.test(
      message,
    )
  ) {
    return { kind: "rejected", message };
  }
  return { kind: "unknown", message };
}

/** TxSender settings from the environment / config file (senderConfigSchema plus the poll interval). */
export const txSenderConfigSchema = senderConfigSchema.extend({
  TX_POLL_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(10)
    .default(1000)
    .describe("Period of the sender's monitor loop (receipts, resends), ms"),
});

/** The TxSender of a worker: key and policies from `source` (SIGNER_PRIVATE_KEY, TX_*), the rest from `ctx`. */
export function senderFromConfig(
  ctx: Pick<WorkerContext, "provider" | "redis" | "config" | "logger" | "metrics" | "source">,
  source: Record<string, unknown> = ctx.source,
  overrides: Partial<TxSenderOptions> = {},
): TxSender {
  const c = parseConfig(txSenderConfigSchema, source);
  return new TxSender({
    provider: ctx.provider,
    signer: c.SIGNER_PRIVATE_KEY,
    redis: ctx.redis,
    keyPrefix: ctx.config.QUEUE_PREFIX,
    logger: ctx.logger,
    metrics: ctx.metrics,
    confirmations: c.TX_CONFIRMATIONS,
    resendAfterMs: c.TX_RESEND_AFTER_MS,
    feeBumpPercent: c.TX_FEE_BUMP_PERCENT,
    maxFeePerGas: parseUnits(c.TX_MAX_FEE_GWEI.toFixed(9), "gwei"),
    pollIntervalMs: c.TX_POLL_INTERVAL_MS,
    ...overrides,
  });
}
