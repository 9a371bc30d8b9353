/**
 * The gateway's one port: the web page (`/`), the user API (`/v1/join`, `/v1/typed-data`,
 * `/v1/authenticate`, `/v1/query`, `/v1/accounts`, `/v1/revoke`), JSON-RPC over HTTP (`POST /v1/?token=…`,
 * single requests and batches) and over WebSocket (`/v1/?token=…`), and `/healthz`.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";

import { WebSocketServer } from "ws";

import type { HealthReport } from "../../platform/http.js";
import type { Logger } from "../../platform/logger.js";
import type { RpcDispatcher } from "../rpc/dispatcher.js";
import { GatewayErrorCodes, RpcError, errorResponse, stringify } from "../rpc/jsonrpc.js";
import type { UserStore } from "../users/store.js";
import type { User } from "../users/user.js";
import type { ApiAnswer, UserApi } from "./api.js";
import { SECURITY_HEADERS, type StaticFile, loadWebFiles } from "./static.js";
import { type SessionDeps, WebSocketSession } from "./websocket.js";

/** Largest JSON-RPC body (HTTP request or WebSocket message): a contract deployment fits easily. */
const MAX_RPC_BODY = 5 * 1024 * 1024;
/** Largest body of the user API. */
const MAX_API_BODY = 64 * 1024;
const KEEPALIVE_MS = 30_000;

const CORS: Readonly<Record<string, string>> = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-allow-headers": "content-type",
  "access-control-max-age": "600",
};

class BodyTooLargeError extends Error {}

async function readBody(req: IncomingMessage, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new BodyTooLargeError(`the body is larger than ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export interface GatewayServerDeps {
  api: UserApi;
  dispatcher: RpcDispatcher;
  store: UserStore;
  session: SessionDeps;
  health: () => Promise<HealthReport>;
  logger: Logger;
}

export class GatewayServer {
  readonly #deps: GatewayServerDeps;
  readonly #web: Map<string, StaticFile>;
  readonly #sessions = new Map<string, Set<WebSocketSession>>();
  readonly #anonymous = new Set<WebSocketSession>();
  #server: Server | undefined;
  #wss: WebSocketServer | undefined;
  #keepalive: NodeJS.Timeout | undefined;

  constructor(deps: GatewayServerDeps) {
    this.#deps = deps;
    this.#web = loadWebFiles();
  }

  /** Listens on `host:port`; resolves with the port bound. */
  async listen(port: number, host: string): Promise<number> {
    const server = createServer((req, res) => {
      this.#serve(req, res).catch((err: unknown) => {
        this.#deps.logger.error({ err, url: req.url?.split("?")[0] }, "http: request failed");
        if (!res.headersSent) this.#json(res, 500, { error: "internal error" });
        else res.end();
      });
    });
    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_RPC_BODY });
    server.on("upgrade", (req, socket, head) => this.#upgrade(wss, req, socket, head));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (err) => this.#deps.logger.error({ err }, "http: server error"));
    this.#server = server;
    this.#wss = wss;
    this.#keepalive = setInterval(() => {
      for (const s of this.#allSessions()) s.ping();
    }, KEEPALIVE_MS);
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    clearInterval(this.#keepalive);
    for (const s of this.#allSessions()) s.close(1001, "the gateway is stopping");
    const server = this.#server;
    this.#wss?.close();
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Closes the WebSocket connections of a revoked user. */
  disconnect(user: User): void {
    const sessions = this.#sessions.get(user.token);
    if (sessions === undefined) return;
    for (const s of sessions) s.close(4001, "the token was revoked");
    this.#sessions.delete(user.token);
  }

  *#allSessions(): Generator<WebSocketSession> {
    for (const set of this.#sessions.values()) yield* set;
    yield* this.#anonymous;
  }

  #upgrade(wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? "/", "http://gateway");
    if (url.pathname !== "/v1" && url.pathname !== "/v1/") {
      socket.end("HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\n\r\nWebSocket endpoint: /v1/?token=<token>\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const token = url.searchParams.get("token");
      const user = this.#deps.store.get(token);
      const session = new WebSocketSession(ws, user, token, this.#deps.session);
      const set = user === undefined ? this.#anonymous : this.#setOf(user.token);
      set.add(session);
      ws.once("close", () => {
        set.delete(session);
        if (user !== undefined && set.size === 0 && this.#sessions.get(user.token) === set) {
          this.#sessions.delete(user.token);
        }
      });
    });
  }

  #setOf(token: string): Set<WebSocketSession> {
    let set = this.#sessions.get(token);
    if (set === undefined) this.#sessions.set(token, (set = new Set()));
    return set;
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://gateway");
    const path = url.pathname;
    const method = req.method ?? "GET";
    if (method === "OPTIONS") {
      res.writeHead(204, CORS).end();
      return;
    }
    if (path === "/v1" || path === "/v1/") {
      if (method !== "POST") {
        this.#json(res, 405, { error: "POST JSON-RPC requests here (or connect a WebSocket to this URL)" }, "POST");
        return;
      }
      await this.#rpc(req, res, url.searchParams.get("token"));
      return;
    }
    const { api } = this.#deps;
    const routes: Record<string, { method: "GET" | "POST"; handle: () => Promise<ApiAnswer> | ApiAnswer }> = {
      "/v1/join": { method: "GET", handle: () => api.join() },
      "/v1/typed-data": { method: "GET", handle: () => api.typedData(url.searchParams) },
      "/v1/authenticate": {
        method: "POST",
        handle: async () => {
          let body: unknown;
          try {
            body = JSON.parse(await readBody(req, MAX_API_BODY));
          } catch (e) {
            if (e instanceof BodyTooLargeError) return { status: 413, body: { error: e.message } };
            return {
              status: 400,
              body: { error: 'body: not JSON (expected { "address": "0x…", "signature": "0x…" })' },
            };
          }
          return api.authenticate(url.searchParams, body);
        },
      },
      "/v1/query": { method: "GET", handle: () => api.query(url.searchParams) },
      "/v1/accounts": { method: "GET", handle: () => api.accounts(url.searchParams) },
      "/v1/revoke": { method: "POST", handle: () => api.revoke(url.searchParams) },
    };
    const route = routes[path.endsWith("/") && path.length > 1 ? path.slice(0, -1) : path];
    if (route !== undefined) {
      if (method !== route.method) {
        this.#json(res, 405, { error: `${path} takes ${route.method}` }, route.method);
        return;
      }
      const answer = await route.handle();
      this.#json(res, answer.status, answer.body);
      return;
    }
    if (path === "/healthz" && (method === "GET" || method === "HEAD")) {
      const report = await this.#deps.health();
      this.#json(res, report.status === "ok" ? 200 : 503, report);
      return;
    }
    const file = this.#web.get(path);
    if (file !== undefined && (method === "GET" || method === "HEAD")) {
      res.writeHead(200, {
        "content-type": file.contentType,
        "content-length": file.body.length,
        "cache-control": "no-cache",
        ...SECURITY_HEADERS,
      });
      res.end(method === "HEAD" ? undefined : file.body);
      return;
    }
    this.#json(res, 404, {
      error: `no ${path} here: the web page is /, the JSON-RPC endpoint /v1/?token=<token>, the API /v1/join …`,
    });
  }

  async #rpc(req: IncomingMessage, res: ServerResponse, token: string | null): Promise<void> {
    let text: string;
    try {
      text = await readBody(req, MAX_RPC_BODY);
    } catch (e) {
      if (!(e instanceof BodyTooLargeError)) throw e;
      res.writeHead(413, { "content-type": "application/json", ...CORS });
      res.end(stringify(errorResponse(null, new RpcError(GatewayErrorCodes.limit, e.message))));
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      this.#rpcReply(
        res,
        errorResponse(null, new RpcError(GatewayErrorCodes.parse, "parse error: the body is not JSON")),
      );
      return;
    }
    const user = this.#deps.store.get(token);
    const answer = await this.#deps.dispatcher.answer(body, { user, token });
    if (answer === undefined) {
      res.writeHead(204, CORS).end();
      return;
    }
    this.#rpcReply(res, answer);
  }

  #rpcReply(res: ServerResponse, body: unknown): void {
    res.writeHead(200, { "content-type": "application/json", ...CORS });
    res.end(stringify(body));
  }

  #json(res: ServerResponse, status: number, body: unknown, allow?: string): void {
    res.writeHead(status, {
      "content-type": "application/json",
      "cache-control": "no-store",
      ...CORS,
      ...(allow === undefined ? {} : { allow }),
    });
    res.end(`${stringify(body)}\n`);
  }
}
