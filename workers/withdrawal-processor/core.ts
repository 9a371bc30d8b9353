/**
 * What the withdrawal-processor's two halves share (tracking.ts, relaying.ts): the jobs and their ids,
 * the settings, the statuses, the `withdrawals` queue, the rollups' message trees (from the L2 nodes,
 * checked against their root) and the L1 state of a root.
 */
import { AbiCoder, keccak256, type Provider } from "ethers";
import { DelayedError, type Job, type Queue, UnrecoverableError } from "bullmq";
import type { Redis } from "ioredis";
import type { Registry } from "prom-client";

import { type CrossChainMessage, MESSAGE_LEAF_ENCODING, MessageTree } from "../../protocol/messages.js";
import type { VeilnetContracts } from "../../platform/chain.js";
import type { Logger } from "../../platform/logger.js";
import { QueueNames, type QueueSettings, createQueue } from "../../platform/queues.js";
import { type TxIntent, type TxOutcome, TxRevertedError } from "../../platform/tx-sender/types.js";
import { type WithdrawalMetrics, withdrawalMetrics } from "./metrics.js";
import type { WithdrawalSource } from "./source.js";
import { type WithdrawalState, type WithdrawalStatus, WithdrawalStore } from "./status.js";

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

export type RootState =
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
export function rollupTag(rollupHash: string): string {
  return rollupHash.toLowerCase().slice(0, 2 + 24);
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return (e as { shortMessage?: string }).shortMessage ?? e.message;
  return String(e);
}

export function isTxReverted(e: unknown): e is TxRevertedError {
  return e instanceof TxRevertedError || (e instanceof Error && e.name === "TxRevertedError");
}

/** The state both halves work on: statuses, queue, trees, L1 reads. */
export class ProcessorCore {
  readonly store: WithdrawalStore;
  readonly metrics: WithdrawalMetrics;
  readonly settings: WithdrawalProcessorSettings;
  readonly withdrawals: Queue<WithdrawalJob>;
  readonly log: Logger;
  private readonly trees = new Map<string, MessageTree>();

  constructor(readonly deps: WithdrawalProcessorDeps) {
    this.settings = { ...DEFAULT_WITHDRAWAL_SETTINGS, ...deps.settings };
    this.store = new WithdrawalStore(deps.redis, deps.queues.prefix, deps.chainId);
    this.metrics = withdrawalMetrics(deps.metrics, () => this.store.waitingCount());
    this.withdrawals = createQueue<WithdrawalJob>(QueueNames.withdrawals, deps.queues);
    this.log = deps.logger;
  }

  async changed(sequence: bigint | string): Promise<void> {
    if (this.deps.onStatus === undefined) return;
    const status = await this.store.get(sequence.toString());
    if (status !== undefined) this.deps.onStatus(status);
  }

  /** The withdrawals among `sequences` that belong to `rollupHash`, are handled by `jobId` and are in `states`. */
  async owned(
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

  isLastAttempt(job: Job, e: unknown): boolean {
    return e instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  }

  /** Whether `root` is registered for `rollupHash`, rejected, and active at the latest block. */
  async rootState(root: string, rollupHash: string): Promise<RootState> {
    const r = await this.deps.contracts.messageBus.messageRoot(root);
    if (r.activatesAt === 0n || r.rollupTag.toLowerCase() !== rollupTag(rollupHash)) return { kind: "unregistered" };
    const activatesAt = Number(r.activatesAt);
    if (r.rejected) return { kind: "rejected", activatesAt };
    const block = await this.deps.provider.getBlock("latest");
    if (block === null) throw new Error("the L1 returned no latest block");
    return { kind: block.timestamp >= activatesAt ? "active" : "pending", activatesAt, now: block.timestamp };
  }

  /** The root's activation time and the L1 time to wait from (at least one second before activation). */
  async pendingState(root: string, rollupHash: string): Promise<{ activatesAt: number; now: number }> {
    const state = await this.rootState(root, rollupHash);
    if (state.kind !== "pending" && state.kind !== "active") {
      throw new Error(`message root ${root} of rollup ${rollupHash} is ${state.kind} on L1`);
    }
    return { activatesAt: state.activatesAt, now: Math.min(state.now, state.activatesAt - 1) };
  }

  async countAttempt(w: WithdrawalStatus): Promise<void> {
    await this.store.update(w.sequence, {}, { rollupHash: w.rollupHash, countAttempt: true });
  }

  /** How long to wait before checking again whether a root activating at `activatesAt` is active. */
  waitMs(activatesAt: number, now: number): number {
    return Math.max(0, Math.min(this.settings.activationPollMs, (activatesAt - now) * 1000));
  }

  /** Puts `job` back in the delayed set until the root may be active, without using an attempt. */
  async delayUntilActive(job: Job, root: string, state: { activatesAt: number; now: number }): Promise<never> {
    const wait = Math.max(50, this.waitMs(state.activatesAt, state.now));
    await job.moveToDelayed(Date.now() + wait, job.token);
    throw new DelayedError(`message root ${root} activates at ${state.activatesAt} (L1 time now ${state.now})`);
  }

  /** The message tree of `root`, checked against it. */
  async treeFor(root: string): Promise<MessageTree> {
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
  async enqueue(name: string, data: WithdrawalJob, jobId: string, delay: number): Promise<void> {
    const existing = await this.withdrawals.getJob(jobId);
    if (existing !== undefined) {
      const state = await existing.getState();
      if (state !== "completed" && state !== "failed" && state !== "unknown") return;
      await existing.remove();
    }
    await this.withdrawals.add(name, data, { jobId, delay: Math.max(0, Math.round(delay)) });
  }

  /** Removes the rollup's pending relay jobs (a running one finds its withdrawals no longer waiting). */
  async removePendingJobs(rollupHash: string, sequences: readonly string[]): Promise<void> {
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
