/**
 * A validator: an enclave holding the network secret that replays every rollup from L1 on its own
 * L2 chain and checks it re-executes to what the sequencer signed (the last batch's block hash and the
 * L2→L1 message root). A rollup that does not is refused: the validator logs why, undoes the
 * rollup's batches and stops following (a malicious sequencer is detected, not followed).
 *
 * A guardian rejection (`BatchSequenceReopened` on L1) voids the rejected rollup and every later one:
 * the validator rewinds its chain to the state before the reopened batch (it keeps a chain snapshot at
 * the start of every rollup it verified) and continues with the rollups posted after the rejection. A
 * refused rollup that the guardian rejects is thereby undone too, and the validator follows again.
 */
import { ZeroHash, keccak256 } from "ethers";
import type { Logger } from "pino";

import { MessageTree } from "../../protocol/messages.js";
import type { CrossChainMessage } from "../../protocol/messages.js";
import { BatchExecutionError, type L2Chain } from "../execution/l2-chain.js";
import { type EntropySource, replayBatch } from "../execution/replay.js";
import type { L1Reader, L1Rollup } from "../l1/reader.js";
import { type RollupBatch, RollupPayloadError, openRollupPayload } from "../rollup/codec.js";

export interface RefusedRollup {
  hash: string;
  txHash: string;
  reason: string;
}

export interface ValidatorDeps {
  chain: L2Chain;
  l1: L1Reader;
  entropy: EntropySource;
  /** The AES key of revelation epoch `epoch`. */
  epochKey: (epoch: bigint) => string;
  logger: Logger;
  /**
   * The signers committee `committeeId` has ever had on L1 and its quorum (the OperatorRegistry's
   * events, enclave/committee/registry-view.ts): a rollup whose signers are not a quorum of distinct
   * members is refused, on top of L1's own check. Without it, L1's check is trusted.
   */
  committee?: (committeeId: bigint) => Promise<{ signers: ReadonlySet<string>; quorum: number } | undefined>;
  /**
   * The batches the committee decided, with their certificates, as this validator followed them in
   * gossip (enclave/committee/decided-book.ts): why batch `seq` is not the decided one, "unknown" when
   * it holds no certificate for it, undefined when it is.
   */
  decided?: (seq: bigint, batch: RollupBatch) => string | undefined | "unknown";
}

export class RollupRefusedError extends Error {
  constructor(readonly rollup: RefusedRollup) {
    super(`rollup ${rollup.hash} refused: ${rollup.reason}`);
    this.name = "RollupRefusedError";
  }
}

export class Validator {
  private nextRollup = 0;
  private nextReopening = 0;
  private nextSeq = 0n;
  private refused_: RefusedRollup | undefined;
  /** Batches checked against a decided record with its certificate, and batches this node had none for. */
  certified = 0;
  uncertified = 0;
  /** The first batch of the refused rollup (a rejection reopening at or before it lifts the refusal). */
  private refusedSeq?: bigint;
  private verified = 0;
  /** Chain snapshots taken before each verified rollup, by its first batch (to rewind on a rejection). */
  private readonly snapshots = new Map<bigint, string>();

  constructor(private readonly deps: ValidatorDeps) {}

  /** The rollup this validator refused (it follows no further), if any. */
  get refused(): RefusedRollup | undefined {
    return this.refused_;
  }

  get status(): { rollupsVerified: number; nextBatchSeq: bigint; refused?: RefusedRollup } {
    return {
      rollupsVerified: this.verified,
      nextBatchSeq: this.nextSeq,
      ...(this.refused_ ? { refused: this.refused_ } : {}),
    };
  }

  /** The rollups replayed and found right, in L1 order (their batches are this node's `safe` blocks). */
  replayedRollups(): readonly L1Rollup[] {
    return this.deps.l1.rollupsRead().slice(0, this.nextRollup);
  }

  /**
   * Reads L1 and replays every new rollup; returns how many it verified. Stops at a refused rollup until
   * a guardian rejection voids it.
   */
  async step(): Promise<number> {
    await this.deps.l1.sync();
    const rollups = this.deps.l1.rollupsRead();
    let done = 0;
    for (;;) {
      await this.applyReopenings(this.nextRollup);
      if (this.refused_ !== undefined) {
        // A later rejection at or before the refused rollup voids it (and the rollups posted after it).
        const lift = this.deps.l1
          .reopeningsRead()
          .find((r, i) => i >= this.nextReopening && r.nextBatchSeq <= this.refusedSeq!);
        if (lift === undefined) break;
        this.nextRollup = Math.max(this.nextRollup, lift.afterRollups);
        continue;
      }
      const rollup = rollups[this.nextRollup];
      if (rollup === undefined) break; // every rollup read so far is replayed
      if (this.voided(this.nextRollup, rollup)) {
        this.nextRollup++;
        continue;
      }
      try {
        await this.verify(rollup);
      } catch (e) {
        if (!(e instanceof RollupRefusedError)) throw e;
        this.refused_ = e.rollup;
        this.refusedSeq = rollup.header.firstBatchSeq;
        this.nextRollup++;
        this.deps.logger.error(
          { rollup: rollup.hash, tx: rollup.txHash, reason: e.rollup.reason },
          "rollup refused: it does not re-execute to what the sequencer signed",
        );
        continue;
      }
      this.nextRollup++;
      this.verified++;
      done++;
    }
    return done;
  }

  /** Refuses a rollup not signed by a quorum of distinct members of the committee it names. */
  private async checkSigners(rollup: L1Rollup): Promise<void> {
    if (this.deps.committee === undefined) return;
    const committee = await this.deps.committee(rollup.committeeId);
    if (committee === undefined) this.refuse(rollup, `it names committee ${rollup.committeeId}, unknown on L1`);
    const signers = rollup.signers.map((s) => s.toLowerCase());
    const outsider = signers.find((s) => !committee.signers.has(s));
    if (outsider !== undefined) {
      this.refuse(rollup, `${outsider} signed it, not a member of committee ${rollup.committeeId}`);
    }
    const distinct = new Set(signers).size;
    if (distinct < committee.quorum) {
      this.refuse(
        rollup,
        `${distinct} distinct members signed it, committee ${rollup.committeeId} needs ${committee.quorum}`,
      );
    }
  }

  /** Whether a later reopening voids `rollup` before it is replayed (it starts at or after the reopened batch). */
  private voided(index: number, rollup: L1Rollup): boolean {
    return this.deps.l1
      .reopeningsRead()
      .some((r) => r.afterRollups > index && r.nextBatchSeq <= rollup.header.firstBatchSeq);
  }

  /** Applies the rejections read up to rollup `position`: rewinds the chain to the reopened batch. */
  private async applyReopenings(position: number): Promise<void> {
    const reopenings = this.deps.l1.reopeningsRead();
    for (;;) {
      const reopening = reopenings[this.nextReopening];
      if (reopening === undefined || reopening.afterRollups > position) break;
      this.nextReopening++;
      const { nextBatchSeq } = reopening;
      if (this.refused_ !== undefined && this.refusedSeq !== undefined && nextBatchSeq <= this.refusedSeq) {
        this.deps.logger.warn(
          { rollup: this.refused_.hash, nextBatchSeq: nextBatchSeq.toString() },
          "the refused rollup was rejected on L1: following again",
        );
        this.refused_ = undefined;
        this.refusedSeq = undefined;
      }
      if (nextBatchSeq >= this.nextSeq) continue; // nothing replayed from there (e.g. the refused rollup)
      const snapshot = this.snapshots.get(nextBatchSeq);
      if (snapshot === undefined) {
        throw new Error(`a rejection reopened batch ${nextBatchSeq}, which starts no rollup this validator replayed`);
      }
      await this.deps.chain.revert(snapshot);
      for (const seq of [...this.snapshots.keys()]) if (seq >= nextBatchSeq) this.snapshots.delete(seq);
      this.deps.logger.warn(
        { nextBatchSeq: nextBatchSeq.toString(), before: this.nextSeq.toString() },
        "a rollup was rejected on L1: rewound to its first batch",
      );
      this.nextSeq = nextBatchSeq;
    }
  }

  private refuse(rollup: L1Rollup, reason: string): never {
    throw new RollupRefusedError({ hash: rollup.hash, txHash: rollup.txHash, reason });
  }

  private async verify(rollup: L1Rollup): Promise<void> {
    const { header } = rollup;
    await this.checkSigners(rollup);
    if (header.firstBatchSeq !== this.nextSeq) {
      this.refuse(rollup, `it starts at batch ${header.firstBatchSeq}, the next batch is ${this.nextSeq}`);
    }
    if (rollup.payload === "0x") this.refuse(rollup, "its payload is a blob, and this validator has no blob source");
    const key = this.deps.epochKey(header.revelationEpoch);
    if (keccak256(key) !== header.keyCommitment) {
      this.refuse(
        rollup,
        `its key commitment ${header.keyCommitment} is not this network's key of epoch ${header.revelationEpoch}`,
      );
    }
    let content;
    try {
      content = openRollupPayload(rollup.payload, key);
    } catch (e) {
      if (e instanceof RollupPayloadError) this.refuse(rollup, e.message);
      throw e;
    }
    const count = header.lastBatchSeq - header.firstBatchSeq + 1n;
    if (content.firstSeq !== header.firstBatchSeq || BigInt(content.batches.length) !== count) {
      this.refuse(
        rollup,
        `its payload holds batches ${content.firstSeq}+${content.batches.length}, the header ${header.firstBatchSeq}…${header.lastBatchSeq}`,
      );
    }
    if (this.deps.decided !== undefined) {
      for (const [i, batch] of content.batches.entries()) {
        const problem = this.deps.decided(header.firstBatchSeq + BigInt(i), batch);
        if (problem === "unknown") this.uncertified++;
        else if (problem !== undefined) this.refuse(rollup, `it is not what the committee decided: ${problem}`);
        else this.certified++;
      }
    }
    // Reverted to when the rollup is refused, or kept for a later rejection's rewind (used once either way).
    const snapshot = await this.deps.chain.snapshot();
    const messages: CrossChainMessage[] = [];
    let lastHash = ZeroHash;
    try {
      for (const [i, batch] of content.batches.entries()) {
        const executed = await replayBatch({
          chain: this.deps.chain,
          l1: this.deps.l1,
          entropy: this.deps.entropy,
          seq: header.firstBatchSeq + BigInt(i),
          batch,
          maxL1Block: Number(header.l1BlockNumber),
        });
        messages.push(...executed.messages);
        lastHash = executed.hash;
      }
      if (lastHash !== header.lastBatchHash) {
        this.refuse(
          rollup,
          `batch ${header.lastBatchSeq} re-executes to block ${lastHash}, the sequencer claims ${header.lastBatchHash}`,
        );
      }
      const root = messages.length === 0 ? ZeroHash : new MessageTree(messages).root;
      if (root !== header.messageRoot) {
        this.refuse(rollup, `its L2→L1 messages have root ${root}, the sequencer claims ${header.messageRoot}`);
      }
    } catch (e) {
      await this.deps.chain.revert(snapshot);
      if (e instanceof BatchExecutionError) this.refuse(rollup, e.message);
      throw e;
    }
    this.snapshots.set(header.firstBatchSeq, snapshot);
    this.nextSeq = header.lastBatchSeq + 1n;
  }
}
