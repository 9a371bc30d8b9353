/**
 * JSON-RPC over HTTP: POST bodies of one request or a batch, answered by a handler. Knows nothing of
 * the methods; the node's endpoint (server.ts) gives it its method table.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { toQuantity } from "ethers";

import { type JsonRpcRequest, type JsonRpcResponse, RpcErrorCode } from "./jsonrpc.js";

export type JsonRpcHandler = (request: JsonRpcRequest) => Promise<JsonRpcResponse>;

/** Largest body accepted (a rollup-sized transaction in hex, with room). */
const MAX_BODY = 5 * 1024 * 1024;
/** Most requests in one batch. */
const MAX_BATCH = 1000;

export class JsonRpcHttpServer {
  private server: Server | undefined;

  constructor(private readonly handler: JsonRpcHandler) {}

  /** Listens on `host:port` (0: any free port) and returns the URL. */
  async listen(port: number, host = "127.0.0.1"): Promise<string> {
    const server = createServer((req, res) => void this.serve(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    return `http://${host}:${address.port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader("access-control-allow-origin", "*");
    res.setHeader("access-control-allow-headers", "content-type");
    if (req.method === "OPTIONS") {
      res.writeHead(204).end();
      return;
    }
    if (req.method !== "POST") {
      res.writeHead(405, { "content-type": "text/plain" }).end("POST JSON-RPC requests to this URL\n");
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) {
        res.writeHead(413).end();
        return;
      }
      chunks.push(chunk as Buffer);
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      this.reply(res, {
        jsonrpc: "2.0",
        id: null,
        error: { code: RpcErrorCode.parse, message: "parse error: the body is not JSON" },
      });
      return;
    }
    if (Array.isArray(body)) {
      if (body.length > MAX_BATCH) {
        this.reply(res, {
          jsonrpc: "2.0",
          id: null,
          error: { code: RpcErrorCode.limitExceeded, message: `a batch holds at most ${MAX_BATCH} requests` },
        });
        return;
      }
      const answers: JsonRpcResponse[] = [];
      for (const r of body) answers.push(await this.handler(r as JsonRpcRequest));
      this.reply(res, answers);
    } else {
      this.reply(res, await this.handler(body as JsonRpcRequest));
    }
  }

  private reply(res: ServerResponse, body: unknown): void {
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify(body, (_k, v: unknown) => (typeof v === "bigint" ? toQuantity(v) : v)));
  }
}
