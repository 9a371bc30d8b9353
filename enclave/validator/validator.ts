/**
 * A validator: an enclave holding the network secret that replays every rollup from L1 on its own
 * L2 chain and checks it re-executes to what the sequencer signed (the last batch's block hash and the
 * L2→L1 message root). A rollup that does not is refused: the validator logs why, undoes the
 * rollup's batches and stops following (a malicious sequencer is detected, not followed).
 */
import { ZeroHash, keccak256 } from "ethers";
import type { Logger } from "pino";

import { MessageTree } from "../../protocol/messages.js";
import type { CrossChainMessage } from "../../protocol/messages.js";
import { BatchExecutionError, type L2Chain } from "../execution/l2-chain.js";
import { type EntropySource, replayBatch } from "../execution/replay.js";
import type { L1Reader, L1Rollup } from "../l1/reader.js";
import { RollupPayloadError, openRollupPayload } from "../rollup/codec.js";

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
}

export class RollupRefusedError extends Error {
  constructor(readonly rollup: RefusedRollup) {
    super(`rollup ${rollup.hash} refused: ${rollup.reason}`);
    this.name = "RollupRefusedError";
  }
}

export class Validator {
  private nextRollup = 0;
  private nextSeq = 0n;
  private refused_: RefusedRollup | undefined;
  private verified = 0;

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

  /** Reads L1 and replays every new rollup; returns how many it verified. Stops at a refused rollup. */
  async step(): Promise<number> {
    if (this.refused_ !== undefined) return 0;
    await this.deps.l1.sync();
    const rollups = this.deps.l1.rollupsRead();
    let done = 0;
    while (this.nextRollup < rollups.length) {
      const rollup = rollups[this.nextRollup];
      try {
        await this.verify(rollup);
      } catch (e) {
        if (!(e instanceof RollupRefusedError)) throw e;
        this.refused_ = e.rollup;
        this.deps.logger.error(
          { rollup: rollup.hash, tx: rollup.txHash, reason: e.rollup.reason },
          "rollup refused: it does not re-execute to what the sequencer signed",
        );
        return done;
      }
      this.nextRollup++;
      this.verified++;
      done++;
    }
    return done;
  }

  private refuse(rollup: L1Rollup, reason: string): never {
    throw new RollupRefusedError({ hash: rollup.hash, txHash: rollup.txHash, reason });
  }

  private async verify(rollup: L1Rollup): Promise<void> {
    const { header } = rollup;
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
    this.nextSeq = header.lastBatchSeq + 1n;
  }
}
