/**
 * Withdrawal statuses in Redis: one hash per withdrawal (id = its L2 message sequence), a set of the
 * withdrawals of each rollup, and a set of those waiting for their root to activate (for the gauge).
 * Status changes are conditional (Lua, atomic): "set relayed unless the withdrawal moved to another
 * rollup meanwhile", so concurrent jobs and redeliveries cannot move a status backwards.
 *
 * Keys (under QUEUE_PREFIX, apart from BullMQ's `<prefix>:<queue>:*`):
 *   <prefix>:withdrawal-processor:<chainId>:withdrawal:<sequence>   hash
 *   <prefix>:withdrawal-processor:<chainId>:rollup:<rollupHash>     set of sequences
 *   <prefix>:withdrawal-processor:<chainId>:waiting                 set of sequences
 */
import type { Redis } from "ioredis";

export const WITHDRAWAL_STATES = ["waiting", "relayed", "failed", "dead", "rejected", "reorged"] as const;

/**
 * - waiting: tracked, its message root is not active yet (or its relay has not run yet);
 * - relayed: the target call succeeded on L1 (by this processor or by anyone else);
 * - failed: the last relay/retry failed (target call failed, or the transaction reverted); retried per policy;
 * - dead: attempts exhausted, the job is in the `withdrawals-dead` queue (re-drive it to try again);
 * - rejected: the rollup was rejected by the guardian, the message can never be relayed;
 * - reorged: the rollup was removed by an L1 reorg (its resubmission is tracked again).
 */
export type WithdrawalState = (typeof WITHDRAWAL_STATES)[number];

export interface WithdrawalStatus {
  chainId: number;
  /** The withdrawal's id: its L2→L1 message sequence (decimal). */
  sequence: string;
  rollupHash: string;
  /** Message root of the rollup. */
  root: string;
  /** Merkle leaf of the message (the CrossChainMessenger's key of failed messages). */
  leaf: string;
  /** L1 contract the message calls. */
  target: string;
  status: WithdrawalState;
  /** Unix time (s) from which the root may be used; 0 when unknown. */
  activatesAt: number;
  /** Relay and retry transactions the processor attempted. */
  attempts: number;
  /** The transaction that relayed it (or the last one tried), when known. */
  txHash?: string;
  /** Why the last attempt failed (decoded target error or revert), or why it was rejected. */
  error?: string;
  /** Unix time (ms) of the last change. */
  updatedAt: number;
  /** The job now responsible for it (`relay-rollup-<rollupHash>` or `relay-<sequence>`). */
  job?: string;
}

/** Fields a status change may set (`attempts` is usually counted with `countAttempt`). */
export type StatusFields = Partial<Omit<WithdrawalStatus, "chainId" | "sequence" | "updatedAt">>;

export interface StatusCondition {
  /** Apply only when the current status is one of these ("none": not tracked yet). Default: any. */
  from?: readonly (WithdrawalState | "none")[];
  /** Apply only when the withdrawal belongs to this rollup (or is not tracked yet). */
  rollupHash?: string;
  /** Increment `attempts`. */
  countAttempt?: boolean;
}

export interface StatusChange {
  applied: boolean;
  previous: WithdrawalState | "none";
}

const base = (prefix: string, chainId: number) => `${prefix}:withdrawal-processor:${chainId}`;

export function withdrawalKey(prefix: string, chainId: number, sequence: bigint | string | number): string {
  return `${base(prefix, chainId)}:withdrawal:${sequence.toString()}`;
}

export function rollupWithdrawalsKey(prefix: string, chainId: number, rollupHash: string): string {
  return `${base(prefix, chainId)}:rollup:${rollupHash.toLowerCase()}`;
}

export function waitingWithdrawalsKey(prefix: string, chainId: number): string {
  return `${base(prefix, chainId)}:waiting`;
}

// KEYS: hash, waiting set. ARGV: allowed statuses ("*" or a,b,c), expected rollupHash ("*"), sequence,
// count attempt ("1"/"0"), then field/value pairs. Returns {applied, previous status or "none"}.
const TRANSITION = `
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then cur = 'none' end
if ARGV[1] ~= '*' then
  local ok = false
  for s in string.gmatch(ARGV[1], '[^,]+') do
    if s == cur then ok = true end
  end
  if not ok then return {0, cur} end
end
if ARGV[2] ~= '*' and cur ~= 'none' then
  if redis.call('HGET', KEYS[1], 'rollupHash') ~= ARGV[2] then return {0, cur} end
end
if #ARGV > 4 then redis.call('HSET', KEYS[1], unpack(ARGV, 5)) end
if ARGV[4] == '1' then redis.call('HINCRBY', KEYS[1], 'attempts', 1) end
if redis.call('HGET', KEYS[1], 'status') == 'waiting' then
  redis.call('SADD', KEYS[2], ARGV[3])
else
  redis.call('SREM', KEYS[2], ARGV[3])
end
return {1, cur}
`;

/** Hashes are stored lowercase, so they compare as strings (in Lua too). */
const LOWERCASE_FIELDS = new Set(["rollupHash", "root", "leaf", "txHash"]);

function isState(s: string): s is WithdrawalState {
  return (WITHDRAWAL_STATES as readonly string[]).includes(s);
}

/** A status hash as stored, or undefined when the withdrawal is not tracked. */
export function parseStatus(chainId: number, h: Record<string, string>): WithdrawalStatus | undefined {
  if (h.sequence === undefined || h.status === undefined || !isState(h.status)) return undefined;
  const optional = (v: string | undefined) => (v === undefined || v === "" ? undefined : v);
  return {
    chainId,
    sequence: h.sequence,
    rollupHash: h.rollupHash ?? "",
    root: h.root ?? "",
    leaf: h.leaf ?? "",
    target: h.target ?? "",
    status: h.status,
    activatesAt: Number(h.activatesAt ?? 0),
    attempts: Number(h.attempts ?? 0),
    txHash: optional(h.txHash),
    error: optional(h.error),
    updatedAt: Number(h.updatedAt ?? 0),
    job: optional(h.job),
  };
}

/** The withdrawal statuses of one chain under one prefix. */
export class WithdrawalStore {
  constructor(
    readonly redis: Redis,
    readonly prefix: string,
    readonly chainId: number,
  ) {}

  key(sequence: bigint | string): string {
    return withdrawalKey(this.prefix, this.chainId, sequence);
  }

  async get(sequence: bigint | string): Promise<WithdrawalStatus | undefined> {
    return parseStatus(this.chainId, await this.redis.hgetall(this.key(sequence)));
  }

  /** Sets `fields` (and `updatedAt`) if `condition` holds; keeps the waiting set in step. */
  async update(
    sequence: bigint | string,
    fields: StatusFields,
    condition: StatusCondition = {},
  ): Promise<StatusChange> {
    const pairs: string[] = ["sequence", sequence.toString(), "updatedAt", String(Date.now())];
    for (const [k, v] of Object.entries(fields) as [string, string | number | undefined][]) {
      if (v === undefined) continue;
      pairs.push(k, LOWERCASE_FIELDS.has(k) ? String(v).toLowerCase() : String(v));
    }
    const result = (await this.redis.eval(
      TRANSITION,
      2,
      this.key(sequence),
      waitingWithdrawalsKey(this.prefix, this.chainId),
      condition.from === undefined ? "*" : condition.from.join(","),
      condition.rollupHash === undefined ? "*" : condition.rollupHash.toLowerCase(),
      sequence.toString(),
      condition.countAttempt === true ? "1" : "0",
      ...pairs,
    )) as [number, string];
    const previous = result[1];
    return { applied: result[0] === 1, previous: isState(previous) ? previous : "none" };
  }

  async addToRollup(rollupHash: string, sequences: readonly string[]): Promise<void> {
    if (sequences.length > 0)
      await this.redis.sadd(rollupWithdrawalsKey(this.prefix, this.chainId, rollupHash), ...sequences);
  }

  /** Sequences of the withdrawals tracked for `rollupHash`, ascending. */
  async rollupSequences(rollupHash: string): Promise<string[]> {
    const members = await this.redis.smembers(rollupWithdrawalsKey(this.prefix, this.chainId, rollupHash));
    return members.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
  }

  async waitingCount(): Promise<number> {
    return this.redis.scard(waitingWithdrawalsKey(this.prefix, this.chainId));
  }
}

/** The stored status of withdrawal `sequence` on chain `chainId`, or undefined when it is not tracked. */
export async function getWithdrawalStatus(
  redis: Redis,
  prefix: string,
  chainId: number,
  sequence: bigint | string | number,
): Promise<WithdrawalStatus | undefined> {
  return new WithdrawalStore(redis, prefix, chainId).get(sequence.toString());
}
