/** The options of a TxSender (see tx-sender.ts): its connections, its key and its policies. */
import type { BaseWallet, Interface, JsonRpcApiProvider } from "ethers";
import type { Redis } from "ioredis";
import type { Registry } from "prom-client";

import type { Logger } from "../logger.js";
import type { IntentRecord } from "./store.js";

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
  testHooks?: TxSenderTestHooks;
}

/** See TxSenderOptions.testHooks. */
export interface TxSenderTestHooks {
  beforeBroadcast?: (record: IntentRecord) => void | Promise<void>;
  afterBroadcast?: (record: IntentRecord) => void | Promise<void>;
}
