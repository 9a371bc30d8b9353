/**
 * One WebSocket connection of a user (`ws://<gateway>/v1/?token=…`): JSON-RPC requests and batches
 * answered by the dispatcher, `eth_subscription` notifications pushed by its SubscriptionSet. Dead peers
 * are found by ping/pong; a peer that does not read its notifications is disconnected.
 */
import type { WebSocket } from "ws";

import type { Logger } from "../../platform/logger.js";
import type { EnclaveClient } from "../enclave/client.js";
import type { GatewayMetrics } from "../metrics.js";
import type { Caller, RpcDispatcher } from "../rpc/dispatcher.js";
import { GatewayErrorCodes, RpcError, errorResponse, stringify } from "../rpc/jsonrpc.js";
import type { BlockPoller } from "../subscriptions/block-poller.js";
import { SubscriptionSet } from "../subscriptions/subscriptions.js";
import type { User } from "../users/user.js";

/** A peer with this much unsent data is too slow: it is disconnected. */
const MAX_BUFFERED = 16 * 1024 * 1024;

function sendsTransaction(body: unknown): boolean {
  const items = Array.isArray(body) ? body : [body];
  return items.some((r) => (r as { method?: unknown } | null)?.method === "eth_sendRawTransaction");
}

export interface SessionDeps {
  dispatcher: RpcDispatcher;
  enclave: EnclaveClient;
  poller: BlockPoller;
  metrics: GatewayMetrics;
  logger: Logger;
  maxSubscriptions: number;
}

export class WebSocketSession {
  readonly user: User | undefined;
  readonly #socket: WebSocket;
  readonly #caller: Caller;
  readonly #subscriptions: SubscriptionSet | undefined;
  #alive = true;
  #sends: Promise<unknown> = Promise.resolve();

  constructor(socket: WebSocket, user: User | undefined, token: string | null, deps: SessionDeps) {
    this.#socket = socket;
    this.user = user;
    this.#subscriptions =
      user === undefined
        ? undefined
        : new SubscriptionSet({
            user,
            enclave: deps.enclave,
            poller: deps.poller,
            notify: (subscription, result) =>
              this.#send({ jsonrpc: "2.0", method: "eth_subscription", params: { subscription, result } }),
            max: deps.maxSubscriptions,
            metrics: deps.metrics,
            logger: deps.logger,
          });
    this.#caller = { user, token, subscriptions: this.#subscriptions };
    deps.metrics.connections.inc();
    socket.on("pong", () => (this.#alive = true));
    socket.on("message", (data, isBinary) => {
      if (isBinary) {
        this.#send(errorResponse(null, new RpcError(GatewayErrorCodes.parse, "parse error: send JSON as text frames")));
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(data.toString());
      } catch {
        this.#send(errorResponse(null, new RpcError(GatewayErrorCodes.parse, "parse error: the message is not JSON")));
        return;
      }
      // Transactions reach the enclave in the order they came (a wallet's nonces); reads do not wait.
      const answering = sendsTransaction(body)
        ? (this.#sends = this.#sends.then(() => deps.dispatcher.answer(body, this.#caller)))
        : deps.dispatcher.answer(body, this.#caller);
      this.#sends = this.#sends.catch(() => {});
      answering
        .then((answer) => {
          if (answer !== undefined) this.#send(answer);
        })
        .catch((e: unknown) => deps.logger.error({ err: e }, "websocket: request failed"));
    });
    socket.once("close", () => {
      this.#subscriptions?.close();
      deps.metrics.connections.dec();
    });
    socket.on("error", (e) => deps.logger.debug({ err: e }, "websocket: connection error"));
  }

  #send(message: unknown): void {
    if (this.#socket.readyState !== this.#socket.OPEN) return;
    if (this.#socket.bufferedAmount > MAX_BUFFERED) {
      this.#socket.close(1013, "too slow: notifications are not being read");
      return;
    }
    this.#socket.send(stringify(message));
  }

  /** Keepalive: terminates a peer that did not answer the previous ping. */
  ping(): void {
    if (!this.#alive) {
      this.#socket.terminate();
      return;
    }
    this.#alive = false;
    this.#socket.ping();
  }

  close(code: number, reason: string): void {
    this.#socket.close(code, reason);
  }
}
