/**
 * The privacy filter: a wallet's JSON-RPC methods answered for a viewer (the accounts bound to its
 * viewing key, or nobody) under the rules of enclave/privacy. It asks the unfiltered chain methods
 * (chain-methods.ts) and keeps from the answer only what the viewer may see. Reached through the
 * encrypted channel (`veil_private`, private.ts), and for an anonymous viewer through the plain
 * endpoint's public methods. docs/privacy.md describes each rule.
 */
import { isAddress, isHexString } from "ethers";

import { canReadAccount, type AccountField } from "../privacy/accounts.js";
import { redactBlock } from "../privacy/blocks.js";
import { callerOf } from "../privacy/calls.js";
import type { ContractRules } from "../privacy/contract-rules.js";
import { GENERIC_SUBMISSION_ERROR, submissionErrorMessage } from "../privacy/errors.js";
import { canSeeEvent, eventAudience, needsSender } from "../privacy/events.js";
import { type TxParties, canSeeTransaction, redactReceipt } from "../privacy/transactions.js";
import type { Viewer } from "../privacy/viewer.js";
import type { VisibilityConfig } from "../privacy/visibility-config.js";
import { MempoolError, decodeSigned } from "../sequencer/mempool.js";
import { type ChainMethods, hashParam } from "./chain-methods.js";
import { RpcError, RpcErrorCode, invalidParams } from "./jsonrpc.js";
import { Lru } from "./lru.js";
import type { WithdrawalMethods } from "./withdrawals.js";
import { CHAIN_INFO_METHODS } from "../../protocol/private-rpc.js";
import { ROLLUP_MESSAGES_METHOD, WITHDRAWAL_PROOF_METHOD } from "../../protocol/withdrawals.js";

/** Methods whose answer is the same for everyone: the chain's, unchanged. */
const PUBLIC_AS_IS: ReadonlySet<string> = new Set([...CHAIN_INFO_METHODS, "eth_accounts", "eth_getCode"]);

export interface PrivacyFilterOptions {
  /** Most blocks one eth_getLogs may span (default 10,000). */
  maxLogBlockRange?: bigint;
  /** Transactions whose parties are remembered after submission, for the status of dropped ones (default 100,000). */
  submissionMemory?: number;
  /** The withdrawal methods (without them `veil_getRollupMessages` / `veil_getWithdrawalProof` are not served). */
  withdrawals?: WithdrawalMethods;
}

interface RpcTransaction {
  from: string;
  to: string | null;
  input: string;
}

interface RpcLog {
  address: string;
  topics: string[];
  blockNumber: string;
  transactionHash: string;
}

interface RpcReceipt {
  from: string;
  to: string | null;
  logs: RpcLog[];
}

const LATEST_TAGS = new Set(["latest", "pending", "safe", "finalized"]);

function notAuthorized(message: string): RpcError {
  return new RpcError(RpcErrorCode.notAuthorized, `not authorized: ${message}`);
}

function addressParam(value: unknown): string {
  if (typeof value !== "string" || !isAddress(value)) throw invalidParams("expected an address");
  return value;
}

function objectParam(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalidParams(`expected ${what}`);
  return value as Record<string, unknown>;
}

export class PrivacyFilter {
  readonly #maxLogBlockRange: bigint;
  /** Parties of transactions submitted here: who may see the status of one the mempool dropped. */
  readonly #submitted: Lru<string, TxParties>;
  readonly #withdrawals: WithdrawalMethods | undefined;

  constructor(
    private readonly chain: ChainMethods,
    private readonly rules: ContractRules,
    options: PrivacyFilterOptions = {},
  ) {
    this.#maxLogBlockRange = options.maxLogBlockRange ?? 10_000n;
    this.#submitted = new Lru(options.submissionMemory ?? 100_000);
    this.#withdrawals = options.withdrawals;
  }

  /** Answers `method` for `viewer`. */
  async call(viewer: Viewer, method: string, params: unknown[]): Promise<unknown> {
    if (PUBLIC_AS_IS.has(method)) return this.chain.call(method, params);
    switch (method) {
      case "eth_getBalance":
        await this.authorizeAccount(viewer, "balance", addressParam(params[0]), params[1]);
        return this.chain.call(method, params);
      case "eth_getTransactionCount":
        await this.authorizeAccount(viewer, "nonce", addressParam(params[0]), params[1]);
        return this.chain.call(method, params);
      case "eth_getStorageAt":
        await this.authorizeAccount(viewer, "storage", addressParam(params[0]), params[2]);
        return this.chain.call(method, params);
      case "eth_call":
      case "eth_estimateGas":
        return this.chain.call(method, this.callParams(viewer, method, params));
      case "eth_sendRawTransaction":
        return this.submit(viewer, params);
      case "eth_getTransactionByHash": {
        const tx = (await this.chain.call(method, [hashParam(params)])) as RpcTransaction | null;
        return tx !== null && canSeeTransaction(viewer, tx) ? tx : null;
      }
      case "eth_getTransactionReceipt":
        return this.receipt(viewer, hashParam(params));
      case "veil_getTransactionStatus":
        return this.status(viewer, hashParam(params));
      case "eth_getBlockByNumber":
      case "eth_getBlockByHash":
        // Never the full transactions: they are dropped anyway.
        return redactBlock((await this.chain.call(method, [params[0], false])) as Record<string, unknown> | null);
      case "eth_getLogs":
        return this.logs(viewer, params);
      case ROLLUP_MESSAGES_METHOD:
        // Public: the relay calldata publishes every message on L1 anyway.
        return this.withdrawals(method).rollupMessagesJson(params);
      case WITHDRAWAL_PROOF_METHOD:
        // A withdrawal is its owner's: only the transaction's sender gets an answer, others the one for an unknown hash.
        return this.withdrawals(method).withdrawalProofJson(params, (sender) => viewer.has(sender));
      default:
        throw new RpcError(RpcErrorCode.methodNotFound, `method ${method} is not available on Veilnet's private RPC`);
    }
  }

  private withdrawals(method: string): WithdrawalMethods {
    if (this.#withdrawals === undefined) {
      throw new RpcError(
        RpcErrorCode.methodNotFound,
        `method ${method} is not available: this node reads no rollups from L1`,
      );
    }
    return this.#withdrawals;
  }

  /** Refuses reading `field` of `address` at `block` unless the rules let `viewer` do so. */
  private async authorizeAccount(viewer: Viewer, field: AccountField, address: string, block: unknown): Promise<void> {
    if (field !== "storage" && viewer.has(address)) return; // the viewer's own account: no need to look it up
    const kind = await this.rules.at(address, await this.blockNumberOf(block));
    if (canReadAccount(viewer, field, address, kind)) return;
    if (field === "storage") {
      throw notAuthorized(
        `eth_getStorageAt is refused on ${address}: only a contract declared TRANSPARENT (IVisibilityRules) exposes its storage`,
      );
    }
    const what = field === "balance" ? "the balance" : "the nonce";
    throw notAuthorized(
      `${what} of ${address} is readable only by that account (bind it to your viewing key), or by anyone if it is a contract declared TRANSPARENT`,
    );
  }

  /** eth_call / eth_estimateGas parameters with `from` set to an account the viewer may call as. */
  private callParams(viewer: Viewer, method: string, params: unknown[]): unknown[] {
    const tx = objectParam(params[0], "a transaction object");
    if (params.length > 2 && params.slice(2).some((p) => p !== undefined && p !== null)) {
      // State overrides could replace a contract's code with one that reads out its storage.
      throw invalidParams(`${method} takes no state or block overrides on Veilnet (they would expose private state)`);
    }
    const from = callerOf(viewer, tx.from);
    if (from === undefined) {
      throw notAuthorized(
        `${String(tx.from)} is not bound to this viewing key: ${method} runs only as one of your own accounts`,
      );
    }
    return [{ ...tx, from }, ...params.slice(1, 2)];
  }

  /** eth_sendRawTransaction: admitted by the mempool; its refusals in full only to the sender. */
  private async submit(viewer: Viewer, params: unknown[]): Promise<unknown> {
    const raw = params[0];
    if (typeof raw !== "string") throw invalidParams("expected the signed transaction as 0x hex");
    let parties: TxParties | undefined;
    try {
      const { tx, sender } = decodeSigned(raw);
      parties = { from: sender, to: tx.to, input: tx.data };
    } catch {
      // Malformed or unsigned: the mempool refuses it with the reason, which is about the bytes only.
    }
    try {
      const hash = (await this.chain.call("eth_sendRawTransaction", [raw])) as string;
      if (parties !== undefined) this.#submitted.set(hash.toLowerCase(), parties);
      return hash;
    } catch (e) {
      const toSender = parties !== undefined && viewer.has(parties.from);
      if (e instanceof MempoolError) {
        throw new RpcError(RpcErrorCode.server, submissionErrorMessage(e.code, e.message, toSender));
      }
      if (e instanceof RpcError || toSender) throw e;
      const code = typeof (e as { code?: unknown }).code === "number" ? (e as { code: number }).code : -32000;
      throw new RpcError(code, GENERIC_SUBMISSION_ERROR);
    }
  }

  private async receipt(viewer: Viewer, hash: string): Promise<unknown> {
    const receipt = (await this.chain.call("eth_getTransactionReceipt", [hash])) as RpcReceipt | null;
    if (receipt === null) return null;
    if (!viewer.has(receipt.from)) {
      // Maybe the recipient of a plain transfer: that needs the calldata, which the receipt lacks.
      if (!viewer.has(receipt.to)) return null;
      const tx = (await this.chain.call("eth_getTransactionByHash", [hash])) as RpcTransaction | null;
      if (tx === null || !canSeeTransaction(viewer, tx)) return null;
    }
    return redactReceipt(receipt, await this.visibleLogs(viewer, receipt.logs, receipt.from));
  }

  private async status(viewer: Viewer, hash: string): Promise<unknown> {
    const status = (await this.chain.call("veil_getTransactionStatus", [hash])) as { status: string };
    if (status.status === "unknown") return status;
    const tx = (await this.chain.call("eth_getTransactionByHash", [hash])) as RpcTransaction | null;
    const parties = tx ?? this.#submitted.get(hash.toLowerCase());
    if (parties === undefined) return { status: "unknown" };
    // A drop's reason may describe the sender's account (its nonce, its funds): for the sender only.
    const visible = status.status === "dropped" ? viewer.has(parties.from) : canSeeTransaction(viewer, parties);
    return visible ? status : { status: "unknown" };
  }

  private async logs(viewer: Viewer, params: unknown[]): Promise<unknown> {
    const filter = objectParam(params[0], "a filter object");
    if (filter.blockHash === undefined) {
      // Two block numbers within the limit need no head (one RPC round trip less per query).
      const numbers = [filter.fromBlock, filter.toBlock].every((b) => typeof b === "string" && isHexString(b));
      const within =
        numbers && BigInt(filter.toBlock as string) - BigInt(filter.fromBlock as string) < this.#maxLogBlockRange;
      const head = within ? 0n : await this.head();
      const from = within ? 0n : this.tagNumber(filter.fromBlock, head);
      const to = within ? 0n : this.tagNumber(filter.toBlock, head);
      const last = to < head ? to : head;
      if (last >= from && last - from + 1n > this.#maxLogBlockRange) {
        throw new RpcError(
          RpcErrorCode.limitExceeded,
          `eth_getLogs spans ${last - from + 1n} blocks (${from} to ${last}); at most ${this.#maxLogBlockRange} at once: split the range`,
        );
      }
    }
    const logs = (await this.chain.call("eth_getLogs", [filter])) as RpcLog[];
    return this.visibleLogs(viewer, logs);
  }

  /** The logs `viewer` may see; `sender` is their transaction's sender when they all share one. */
  private async visibleLogs(viewer: Viewer, logs: RpcLog[], sender?: string): Promise<RpcLog[]> {
    const senders = new Map<string, Promise<string | undefined>>();
    const senderOf = (hash: string): Promise<string | undefined> => {
      let known = senders.get(hash);
      if (known === undefined) {
        known = (this.chain.call("eth_getTransactionByHash", [hash]) as Promise<RpcTransaction | null>).then(
          (tx) => tx?.from,
        );
        senders.set(hash, known);
      }
      return known;
    };
    // A query's logs mostly come from a few contracts: each one's declaration looked up once per query.
    const declarations = new Map<string, Promise<VisibilityConfig | undefined>>();
    const visible: RpcLog[] = [];
    for (const log of logs) {
      if (typeof log.blockNumber !== "string") continue; // not in a block (yet): no declaration to apply
      let declaration = declarations.get(log.address);
      if (declaration === undefined) {
        declaration = this.rules.declaration(log.address, BigInt(log.blockNumber));
        declarations.set(log.address, declaration);
      }
      const config = await declaration;
      const audience = eventAudience(log, config);
      const from = needsSender(viewer, audience) ? (sender ?? (await senderOf(log.transactionHash))) : undefined;
      if (canSeeEvent(viewer, audience, from)) visible.push(log);
    }
    return visible;
  }

  private async head(): Promise<bigint> {
    return BigInt((await this.chain.call("eth_blockNumber", [])) as string);
  }

  /** A block tag or number of a filter as a number (absent: latest). */
  private tagNumber(tag: unknown, head: bigint): bigint {
    if (tag === undefined || tag === null || (typeof tag === "string" && LATEST_TAGS.has(tag))) return head;
    if (tag === "earliest") return 0n;
    if (typeof tag === "string" && isHexString(tag)) return BigInt(tag);
    throw invalidParams(`${JSON.stringify(tag)} is not a block number or tag`);
  }

  /** The number of the block a read names: a tag, a number, or an EIP-1898 {blockNumber} / {blockHash}. */
  private async blockNumberOf(block: unknown): Promise<bigint> {
    if (typeof block === "object" && block !== null && !Array.isArray(block)) {
      const { blockNumber, blockHash } = block as { blockNumber?: unknown; blockHash?: unknown };
      if (blockHash !== undefined) {
        if (typeof blockHash !== "string" || !isHexString(blockHash, 32)) throw invalidParams("expected a block hash");
        const found = (await this.chain.call("eth_getBlockByHash", [blockHash, false])) as { number: string } | null;
        if (found === null) throw new RpcError(RpcErrorCode.server, `unknown block ${blockHash}`);
        return BigInt(found.number);
      }
      block = blockNumber;
    }
    const head = await this.head();
    const number = this.tagNumber(block, head);
    return number < head ? number : head;
  }
}
