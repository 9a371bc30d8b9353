/**
 * The withdrawal-processor's tracking half: rollup events (the `rollups` queue) become withdrawal
 * records and relay jobs.
 * - RollupAdded: load the rollup's messages (WithdrawalSource: the L2 nodes), rebuild the Merkle tree
 *   and check it against the event's root, record each TOPIC_CALL message as `waiting`, and enqueue ONE
 *   job for the whole rollup (`relay-rollup-<rollupHash>`) delayed until the root activates.
 * - RollupRejected: the rollup's withdrawals become `rejected` and their pending jobs are removed. A
 *   corrected rollup posted in the reopened sequence (possibly with the same root) re-tracks the
 *   withdrawals it carries under its own rollup hash.
 * - RollupAdded with removed:true (L1 reorg): same for `reorged`, unless the rollup is on L1 again; a
 *   reorged rejection puts the withdrawals back to `waiting`.
 * Every handler is idempotent: a re-delivery changes nothing.
 */
import { ZeroHash } from "ethers";
import { UnrecoverableError } from "bullmq";

import { Topic } from "../../protocol/messages.js";
import type { EventJob, RollupAdded, RollupRejected } from "../../platform/events.js";
import { type ProcessorCore, RELAY_ROLLUP_JOB, callTarget, messageLeaf, relayRollupJobId } from "./core.js";
import type { StatusFields } from "./status.js";

export class WithdrawalTracker {
  constructor(private readonly core: ProcessorCore) {}

  /** Handles one delivery of the `rollups` queue. Idempotent: a re-delivery changes nothing. */
  async handle(job: EventJob): Promise<string> {
    const { event, removed, ref } = job;
    if (ref.chainId !== this.core.deps.chainId) {
      throw new UnrecoverableError(
        `event of chain ${ref.chainId}; this processor follows chain ${this.core.deps.chainId}`,
      );
    }
    switch (event.type) {
      case "RollupAdded":
        return removed ? this.onRollupReorged(event) : this.onRollupAdded(event);
      case "RollupRejected":
        return removed ? this.onRejectionReorged(event) : this.onRollupRejected(event);
      default:
        return `ignored ${event.type}`;
    }
  }

  private async onRollupAdded(e: RollupAdded): Promise<string> {
    const rollupHash = e.rollupHash.toLowerCase();
    const root = e.messageRoot.toLowerCase();
    if (root === ZeroHash) return "rollup carries no L2→L1 messages";
    const tree = await this.core.treeFor(root);
    const calls = tree.messages.filter((m) => m.topic === Topic.Call);
    if (calls.length === 0) return "rollup carries no L2→L1 calls";

    const state = await this.core.rootState(root, rollupHash);
    if (state.kind === "unregistered") {
      throw new Error(`message root ${root} of rollup ${rollupHash} is not registered on L1 for that rollup`);
    }
    const rejected = state.kind === "rejected";
    const jobId = relayRollupJobId(rollupHash);
    const sequences = calls.map((m) => m.sequence.toString());
    await this.core.store.addToRollup(rollupHash, sequences);

    let tracked = 0;
    let waiting = 0;
    for (const m of calls) {
      const current = await this.core.store.get(m.sequence);
      // Re-track when new, when its rollup was reorged away, or when it now comes with another rollup
      // after a rejection or reorg; a re-delivery of the same rollup leaves it alone.
      const retrack =
        current === undefined ||
        current.status === "reorged" ||
        (current.rollupHash !== rollupHash && (current.status === "waiting" || current.status === "rejected"));
      if (!retrack) {
        if (current.rollupHash === rollupHash && current.status === "waiting") waiting++;
        continue;
      }
      const fields: StatusFields = {
        status: rejected ? "rejected" : "waiting",
        rollupHash,
        root,
        leaf: messageLeaf(m),
        target: callTarget(m),
        activatesAt: state.activatesAt,
        attempts: 0,
        txHash: "",
        error: rejected ? "rollup rejected by the guardian" : "",
        job: jobId,
      };
      const change = await this.core.store.update(m.sequence, fields, {
        from: [current?.status ?? "none"],
        ...(current === undefined ? {} : { rollupHash: current.rollupHash }),
      });
      if (!change.applied) continue;
      tracked++;
      this.core.metrics.tracked.inc();
      if (rejected) this.core.metrics.rejected.inc();
      else waiting++;
      await this.core.changed(m.sequence);
    }
    if (waiting > 0 && state.kind !== "rejected") {
      await this.core.enqueue(
        RELAY_ROLLUP_JOB,
        { rollupHash, root, sequences },
        jobId,
        state.kind === "active" ? 0 : this.core.waitMs(state.activatesAt, state.now),
      );
    }
    this.core.log.info(
      { rollupHash, root, withdrawals: calls.length, tracked, activatesAt: state.activatesAt, rejected },
      "rollup withdrawals tracked",
    );
    return `tracked ${tracked} of ${calls.length} withdrawals${rejected ? " (rollup rejected)" : ""}`;
  }

  private async onRollupRejected(e: RollupRejected): Promise<string> {
    const rollupHash = e.rollupHash.toLowerCase();
    const sequences = await this.core.store.rollupSequences(rollupHash);
    await this.core.removePendingJobs(rollupHash, sequences);
    let rejected = 0;
    for (const seq of sequences) {
      const change = await this.core.store.update(
        seq,
        { status: "rejected", error: `rollup rejected by the guardian ${e.guardian}` },
        { rollupHash, from: ["waiting", "failed", "dead", "reorged"] },
      );
      if (change.applied) {
        rejected++;
        this.core.metrics.rejected.inc();
        await this.core.changed(seq);
      }
    }
    this.core.log.warn(
      { rollupHash, guardian: e.guardian, rejected },
      "rollup rejected: its withdrawals will never be relayed",
    );
    return `${rejected} withdrawals rejected`;
  }

  private async onRollupReorged(e: RollupAdded): Promise<string> {
    const rollupHash = e.rollupHash.toLowerCase();
    const root = e.messageRoot.toLowerCase();
    if (root === ZeroHash) return "rollup carried no L2→L1 messages";
    if ((await this.core.rootState(root, rollupHash)).kind !== "unregistered") {
      return "rollup is on L1 again (re-included): nothing to undo";
    }
    const sequences = await this.core.store.rollupSequences(rollupHash);
    await this.core.removePendingJobs(rollupHash, sequences);
    let reorged = 0;
    for (const seq of sequences) {
      const change = await this.core.store.update(
        seq,
        { status: "reorged", error: "rollup removed from L1 by a reorg" },
        { rollupHash, from: ["waiting", "failed", "dead", "rejected"] },
      );
      if (change.applied) {
        reorged++;
        await this.core.changed(seq);
      }
    }
    this.core.log.warn({ rollupHash, reorged }, "rollup reorged away: its withdrawals wait for a resubmission");
    return `${reorged} withdrawals reorged`;
  }

  private async onRejectionReorged(e: RollupRejected): Promise<string> {
    const rollupHash = e.rollupHash.toLowerCase();
    const root = e.messageRoot.toLowerCase();
    const state = await this.core.rootState(root, rollupHash);
    if (state.kind === "unregistered" || state.kind === "rejected")
      return `rollup ${state.kind} on L1: nothing to undo`;
    const jobId = relayRollupJobId(rollupHash);
    const sequences = await this.core.store.rollupSequences(rollupHash);
    let restored = 0;
    for (const seq of sequences) {
      const change = await this.core.store.update(
        seq,
        { status: "waiting", error: "", job: jobId },
        { rollupHash, from: ["rejected"] },
      );
      if (change.applied) {
        restored++;
        await this.core.changed(seq);
      }
    }
    if (restored > 0) {
      await this.core.enqueue(
        RELAY_ROLLUP_JOB,
        { rollupHash, root, sequences },
        jobId,
        state.kind === "active" ? 0 : this.core.waitMs(state.activatesAt, state.now),
      );
    }
    return `rejection reorged away: ${restored} withdrawals waiting again`;
  }
}
