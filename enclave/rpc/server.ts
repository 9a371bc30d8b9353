/**
 * The node's plain L2 JSON-RPC endpoint (HTTP): the standard `eth_` methods a wallet or ethers'
 * JsonRpcProvider uses, answered from the enclave's L2 chain, with transactions going through the
 * sequencer's mempool. Only an allow-list of methods is served: the EDR chain's `hardhat_`/`evm_`
 * methods (which could mint or rewrite state) never are. Privacy filtering of what a caller may read is
 * the gateway's job (issue 5); this endpoint is for development and operators.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { Transaction, getAddress, isHexString, toQuantity } from "ethers";

import { L2_CHAIN_ID } from "../../protocol/predeploys.js";
import type { L2Provider } from "../execution/l2-chain.js";
import { MempoolError, type Mempool } from "../sequencer/mempool.js";

/** Methods answered by the L2 chain as they are. */
const PASS_THROUGH = new Set([
  "eth_blockNumber",
  "eth_getBalance",
  "eth_getCode",
  "eth_getStorageAt",
  "eth_call",
  "eth_estimateGas",
  "eth_getBlockByNumber",
  "eth_getBlockByHash",
  "eth_getBlockTransactionCountByNumber",
  "eth_getBlockTransactionCountByHash",
  "eth_getTransactionByBlockNumberAndIndex",
  "eth_getTransactionByBlockHashAndIndex",
  "eth_getTransactionReceipt",
  "eth_getLogs",
  "eth_feeHistory",
  "eth_syncing",
]);

interface JsonRpcRequest {
  jsonrpc?: string;
  id?: string | number | null;
  method?: unknown;
  params?: unknown;
}

type JsonRpcResponse =
  | { jsonrpc: "2.0"; id: string | number | null; result: unknown }
  | { jsonrpc: "2.0"; id: string | number | null; error: { code: number; message: string; data?: unknown } };

/** A pending transaction as `eth_getTransactionByHash` answers it (no block yet). */
function pendingTransactionJson(raw: string, from: string): Record<string, unknown> {
  const tx = Transaction.from(raw);
  const sig = tx.signature!;
  const q = (v: bigint | number | null): string | null => (v === null ? null : toQuantity(v));
  return {
    type: q(tx.type),
    chainId: q(tx.chainId),
    nonce: q(tx.nonce),
    gas: q(tx.gasLimit),
    gasPrice: q(tx.gasPrice ?? tx.maxFeePerGas),
    ...(tx.type === 2 ? { maxFeePerGas: q(tx.maxFeePerGas), maxPriorityFeePerGas: q(tx.maxPriorityFeePerGas) } : {}),
    ...(tx.type !== 0 ? { accessList: tx.accessList ?? [] } : {}),
    to: tx.to,
    value: q(tx.value),
    input: tx.data,
    v: q(tx.type === 0 ? (sig.networkV ?? sig.v) : sig.yParity),
    ...(tx.type !== 0 ? { yParity: q(sig.yParity) } : {}),
    r: sig.r,
    s: sig.s,
    hash: tx.hash,
    from,
    blockHash: null,
    blockNumber: null,
    transactionIndex: null,
  };
}

class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

export interface L2RpcDeps {
  provider: L2Provider;
  /** The sequencer's mempool; absent on a validator (it accepts no transactions). */
  mempool?: Mempool;
  /** Minimum priority fee the mempool takes (answered by eth_gasPrice / eth_maxPriorityFeePerGas). */
  minPriorityFee: bigint;
  clientVersion: string;
}

const MAX_BODY = 5 * 1024 * 1024;

export class L2RpcServer {
  private server: Server | undefined;

  constructor(private readonly deps: L2RpcDeps) {}

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

  /** Answers one JSON-RPC request object (also used directly by tests and the gateway). */
  async handle(request: JsonRpcRequest): Promise<JsonRpcResponse> {
    const id = request.id ?? null;
    try {
      if (typeof request.method !== "string") throw new RpcError(-32600, "invalid request: method must be a string");
      const params = request.params ?? [];
      if (!Array.isArray(params)) throw new RpcError(-32602, "invalid params: expected an array");
      return { jsonrpc: "2.0", id, result: await this.call(request.method, params as unknown[]) };
    } catch (e) {
      if (e instanceof RpcError)
        return { jsonrpc: "2.0", id, error: { code: e.code, message: e.message, data: e.data } };
      if (e instanceof MempoolError) return { jsonrpc: "2.0", id, error: { code: -32000, message: e.message } };
      const err = e as { code?: unknown; message?: string; data?: unknown };
      const code = typeof err.code === "number" ? err.code : -32603;
      return {
        jsonrpc: "2.0",
        id,
        error: { code, message: (err.message ?? String(e)).split("\n")[0], data: err.data },
      };
    }
  }

  private async call(method: string, params: unknown[]): Promise<unknown> {
    const { provider, mempool } = this.deps;
    switch (method) {
      case "eth_chainId":
        return toQuantity(L2_CHAIN_ID);
      case "net_version":
        return L2_CHAIN_ID.toString();
      case "web3_clientVersion":
        return this.deps.clientVersion;
      case "eth_accounts":
        return [];
      case "eth_gasPrice":
      case "eth_maxPriorityFeePerGas":
        return toQuantity(this.deps.minPriorityFee);
      case "eth_sendRawTransaction": {
        if (mempool === undefined)
          throw new RpcError(-32000, "this node is a validator: send transactions to the sequencer");
        const raw = params[0];
        if (typeof raw !== "string")
          throw new RpcError(-32602, "invalid params: expected the signed transaction as 0x hex");
        return mempool.add(raw);
      }
      case "eth_getTransactionCount": {
        const [address, tag] = params;
        if (typeof address !== "string" || !isHexString(address, 20))
          throw new RpcError(-32602, "invalid params: expected an address");
        const count = BigInt((await provider.request({ method, params: [address, "latest"] })) as string);
        if (tag === "pending" && mempool !== undefined)
          return toQuantity(mempool.pendingNonce(getAddress(address), count));
        if (tag === undefined || tag === "latest" || tag === "pending") return toQuantity(count);
        return provider.request({ method, params });
      }
      case "eth_getTransactionByHash": {
        const hash = params[0];
        if (typeof hash !== "string") throw new RpcError(-32602, "invalid params: expected a transaction hash");
        const mined = await provider.request({ method, params: [hash] });
        if (mined !== null || mempool === undefined) return mined;
        const pending = mempool.get(hash);
        if (pending === undefined) return null;
        return pendingTransactionJson(pending.raw, pending.sender);
      }
      case "veil_getTransactionStatus": {
        const hash = params[0];
        if (typeof hash !== "string") throw new RpcError(-32602, "invalid params: expected a transaction hash");
        const status = mempool?.status(hash);
        if (status !== undefined)
          return JSON.parse(
            JSON.stringify(status, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
          ) as unknown;
        const receipt = (await provider.request({ method: "eth_getTransactionReceipt", params: [hash] })) as {
          status: string;
          blockNumber: string;
        } | null;
        if (receipt === null) return { status: "unknown" };
        return { status: receipt.status === "0x1" ? "succeeded" : "reverted", blockNumber: receipt.blockNumber };
      }
      default:
        if (PASS_THROUGH.has(method)) return provider.request({ method, params });
        throw new RpcError(-32601, `method ${method} is not available on this endpoint`);
    }
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
        error: { code: -32700, message: "parse error: the body is not JSON" },
      });
      return;
    }
    if (Array.isArray(body)) {
      const answers: JsonRpcResponse[] = [];
      for (const r of body) answers.push(await this.handle(r as JsonRpcRequest));
      this.reply(res, answers);
    } else {
      this.reply(res, await this.handle(body as JsonRpcRequest));
    }
  }

  private reply(res: ServerResponse, body: unknown): void {
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify(body, (_k, v: unknown) => (typeof v === "bigint" ? toQuantity(v) : v)));
  }
}
