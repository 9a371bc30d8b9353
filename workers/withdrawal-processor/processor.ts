/**
 * The withdrawal-processor: follows accepted rollups (the `rollups` queue), tracks the L2→L1 calls
 * ("withdrawals") they carry, and relays them on L1 once their message root has activated.
 *
 * Flow:
 * - RollupAdded: load the rollup's messages (WithdrawalSource), rebuild the Merkle tree and check it
 *   against the event's root, record each TOPIC_CALL message as `waiting`, and enqueue ONE job for the
 *   whole rollup (`relay-rollup-<rollupHash>` on the `withdrawals` queue) delayed until the root
 *   activates. Its withdrawals share the root, so they become relayable together: that job relays them
 *   one after another in one run (one activation check, one tree).
 * - A withdrawal that fails in that run (target call failed, relay reverted, RPC error) is handed over to
 *   its own job `relay-<sequence>`, retried with backoff (`retryMessage` when the messenger recorded the
 *   failure) and dead-lettered alone when its attempts run out, so one bad target never holds back the
 *   others of its rollup.
 * - Both jobs check activation against the latest L1 block timestamp when they run and, if the root is
 *   not active yet, put themselves back in the delayed set (no attempt used): L1 time and wall time
 *   differ (time travel in tests, slow blocks), so a delay computed once is only a first guess.
 * - RollupRejected: the rollup's withdrawals become `rejected` and their pending jobs are removed. A
 *   rejection also invalidates every later rollup (built on the rejected one's state) without an event
 *   of their own: their jobs find the root `rejected` on L1 (MessageBus.messageRoot) before relaying,
 *   and never relay it. A corrected rollup posted in the reopened sequence (possibly with the same
 *   root) re-tracks the withdrawals it carries under its own rollup hash.
 *   RollupAdded with removed:true (L1 reorg): same for `reorged`, unless the rollup is on L1 again.
 *
 * Every L1 write goes through the L1Writer (a TxSender) with an idempotency key and an `alreadyDone`
 * check against the messenger, so a re-run after a crash never relays twice.
 */
import { AbiCoder, ZeroHash, keccak256, type Log, type Provider, type TransactionReceipt } from "ethers";
import { DelayedError, type Job, type Queue, UnrecoverableError } from "bullmq";
import type { Redis } from "ioredis";
import type { Registry } from "prom-client";

import { type CrossChainMessage, MESSAGE_LEAF_ENCODING, MessageTree, Topic } from "../../protocol/messages.js";
import type { VeilnetContracts } from "../../platform/chain.js";
import type { EventJob, RollupAdded, RollupRejected } from "../../platform/events.js";
import type { Logger } from "../../platform/logger.js";
import {
  type DeadLetter,
  QueueNames,
  type QueueSettings,
  createConsumer,
  createQueue,
  isJobMovedError,
} from "../../platform/queues.js";
import type { Service } from "../../platform/service.js";
import { decodeRevert, veilnetErrorInterfaces } from "../../platform/revert.js";
import { type TxIntent, type TxOutcome, TxRevertedError } from "../../platform/tx-sender/types.js";
import { type WithdrawalMetrics, withdrawalMetrics } from "./metrics.js";
import type { WithdrawalSource } from "./source.js";
import { type StatusFields, type WithdrawalState, type WithdrawalStatus, WithdrawalStore } from "./status.js";

/** What the processor needs of the TxSender. */
export type L1Writer = { send(intent: TxIntent): Promise<TxOutcome> };

/** Job of a rollup's first relay pass. */
export interface RelayRollupJob {
  rollupHash: string;
  root: string;
  /** Sequences of the rollup's withdrawals (decimal). */
  sequences: string[];
}

/** Job of one withdrawal's retries (after its rollup's pass could not relay it). */
export interface RelayWithdrawalJob {
  sequence: string;
  rollupHash: string;
  root: string;
}

export type WithdrawalJob = RelayRollupJob | RelayWithdrawalJob;

export const RELAY_ROLLUP_JOB = "relay-rollup";
export const RELAY_WITHDRAWAL_JOB = "relay";

export function relayRollupJobId(rollupHash: string): string {
  return `relay-rollup-${rollupHash.toLowerCase()}`;
}

export function relayWithdrawalJobId(sequence: bigint | string): string {
  return `relay-${sequence.toString()}`;
}

export interface WithdrawalProcessorSettings {
  /**
   * Longest wait between two activation checks of a root (ms). A job first sleeps until the root's
   * activation time as L1 reports it; this bounds how late it notices when L1 time runs ahead of the wall
   * clock (time travel on dev chains). Each check is one eth_call and one block read per pending rollup.
   */
  activationPollMs: number;
  /** First block to search for relay logs (the deployment block). */
  fromBlock: number;
}

export const DEFAULT_WITHDRAWAL_SETTINGS: WithdrawalProcessorSettings = { activationPollMs: 300_000, fromBlock: 0 };

export interface WithdrawalProcessorDeps {
  chainId: number;
  /** Read-only contracts (bound to `provider`). */
  contracts: Pick<VeilnetContracts, "messageBus" | "messenger">;
  provider: Provider;
  writer: L1Writer;
  /** Connection for the statuses. */
  redis: Redis;
  queues: QueueSettings;
  logger: Logger;
  metrics: Registry;
  source: WithdrawalSource;
  settings?: Partial<WithdrawalProcessorSettings>;
  /** Called after every status change (observability hooks, tests). */
  onStatus?: (status: WithdrawalStatus) => void;
}

/** A relay attempt that failed for a reason worth recording (target call failed, transaction reverted). */
export class RelayFailedError extends Error {
  constructor(
    message: string,
    readonly txHash?: string,
  ) {
    super(message);
    this.name = "RelayFailedError";
  }
}

/** The relay was refused because the root is not active yet at the block it would land in. */
export class RootNotActiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RootNotActiveError";
  }
}

type RootState =
  | { kind: "unregistered" }
  | { kind: "rejected"; activatesAt: number }
  | { kind: "pending"; activatesAt: number; now: number }
  | { kind: "active"; activatesAt: number; now: number };

const PENDING_JOB_STATES = ["delayed", "waiting", "prioritized", "paused", "waiting-children"];
const TREE_CACHE_SIZE = 64;
const coder = AbiCoder.defaultAbiCoder();

/** `CrossChain.leafHash` of `m` (the StandardMerkleTree leaf). */
export function messageLeaf(m: CrossChainMessage): string {
  return keccak256(
    keccak256(
      coder.encode(MESSAGE_LEAF_ENCODING, [m.sender, m.sequence, m.nonce, m.topic, m.payload, m.consistencyLevel]),
    ),
  );
}

/** The L1 target of a TOPIC_CALL message (empty when the payload is not `abi.encode(address, bytes)`). */
export function callTarget(m: CrossChainMessage): string {
  try {
    return String(coder.decode(["address", "bytes"], m.payload)[0]);
  } catch {
    return "";
  }
}

/** First 12 bytes of the rollup hash, as MessageBus stores them with the root. */
function rollupTag(rollupHash: string): string {
  return rollupHash.toLowerCase().slice(0, 2 + 24);
}

function errorMessage(e: unknown): string {
  if (e instanceof Error) return (e as { shortMessage?: string }).shortMessage ?? e.message;
  return String(e);
}

function isTxReverted(e: unknown): e is TxRevertedError {
  return e instanceof TxRevertedError || (e instanceof Error && e.name === "TxRevertedError");
}

export class WithdrawalProcessor implements Service {
  readonly name = "withdrawal-processor";
  readonly store: WithdrawalStore;
  readonly metrics: WithdrawalMetrics;
  private readonly settings: WithdrawalProcessorSettings;
  private readonly withdrawals: Queue<WithdrawalJob>;
  private readonly trees = new Map<string, MessageTree>();
  private readonly consumers: Array<
    ReturnType<typeof createConsumer<EventJob> | typeof createConsumer<WithdrawalJob>>
  > = [];
  private readonly log: Logger;
  private running = false;

  constructor(private readonly deps: WithdrawalProcessorDeps) {
    this.settings = { ...DEFAULT_WITHDRAWAL_SETTINGS, ...deps.settings };
    this.store = new WithdrawalStore(deps.redis, deps.queues.prefix, deps.chainId);
    this.metrics = withdrawalMetrics(deps.metrics, () => this.store.waitingCount());
    this.withdrawals = createQueue<WithdrawalJob>(QueueNames.withdrawals, deps.queues);
    this.log = deps.logger;
  }

  // ------------------------------------------------------------------------------------------------
  // Service

  async start(): Promise<void> {
    if (this.running) return;
    const rollups = createConsumer<EventJob>(
      QueueNames.rollups,
      async (job) => this.handleRollupEvent(job.data),
      this.deps.queues,
      { logger: this.log },
    );
    const withdrawals = createConsumer<WithdrawalJob>(
      QueueNames.withdrawals,
      async (job) => this.handleWithdrawalJob(job),
      this.deps.queues,
      {
        logger: this.log,
        onDeadLetter: (letter) => this.log.error({ letter: summary(letter) }, "withdrawal dead-lettered"),
      },
    );
    for (const c of [rollups, withdrawals]) {
      this.consumers.push(c);
      c.worker.run().catch((err: unknown) => this.log.error({ err }, "withdrawal-processor: queue worker stopped"));
      await c.worker.waitUntilReady();
    }
    this.running = true;
    this.log.info({ chainId: this.deps.chainId }, "withdrawal-processor: started");
  }

  async stop(): Promise<void> {
    this.running = false;
    const consumers = this.consumers.splice(0);
    await Promise.all(consumers.map((c) => c.worker.close()));
    await Promise.all(consumers.map((c) => c.deadLetters.close()));
    await this.withdrawals.close();
  }

  async health(): Promise<{ ok: boolean; detail?: string }> {
    if (!this.running) return { ok: false, detail: "not running" };
    const stopped = this.consumers.filter((c) => !c.worker.isRunning()).map((c) => c.worker.name);
    if (stopped.length > 0) return { ok: false, detail: `queue worker stopped: ${stopped.join(", ")}` };
    return { ok: true };
  }

  // ------------------------------------------------------------------------------------------------
  // Rollup events

  /** Handles one delivery of the `rollups` queue. Idempotent: a re-delivery changes nothing. */
  async handleRollupEvent(job: EventJob): Promise<string> {
    const { event, removed, ref } = job;
    if (ref.chainId !== this.deps.chainId) {
      throw new UnrecoverableError(`event of chain ${ref.chainId}; this processor follows chain ${this.deps.chainId}`);
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
    const tree = await this.treeFor(root);
    const calls = tree.messages.filter((m) => m.topic === Topic.Call);
    if (calls.length === 0) return "rollup carries no L2→L1 calls";

    const state = await this.rootState(root, rollupHash);
    if (state.kind === "unregistered") {
      throw new Error(`message root ${root} of rollup ${rollupHash} is not registered on L1 for that rollup`);
    }
    const rejected = state.kind === "rejected";
    const jobId = relayRollupJobId(rollupHash);
    const sequences = calls.map((m) => m.sequence.toString());
    await this.store.addToRollup(rollupHash, sequences);

    let tracked = 0;
    let waiting = 0;
    for (const m of calls) {
      const current = await this.store.get(m.sequence);
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
      const change = await this.store.update(m.sequence, fields, {
        from: [current?.status ?? "none"],
        ...(current === undefined ? {} : { rollupHash: current.rollupHash }),
      });
      if (!change.applied) continue;
      tracked++;
      this.metrics.tracked.inc();
      if (rejected) this.metrics.rejected.inc();
      else waiting++;
      await this.changed(m.sequence);
    }
    if (waiting > 0 && state.kind !== "rejected") {
      await this.enqueue(
        RELAY_ROLLUP_JOB,
        { rollupHash, root, sequences },
        jobId,
        state.kind === "active" ? 0 : this.waitMs(state.activatesAt, state.now),
      );
    }
    this.log.info(
      { rollupHash, root, withdrawals: calls.length, tracked, activatesAt: state.activatesAt, rejected },
      "rollup withdrawals tracked",
    );
    return `tracked ${tracked} of ${calls.length} withdrawals${rejected ? " (rollup rejected)" : ""}`;
  }

  private async onRollupRejected(e: RollupRejected): Promise<string> {
    const rollupHash = e.rollupHash.toLowerCase();
    const sequences = await this.store.rollupSequences(rollupHash);
    await this.removePendingJobs(rollupHash, sequences);
    let rejected = 0;
    for (const seq of sequences) {
      const change = await this.store.update(
        seq,
        { status: "rejected", error: `rollup rejected by the guardian ${e.guardian}` },
        { rollupHash, from: ["waiting", "failed", "dead", "reorged"] },
      );
      if (change.applied) {
        rejected++;
        this.metrics.rejected.inc();
        await this.changed(seq);
      }
    }
    this.log.warn(
      { rollupHash, guardian: e.guardian, rejected },
      "rollup rejected: its withdrawals will never be relayed",
    );
    return `${rejected} withdrawals rejected`;
  }

  private async onRollupReorged(e: RollupAdded): Promise<string> {
    const rollupHash = e.rollupHash.toLowerCase();
    const root = e.messageRoot.toLowerCase();
    if (root === ZeroHash) return "rollup carried no L2→L1 messages";
    if ((await this.rootState(root, rollupHash)).kind !== "unregistered") {
      return "rollup is on L1 again (re-included): nothing to undo";
    }
    const sequences = await this.store.rollupSequences(rollupHash);
    await this.removePendingJobs(rollupHash, sequences);
    let reorged = 0;
    for (const seq of sequences) {
      const change = await this.store.update(
        seq,
        { status: "reorged", error: "rollup removed from L1 by a reorg" },
        { rollupHash, from: ["waiting", "failed", "dead", "rejected"] },
      );
      if (change.applied) {
        reorged++;
        await this.changed(seq);
      }
    }
    this.log.warn({ rollupHash, reorged }, "rollup reorged away: its withdrawals wait for a resubmission");
    return `${reorged} withdrawals reorged`;
  }

  private async onRejectionReorged(e: RollupRejected): Promise<string> {
    const rollupHash = e.rollupHash.toLowerCase();
    const root = e.messageRoot.toLowerCase();
    const state = await this.rootState(root, rollupHash);
    if (state.kind === "unregistered" || state.kind === "rejected")
      return `rollup ${state.kind} on L1: nothing to undo`;
    const jobId = relayRollupJobId(rollupHash);
    const sequences = await this.store.rollupSequences(rollupHash);
    let restored = 0;
    for (const seq of sequences) {
      const change = await this.store.update(
        seq,
        { status: "waiting", error: "", job: jobId },
        { rollupHash, from: ["rejected"] },
      );
      if (change.applied) {
        restored++;
        await this.changed(seq);
      }
    }
    if (restored > 0) {
      await this.enqueue(
        RELAY_ROLLUP_JOB,
        { rollupHash, root, sequences },
        jobId,
        state.kind === "active" ? 0 : this.waitMs(state.activatesAt, state.now),
      );
    }
    return `rejection reorged away: ${restored} withdrawals waiting again`;
  }

  // ------------------------------------------------------------------------------------------------
  // Relay jobs

  async handleWithdrawalJob(job: Job<WithdrawalJob>): Promise<string> {
    if (job.name === RELAY_ROLLUP_JOB) return this.relayRollup(job as Job<RelayRollupJob>);
    if (job.name === RELAY_WITHDRAWAL_JOB) return this.relayWithdrawal(job as Job<RelayWithdrawalJob>);
    throw new UnrecoverableError(`unknown job ${job.name}`);
  }

  /** A rollup's pass: relays its waiting withdrawals one after another once the root is active. */
  private async relayRollup(job: Job<RelayRollupJob>): Promise<string> {
    const { rollupHash, root, sequences } = job.data;
    const jobId = String(job.id);
    let owned = await this.owned(sequences, rollupHash, jobId, ["waiting", "dead"]);
    if (owned.length === 0) return "nothing left to relay";
    try {
      const state = await this.rootState(root, rollupHash);
      if (state.kind === "unregistered") {
        throw new Error(`message root ${root} of rollup ${rollupHash} is not registered on L1 (reorged?)`);
      }
      if (state.kind === "rejected") return `${await this.markRejected(owned)} withdrawals rejected`;
      if (state.kind === "pending") await this.delayUntilActive(job, root, state);
      const tree = await this.treeFor(root);
      let relayed = 0;
      let handedOver = 0;
      for (const w of owned) {
        try {
          await this.relayOne(tree, w);
          relayed++;
        } catch (e) {
          if (e instanceof RootNotActiveError)
            await this.delayUntilActive(job, root, await this.pendingState(root, rollupHash));
          handedOver++;
          await this.handOver(w, e);
        }
      }
      return `relayed ${relayed}, handed over ${handedOver} for retries`;
    } catch (e) {
      if (!isJobMovedError(e) && this.isLastAttempt(job, e)) {
        owned = await this.owned(sequences, rollupHash, jobId, ["waiting"]);
        for (const w of owned) await this.markDead(w, errorMessage(e));
      }
      throw e;
    }
  }

  /** One withdrawal's retry job (the messenger's `retryMessage` once the failure is recorded on L1). */
  private async relayWithdrawal(job: Job<RelayWithdrawalJob>): Promise<string> {
    const { sequence, rollupHash, root } = job.data;
    const [w] = await this.owned([sequence], rollupHash, String(job.id), ["waiting", "failed", "dead"]);
    if (w === undefined) return "nothing to do (relayed, rejected, reorged or handed to another job)";
    try {
      const state = await this.rootState(root, rollupHash);
      if (state.kind === "unregistered") {
        throw new Error(`message root ${root} of rollup ${rollupHash} is not registered on L1 (reorged?)`);
      }
      if (state.kind === "rejected") return `${await this.markRejected([w])} withdrawal rejected`;
      if (state.kind === "pending") await this.delayUntilActive(job, root, state);
      try {
        return await this.relayOne(await this.treeFor(root), w);
      } catch (e) {
        if (e instanceof RootNotActiveError)
          await this.delayUntilActive(job, root, await this.pendingState(root, rollupHash));
        throw e;
      }
    } catch (e) {
      if (isJobMovedError(e)) throw e;
      const reason = errorMessage(e);
      this.metrics.failed.inc();
      if (this.isLastAttempt(job, e)) {
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
    const { messenger } = this.deps.contracts;
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
          key: `retry-${this.deps.chainId}-${sequence}-${w.attempts + 1}`,
          to: messengerAddress,
          data: messenger.interface.encodeFunctionData("retryMessage", [message]),
          alreadyDone: async () => (await messenger.isRelayed(sequence)) && !(await messenger.failedMessages(leaf)),
        }
      : {
          key: `relay-${this.deps.chainId}-${sequence}`,
          to: messengerAddress,
          data: messenger.interface.encodeFunctionData("relayMessageWithProof", [
            message,
            tree.proofFor(sequence),
            w.root,
          ]),
          alreadyDone: async () => messenger.isRelayed(sequence),
        };
    this.log.info(
      { sequence: w.sequence, key: intent.key, retry },
      retry ? "retrying withdrawal" : "relaying withdrawal",
    );

    // Attempts are counted once the send settled, so a crash in between re-uses the same key (the
    // TxSender then returns that intent's outcome instead of sending again).
    let outcome: TxOutcome;
    try {
      outcome = await this.deps.writer.send(intent);
    } catch (e) {
      if (isTxReverted(e) && e.errorName === "MessageRootNotActive") {
        // L1 time as we read it was ahead of the block the transaction would land in.
        throw new RootNotActiveError(`${e.reason}: not active yet`);
      }
      await this.countAttempt(w);
      if (isTxReverted(e)) {
        // retryMessage reverts with the target's own error when the call fails again.
        throw new RelayFailedError(
          retry ? `target call failed: ${e.reason}` : `relayMessageWithProof reverted: ${e.reason}`,
          e.hash,
        );
      }
      throw e;
    }
    if (outcome.status === "mined" || outcome.hash !== undefined) await this.countAttempt(w);

    if (outcome.status === "already-done") {
      // Done by someone else or by an earlier run: what matters is whether the call succeeded.
      if (!(await messenger.failedMessages(leaf))) {
        await this.markRelayed(w, outcome.hash ?? (await this.findLog("MessageRelayed", leaf, sequence)), "other");
        return "already relayed";
      }
      const reason = await this.failureReason(leaf, sequence, outcome.hash);
      throw new RelayFailedError(`target call failed: ${reason}`, outcome.hash);
    }

    const receipt = await this.deps.provider.getTransactionReceipt(outcome.hash);
    const result = receipt === null ? undefined : this.relayResult(receipt, sequence, messengerAddress);
    if (result?.kind === "relayed") {
      await this.markRelayed(w, outcome.hash, "processor");
      return "relayed";
    }
    if (result?.kind === "failed") throw new RelayFailedError(`target call failed: ${result.reason}`, outcome.hash);
    throw new Error(
      `transaction ${outcome.hash} of withdrawal ${sequence} has no MessageRelayed/MessageRelayFailed log`,
    );
  }

  /** The relay outcome of `sequence` in a mined transaction's logs. */
  private relayResult(
    receipt: TransactionReceipt,
    sequence: bigint,
    messenger: string,
  ): { kind: "relayed" } | { kind: "failed"; reason: string } | undefined {
    for (const log of receipt.logs) {
      if (log.address.toLowerCase() !== messenger.toLowerCase()) continue;
      const parsed = this.parseMessengerLog(log);
      if (parsed === undefined || parsed.sequence !== sequence) continue;
      if (parsed.name === "MessageRelayed") return { kind: "relayed" };
      if (parsed.name === "MessageRelayFailed") return { kind: "failed", reason: decodeTargetReason(parsed.reason) };
    }
    return undefined;
  }

  private parseMessengerLog(log: Log): { name: string; sequence: bigint; reason: string } | undefined {
    try {
      const parsed = this.deps.contracts.messenger.interface.parseLog({ topics: [...log.topics], data: log.data });
      if (parsed === null || (parsed.name !== "MessageRelayed" && parsed.name !== "MessageRelayFailed"))
        return undefined;
      return {
        name: parsed.name,
        sequence: BigInt(parsed.args.sequence as bigint),
        reason: parsed.name === "MessageRelayFailed" ? String(parsed.args.reason) : "",
      };
    } catch {
      return undefined;
    }
  }

  /** Why the target call of `sequence` failed, from its MessageRelayFailed log. */
  private async failureReason(leaf: string, sequence: bigint, txHash?: string): Promise<string> {
    const { messenger } = this.deps.contracts;
    if (txHash !== undefined) {
      const receipt = await this.deps.provider.getTransactionReceipt(txHash);
      const result = receipt === null ? undefined : this.relayResult(receipt, sequence, await messenger.getAddress());
      if (result?.kind === "failed") return result.reason;
    }
    try {
      const logs = await messenger.queryFilter(
        messenger.filters.MessageRelayFailed(leaf, sequence),
        this.settings.fromBlock,
      );
      const last = logs.at(-1);
      if (last !== undefined) return decodeTargetReason(last.args.reason);
    } catch (e) {
      this.log.debug({ err: e }, "failed to look up MessageRelayFailed");
    }
    return "unknown reason (recorded as failed by the messenger)";
  }

  /** The transaction of the latest `MessageRelayed` / `MessageRelayFailed` log of the message, if found. */
  private async findLog(
    name: "MessageRelayed" | "MessageRelayFailed",
    leaf: string,
    sequence: bigint,
  ): Promise<string | undefined> {
    const { messenger } = this.deps.contracts;
    try {
      const filter =
        name === "MessageRelayed"
          ? messenger.filters.MessageRelayed(leaf, sequence)
          : messenger.filters.MessageRelayFailed(leaf, sequence);
      const logs = await messenger.queryFilter(filter, this.settings.fromBlock);
      return logs.at(-1)?.transactionHash;
    } catch (e) {
      this.log.debug({ err: e }, `failed to look up ${name}`);
      return undefined;
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Status changes

  private async markRelayed(w: WithdrawalStatus, txHash: string | undefined, by: "processor" | "other"): Promise<void> {
    const change = await this.store.update(
      w.sequence,
      { status: "relayed", txHash: txHash ?? "", error: "" },
      { rollupHash: w.rollupHash, from: ["waiting", "failed", "dead"] },
    );
    if (change.applied) {
      this.metrics.relayed.inc({ by });
      this.log.info(
        { sequence: w.sequence, txHash, by },
        by === "processor" ? "withdrawal relayed" : "withdrawal already relayed",
      );
      await this.changed(w.sequence);
    }
  }

  private async markFailed(w: WithdrawalStatus, reason: string, txHash?: string, job?: string): Promise<boolean> {
    const fields: StatusFields = { status: "failed", error: reason };
    if (txHash !== undefined) fields.txHash = txHash;
    if (job !== undefined) fields.job = job;
    const change = await this.store.update(w.sequence, fields, {
      rollupHash: w.rollupHash,
      from: ["waiting", "failed", "dead"],
    });
    if (change.applied) {
      this.log.warn({ sequence: w.sequence, reason, txHash }, "withdrawal relay failed: will retry");
      await this.changed(w.sequence);
    }
    return change.applied;
  }

  private async markDead(w: WithdrawalStatus, reason: string, txHash?: string): Promise<void> {
    const fields: StatusFields = { status: "dead", error: reason };
    if (txHash !== undefined) fields.txHash = txHash;
    const change = await this.store.update(w.sequence, fields, {
      rollupHash: w.rollupHash,
      from: ["waiting", "failed", "dead"],
    });
    if (change.applied && change.previous !== "dead") {
      this.metrics.dead.inc();
      this.log.error(
        { sequence: w.sequence, reason },
        "withdrawal dead: attempts exhausted (re-drive the withdrawals queue to retry)",
      );
    }
    if (change.applied) await this.changed(w.sequence);
  }

  private async markRejected(owned: readonly WithdrawalStatus[]): Promise<number> {
    let n = 0;
    for (const w of owned) {
      const change = await this.store.update(
        w.sequence,
        { status: "rejected", error: "message root rejected on L1" },
        { rollupHash: w.rollupHash, from: ["waiting", "failed", "dead"] },
      );
      if (change.applied) {
        n++;
        this.metrics.rejected.inc();
        await this.changed(w.sequence);
      }
    }
    return n;
  }

  /** Gives a withdrawal that failed in its rollup's pass its own retry job. */
  private async handOver(w: WithdrawalStatus, e: unknown): Promise<void> {
    const jobId = relayWithdrawalJobId(w.sequence);
    this.metrics.failed.inc();
    const txHash = e instanceof RelayFailedError ? e.txHash : undefined;
    // Not when it moved meanwhile (rejected, reorged): then there is nothing left to retry.
    if (!(await this.markFailed(w, errorMessage(e), txHash, jobId))) return;
    await this.enqueue(
      RELAY_WITHDRAWAL_JOB,
      { sequence: w.sequence, rollupHash: w.rollupHash, root: w.root },
      jobId,
      this.deps.queues.backoffMs,
    );
  }

  private async changed(sequence: bigint | string): Promise<void> {
    if (this.deps.onStatus === undefined) return;
    const status = await this.store.get(sequence.toString());
    if (status !== undefined) this.deps.onStatus(status);
  }

  // ------------------------------------------------------------------------------------------------
  // Helpers

  /** The withdrawals among `sequences` that belong to `rollupHash`, are handled by `jobId` and are in `states`. */
  private async owned(
    sequences: readonly string[],
    rollupHash: string,
    jobId: string,
    states: readonly WithdrawalState[],
  ): Promise<WithdrawalStatus[]> {
    const out: WithdrawalStatus[] = [];
    for (const seq of sequences) {
      const w = await this.store.get(seq);
      if (
        w !== undefined &&
        w.rollupHash === rollupHash.toLowerCase() &&
        w.job === jobId &&
        states.includes(w.status)
      ) {
        out.push(w);
      }
    }
    return out;
  }

  private isLastAttempt(job: Job, e: unknown): boolean {
    return e instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  }

  /** Whether `root` is registered for `rollupHash`, rejected, and active at the latest block. */
  private async rootState(root: string, rollupHash: string): Promise<RootState> {
    const r = await this.deps.contracts.messageBus.messageRoot(root);
    if (r.activatesAt === 0n || r.rollupTag.toLowerCase() !== rollupTag(rollupHash)) return { kind: "unregistered" };
    const activatesAt = Number(r.activatesAt);
    if (r.rejected) return { kind: "rejected", activatesAt };
    const block = await this.deps.provider.getBlock("latest");
    if (block === null) throw new Error("the L1 returned no latest block");
    return { kind: block.timestamp >= activatesAt ? "active" : "pending", activatesAt, now: block.timestamp };
  }

  /** The root's activation time and the L1 time to wait from (at least one second before activation). */
  private async pendingState(root: string, rollupHash: string): Promise<{ activatesAt: number; now: number }> {
    const state = await this.rootState(root, rollupHash);
    if (state.kind !== "pending" && state.kind !== "active") {
      throw new Error(`message root ${root} of rollup ${rollupHash} is ${state.kind} on L1`);
    }
    return { activatesAt: state.activatesAt, now: Math.min(state.now, state.activatesAt - 1) };
  }

  private async countAttempt(w: WithdrawalStatus): Promise<void> {
    await this.store.update(w.sequence, {}, { rollupHash: w.rollupHash, countAttempt: true });
  }

  /** How long to wait before checking again whether a root activating at `activatesAt` is active. */
  private waitMs(activatesAt: number, now: number): number {
    return Math.max(0, Math.min(this.settings.activationPollMs, (activatesAt - now) * 1000));
  }

  /** Puts `job` back in the delayed set until the root may be active, without using an attempt. */
  private async delayUntilActive(job: Job, root: string, state: { activatesAt: number; now: number }): Promise<never> {
    const wait = Math.max(50, this.waitMs(state.activatesAt, state.now));
    await job.moveToDelayed(Date.now() + wait, job.token);
    throw new DelayedError(`message root ${root} activates at ${state.activatesAt} (L1 time now ${state.now})`);
  }

  /** The message tree of `root`, checked against it. */
  private async treeFor(root: string): Promise<MessageTree> {
    const key = root.toLowerCase();
    const cached = this.trees.get(key);
    if (cached !== undefined) return cached;
    const messages = await this.deps.source.messagesForRoot(key);
    if (messages === undefined) throw new Error(`messages for root ${key} unknown`);
    if (messages.length === 0) throw new UnrecoverableError(`messages for root ${key} are an empty list`);
    const tree = new MessageTree(messages);
    if (tree.root.toLowerCase() !== key) {
      throw new UnrecoverableError(`messages for root ${key} build a different tree (root ${tree.root})`);
    }
    this.trees.set(key, tree);
    if (this.trees.size > TREE_CACHE_SIZE) this.trees.delete(this.trees.keys().next().value as string);
    return tree;
  }

  /**
   * Adds a job unless one with `jobId` is pending or running. A finished one (completed, failed) is
   * replaced: the withdrawals it handled were tracked again.
   */
  private async enqueue(name: string, data: WithdrawalJob, jobId: string, delay: number): Promise<void> {
    const existing = await this.withdrawals.getJob(jobId);
    if (existing !== undefined) {
      const state = await existing.getState();
      if (state !== "completed" && state !== "failed" && state !== "unknown") return;
      await existing.remove();
    }
    await this.withdrawals.add(name, data, { jobId, delay: Math.max(0, Math.round(delay)) });
  }

  /** Removes the rollup's pending relay jobs (a running one finds its withdrawals no longer waiting). */
  private async removePendingJobs(rollupHash: string, sequences: readonly string[]): Promise<void> {
    const ids = [relayRollupJobId(rollupHash), ...sequences.map((s) => relayWithdrawalJobId(s))];
    for (const id of ids) {
      const job = await this.withdrawals.getJob(id);
      if (job === undefined || job.data.rollupHash.toLowerCase() !== rollupHash.toLowerCase()) continue;
      if (!PENDING_JOB_STATES.includes(await job.getState())) continue;
      try {
        await job.remove();
      } catch (err) {
        this.log.warn({ err, jobId: id }, "could not remove a pending relay job (it started meanwhile)");
      }
    }
  }
}

/** The target's revert data of a MessageRelayFailed, decoded with the Veilnet interfaces / Error(string). */
export function decodeTargetReason(reason: string): string {
  return decodeRevert(reason === "0x" ? undefined : reason, veilnetErrorInterfaces()).reason;
}

function summary(letter: DeadLetter): Record<string, unknown> {
  return { jobId: letter.jobId, name: letter.name, failedReason: letter.failedReason, attempts: letter.attemptsMade };
}
