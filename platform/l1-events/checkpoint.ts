/**
 * Where an L1 event follower keeps its progress: the last processed block, the hashes of recent
 * processed blocks (to find the common ancestor after a reorg) and the events delivered from them (to
 * send their compensation when a reorg removes the block). The follower only uses this interface: the
 * event-subscriber worker keeps it in Redis (workers/event-subscriber/checkpoint.ts), to resume after a
 * restart; a node keeps it in memory (MemoryCheckpointStore) and re-reads from the deployment block when
 * it starts, so that what it believes about L1 never depends on state the host could edit.
 */
import type { EventJob } from "../events.js";

export interface Checkpoint {
  /** Last processed block. */
  number: number;
  /** Its hash; null when unknown (before the first range, or after a reorg deeper than the history). */
  hash: string | null;
}

export interface CheckpointStore {
  /** The saved checkpoint, or null when the follower never processed a block. */
  load(): Promise<Checkpoint | null>;
  /** The saved hashes of recent processed blocks. */
  recentHashes(): Promise<Map<number, string>>;
  /** The events delivered from blocks `numbers` (blocks without events are left out). */
  eventsOf(numbers: number[]): Promise<Map<number, EventJob[]>>;
  /**
   * Records that blocks up to `checkpoint` are processed: their hashes and delivered events (only those of
   * blocks above `keepAbove` are kept) and the new checkpoint; drops what is at or below `keepAbove`.
   * All of it at once: the three parts always agree.
   */
  advance(
    checkpoint: { number: number; hash: string },
    hashes: Map<number, string>,
    events: Map<number, EventJob[]>,
    keepAbove: number,
  ): Promise<void>;
  /** Moves the checkpoint back to `checkpoint` and forgets the blocks above it. */
  rewind(checkpoint: Checkpoint): Promise<void>;
}

/** A CheckpointStore in the process's memory (lost on exit: the follower then starts over). */
export class MemoryCheckpointStore implements CheckpointStore {
  #checkpoint: Checkpoint | null = null;
  readonly #hashes = new Map<number, string>();
  readonly #events = new Map<number, EventJob[]>();

  async load(): Promise<Checkpoint | null> {
    return this.#checkpoint === null ? null : { ...this.#checkpoint };
  }

  async recentHashes(): Promise<Map<number, string>> {
    return new Map(this.#hashes);
  }

  async eventsOf(numbers: number[]): Promise<Map<number, EventJob[]>> {
    const out = new Map<number, EventJob[]>();
    for (const n of numbers) {
      const list = this.#events.get(n);
      if (list !== undefined) out.set(n, [...list]);
    }
    return out;
  }

  async advance(
    checkpoint: { number: number; hash: string },
    hashes: Map<number, string>,
    events: Map<number, EventJob[]>,
    keepAbove: number,
  ): Promise<void> {
    this.#forget((n) => n <= keepAbove);
    for (const [n, h] of hashes) if (n > keepAbove) this.#hashes.set(n, h);
    for (const [n, list] of events) if (n > keepAbove && list.length > 0) this.#events.set(n, [...list]);
    this.#checkpoint = { number: checkpoint.number, hash: checkpoint.hash };
  }

  async rewind(checkpoint: Checkpoint): Promise<void> {
    this.#forget((n) => n > checkpoint.number);
    this.#checkpoint = { ...checkpoint };
  }

  /** Drops the hashes and events of the blocks `which` selects. */
  #forget(which: (block: number) => boolean): void {
    for (const map of [this.#hashes, this.#events]) for (const n of [...map.keys()]) if (which(n)) map.delete(n);
  }
}
