/**
 * The withdrawal-processor's relaying half: the `withdrawals` queue's jobs and their outcomes.
 * - `relay-rollup-<rollupHash>`: a rollup's withdrawals share the root, so they become relayable
 *   together: the job relays them one after another in one run (one activation check, one tree).
 * - A withdrawal that fails in that run (target call failed, relay reverted, RPC error) is handed over to
 *   its own job `relay-<sequence>`, retried with backoff (`retryMessage` when the messenger recorded the
 *   failure) and dead-lettered alone when its attempts run out, so one bad target never holds back the
 *   others of its rollup.
 * - Both jobs check activation against the latest L1 block timestamp when they run and, if the root is
 *   not active yet, put themselves back in the delayed set (no attempt used): L1 time and wall time
 *   differ (time travel in tests, slow blocks), so a delay computed once is only a first guess. A root
 *   found `rejected` on L1 (its rollup or an earlier one rejected) is never relayed.
 * Every L1 write goes through the L1Writer (a TxSender) with an idempotency key and an `alreadyDone`
 * check against the messenger, so a re-run after a crash never relays twice. The relay call is
 * platform/withdrawals' (relayCalldata), the one self-serve withdrawals make too.
 */
import { type Job, UnrecoverableError } from "bullmq";

import type { MessageTree } from "../../protocol/messages.js";
import { isJobMovedError } from "../../platform/queues.js";
import type { TxIntent, TxOutcome } from "../../platform/tx-sender/types.js";
import { decodeTargetReason, relayCalldata, relayOutcome } from "../../platform/withdrawals/relay.js";
import {
  type ProcessorCore,
  RELAY_ROLLUP_JOB,
  RELAY_WITHDRAWAL_JOB,
  RelayFailedError,
  type RelayRollupJob,
  type RelayWithdrawalJob,
  RootNotActiveError,
  type WithdrawalJob,
  errorMessage,
  isTxReverted,
  messageLeaf,
  relayWithdrawalJobId,
} from "./core.js";
import type { StatusFields, WithdrawalStatus } from "./status.js";

export class WithdrawalRelayer {
  constructor(private readonly core: ProcessorCore) {}

  async handle(job: Job<WithdrawalJob>): Promise<string> {
    if (job.name === RELAY_ROLLUP_JOB) return this.relayRollup(job as Job<RelayRollupJob>);
    if (job.name === RELAY_WITHDRAWAL_JOB) return this.relayWithdrawal(job as Job<RelayWithdrawalJob>);
    throw new UnrecoverableError(`unknown job ${job.name}`);
  }

  /** A rollup's pass: relays its waiting withdrawals one after another once the root is active. */
  private async relayRollup(job: Job<RelayRollupJob>): Promise<string> {
    const { rollupHash, root, sequences } = job.data;
    const jobId = String(job.id);
    let owned = await this.core.owned(sequences, rollupHash, jobId, ["waiting", "dead"]);
    if (owned.length === 0) return "nothing left to relay";
    try {
      const state = await this.core.rootState(root, rollupHash);
      if (state.kind === "unregistered") {
        throw new Error(`message root ${root} of rollup ${rollupHash} is not registered on L1 (reorged?)`);
      }
      if (state.kind === "rejected") return `${await this.markRejected(owned)} withdrawals rejected`;
      if (state.kind === "pending") await this.core.delayUntilActive(job, root, state);
      const tree = await this.core.treeFor(root);
      let relayed = 0;
      let handedOver = 0;
      for (const w of owned) {
        try {
          await this.relayOne(tree, w);
          relayed++;
        } catch (e) {
          if (e instanceof RootNotActiveError)
            await this.core.delayUntilActive(job, root, await this.core.pendingState(root, rollupHash));
          handedOver++;
          await this.handOver(w, e);
        }
      }
      return `relayed ${relayed}, handed over ${handedOver} for retries`;
    } catch (e) {
      if (!isJobMovedError(e) && this.core.isLastAttempt(job, e)) {
        owned = await this.core.owned(sequences, rollupHash, jobId, ["waiting"]);
        for (const w of owned) await this.markDead(w, errorMessage(e));
      }
      throw e;
    }
  }

  /** One withdrawal's retry job (the messenger's `retryMessage` once the failure is recorded on L1). */
  private async relayWithdrawal(job: Job<RelayWithdrawalJob>): Promise<string> {
    const { sequence, rollupHash, root } = job.data;
    const [w] = await this.core.owned([sequence], rollupHash, String(job.id), ["waiting", "failed", "dead"]);
    if (w === undefined) return "nothing to do (relayed, rejected, reorged or handed to another job)";
    try {
      const state = await this.core.rootState(root, rollupHash);
      if (state.kind === "unregistered") {
        throw new Error(`message root ${root} of rollup ${rollupHash} is not registered on L1 (reorged?)`);
      }
      if (state.kind === "rejected") return `${await this.markRejected([w])} withdrawal rejected`;
      if (state.kind === "pending") await this.core.delayUntilActive(job, root, state);
      try {
        return await this.relayOne(await this.core.treeFor(root), w);
      } catch (e) {
        if (e instanceof RootNotActiveError)
          await this.core.delayUntilActive(job, root, await this.core.pendingState(root, rollupHash));
        throw e;
      }
    } catch (e) {
      if (isJobMovedError(e)) throw e;
      const reason = errorMessage(e);
      this.core.metrics.failed.inc();
      if (this.core.isLastAttempt(job, e)) {
        await this.markDead(w, reason, e instanceof RelayFailedError ? e.txHash : undefined);
      } else {
        await this.markFailed(w, reason, e instanceof RelayFailedError ? e.txHash : undefined);
      }
      throw e;
    }
  }

  /**
   * Relays (or retries) one withdrawal. Resolves when it is relayed (by us or found relayed); throws
   * RelayFailedError when the target call failed or the transaction reverted, other errors as they come.
   */
  private async relayOne(tree: MessageTree, w: WithdrawalStatus): Promise<"relayed" | "already relayed"> {
    const { messenger } = this.core.deps.contracts;
    const message = tree.messages.find((m) => m.sequence.toString() === w.sequence);
    if (message === undefined) throw new UnrecoverableError(`withdrawal ${w.sequence} is not in the tree of ${w.root}`);
    const sequence = message.sequence;
    const leaf = messageLeaf(message);
    const relayed = await messenger.isRelayed(sequence);
    const retry = relayed && (await messenger.failedMessages(leaf));
    if (relayed && !retry) {
      await this.markRelayed(w, await this.findLog("MessageRelayed", leaf, sequence), "other");
      return "already relayed";
    }

    const messengerAddress = await messenger.getAddress();
    const intent: TxIntent = retry
      ? {
          key: `retry-${this.core.deps.chainId}-${sequence}-${w.attempts + 1}`,
          to: messengerAddress,
          data: messenger.interface.encodeFunctionData("retryMessage", [message]),
          alreadyDone: async () => (await messenger.isRelayed(sequence)) && !(await messenger.failedMessages(leaf)),
        }
      : {
          key: `relay-${this.core.deps.chainId}-${sequence}`,
          to: messengerAddress,
          data: relayCalldata(message, tree.proofFor(sequence), w.root),
          alreadyDone: async () => messenger.isRelayed(sequence),
        };
    this.core.log.info(
      { sequence: w.sequence, key: intent.key, retry },
      retry ? "retrying withdrawal" : "relaying withdrawal",
    );

    // Attempts are counted once the send settled, so a crash in between re-uses the same key (the
    // TxSender then returns that intent's outcome instead of sending again).
    let outcome: TxOutcome;
    try {
      outcome = await this.core.deps.writer.send(intent);
    } catch (e) {
      if (isTxReverted(e) && e.errorName === "MessageRootNotActive") {
        // L1 time as we read it was ahead of the block the transaction would land in.
        throw new RootNotActiveError(`${e.reason}: not active yet`);
      }
      await this.core.countAttempt(w);
      if (isTxReverted(e)) {
        // retryMessage reverts with the target's own error when the call fails again.
        throw new RelayFailedError(
          retry ? `target call failed: ${e.reason}` : `relayMessageWithProof reverted: ${e.reason}`,
          e.hash,
        );
      }
      throw e;
    }
    if (outcome.status === "mined" || outcome.hash !== undefined) await this.core.countAttempt(w);

    if (outcome.status === "already-done") {
      // Done by someone else or by an earlier run: what matters is whether the call succeeded.
      if (!(await messenger.failedMessages(leaf))) {
        await this.markRelayed(w, outcome.hash ?? (await this.findLog("MessageRelayed", leaf, sequence)), "other");
        return "already relayed";
      }
      const reason = await this.failureReason(leaf, sequence, outcome.hash);
      throw new RelayFailedError(`target call failed: ${reason}`, outcome.hash);
    }

    const receipt = await this.core.deps.provider.getTransactionReceipt(outcome.hash);
    const result = receipt === null ? undefined : relayOutcome(receipt, sequence, messengerAddress);
    if (result?.kind === "relayed") {
      await this.markRelayed(w, outcome.hash, "processor");
      return "relayed";
    }
    if (result?.kind === "failed") throw new RelayFailedError(`target call failed: ${result.reason}`, outcome.hash);
    throw new Error(
      `transaction ${outcome.hash} of withdrawal ${sequence} has no MessageRelayed/MessageRelayFailed log`,
    );
  }

  /** Why the target call of `sequence` failed, from its MessageRelayFailed log. */
  private async failureReason(leaf: string, sequence: bigint, txHash?: string): Promise<string> {
    const { messenger } = this.core.deps.contracts;
    if (txHash !== undefined) {
      const receipt = await this.core.deps.provider.getTransactionReceipt(txHash);
      const result = receipt === null ? undefined : relayOutcome(receipt, sequence, await messenger.getAddress());
      if (result?.kind === "failed") return result.reason;
    }
    try {
      const logs = await messenger.queryFilter(
        messenger.filters.MessageRelayFailed(leaf, sequence),
        this.core.settings.fromBlock,
      );
      const last = logs.at(-1);
      if (last !== undefined) return decodeTargetReason(last.args.reason);
    } catch (e) {
      this.core.log.debug({ err: e }, "failed to look up MessageRelayFailed");
    }
    return "unknown reason (recorded as failed by the messenger)";
  }

  /** The transaction of the latest `MessageRelayed` / `MessageRelayFailed` log of the message, if found. */
  private async findLog(
    name: "MessageRelayed" | "MessageRelayFailed",
    leaf: string,
    sequence: bigint,
  ): Promise<string | undefined> {
    const { messenger } = this.core.deps.contracts;
    try {
      const filter =
        name === "MessageRelayed"
          ? messenger.filters.MessageRelayed(leaf, sequence)
          : messenger.filters.MessageRelayFailed(leaf, sequence);
      const logs = await messenger.queryFilter(filter, this.core.settings.fromBlock);
      return logs.at(-1)?.transactionHash;
    } catch (e) {
      this.core.log.debug({ err: e }, `failed to look up ${name}`);
      return undefined;
    }
  }

  // Status changes

  private async markRelayed(w: WithdrawalStatus, txHash: string | undefined, by: "processor" | "other"): Promise<void> {
    const change = await this.core.store.update(
      w.sequence,
      { status: "relayed", txHash: txHash ?? "", error: "" },
      { rollupHash: w.rollupHash, from: ["waiting", "failed", "dead"] },
    );
    if (change.applied) {
      this.core.metrics.relayed.inc({ by });
      this.core.log.info(
        { sequence: w.sequence, txHash, by },
        by === "processor" ? "withdrawal relayed" : "withdrawal already relayed",
      );
      await this.core.changed(w.sequence);
    }
  }

  private async markFailed(w: WithdrawalStatus, reason: string, txHash?: string, job?: string): Promise<boolean> {
    const fields: StatusFields = { status: "failed", error: reason };
    if (txHash !== undefined) fields.txHash = txHash;
    if (job !== undefined) fields.job = job;
    const change = await this.core.store.update(w.sequence, fields, {
      rollupHash: w.rollupHash,
      from: ["waiting", "failed", "dead"],
    });
    if (change.applied) {
      this.core.log.warn({ sequence: w.sequence, reason, txHash }, "withdrawal relay failed: will retry");
      await this.core.changed(w.sequence);
    }
    return change.applied;
  }

  private async markDead(w: WithdrawalStatus, reason: string, txHash?: string): Promise<void> {
    const fields: StatusFields = { status: "dead", error: reason };
    if (txHash !== undefined) fields.txHash = txHash;
    const change = await this.core.store.update(w.sequence, fields, {
      rollupHash: w.rollupHash,
      from: ["waiting", "failed", "dead"],
    });
    if (change.applied && change.previous !== "dead") {
      this.core.metrics.dead.inc();
      this.core.log.error(
        { sequence: w.sequence, reason },
        "withdrawal dead: attempts exhausted (re-drive the withdrawals queue to retry)",
      );
    }
    if (change.applied) await this.core.changed(w.sequence);
  }

  private async markRejected(owned: readonly WithdrawalStatus[]): Promise<number> {
    let n = 0;
    for (const w of owned) {
      const change = await this.core.store.update(
        w.sequence,
        { status: "rejected", error: "message root rejected on L1" },
        { rollupHash: w.rollupHash, from: ["waiting", "failed", "dead"] },
      );
      if (change.applied) {
        n++;
        this.core.metrics.rejected.inc();
        await this.core.changed(w.sequence);
      }
    }
    return n;
  }

  /** Gives a withdrawal that failed in its rollup's pass its own retry job. */
  private async handOver(w: WithdrawalStatus, e: unknown): Promise<void> {
    const jobId = relayWithdrawalJobId(w.sequence);
    this.core.metrics.failed.inc();
    const txHash = e instanceof RelayFailedError ? e.txHash : undefined;
    // Not when it moved meanwhile (rejected, reorged): then there is nothing left to retry.
    if (!(await this.markFailed(w, errorMessage(e), txHash, jobId))) return;
    await this.core.enqueue(
      RELAY_WITHDRAWAL_JOB,
      { sequence: w.sequence, rollupHash: w.rollupHash, root: w.root },
      jobId,
      this.core.deps.queues.backoffMs,
    );
  }
}
