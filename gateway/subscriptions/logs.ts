/**
 * A user's log filter followed block range by block range: each new range is asked with the user's own
 * `eth_getLogs` through veil_private (so the enclave applies every visibility rule), and the cursor moves
 * past a range only once its logs were handed over. A failed round (enclave down) leaves the cursor
 * where it was, and the next round asks the same blocks again: no log is missed, none is given twice.
 */
import { isAddress, isHexString, toQuantity } from "ethers";

import { GatewayErrorCodes, RpcError } from "../rpc/jsonrpc.js";

/** The address/topics part of a log filter (the block range is the cursor's). */
export interface LogCriteria {
  address?: string | string[];
  topics?: (string | string[] | null)[];
}

/** A log as the enclave answers it (only the fields the cursor reads are typed). */
export interface RpcLog {
  blockNumber: string;
  logIndex: string;
  [field: string]: unknown;
}

/** Most blocks asked in one eth_getLogs. */
export const MAX_LOG_RANGE = 1000;

function invalid(message: string): RpcError {
  return new RpcError(GatewayErrorCodes.invalidParams, `invalid params: ${message}`);
}

/** The address/topics of a filter object, checked for shape (the enclave checks the rest). */
export function parseLogCriteria(value: unknown): LogCriteria {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw invalid("the filter must be an object");
  const f = value as Record<string, unknown>;
  const criteria: LogCriteria = {};
  if (f.address !== undefined && f.address !== null) {
    const list = Array.isArray(f.address) ? f.address : [f.address];
    if (!list.every((a) => typeof a === "string" && isAddress(a)))
      throw invalid("address must be an address or a list of addresses");
    criteria.address = f.address as string | string[];
  }
  if (f.topics !== undefined && f.topics !== null) {
    const topic = (t: unknown) => typeof t === "string" && isHexString(t, 32);
    if (
      !Array.isArray(f.topics) ||
      f.topics.length > 4 ||
      !f.topics.every((t) => t === null || topic(t) || (Array.isArray(t) && t.every((x) => x === null || topic(x))))
    ) {
      throw invalid("topics must be a list of up to 4 entries, each null, a 32-byte topic or a list of them");
    }
    criteria.topics = f.topics as (string | string[] | null)[];
  }
  return criteria;
}

/** Fetches the logs of blocks `from`..`to` (inclusive) matching the cursor's criteria. */
export type LogFetcher = (criteria: LogCriteria & { fromBlock: string; toBlock: string }) => Promise<unknown>;

export class LogCursor {
  /** The first block not yet handed over. */
  next: number;
  #running: Promise<void> = Promise.resolve();

  constructor(
    readonly criteria: LogCriteria,
    private readonly fetch: LogFetcher,
    next: number,
    /** The last block of the filter (`toBlock`), if bounded. */
    readonly until?: number,
  ) {
    this.next = next;
  }

  /**
   * Hands over (`deliver`, in block and log order) the logs of the blocks from the cursor up to `head`
   * (and `until`), range by range; concurrent calls run one after the other. Rejects with the error of
   * the first range that failed (the cursor stays at that range).
   */
  advance(head: number, deliver: (logs: RpcLog[]) => void): Promise<void> {
    const run = this.#running.then(() => this.#advance(head, deliver));
    this.#running = run.catch(() => {});
    return run;
  }

  async #advance(head: number, deliver: (logs: RpcLog[]) => void): Promise<void> {
    const last = this.until === undefined ? head : Math.min(head, this.until);
    while (this.next <= last) {
      const from = this.next;
      const to = Math.min(last, from + MAX_LOG_RANGE - 1);
      const answer = await this.fetch({ ...this.criteria, fromBlock: toQuantity(from), toBlock: toQuantity(to) });
      if (!Array.isArray(answer))
        throw new RpcError(GatewayErrorCodes.internal, "eth_getLogs: the enclave's answer is not a list");
      const logs = (answer as RpcLog[])
        .filter((l) => {
          const n = Number(l?.blockNumber);
          return Number.isInteger(n) && n >= from && n <= to;
        })
        .sort((a, b) => Number(a.blockNumber) - Number(b.blockNumber) || Number(a.logIndex) - Number(b.logIndex));
      this.next = to + 1;
      if (logs.length > 0) deliver(logs);
    }
  }

  /** Whether the cursor is past its last block (a bounded filter that is done). */
  get finished(): boolean {
    return this.until !== undefined && this.next > this.until;
  }
}
