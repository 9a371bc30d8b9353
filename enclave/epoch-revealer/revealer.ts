/**
 * The epoch-revealer (DESIGN §6, revelation period): publishes each revelation epoch's rollup key on L1
 * once RollupRegistry allows it, so that anyone can then decrypt that epoch's rollups
 * (`npx veilnet decrypt`). It runs inside the sequencer node, whose enclave derives the keys.
 *
 * L1 is the only record: a round reads the head, `revelationPeriod` and `currentEpoch`, and walks the
 * epochs whose `revealableAt` is reached, from the first one not settled yet:
 *
 * - no commitment → nothing to reveal, ever (no rollup can be bound to a revealable epoch any more:
 *   its binding block would be older than the 256 blocks RollupRegistry accepts);
 * - `epochKey(epoch)` already set → revealed (by an earlier run, or by anyone else);
 * - otherwise the enclave derives the key; if keccak256(key) is not the commitment, the revealer refuses
 *   loudly (error log, metric, unhealthy) and sends nothing: a wrong key is never sent;
 * - else it sends `revealEpochKey(epoch, key)` through the TxSender under `reveal-<chainId>-<epoch>`,
 *   done as soon as L1 holds the key (whoever published it).
 *
 * Settled epochs are remembered in memory only: after a restart the walk starts again at the
 * deployment block's epoch and skips what L1 already holds, so a restart never sends a key twice.
 */
import { type Provider, ZeroHash, keccak256 } from "ethers";
import type { Registry } from "prom-client";

import { type RollupSigningEnclave, epochKey } from "../rollup/builder.js";
import { epochOf, revealableAt as revealableFrom } from "../../protocol/rollup.js";
import type { VeilnetContracts } from "../../platform/chain.js";
import type { Logger } from "../../platform/logger.js";
import { RoundLoop } from "../../platform/rounds.js";
import type { Service } from "../../platform/service.js";
import { TxRevertedError, type TxIntent, type TxOutcome } from "../../platform/tx-sender/types.js";
import { type EpochRevealerMetrics, epochRevealerMetrics } from "./metrics.js";

/** What the revealer needs to write to L1: the TxSender's `send` (one nonce owner per key). */
export interface RevealWriter {
  send(intent: TxIntent): Promise<TxOutcome>;
}

export interface EpochRevealerSettings {
  /** Pause between rounds, ms. */
  pollMs: number;
  /** Longest pause after failed rounds (the pause doubles from `pollMs`), ms. Default 300 000. */
  maxBackoffMs?: number;
  /** health() reports a failure once this many rounds in a row failed. Default 5. */
  unhealthyAfter?: number;
}

export interface EpochRevealerDeps {
  chainId: number;
  /** Derives the epoch keys from the network secret. */
  enclave: Pick<RollupSigningEnclave, "derive">;
  writer: RevealWriter;
  /** The deployment's contracts, read-only (only the RollupRegistry is used). */
  contracts: Pick<VeilnetContracts, "rollupRegistry">;
  /** Reads the L1 head. */
  provider: Provider;
  /** The deployment block: no epoch before its epoch holds a rollup. */
  fromBlock: number;
  logger: Logger;
  metrics: Registry;
  settings: EpochRevealerSettings;
}

/** What happened to one epoch in a round. */
export type EpochOutcome =
  /** This round published the key (`mined`), or found the intent already done (`already-done`). */
  | { epoch: bigint; kind: "revealed"; outcome: TxOutcome }
  /** L1 held the key already when the round looked. */
  | { epoch: bigint; kind: "already-revealed" }
  /** No rollup committed a key for the epoch. */
  | { epoch: bigint; kind: "empty" }
  /** The commitment is not the enclave's key: nothing sent. */
  | { epoch: bigint; kind: "refused"; commitment: string; keyHash: string };

/** What one round did. */
export interface RevealRound {
  head: bigint;
  /** The epochs the round settled, in order. */
  epochs: EpochOutcome[];
  /** The first epoch not settled yet, and the L1 block from which it may be revealed. */
  next: { epoch: bigint; revealableAt: bigint };
}

/** Key of the TxSender intent revealing epoch `epoch`'s key (no ":"). */
export function revealIntentKey(chainId: number, epoch: bigint): string {
  return `reveal-${chainId}-${epoch}`;
}

/** Matches `revealIntentKey`: groups chain id and epoch. */
export const REVEAL_INTENT_KEY = /^reveal-(\d+)-(\d+)$/;

/** The commitment of an epoch is not the enclave's key of it. */
export class EpochKeyMismatchError extends Error {
  constructor(
    readonly epoch: bigint,
    readonly commitment: string,
    readonly keyHash: string,
  ) {
    super(
      `epoch ${epoch}: L1 commits to key hash ${commitment}, but this enclave's key hashes to ${keyHash}: ` +
        "not revealing it (another network's secret, or a rollup not made by this network's enclaves)",
    );
    this.name = "EpochKeyMismatchError";
  }
}

export class EpochRevealer implements Service {
  readonly name = "epoch-revealer";
  private readonly log: Logger;
  private readonly metrics: EpochRevealerMetrics;
  private readonly settings: Required<EpochRevealerSettings>;
  /** The first epoch not settled (revealed, refused, or without rollup). */
  private cursor: bigint;
  /** Epochs whose commitment is not the enclave's key. */
  private readonly refused = new Map<bigint, EpochKeyMismatchError>();
  private readonly loop = new RoundLoop(() => this.step());
  private failures = 0;
  private lastError?: string;

  constructor(private readonly deps: EpochRevealerDeps) {
    this.log = deps.logger.child({ service: this.name });
    this.metrics = epochRevealerMetrics(deps.metrics);
    this.settings = { maxBackoffMs: 300_000, unhealthyAfter: 5, ...deps.settings };
    this.cursor = epochOf(BigInt(deps.fromBlock));
    this.metrics.settledThrough.set(Number(this.cursor) - 1);
  }

  /** Starts the loop of rounds (the first one at once). */
  start(): Promise<void> {
    if (this.loop.start()) {
      this.log.info({ pollMs: this.settings.pollMs, fromEpoch: this.cursor.toString() }, "epoch-revealer started");
    }
    return Promise.resolve();
  }

  /** Stops after the current round (which may be waiting for its transaction). */
  async stop(): Promise<void> {
    if (await this.loop.stop()) this.log.info("epoch-revealer stopped");
  }

  /** Unhealthy while an epoch's commitment is not the enclave's key, or after `unhealthyAfter` failed rounds. */
  health(): Promise<{ ok: boolean; detail?: string }> {
    if (this.refused.size > 0) {
      const epochs = [...this.refused.keys()].join(", ");
      return Promise.resolve({
        ok: false,
        detail: `epoch key(s) not revealed: L1's commitment is not this enclave's key for epoch(s) ${epochs}`,
      });
    }
    if (this.failures >= this.settings.unhealthyAfter) {
      return Promise.resolve({ ok: false, detail: `last ${this.failures} reveal rounds failed: ${this.lastError}` });
    }
    return Promise.resolve({ ok: true });
  }

  /** One round of the loop; never throws. Returns the pause before the next one. */
  private async step(): Promise<number> {
    const { pollMs, maxBackoffMs } = this.settings;
    try {
      await this.round();
      this.failures = 0;
      return pollMs;
    } catch (err) {
      this.failures++;
      this.lastError = (err as Error).message;
      this.metrics.failures.inc();
      const delay = Math.min(maxBackoffMs, pollMs * 2 ** (this.failures - 1));
      this.log.error({ err, failures: this.failures, retryInMs: delay }, "reveal round failed; retrying");
      return delay;
    }
  }

  /**
   * One round: reveals every revealable epoch key L1 does not hold yet, each awaited in turn. Throws on
   * RPC failures and unexpected reverts (the next round starts from the same epoch). The loop of start()
   * calls it; tests and tools may call it directly instead (never two at once).
   */
  round(): Promise<RevealRound> {
    return this.loop.exclusive("a reveal round is already running", () => this.roundOnce());
  }

  private async roundOnce(): Promise<RevealRound> {
    const registry = this.deps.contracts.rollupRegistry;
    const [head, period, currentEpoch] = await Promise.all([
      this.deps.provider.getBlockNumber().then(BigInt),
      registry.revelationPeriod(),
      registry.currentEpoch(),
    ]);
    const epochs: EpochOutcome[] = [];
    for (;;) {
      const epoch = this.cursor;
      const revealableAt = revealableFrom(epoch, period);
      // Past the highest epoch used nothing is committed (yet): later epochs are for later rounds.
      if (revealableAt > head || epoch > currentEpoch) return { head, epochs, next: { epoch, revealableAt } };
      const outcome = await this.settle(epoch);
      if (outcome === undefined) return { head, epochs, next: { epoch, revealableAt } };
      epochs.push(outcome);
      this.cursor = epoch + 1n;
      this.metrics.settledThrough.set(Number(epoch));
    }
  }

  /** Reveals epoch `epoch` (revealable) if L1 lacks its key; undefined when L1 says it is not revealable yet. */
  private async settle(epoch: bigint): Promise<EpochOutcome | undefined> {
    const registry = this.deps.contracts.rollupRegistry;
    const commitment = await registry.epochKeyCommitment(epoch);
    if (commitment === ZeroHash) return { epoch, kind: "empty" };
    if ((await registry.epochKey(epoch)) !== ZeroHash) return { epoch, kind: "already-revealed" };

    const key = epochKey(this.deps.enclave, epoch);
    const keyHash = keccak256(key);
    if (keyHash !== commitment.toLowerCase()) {
      const error = new EpochKeyMismatchError(epoch, commitment, keyHash);
      this.refused.set(epoch, error);
      this.metrics.refused.inc();
      this.log.error(
        { epoch: epoch.toString(), commitment, keyHash },
        `REFUSING to reveal epoch ${epoch}: ${error.message}`,
      );
      return { epoch, kind: "refused", commitment, keyHash };
    }

    const intentKey = revealIntentKey(this.deps.chainId, epoch);
    const fields = { epoch: epoch.toString(), key: intentKey };
    this.log.info(fields, "revealing epoch key");
    let outcome: TxOutcome;
    try {
      outcome = await this.deps.writer.send({
        key: intentKey,
        to: await registry.getAddress(),
        data: registry.interface.encodeFunctionData("revealEpochKey", [epoch, key]),
        alreadyDone: async () => (await registry.epochKey(epoch)) !== ZeroHash,
      });
    } catch (e) {
      if (e instanceof TxRevertedError && e.errorName === "EpochKeyAlreadyRevealed") {
        return { epoch, kind: "already-revealed" };
      }
      if (e instanceof TxRevertedError && e.errorName === "EpochKeyNotRevealable") {
        // The admin raised the revelation period meanwhile: a later round tries again.
        this.log.info({ ...fields, reason: e.reason }, "epoch key not revealable yet after all");
        return undefined;
      }
      throw e;
    }
    if (outcome.status === "mined") {
      this.metrics.revealed.inc();
      this.log.info({ ...fields, tx: outcome.hash, block: outcome.blockNumber }, "epoch key revealed");
    } else {
      this.log.info(fields, "epoch key already on L1 (an earlier run or someone else revealed it)");
    }
    return { epoch, kind: "revealed", outcome };
  }
}
