/**
 * The state a TxSender's phases share (submission.ts, monitor.ts, recovery.ts): one explicit object,
 * created by the TxSender and passed to each phase's functions, instead of every piece reaching into the
 * class. Also the primitives all phases use on it: the critical section and the store.
 */
import { type BaseWallet, type Interface, type JsonRpcApiProvider, Wallet, getAddress } from "ethers";
import type { Redis } from "ioredis";
import { Registry } from "prom-client";

import type { Logger } from "../logger.js";
import { veilnetErrorInterfaces } from "../revert.js";
import type { Fees } from "./fees.js";
import { type TxSenderMetrics, txSenderMetrics } from "./metrics.js";
import type { TxSenderOptions, TxSenderTestHooks } from "./options.js";
import type { IntentRecord, IntentStore } from "./store.js";
import type { TxOutcome } from "./types.js";

/** The sender's policies, resolved from TxSenderOptions with their defaults. */
export interface SenderPolicy {
  confirmations: number;
  resendAfterMs: number;
  feeBumpPercent: number;
  maxFeePerGas: bigint;
  pollIntervalMs: number;
  dropCheckMs: number;
}

/** One intent being sent: its record, how its caller awaits it, and what the monitor knows of it. */
export interface Flight {
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

export interface SenderState {
  readonly address: string;
  readonly provider: JsonRpcApiProvider;
  readonly wallet: BaseWallet;
  readonly log: Logger;
  readonly metrics: TxSenderMetrics;
  readonly labels: { signer: string };
  readonly policy: SenderPolicy;
  readonly interfaces: readonly Interface[];
  readonly simulateBlockTag: "pending" | "latest";
  readonly testHooks: TxSenderTestHooks | undefined;
  /** Where the IntentStore lives (it is created once the chain id is known). */
  readonly storage: { redis: Redis; keyPrefix: string; finishedTtlSeconds: number };

  /** Set by recovery's initSender. */
  store?: IntentStore;
  chainId: bigint;
  /** The nonce the next new transaction gets. */
  nextNonce: number;
  /** Intents broadcast and not finished, by key. */
  readonly flights: Map<string, Flight>;
  /** Intents being started (simulated, not yet broadcast), by key: a second send() joins them. */
  readonly starting: Map<string, Promise<TxOutcome>>;
  /** Tail of the critical section (see exclusive). */
  lock: Promise<void>;
  stopped: boolean;
  feeCache?: { at: number; fees: Promise<Fees> };
  rpcId: number;
  /** Starts the monitor if it is idle; called whenever a flight is tracked (set by the TxSender). */
  wake: () => void;
}

/** The state of a new sender: options resolved and checked, nothing loaded yet. */
export function createState(options: TxSenderOptions): SenderState {
  const wallet = typeof options.signer === "string" ? new Wallet(options.signer) : options.signer;
  const address = getAddress(wallet.address);
  const log = options.logger.child({ component: "tx-sender", signer: address });
  const metrics = txSenderMetrics(options.metrics ?? new Registry());
  const confirmations = options.confirmations ?? 1;
  const resendAfterMs = options.resendAfterMs ?? 30_000;
  const feeBumpPercent = options.feeBumpPercent ?? 20;
  if (feeBumpPercent < 10) throw new Error("feeBumpPercent must be at least 10");
  if (confirmations < 1) throw new Error("confirmations must be at least 1");
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  return {
    address,
    provider: options.provider,
    wallet,
    log,
    metrics,
    labels: { signer: address },
    policy: {
      confirmations,
      resendAfterMs,
      feeBumpPercent,
      maxFeePerGas: options.maxFeePerGas,
      pollIntervalMs,
      dropCheckMs: options.dropCheckMs ?? pollIntervalMs * 4,
    },
    interfaces: options.errorInterfaces ?? veilnetErrorInterfaces(),
    simulateBlockTag: options.simulateBlockTag ?? "pending",
    testHooks: options.testHooks,
    storage: {
      redis: options.redis,
      keyPrefix: options.keyPrefix,
      finishedTtlSeconds: options.finishedTtlSeconds ?? 7 * 24 * 3600,
    },
    chainId: 0n,
    nextNonce: 0,
    flights: new Map(),
    starting: new Map(),
    lock: Promise.resolve(),
    stopped: false,
    rpcId: 1_000_000_000,
    wake: () => undefined,
  };
}

export function requireStore(state: SenderState): IntentStore {
  if (state.store === undefined) throw new Error("tx sender not initialized");
  return state.store;
}

/** Runs `fn` alone: nonce assignment, persistence and broadcasts happen in nonce order. */
export async function exclusive<T>(state: SenderState, fn: () => Promise<T>): Promise<T> {
  const previous = state.lock;
  let release!: () => void;
  state.lock = new Promise<void>((r) => (release = r));
  await previous;
  try {
    return await fn();
  } finally {
    release();
  }
}
