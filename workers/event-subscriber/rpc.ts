/**
 * The subscriber's view of the L1 JSON-RPC: raw calls (no ethers formatting, which is slow on large log
 * sets) with a time limit and a few quick retries each, so a flaky or stalling endpoint slows the
 * subscriber down without stopping it. Concurrent calls are batched by the ethers provider into one
 * JSON-RPC batch request.
 */
import { type FetchGetUrlFunc, FetchRequest, type JsonRpcApiProvider, JsonRpcProvider, Network } from "ethers";

import { withTimeout } from "../../platform/redis.js";
import type { RawLog } from "./decode.js";

/** The header fields the subscriber needs (quantities hex-encoded). */
export interface RawBlockHeader {
  number: string;
  hash: string;
  parentHash: string;
}

export interface BlockHeader {
  number: number;
  hash: string;
  parentHash: string;
}

export interface RpcOptions {
  /** Time limit of one call (ms). */
  timeoutMs: number;
  /** Attempts of one call before the error is handed to the caller. */
  attempts: number;
  /** First delay between attempts (ms); doubles each attempt. */
  retryDelayMs: number;
}

export class SubscriberStoppedError extends Error {
  constructor() {
    super("event-subscriber stopped");
    this.name = "SubscriberStoppedError";
  }
}

/**
 * Sends ethers' requests with the global fetch and aborts them (closing the connection) after
 * `timeoutMs`: ethers' own Node transport only rejects on timeout and leaves a stalled socket open.
 */
export function fetchWithTimeout(timeoutMs: number): FetchGetUrlFunc {
  return async (req, signal) => {
    const cancel = new AbortController();
    signal?.addListener(() => cancel.abort());
    const response = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body ?? undefined,
      signal: AbortSignal.any([cancel.signal, AbortSignal.timeout(timeoutMs)]),
    });
    return {
      statusCode: response.status,
      statusMessage: response.statusText,
      headers: Object.fromEntries(response.headers),
      body: new Uint8Array(await response.arrayBuffer()),
    };
  };
}

/**
 * A JSON-RPC provider for the subscriber: every HTTP request is aborted after `timeoutMs`, the network is
 * fixed (no detection calls), and concurrent calls are sent as one batch request.
 */
export function createSubscriberProvider(url: string, chainId: number, timeoutMs: number): JsonRpcProvider {
  const request = new FetchRequest(url);
  request.timeout = timeoutMs;
  request.getUrlFunc = fetchWithTimeout(timeoutMs);
  const network = Network.from(chainId);
  return new JsonRpcProvider(request, network, { staticNetwork: network, batchStallTime: 2, batchMaxCount: 100 });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class L1Reader {
  constructor(
    private readonly provider: JsonRpcApiProvider,
    private readonly options: RpcOptions,
    private readonly hooks: { onError(method: string, error: unknown): void; stopped(): boolean },
  ) {}

  /** `method(params)` with a time limit, retried `attempts` times with exponential backoff. */
  async call<T>(method: string, params: unknown[], retryable: (e: unknown) => boolean = () => true): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (this.hooks.stopped()) throw new SubscriberStoppedError();
      try {
        return (await withTimeout(
          this.provider.send(method, params),
          this.options.timeoutMs,
          `${method}: no answer within ${this.options.timeoutMs} ms`,
        )) as T;
      } catch (e) {
        this.hooks.onError(method, e);
        if (attempt >= this.options.attempts || !retryable(e)) throw e;
        await sleep(this.options.retryDelayMs * 2 ** (attempt - 1));
      }
    }
  }

  async blockNumber(): Promise<number> {
    return Number(await this.call<string>("eth_blockNumber", []));
  }

  /** Headers of `numbers` (null for a block the chain does not have), fetched in one batch. */
  async headers(numbers: Iterable<number>): Promise<Map<number, BlockHeader | null>> {
    const unique = [...new Set(numbers)];
    const raw = await Promise.all(
      unique.map((n) => this.call<RawBlockHeader | null>("eth_getBlockByNumber", [`0x${n.toString(16)}`, false])),
    );
    return new Map(
      unique.map((n, i) => {
        const h = raw[i];
        return [n, h === null || h === undefined ? null : { number: n, hash: h.hash, parentHash: h.parentHash }];
      }),
    );
  }

  /** Logs of `addresses` in blocks [from, to]. A refusal of the range as too large is not retried. */
  async logs(addresses: string[], from: number, to: number): Promise<RawLog[]> {
    return this.call<RawLog[]>(
      "eth_getLogs",
      [{ address: addresses, fromBlock: `0x${from.toString(16)}`, toBlock: `0x${to.toString(16)}` }],
      (e) => !isRangeTooLarge(e),
    );
  }
}

/** Whether eth_getLogs failed because the node limits the block range or the number of results. */
export function isRangeTooLarge(e: unknown): boolean {
  const message = e instanceof Error ? e.message : String(e);
  return /query returned more than|too many (logs|results)|block range|range (is )?too (large|wide)|limit exceeded|response size/i.test(
    message,
  );
}
