/**
 * The `eth_subscribe` subscriptions of one WebSocket connection:
 *
 * - `newHeads`: each new block's header (public, as the enclave shows it to anyone), in order;
 * - `logs` with an optional address/topics filter: for each poll round, the subscriber's own `eth_getLogs`
 *   of the new block range through veil_private (under their bindings, so they see only what they may),
 *   pushed as notifications in block and log order, none twice, none missed across rounds (a round that
 *   fails is asked again in the next one).
 */
import { randomBytes } from "node:crypto";

import type { Logger } from "../../platform/logger.js";
import type { EnclaveClient } from "../enclave/client.js";
import type { GatewayMetrics } from "../metrics.js";
import { forward } from "../rpc/forward.js";
import { GatewayErrorCodes, RpcError } from "../rpc/jsonrpc.js";
import type { User } from "../users/user.js";
import type { BlockPoller, BlockRound } from "./block-poller.js";
import { LogCursor, parseLogCriteria } from "./logs.js";

export type SubscriptionKind = "newHeads" | "logs";

/** Sends an `eth_subscription` notification to the connection. */
export type Notify = (subscription: string, result: unknown) => void;

interface Subscription {
  kind: SubscriptionKind;
  stop(): void;
}

export interface SubscriptionDeps {
  user: User;
  enclave: EnclaveClient;
  poller: BlockPoller;
  notify: Notify;
  /** Most subscriptions of the connection. */
  max: number;
  metrics: GatewayMetrics;
  logger: Logger;
}

export class SubscriptionSet {
  readonly #deps: SubscriptionDeps;
  readonly #subscriptions = new Map<string, Subscription>();
  #closed = false;

  constructor(deps: SubscriptionDeps) {
    this.#deps = deps;
  }

  get size(): number {
    return this.#subscriptions.size;
  }

  /** `eth_subscribe(kind, filter?)`: the subscription id. */
  async subscribe(params: unknown[]): Promise<string> {
    const [kind, filter] = params;
    if (this.#subscriptions.size >= this.#deps.max) {
      throw new RpcError(GatewayErrorCodes.limit, `at most ${this.#deps.max} subscriptions per connection`);
    }
    if (kind === "newHeads") return this.#add("newHeads", (id) => this.#newHeads(id));
    if (kind === "logs") {
      const criteria = parseLogCriteria(filter);
      const head = await this.#deps.poller.currentHead().catch((e: unknown) => {
        throw e instanceof RpcError ? e : new RpcError(GatewayErrorCodes.enclaveUnavailable, (e as Error).message);
      });
      return this.#add("logs", (id) => this.#logs(id, new LogCursor(criteria, (f) => this.#getLogs(f), head + 1)));
    }
    if (kind === "newPendingTransactions") {
      throw new RpcError(
        GatewayErrorCodes.invalidParams,
        "newPendingTransactions is not served: pending transactions are private on Veilnet",
      );
    }
    throw new RpcError(
      GatewayErrorCodes.invalidParams,
      `unknown subscription ${JSON.stringify(kind)}: the gateway serves newHeads and logs`,
    );
  }

  /** `eth_unsubscribe(id)`: whether it existed. */
  unsubscribe(id: unknown): boolean {
    if (typeof id !== "string") return false;
    const s = this.#subscriptions.get(id);
    if (s === undefined) return false;
    this.#subscriptions.delete(id);
    s.stop();
    this.#deps.metrics.subscriptions.dec({ kind: s.kind });
    return true;
  }

  /** Ends every subscription (the connection closed). */
  close(): void {
    this.#closed = true;
    for (const id of [...this.#subscriptions.keys()]) this.unsubscribe(id);
  }

  #add(kind: SubscriptionKind, start: (id: string) => () => void): string {
    if (this.#closed) throw new RpcError(GatewayErrorCodes.internal, "the connection is closing");
    const id = `0x${randomBytes(16).toString("hex")}`;
    this.#subscriptions.set(id, { kind, stop: start(id) });
    this.#deps.metrics.subscriptions.inc({ kind });
    return id;
  }

  #notify(id: string, kind: SubscriptionKind, result: unknown): void {
    if (!this.#subscriptions.has(id)) return;
    this.#deps.notify(id, result);
    this.#deps.metrics.notifications.inc({ kind });
  }

  #newHeads(id: string): () => void {
    return this.#deps.poller.listen(
      (round) => {
        for (const header of round.headers) this.#notify(id, "newHeads", header);
      },
      { headers: true },
    );
  }

  #logs(id: string, cursor: LogCursor): () => void {
    let warned = false;
    const onRound = (round: BlockRound) => {
      if (cursor.next > round.head) return;
      cursor
        .advance(round.head, (logs) => {
          for (const log of logs) this.#notify(id, "logs", log);
        })
        .then(() => (warned = false))
        .catch((e: unknown) => {
          // Asked again next round, from the same block.
          if (!warned) {
            this.#deps.logger.warn({ err: e, subscription: id }, "logs subscription: the round failed; retrying");
          }
          warned = true;
        });
    };
    return this.#deps.poller.listen(onRound, { headers: false });
  }

  #getLogs(filter: object): Promise<unknown> {
    return forward(this.#deps.enclave, this.#deps.user, "eth_getLogs", [filter]);
  }
}
