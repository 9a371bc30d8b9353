/**
 * The L1 event follower's view of the L1 JSON-RPC: raw calls (no ethers formatting, which is slow on
 * large log sets) with a time limit and a few quick retries each, so a flaky or stalling endpoint slows
 * the follower down without stopping it. With an ethers provider that batches, concurrent calls (the
 * headers of a range) go out as one JSON-RPC batch request.
 */
import { withTimeout } from "../redis.js";
import type { RawLog } from "./decode.js";

/** What the reader needs of a provider: raw JSON-RPC calls (ethers' JsonRpcApiProvider, Hardhat's provider). */
export interface JsonRpcSender {
  send(method: string, params: unknown[]): Promise<unknown>;
}

/** The header fields the follower needs (quantities hex-encoded). */
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

/** Thrown by calls made after the follower was told to stop. */
export class FollowerStoppedError extends Error {
  constructor(name = "L1 event follower") {
    super(`${name} stopped`);
    this.name = "FollowerStoppedError";
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class L1LogReader {
  constructor(
    private readonly provider: JsonRpcSender,
    private readonly options: RpcOptions,
    private readonly hooks: { onError(method: string, error: unknown): void; stopped(): boolean; name?: string },
  ) {}

  /** `method(params)` with a time limit, retried `attempts` times with exponential backoff. */
  async call<T>(method: string, params: unknown[], retryable: (e: unknown) => boolean = () => true): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (this.hooks.stopped()) throw new FollowerStoppedError(this.hooks.name);
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
