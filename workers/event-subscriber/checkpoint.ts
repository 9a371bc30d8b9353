/**
 * The event-subscriber's CheckpointStore (platform/l1-events/checkpoint.ts), in Redis, so that a restarted
 * worker resumes where it stopped. Under `<prefix>:subscriber:<chainId>:`:
 * - `checkpoint` (hash): the last processed block, `number` and `hash`;
 * - `hashes` (hash): block number → hash of recent processed blocks (the last N blocks, plus the blocks
 *   that carried events and the range ends within them), to find the common ancestor after a reorg;
 * - `events` (hash): block number → JSON of the event jobs delivered from that block, to send their
 *   compensation when a reorg removes the block. Trimmed together with `hashes`.
 * Every update is one MULTI transaction, so the three keys always agree.
 */
import type { Redis } from "ioredis";

import type { EventJob } from "../../platform/events.js";
import type { Checkpoint, CheckpointStore } from "../../platform/l1-events/checkpoint.js";

export class RedisCheckpointStore implements CheckpointStore {
  readonly base: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    chainId: number,
  ) {
    this.base = `${prefix}:subscriber:${chainId}`;
  }

  private get keys() {
    return { checkpoint: `${this.base}:checkpoint`, hashes: `${this.base}:hashes`, events: `${this.base}:events` };
  }

  /** The saved checkpoint, or null when the subscriber never processed a block. */
  async load(): Promise<Checkpoint | null> {
    const saved = await this.redis.hgetall(this.keys.checkpoint);
    if (saved.number === undefined) return null;
    return { number: Number(saved.number), hash: saved.hash === undefined || saved.hash === "" ? null : saved.hash };
  }

  /** The saved hashes of recent processed blocks. */
  async recentHashes(): Promise<Map<number, string>> {
    const saved = await this.redis.hgetall(this.keys.hashes);
    return new Map(Object.entries(saved).map(([n, h]) => [Number(n), h]));
  }

  /** The events delivered from blocks `numbers` (blocks without events are left out). */
  async eventsOf(numbers: number[]): Promise<Map<number, EventJob[]>> {
    const out = new Map<number, EventJob[]>();
    if (numbers.length === 0) return out;
    const values = await this.redis.hmget(this.keys.events, ...numbers.map(String));
    numbers.forEach((n, i) => {
      const v = values[i];
      if (v !== null && v !== undefined) out.set(n, JSON.parse(v) as EventJob[]);
    });
    return out;
  }

  /**
   * Records that blocks up to `checkpoint` are processed: their hashes and delivered events (only those of
   * blocks above `keepAbove` are kept) and the new checkpoint; drops what is at or below `keepAbove`.
   */
  async advance(
    checkpoint: { number: number; hash: string },
    hashes: Map<number, string>,
    events: Map<number, EventJob[]>,
    keepAbove: number,
  ): Promise<void> {
    const k = this.keys;
    const stale = (await this.redis.hkeys(k.hashes)).filter((n) => Number(n) <= keepAbove);
    const tx = this.redis.multi();
    const keptHashes = [...hashes].filter(([n]) => n > keepAbove);
    if (keptHashes.length > 0) tx.hset(k.hashes, Object.fromEntries(keptHashes.map(([n, h]) => [String(n), h])));
    const keptEvents = [...events].filter(([n, list]) => n > keepAbove && list.length > 0);
    if (keptEvents.length > 0) {
      tx.hset(k.events, Object.fromEntries(keptEvents.map(([n, list]) => [String(n), JSON.stringify(list)])));
    }
    if (stale.length > 0) {
      tx.hdel(k.hashes, ...stale);
      tx.hdel(k.events, ...stale);
    }
    tx.hset(k.checkpoint, { number: String(checkpoint.number), hash: checkpoint.hash });
    await exec(tx);
  }

  /** Moves the checkpoint back to `checkpoint` and forgets the blocks above it. */
  async rewind(checkpoint: Checkpoint): Promise<void> {
    const k = this.keys;
    const above = (await this.redis.hkeys(k.hashes)).filter((n) => Number(n) > checkpoint.number);
    const tx = this.redis.multi();
    if (above.length > 0) {
      tx.hdel(k.hashes, ...above);
      tx.hdel(k.events, ...above);
    }
    tx.hset(k.checkpoint, { number: String(checkpoint.number), hash: checkpoint.hash ?? "" });
    await exec(tx);
  }
}

async function exec(tx: ReturnType<Redis["multi"]>): Promise<void> {
  const results = await tx.exec();
  if (results === null) throw new Error("redis transaction aborted");
  for (const [err] of results) if (err !== null) throw err;
}
