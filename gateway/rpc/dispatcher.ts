/**
 * Answers a user's JSON-RPC requests (HTTP or WebSocket). Every call goes to the enclave through
 * veil_private under the user's bindings, except the few the gateway answers itself:
 *
 * - `eth_chainId`, `net_version` (constants of the L2), `eth_accounts` (`[]`: the gateway holds no keys);
 * - `eth_subscribe` / `eth_unsubscribe` (WebSocket only: subscriptions are the gateway's);
 * - the polling filters `eth_newFilter`, `eth_newBlockFilter`, `eth_getFilterChanges`, `eth_getFilterLogs`,
 *   `eth_uninstallFilter` (the enclave keeps no per-user state);
 * - `eth_newPendingTransactionFilter`, refused (pending transactions are private).
 *
 * A batch is answered in one reply; its reads run concurrently, but a transaction is sent only after the
 * requests before it, and the requests after it wait for it (a wallet's nonces stay in order).
 */
import { performance } from "node:perf_hooks";

import { toQuantity } from "ethers";

import { L2_CHAIN_ID } from "../../protocol/predeploys.js";
import type { Logger } from "../../platform/logger.js";
import type { EnclaveClient } from "../enclave/client.js";
import type { GatewayMetrics, RequestOutcome } from "../metrics.js";
import type { FilterRegistry } from "../subscriptions/filters.js";
import type { SubscriptionSet } from "../subscriptions/subscriptions.js";
import type { User } from "../users/user.js";
import { forward, isUnavailable } from "./forward.js";
import {
  GatewayErrorCodes,
  type JsonRpcRequest,
  type JsonRpcResponse,
  RpcError,
  errorResponse,
  isResponse,
  parseRequest,
  resultResponse,
} from "./jsonrpc.js";

/** Most requests in one batch. */
export const MAX_BATCH = 1000;

/** Who is asking: the user of the token (undefined: none or unknown), and their subscriptions (WebSocket). */
export interface Caller {
  user: User | undefined;
  /** The token as given in the URL (to tell "no token" from "unknown token"). */
  token: string | null;
  subscriptions?: SubscriptionSet;
}

export interface DispatcherDeps {
  enclave: EnclaveClient;
  filters: FilterRegistry;
  metrics: GatewayMetrics;
  logger: Logger;
}

export function noUserError(token: string | null): RpcError {
  return new RpcError(
    GatewayErrorCodes.noUser,
    token === null || token === ""
      ? "no token in the URL: GET /v1/join on this gateway for one, then use /v1/?token=<token> as the RPC URL"
      : "unknown token (revoked, or never joined): GET /v1/join on this gateway for a new one",
  );
}

export class RpcDispatcher {
  constructor(private readonly deps: DispatcherDeps) {}

  /** Answers a parsed JSON body: one request or a batch. Undefined when nothing is to be answered. */
  async answer(body: unknown, caller: Caller): Promise<JsonRpcResponse | JsonRpcResponse[] | undefined> {
    if (!Array.isArray(body)) {
      const response = await this.one(body, caller);
      return response ?? undefined;
    }
    if (body.length === 0) {
      return errorResponse(null, new RpcError(GatewayErrorCodes.invalidRequest, "invalid request: empty batch"));
    }
    if (body.length > MAX_BATCH) {
      return errorResponse(null, new RpcError(GatewayErrorCodes.limit, `at most ${MAX_BATCH} requests per batch`));
    }
    const answers: (JsonRpcResponse | undefined)[] = new Array(body.length);
    let reads: Promise<void>[] = [];
    for (const [i, item] of body.entries()) {
      const isSend = (item as { method?: unknown } | null)?.method === "eth_sendRawTransaction";
      if (isSend) {
        await Promise.all(reads);
        reads = [];
        answers[i] = await this.one(item, caller);
      } else {
        reads.push(this.one(item, caller).then((a) => void (answers[i] = a)));
      }
    }
    await Promise.all(reads);
    const out = answers.filter((a): a is JsonRpcResponse => a !== undefined);
    return out.length === 0 ? undefined : out;
  }

  /** Answers one request object (undefined for a notification). */
  async one(value: unknown, caller: Caller): Promise<JsonRpcResponse | undefined> {
    const parsed = parseRequest(value);
    if (isResponse(parsed)) {
      this.deps.metrics.observe("invalid", "rejected", 0);
      return parsed;
    }
    const started = performance.now();
    let outcome: RequestOutcome = "ok";
    let response: JsonRpcResponse;
    try {
      response = resultResponse(parsed.id, await this.#call(parsed, caller));
    } catch (e) {
      const error =
        e instanceof RpcError ? e : new RpcError(GatewayErrorCodes.internal, `gateway error: ${(e as Error).message}`);
      if (!(e instanceof RpcError)) this.deps.logger.error({ err: e, method: parsed.method }, "request failed");
      outcome =
        error.code === GatewayErrorCodes.noUser ||
        error.code === GatewayErrorCodes.limit ||
        error.code === GatewayErrorCodes.invalidRequest
          ? "rejected"
          : isUnavailable(error)
            ? "unavailable"
            : "error";
      response = errorResponse(parsed.id, error);
    }
    this.deps.metrics.observe(parsed.method, outcome, (performance.now() - started) / 1000);
    return parsed.notification ? undefined : response;
  }

  async #call(request: JsonRpcRequest, caller: Caller): Promise<unknown> {
    const { user } = caller;
    if (user === undefined) throw noUserError(caller.token);
    const { method, params } = request;
    const { enclave, filters } = this.deps;
    switch (method) {
      case "eth_chainId":
        return toQuantity(L2_CHAIN_ID);
      case "net_version":
        return L2_CHAIN_ID.toString();
      case "eth_accounts":
        return [];
      case "eth_subscribe":
        return this.#subscriptions(caller).subscribe(params);
      case "eth_unsubscribe":
        return this.#subscriptions(caller).unsubscribe(params[0]);
      case "eth_newFilter":
        return filters.newLogFilter(user, params);
      case "eth_newBlockFilter":
        return filters.newBlockFilter(user);
      case "eth_getFilterChanges":
        return filters.changes(user, params[0]);
      case "eth_getFilterLogs":
        return filters.logs(user, params[0]);
      case "eth_uninstallFilter":
        return filters.uninstall(user, params[0]);
      case "eth_newPendingTransactionFilter":
        throw new RpcError(
          GatewayErrorCodes.methodNotFound,
          "eth_newPendingTransactionFilter is not served: pending transactions are private on Veilnet",
        );
      default:
        return forward(enclave, user, method, params);
    }
  }

  #subscriptions(caller: Caller): SubscriptionSet {
    if (caller.subscriptions === undefined) {
      throw new RpcError(
        GatewayErrorCodes.methodNotFound,
        "subscriptions need a WebSocket: connect to ws://<gateway>/v1/?token=<token> (or use eth_newFilter over HTTP)",
      );
    }
    return caller.subscriptions;
  }
}
