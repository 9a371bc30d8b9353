/**
 * `npx hardhat veil:withdrawal-status <sequence>`: what the withdrawal-processor recorded about a
 * withdrawal (its L2→L1 message sequence) in Redis, next to what L1 says: relayed? failed and
 * retryable? its message root registered, active, rejected, and when it activates.
 */
import type { Redis } from "ioredis";
import type { Provider } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import type { CrossChainMessenger, MessageBus } from "../types/ethers-contracts/index.js";
import { CrossChainMessenger__factory, MessageBus__factory } from "../types/ethers-contracts/index.js";
import { RedisUnavailableError, connectRedis, redactUrl } from "../platform/redis.js";
import { type WithdrawalStatus, getWithdrawalStatus } from "../workers/withdrawal-processor/status.js";

import { VeilnetTaskError, chainIdOf, connect, loadDeployment, table } from "./lib.js";

export interface WithdrawalStatusTaskArguments {
  id?: string;
  redisUrl?: string;
  queuePrefix?: string;
  deploymentsDir?: string;
}

export interface RootOnChain {
  /** Registered by the RollupRegistry (zero activation time = unknown root). */
  registered: boolean;
  activatesAt: number;
  rejected: boolean;
  /** Active at the latest block: messages under it may be relayed. */
  active: boolean;
}

export interface WithdrawalStatusReport {
  id: string;
  chainId: number;
  queuePrefix: string;
  redisUrl: string;
  /** What the withdrawal-processor recorded; undefined when it does not know the id. */
  stored?: WithdrawalStatus;
  onChain: {
    relayed: boolean;
    /** Relayed but the target call failed: `retryMessage` may run it again (unknown without the leaf). */
    failedRetryable?: boolean;
    /** The root's registration (unknown without the stored status). */
    root?: RootOnChain;
    latestTimestamp: number;
  };
}

/** Reads the stored status of withdrawal `id` and the matching L1 state. */
export async function withdrawalStatusReport(args: {
  id: bigint;
  chainId: number;
  queuePrefix: string;
  redisUrl: string;
  redis: Redis;
  provider: Provider;
  messenger: CrossChainMessenger;
  messageBus: MessageBus;
}): Promise<WithdrawalStatusReport> {
  const stored = await getWithdrawalStatus(args.redis, args.queuePrefix, args.chainId, args.id);
  const block = await args.provider.getBlock("latest");
  const latestTimestamp = block?.timestamp ?? 0;
  const relayed = await args.messenger.isRelayed(args.id);
  const report: WithdrawalStatusReport = {
    id: args.id.toString(),
    chainId: args.chainId,
    queuePrefix: args.queuePrefix,
    redisUrl: redactUrl(args.redisUrl),
    onChain: { relayed, latestTimestamp },
  };
  if (stored === undefined) return report;
  report.stored = stored;
  if (stored.leaf !== "")
    report.onChain.failedRetryable = relayed && (await args.messenger.failedMessages(stored.leaf));
  if (stored.root !== "") {
    const r = await args.messageBus.messageRoot(stored.root);
    const activatesAt = Number(r.activatesAt);
    report.onChain.root = {
      registered: activatesAt !== 0,
      activatesAt,
      rejected: r.rejected,
      active: activatesAt !== 0 && !r.rejected && latestTimestamp >= activatesAt,
    };
  }
  return report;
}

const time = (unix: number): string => (unix === 0 ? "-" : `${new Date(unix * 1000).toISOString()} (unix ${unix})`);
const yesNo = (b: boolean): string => (b ? "yes" : "no");

function describeRoot(root: RootOnChain, now: number): string {
  if (!root.registered) return "NOT registered on L1 (unknown root: reorged away?)";
  if (root.rejected) return "REJECTED by the guardian: the withdrawal can never be relayed";
  if (root.active) return `active since ${time(root.activatesAt)}`;
  return `not active yet: activates at ${time(root.activatesAt)}, in ${root.activatesAt - now} s of L1 time`;
}

export function formatWithdrawalStatus(r: WithdrawalStatusReport): string {
  const out: string[] = [];
  if (r.stored === undefined) {
    out.push(
      `Withdrawal ${r.id} is unknown: the withdrawal-processor has no status for it ` +
        `(chain ${r.chainId}, queue prefix "${r.queuePrefix}", Redis ${r.redisUrl}).`,
    );
    out.push(
      "Check the id (the L2→L1 message sequence) and the queue prefix; a withdrawal is tracked once the rollup carrying it is accepted on L1.",
    );
    out.push("");
    out.push("On L1:");
    out.push(
      table([
        ["relayed", r.onChain.relayed ? "yes (relayed without this processor tracking it)" : "no"],
        ["latest block time", time(r.onChain.latestTimestamp)],
      ]),
    );
    return out.join("\n");
  }
  const s = r.stored;
  out.push(`Withdrawal ${r.id} on chain ${r.chainId} (queue prefix "${r.queuePrefix}")`);
  out.push("");
  out.push("Withdrawal-processor status:");
  out.push(
    table([
      ["status", s.status],
      ["rollup", s.rollupHash],
      ["message root", s.root],
      ["leaf", s.leaf],
      ["target", s.target || "-"],
      ["activates at", time(s.activatesAt)],
      ["attempts", String(s.attempts)],
      ["tx", s.txHash ?? "-"],
      ["error", s.error ?? "-"],
      ["job", s.job ?? "-"],
      ["updated", s.updatedAt === 0 ? "-" : new Date(s.updatedAt).toISOString()],
    ]),
  );
  out.push("");
  out.push("On L1:");
  const rows: string[][] = [["relayed", yesNo(r.onChain.relayed)]];
  if (r.onChain.failedRetryable !== undefined) {
    rows.push([
      "failed, retryable",
      r.onChain.failedRetryable ? "YES: the target call failed; retryMessage can run it again" : "no",
    ]);
  }
  if (r.onChain.root !== undefined)
    rows.push(["message root", describeRoot(r.onChain.root, r.onChain.latestTimestamp)]);
  rows.push(["latest block time", time(r.onChain.latestTimestamp)]);
  out.push(table(rows));
  return out.join("\n");
}

export default async function withdrawalStatusTask(
  args: WithdrawalStatusTaskArguments,
  hre: HardhatRuntimeEnvironment,
): Promise<WithdrawalStatusReport> {
  if (args.id === undefined || !/^\d+$/.test(args.id.trim())) {
    throw new VeilnetTaskError(
      `the id must be the withdrawal's L2→L1 message sequence (a non-negative integer)${args.id === undefined ? "" : `, got "${args.id}"`}`,
    );
  }
  const id = BigInt(args.id.trim());
  const redisUrl = args.redisUrl ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const queuePrefix = args.queuePrefix ?? process.env.QUEUE_PREFIX ?? "veilnet";
  const connection = await connect(hre);
  const deployment = await loadDeployment(connection, args.deploymentsDir);
  const provider = connection.ethers.provider;
  let redis: Redis;
  try {
    redis = await connectRedis(redisUrl);
  } catch (e) {
    if (e instanceof RedisUnavailableError) throw new VeilnetTaskError(e.message);
    throw e;
  }
  try {
    const report = await withdrawalStatusReport({
      id,
      chainId: await chainIdOf(connection),
      queuePrefix,
      redisUrl,
      redis,
      provider,
      messenger: CrossChainMessenger__factory.connect(deployment.addresses.CrossChainMessenger, provider),
      messageBus: MessageBus__factory.connect(deployment.addresses.MessageBus, provider),
    });
    console.log(formatWithdrawalStatus(report));
    return report;
  } finally {
    redis.disconnect();
  }
}
