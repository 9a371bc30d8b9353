/**
 * Persistence of tx intents in Redis. Every intent is written (with its signed raw transactions) before
 * anything is broadcast, so a restarted process finds it and checks the chain before doing anything else.
 *
 * Keys, all under `<prefix>:tx-sender:<chainId>:<signer>:`:
 * - `intent:<key>`  JSON IntentRecord (pending ones without expiry; finished ones expire after a while)
 * - `pending`       set of the keys of unfinished intents
 */
import type { Redis } from "ioredis";

/** One signed transaction of an intent (the first send, a fee bump, or a cancellation). */
export interface SignedTx {
  hash: string;
  raw: string;
  nonce: number;
  maxFeePerGas: string;
  maxPriorityFeePerGas: string;
  /** A 0-value self-transfer that takes the nonce when the action turned out to be done already. */
  cancel: boolean;
  /** When it was signed (ms since epoch). */
  signedAt: number;
}

export type IntentStatus = "pending" | "mined" | "already-done" | "reverted";

/** What is stored of an intent. Bigints are decimal strings. */
export interface IntentRecord {
  key: string;
  from: string;
  to: string;
  data: string;
  value: string;
  gasLimit: string;
  /** The nonce the intent currently holds. */
  nonce: number;
  status: IntentStatus;
  /** Every transaction signed for the intent, oldest first; any of them may be the one mined. */
  txs: SignedTx[];
  createdAt: number;
  updatedAt: number;
  /** Set when finished. */
  outcome?: {
    hash?: string;
    blockNumber?: number;
    gasUsed?: string;
    attempts?: number;
    reason?: string;
    errorName?: string;
  };
}

export class IntentStore {
  private readonly base: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    chainId: bigint | number,
    signer: string,
    /** How long finished intents are kept (their keys keep deduplicating sends), seconds. */
    private readonly finishedTtlSeconds: number,
  ) {
    this.base = `${prefix}:tx-sender:${chainId}:${signer.toLowerCase()}`;
  }

  private intentKey(key: string): string {
    return `${this.base}:intent:${key}`;
  }

  private get pendingKey(): string {
    return `${this.base}:pending`;
  }

  async get(key: string): Promise<IntentRecord | undefined> {
    const json = await this.redis.get(this.intentKey(key));
    return json === null ? undefined : (JSON.parse(json) as IntentRecord);
  }

  /** Writes a pending intent (and marks it pending). Resolves once Redis has it. */
  async savePending(record: IntentRecord): Promise<void> {
    record.updatedAt = Date.now();
    await this.redis
      .multi()
      .set(this.intentKey(record.key), JSON.stringify(record))
      .sadd(this.pendingKey, record.key)
      .exec()
      .then(checkExec);
  }

  /** Writes a finished intent (kept `finishedTtlSeconds`) and removes it from the pending set. */
  async saveFinished(record: IntentRecord): Promise<void> {
    record.updatedAt = Date.now();
    await this.redis
      .multi()
      .set(this.intentKey(record.key), JSON.stringify(record), "EX", this.finishedTtlSeconds)
      .srem(this.pendingKey, record.key)
      .exec()
      .then(checkExec);
  }

  /** Forgets an intent that was never broadcast. */
  async delete(key: string): Promise<void> {
    await this.redis.multi().del(this.intentKey(key)).srem(this.pendingKey, key).exec().then(checkExec);
  }

  /** Every unfinished intent. */
  async pending(): Promise<IntentRecord[]> {
    const keys = await this.redis.smembers(this.pendingKey);
    if (keys.length === 0) return [];
    const values = await this.redis.mget(keys.map((k) => this.intentKey(k)));
    const records: IntentRecord[] = [];
    // MGET answers one value per key, in order (null for a missing key).
    for (const [i, key] of keys.entries()) {
      const json = values[i] ?? null;
      const record = json === null ? undefined : (JSON.parse(json) as IntentRecord);
      if (record?.status === "pending") records.push(record);
      else await this.redis.srem(this.pendingKey, key);
    }
    return records.sort((a, b) => a.nonce - b.nonce);
  }
}

function checkExec(results: [Error | null, unknown][] | null): void {
  if (results === null) throw new Error("redis transaction aborted");
  for (const [err] of results) if (err !== null) throw err;
}
