/**
 * An HTTP JSON-RPC proxy on 127.0.0.1 in front of a node that misbehaves on purpose: every k-th request
 * fails (HTTP 500 or a JSON-RPC error, alternately by default) and every m-th request stalls (never
 * answers, or answers after a delay). Requests are counted from 1 across the proxy's life; a request that
 * is both a k-th and an m-th fails. Used to check that workers survive a flaky L1 endpoint.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface FaultSettings {
  /** Every `failEvery`-th request fails (0: never). */
  failEvery?: number;
  /** How failures look: an HTTP 500, a JSON-RPC error (HTTP 200), or alternately one and the other. */
  failWith?: "http" | "rpc" | "alternate";
  /** Every `stallEvery`-th request stalls (0: never). */
  stallEvery?: number;
  /** Stalled requests are answered (forwarded) after this many ms; undefined: never answered. */
  stallMs?: number;
}

export interface FaultCounts {
  requests: number;
  forwarded: number;
  failedHttp: number;
  failedRpc: number;
  stalled: number;
}

export interface RpcFaultProxy {
  url: string;
  counts: FaultCounts;
  /** Changes the fault pattern from the next request on. */
  setFaults(settings: FaultSettings): void;
  /** Closes the proxy, dropping stalled requests. */
  close(): Promise<void>;
}

interface RpcRequest {
  id?: unknown;
}

function rpcError(body: string): string {
  const error = (id: unknown) => ({
    jsonrpc: "2.0",
    id: id ?? null,
    error: { code: -32603, message: "injected fault: internal error" },
  });
  try {
    const parsed = JSON.parse(body) as RpcRequest | RpcRequest[];
    return JSON.stringify(Array.isArray(parsed) ? parsed.map((r) => error(r.id)) : error(parsed.id));
  } catch {
    return JSON.stringify(error(null));
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Starts a proxy to `target` (an http:// JSON-RPC URL) with `settings`. */
export async function startRpcFaultProxy(target: string, settings: FaultSettings = {}): Promise<RpcFaultProxy> {
  let faults: FaultSettings = { ...settings };
  const counts: FaultCounts = { requests: 0, forwarded: 0, failedHttp: 0, failedRpc: 0, stalled: 0 };
  const timers = new Set<NodeJS.Timeout>();
  let failures = 0;

  const send = (res: ServerResponse, status: number, body: string) => {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(body);
  };

  const forward = async (body: string, res: ServerResponse) => {
    try {
      const response = await fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body });
      const text = await response.text();
      counts.forwarded++;
      send(res, response.status, text);
    } catch (e) {
      send(res, 502, JSON.stringify({ error: (e as Error).message }));
    }
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const n = ++counts.requests;
      const { failEvery = 0, stallEvery = 0, failWith = "alternate", stallMs } = faults;
      if (failEvery > 0 && n % failEvery === 0) {
        const http = failWith === "http" || (failWith === "alternate" && failures++ % 2 === 0);
        if (http) {
          counts.failedHttp++;
          send(res, 500, JSON.stringify({ error: "injected fault: HTTP 500" }));
        } else {
          counts.failedRpc++;
          send(res, 200, rpcError(body));
        }
        return;
      }
      if (stallEvery > 0 && n % stallEvery === 0) {
        counts.stalled++;
        if (stallMs !== undefined) {
          const timer = setTimeout(() => {
            timers.delete(timer);
            void forward(body, res);
          }, stallMs);
          timers.add(timer);
        }
        return; // never answered: the client has to give up
      }
      await forward(body, res);
    })();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    setFaults: (s) => {
      faults = { ...s };
    },
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
