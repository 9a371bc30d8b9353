/**
 * How the gateway learns of new L2 blocks: it asks the enclave's public `eth_blockNumber` every
 * GATEWAY_POLL_MS and, while someone wants block headers (newHeads), the new blocks with the public
 * `eth_getBlockByNumber` (redacted as for an anonymous viewer). Each round is reported to the listeners
 * with the head and the headers of the blocks new since the previous report, in order, each once.
 */
import { toQuantity } from "ethers";

import type { Logger } from "../../platform/logger.js";
import { callPublic } from "../rpc/forward.js";
import type { EnclaveClient } from "../enclave/client.js";

/** A block header as newHeads notifications carry it (the block without its transaction list). */
export type BlockHeader = Record<string, unknown> & { number: string; hash: string };

export interface BlockRound {
  /** The enclave's latest block number. */
  head: number;
  /** Headers of the blocks after the previous round's, in order (empty when nobody wants headers). */
  headers: BlockHeader[];
}

export type BlockListener = (round: BlockRound) => void;

/** Most headers fetched in one round (a long outage catches up over several rounds). */
const MAX_HEADERS_PER_ROUND = 64;

/** A block without what a header does not have. */
export function headerOf(block: Record<string, unknown>): BlockHeader {
  const header = { ...block };
  delete header.transactions;
  delete header.uncles;
  delete header.withdrawals;
  return header as BlockHeader;
}

/** The public block `n` (or a failure). */
export async function publicBlock(enclave: EnclaveClient, n: number): Promise<Record<string, unknown>> {
  const block = (await callPublic(enclave, "eth_getBlockByNumber", [toQuantity(n), false])) as Record<
    string,
    unknown
  > | null;
  if (block === null || typeof block !== "object") throw new Error(`the enclave has no block ${n}`);
  return block;
}

export class BlockPoller {
  #head: number | undefined;
  /** The last block whose header was reported. */
  #reported: number | undefined;
  #listeners = new Set<BlockListener>();
  #headerListeners = 0;
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> = Promise.resolve();
  #stopped = true;
  #lastError: string | undefined;
  #lastSuccess = 0;

  constructor(
    private readonly enclave: EnclaveClient,
    private readonly pollMs: number,
    private readonly logger: Logger,
  ) {}

  /** The latest block number seen (undefined before the first successful round). */
  get head(): number | undefined {
    return this.#head;
  }

  /** The last block whose header was reported: a new newHeads subscriber's headers start after it. */
  get reported(): number | undefined {
    return this.#reported;
  }

  /** Health: the last error, and when a round last succeeded (ms since the epoch; 0: never). */
  get status(): { lastError?: string; lastSuccess: number } {
    return this.#lastError === undefined
      ? { lastSuccess: this.#lastSuccess }
      : { lastError: this.#lastError, lastSuccess: this.#lastSuccess };
  }

  /** Adds a listener; `headers`: it wants block headers. Returns its removal. */
  listen(listener: BlockListener, options: { headers: boolean }): () => void {
    this.#listeners.add(listener);
    if (options.headers) this.#headerListeners += 1;
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      this.#listeners.delete(listener);
      if (options.headers) this.#headerListeners -= 1;
    };
  }

  /**
   * The enclave's latest block number, asked now: a subscription starts after it, so it must not be
   * the poller's, which can be a few poll rounds old (the subscription would get blocks mined before
   * it was made).
   */
  async currentHead(): Promise<number> {
    const head = Number(await callPublic(this.enclave, "eth_blockNumber"));
    if (!Number.isSafeInteger(head) || head < 0) throw new Error("eth_blockNumber: not a block number");
    return head;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#round;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#round = this.#poll().finally(() => this.#schedule(this.pollMs));
    }, ms);
  }

  /** One round (exposed for tests that want it now). */
  async poll(): Promise<void> {
    await this.#round;
    this.#round = this.#poll();
    await this.#round;
  }

  async #poll(): Promise<void> {
    let head: number;
    let headers: BlockHeader[] = [];
    try {
      head = Number(await callPublic(this.enclave, "eth_blockNumber"));
      if (!Number.isSafeInteger(head) || head < 0) throw new Error("eth_blockNumber: not a block number");
      const from = this.#reported;
      if (from === undefined || this.#headerListeners === 0) {
        this.#reported = head;
      } else if (head > from) {
        const to = Math.min(head, from + MAX_HEADERS_PER_ROUND);
        const numbers = Array.from({ length: to - from }, (_, i) => from + 1 + i);
        headers = (await Promise.all(numbers.map((n) => publicBlock(this.enclave, n)))).map(headerOf);
        this.#reported = to;
      }
      this.#head = head;
      if (this.#lastError !== undefined) this.logger.info({ head }, "enclave: answering again");
      this.#lastError = undefined;
      this.#lastSuccess = Date.now();
    } catch (e) {
      const message = (e as Error).message;
      if (this.#lastError === undefined) this.logger.warn({ reason: message }, "enclave: new blocks cannot be read");
      this.#lastError = message;
      return;
    }
    for (const listener of [...this.#listeners]) {
      try {
        listener({ head, headers });
      } catch (e) {
        this.logger.error({ err: e }, "block listener failed");
      }
    }
  }
}
