/**
 * Polling filters for HTTP clients (ethers' JsonRpcProvider uses them for `contract.on(…)`):
 * `eth_newFilter`, `eth_newBlockFilter`, `eth_getFilterChanges`, `eth_getFilterLogs`,
 * `eth_uninstallFilter`. They are the gateway's (the enclave keeps no per-user state): a log filter is a
 * LogCursor over the user's own `eth_getLogs` through veil_private; a block filter walks the public
 * blocks. Filters belong to the user that made them and expire after 5 minutes without a poll, as in geth.
 */
import { randomBytes } from "node:crypto";

import { isHexString } from "ethers";

import type { EnclaveClient } from "../enclave/client.js";
import type { GatewayMetrics } from "../metrics.js";
import { callPublic, forward } from "../rpc/forward.js";
import { GatewayErrorCodes, RpcError } from "../rpc/jsonrpc.js";
import type { User } from "../users/user.js";
import { publicBlock } from "./block-poller.js";
import { LogCursor, type RpcLog, parseLogCriteria } from "./logs.js";

/** A filter not polled for this long is removed (geth's default). */
export const FILTER_IDLE_MS = 5 * 60_000;
/** Most block hashes one eth_getFilterChanges of a block filter returns. */
const MAX_BLOCKS_PER_POLL = 256;

type Filter =
  | { kind: "logs"; cursor: LogCursor; request: Record<string, unknown>; lastPoll: number }
  | { kind: "blocks"; next: number; lastPoll: number; running: Promise<unknown> };

/** A block tag as a number, for the bounds of a filter ("latest", "pending", absent: undefined). */
function blockNumberOf(tag: unknown, name: string): number | undefined {
  if (
    tag === undefined ||
    tag === null ||
    tag === "latest" ||
    tag === "pending" ||
    tag === "safe" ||
    tag === "finalized"
  ) {
    return undefined;
  }
  if (tag === "earliest") return 0;
  if (typeof tag === "string" && isHexString(tag)) return Number(BigInt(tag));
  throw new RpcError(GatewayErrorCodes.invalidParams, `invalid params: ${name} must be a block number or tag`);
}

export class FilterRegistry {
  /** user token → filter id → filter */
  readonly #filters = new Map<string, Map<string, Filter>>();
  #count = 0;

  constructor(
    private readonly enclave: EnclaveClient,
    private readonly maxPerUser: number,
    private readonly metrics: GatewayMetrics,
    private readonly idleMs = FILTER_IDLE_MS,
  ) {}

  get size(): number {
    return this.#count;
  }

  async #head(): Promise<number> {
    return Number(await callPublic(this.enclave, "eth_blockNumber"));
  }

  #add(user: User, filter: Filter): string {
    let own = this.#filters.get(user.token);
    if (own === undefined) this.#filters.set(user.token, (own = new Map()));
    if (own.size >= this.maxPerUser) {
      throw new RpcError(GatewayErrorCodes.limit, `at most ${this.maxPerUser} filters per user: uninstall some`);
    }
    const id = `0x${randomBytes(16).toString("hex")}`;
    own.set(id, filter);
    this.#count += 1;
    this.metrics.filters.set(this.#count);
    return id;
  }

  #get(user: User, id: unknown): Filter {
    const filter = typeof id === "string" ? this.#filters.get(user.token)?.get(id.toLowerCase()) : undefined;
    if (filter === undefined) throw new RpcError(GatewayErrorCodes.invalidParams, "filter not found");
    filter.lastPoll = Date.now();
    return filter;
  }

  /** eth_newFilter(filter): changes are the logs of the blocks after the current head (within from/to). */
  async newLogFilter(user: User, params: unknown[]): Promise<string> {
    const request = (params[0] ?? {}) as Record<string, unknown>;
    if (typeof request !== "object" || Array.isArray(request)) {
      throw new RpcError(GatewayErrorCodes.invalidParams, "invalid params: the filter must be an object");
    }
    if (request.blockHash !== undefined) {
      throw new RpcError(GatewayErrorCodes.invalidParams, "invalid params: a filter cannot be made for one blockHash");
    }
    const criteria = parseLogCriteria(request);
    const from = blockNumberOf(request.fromBlock, "fromBlock");
    const until = blockNumberOf(request.toBlock, "toBlock");
    const head = await this.#head();
    const cursor = new LogCursor(
      criteria,
      (f) => forward(this.enclave, user, "eth_getLogs", [f]),
      Math.max(head + 1, from ?? 0),
      until,
    );
    return this.#add(user, { kind: "logs", cursor, request, lastPoll: Date.now() });
  }

  /** eth_newBlockFilter(): changes are the hashes of the blocks after the current head. */
  async newBlockFilter(user: User): Promise<string> {
    const head = await this.#head();
    return this.#add(user, { kind: "blocks", next: head + 1, lastPoll: Date.now(), running: Promise.resolve() });
  }

  /** eth_getFilterChanges(id): what is new since the previous call. */
  async changes(user: User, id: unknown): Promise<unknown[]> {
    const filter = this.#get(user, id);
    const head = await this.#head();
    if (filter.kind === "logs") {
      const out: RpcLog[] = [];
      await filter.cursor.advance(head, (logs) => out.push(...logs));
      return out;
    }
    const run = filter.running.then(async () => {
      const hashes: string[] = [];
      const to = Math.min(head, filter.next + MAX_BLOCKS_PER_POLL - 1);
      for (let n = filter.next; n <= to; n++) {
        hashes.push(String((await publicBlock(this.enclave, n)).hash));
        filter.next = n + 1;
      }
      return hashes;
    });
    filter.running = run.catch(() => {});
    return run;
  }

  /** eth_getFilterLogs(id): every log of the filter's range (the user's eth_getLogs). */
  async logs(user: User, id: unknown): Promise<unknown> {
    const filter = this.#get(user, id);
    if (filter.kind !== "logs")
      throw new RpcError(GatewayErrorCodes.invalidParams, "filter not found (not a log filter)");
    const { fromBlock, toBlock, address, topics } = filter.request;
    return forward(this.enclave, user, "eth_getLogs", [{ fromBlock, toBlock, address, topics }]);
  }

  /** eth_uninstallFilter(id): whether it existed. */
  uninstall(user: User, id: unknown): boolean {
    if (typeof id !== "string") return false;
    const own = this.#filters.get(user.token);
    if (own === undefined || !own.delete(id.toLowerCase())) return false;
    if (own.size === 0) this.#filters.delete(user.token);
    this.#count -= 1;
    this.metrics.filters.set(this.#count);
    return true;
  }

  /** Drops every filter of a revoked user. */
  dropUser(user: User): void {
    const own = this.#filters.get(user.token);
    if (own === undefined) return;
    this.#count -= own.size;
    this.#filters.delete(user.token);
    this.metrics.filters.set(this.#count);
  }

  /** Removes the filters not polled for `idleMs`. */
  sweep(now = Date.now()): void {
    for (const [token, own] of this.#filters) {
      for (const [id, filter] of own) {
        if (now - filter.lastPoll > this.idleMs) {
          own.delete(id);
          this.#count -= 1;
        }
      }
      if (own.size === 0) this.#filters.delete(token);
    }
    this.metrics.filters.set(this.#count);
  }
}
