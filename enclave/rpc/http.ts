/**
 * JSON-RPC over HTTP: POST bodies of one request or a batch, answered by a handler. Knows nothing of
 * the methods; the node's endpoint (server.ts) gives it its method table.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { toQuantity } from "ethers";

import { type JsonRpcRequest, type JsonRpcResponse, RpcErrorCode } from "./jsonrpc.js";

export type JsonRpcHandler = (request: JsonRpcRequest) => Promise<JsonRpcResponse>;

/** How an endpoint takes requests; the defaults are the L2 JSON-RPC's (wallets, browsers). */
export interface JsonRpcHttpOptions {
  /** Largest body accepted (default 5 MiB: a rollup-sized transaction in hex, with room). */
  maxBodyBytes?: number;
  /** Most requests in one batch (default 1,000); 0: batches are refused. */
  maxBatch?: number;
  /** Answer browsers' CORS preflight and allow any origin (default true). */
  cors?: boolean;
  /** Refuse a body not sent as application/json with 415 (default false). */
  jsonOnly?: boolean;
}

export class JsonRpcHttpServer {
  private server: Server | undefined;

  private readonly options: Required<JsonRpcHttpOptions>;

  constructor(
    private readonly handler: JsonRpcHandler,
    options: JsonRpcHttpOptions = {},
  ) {
    this.options = {
      maxBodyBytes: options.maxBodyBytes ?? 5 * 1024 * 1024,
      maxBatch: options.maxBatch ?? 1000,
      cors: options.cors ?? true,
      jsonOnly: options.jsonOnly ?? false,
    };
  }

  /** Listens on `host:port` (0: any free port) and returns the URL. */
  async listen(port: number, host = "127.0.0.1"): Promise<string> {
    const server = createServer((req, res) => void this.serve(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    return `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { maxBodyBytes, cors, jsonOnly } = this.options;
    if (cors) {
      res.setHeader("access-control-allow-origin", "*");
      res.setHeader("access-control-allow-headers", "content-type");
      if (req.method === "OPTIONS") {
        res.writeHead(204).end();
        return;
      }
    }
    if (req.method !== "POST") {
      res.writeHead(405, { "content-type": "text/plain" }).end("POST JSON-RPC requests to this URL\n");
      return;
    }
    const [mediaType = ""] = (req.headers["content-type"] ?? "").split(";");
    if (jsonOnly && mediaType.trim().toLowerCase() !== "application/json") {
      res.writeHead(415, { "content-type": "text/plain" }).end("the body must be application/json\n");
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > maxBodyBytes) {
        res.writeHead(413, { "content-type": "text/plain" }).end(`the body exceeds ${maxBodyBytes} bytes\n`);
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
      const { maxBatch } = this.options;
      if (maxBatch === 0) {
        this.reply(res, {
          jsonrpc: "2.0",
          id: null,
          error: { code: RpcErrorCode.invalidRequest, message: "invalid request: batches are not served here" },
        });
        return;
      }
      if (body.length > maxBatch) {
        this.reply(res, {
          jsonrpc: "2.0",
          id: null,
          error: { code: RpcErrorCode.limitExceeded, message: `a batch holds at most ${maxBatch} requests` },
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
