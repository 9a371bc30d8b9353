/**
 * The L2's JSON-RPC methods as the chain answers them, unfiltered: the standard `eth_` methods a
 * wallet uses, read from the enclave's EDR chain, with transactions going through the sequencer's
 * mempool. Only an allow-list is served: EDR's `hardhat_`/`evm_` methods (which could mint or
 * rewrite state) never are. The node serves these as they are only with L2_RPC_UNFILTERED (operators,
 * debugging); otherwise the privacy filter (filter.ts) answers on top of them.
 */
import { Transaction, getAddress, isHexString, keccak256, toQuantity } from "ethers";

import { L2_CHAIN_ID, L2_GENESIS_BLOCKS } from "../../protocol/predeploys.js";
import type { L1FeeCharge } from "../execution/l1-fee.js";
import type { L2Provider } from "../execution/l2-chain.js";
import { type Mempool, MempoolError, type TxStatus, decodeSigned } from "../sequencer/mempool.js";
import { type OpcodeTrace, blockAnswer, readsPrevrandao, receiptAnswer, transactionAnswer } from "./answers.js";
import { type SafeHeads, resolveSafeTags } from "./block-tags.js";
import { RpcError, RpcErrorCode, invalidParams } from "./jsonrpc.js";

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

/** Every method ChainMethods answers. */
export const CHAIN_METHODS: ReadonlySet<string> = new Set([
  ...PASS_THROUGH,
  "eth_chainId",
  "net_version",
  "web3_clientVersion",
  "eth_accounts",
  "eth_gasPrice",
  "eth_maxPriorityFeePerGas",
  "eth_sendRawTransaction",
  "eth_getTransactionCount",
  "eth_getTransactionByHash",
  "veil_getTransactionStatus",
]);

/** The L1 data fee each user transaction was charged (L2Chain.l1FeeOf). */
export interface L1FeeRecords {
  l1FeeOf(hash: string): L1FeeCharge | undefined;
}

/** Before the node knows of any rollup on L1: the last block of the genesis. */
const NOTHING_SAFE: SafeHeads = { safe: () => L2_GENESIS_BLOCKS - 1n, finalized: () => L2_GENESIS_BLOCKS - 1n };

/** Methods answering transaction objects. */
const TRANSACTION_METHODS = new Set([
  "eth_getTransactionByBlockNumberAndIndex",
  "eth_getTransactionByBlockHashAndIndex",
]);

export interface ChainMethodsDeps {
  provider: L2Provider;
  /** The L1 data fees charged, for receipts (without it receipts carry no L1 fee fields). */
  l1Fees?: L1FeeRecords;
  /** The `safe` and `finalized` blocks (default: the genesis, as before any rollup is on L1). */
  heads?: SafeHeads;
  /** The sequencer's mempool; absent on a validator (it accepts no transactions). */
  mempool?: Mempool;
  /**
   * A validator without a mempool that follows the committee's gossip: forwards a signed transaction
   * (checked for form, signature and chain first) to the committee, sealed (enclave/committee/gossip.ts).
   */
  forward?: (raw: string) => void;
  /** Minimum priority fee the mempool takes (answered by eth_gasPrice / eth_maxPriorityFeePerGas). */
  minPriorityFee: bigint;
  clientVersion: string;
}

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

/** A mempool status as JSON (bigints as decimal strings). */
function statusJson(status: TxStatus): unknown {
  return JSON.parse(JSON.stringify(status, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));
}

export class ChainMethods {
  constructor(readonly deps: ChainMethodsDeps) {}

  get provider(): L2Provider {
    return this.deps.provider;
  }

  get mempool(): Mempool | undefined {
    return this.deps.mempool;
  }

  async call(method: string, rawParams: unknown[]): Promise<unknown> {
    const { provider, mempool } = this.deps;
    const params = resolveSafeTags(method, rawParams, this.deps.heads ?? NOTHING_SAFE);
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
        const raw = params[0];
        if (mempool === undefined && this.deps.forward === undefined) {
          throw new RpcError(RpcErrorCode.server, "this node is a validator: send transactions to the sequencer");
        }
        if (typeof raw !== "string") throw invalidParams("expected the signed transaction as 0x hex");
        if (mempool !== undefined) return mempool.add(raw);
        const { tx } = decodeSigned(raw);
        if (tx.chainId !== L2_CHAIN_ID) {
          throw new MempoolError("wrong-chain", `transaction is for chain ${tx.chainId}, this is chain ${L2_CHAIN_ID}`);
        }
        this.deps.forward?.(raw);
        return keccak256(raw);
      }
      case "eth_getTransactionCount": {
        const [address, tag] = params;
        if (typeof address !== "string" || !isHexString(address, 20)) throw invalidParams("expected an address");
        const count = BigInt((await provider.request({ method, params: [address, "latest"] })) as string);
        if (tag === "pending" && mempool !== undefined)
          return toQuantity(mempool.pendingNonce(getAddress(address), count));
        if (tag === undefined || tag === "latest" || tag === "pending") return toQuantity(count);
        return provider.request({ method, params });
      }
      case "eth_getTransactionByHash": {
        const hash = hashParam(params);
        const mined = transactionAnswer(await provider.request({ method, params: [hash] }));
        if (mined !== null || mempool === undefined) return mined;
        const pending = mempool.get(hash);
        if (pending === undefined) return null;
        return pendingTransactionJson(pending.raw, pending.sender);
      }
      case "veil_getTransactionStatus": {
        const hash = hashParam(params);
        const status = mempool?.status(hash);
        if (status !== undefined) return statusJson(status);
        const receipt = (await provider.request({ method: "eth_getTransactionReceipt", params: [hash] })) as {
          status: string;
          blockNumber: string;
        } | null;
        if (receipt === null) return { status: "unknown" };
        return { status: receipt.status === "0x1" ? "succeeded" : "reverted", blockNumber: receipt.blockNumber };
      }
      case "eth_getTransactionReceipt": {
        const receipt = await provider.request({ method, params });
        const hash = typeof params[0] === "string" ? params[0] : "";
        return receiptAnswer(receipt, this.deps.l1Fees?.l1FeeOf(hash));
      }
      case "eth_getBlockByNumber":
      case "eth_getBlockByHash":
        return this.block(method, params);
      case "eth_call":
        return this.ethCall(params);
      case "eth_estimateGas":
        // The pending block's prevrandao is public (zero): an estimate never depends on a batch's entropy.
        return provider.request({ method, params: [params[0], isLatest(params[1]) ? "pending" : params[1]] });
      default:
        if (TRANSACTION_METHODS.has(method)) return transactionAnswer(await provider.request({ method, params }));
        if (PASS_THROUGH.has(method)) return provider.request({ method, params });
        throw new RpcError(RpcErrorCode.methodNotFound, `method ${method} is not available on this endpoint`);
    }
  }

  /** A block without the batch's entropy; the pending block as geth shows it. */
  private async block(method: string, params: unknown[]): Promise<unknown> {
    const block = await this.deps.provider.request({ method, params });
    if (method !== "eth_getBlockByNumber" || params[0] !== "pending") return blockAnswer(block);
    const head = BigInt((await this.deps.provider.request({ method: "eth_blockNumber", params: [] })) as string);
    return blockAnswer(block, head + 1n);
  }

  /**
   * eth_call. A call at a mined block runs in that block's context, whose `prevrandao` is the batch's
   * secret entropy: it is traced first (EDR's erc7562Tracer lists the opcodes each frame ran), and
   * refused if it read PREVRANDAO. A call that fails is asked again as eth_call, for the chain's own
   * error (a revert's reason and data). The pending block's prevrandao is public: no trace needed.
   */
  private async ethCall(params: unknown[]): Promise<unknown> {
    const { provider } = this.deps;
    if (params[1] === "pending") return provider.request({ method: "eth_call", params });
    const tag = params[1] ?? "latest";
    const trace = (await provider.request({
      method: "debug_traceCall",
      params: [params[0], tag, { tracer: "erc7562Tracer", ...(params[2] ? { stateOverrides: params[2] } : {}) }],
    })) as OpcodeTrace;
    if (readsPrevrandao(trace)) {
      throw new RpcError(
        RpcErrorCode.notAuthorized,
        'not authorized: this call reads block.prevrandao, the batch\'s secret entropy, which is never published; call at block tag "pending" (whose prevrandao is 0)',
      );
    }
    if (trace.error !== undefined) return provider.request({ method: "eth_call", params });
    return trace.output ?? "0x";
  }
}

/** A block tag meaning the head: absent, `latest` or `pending`. */
function isLatest(tag: unknown): boolean {
  return tag === undefined || tag === null || tag === "latest" || tag === "pending";
}

/** The transaction hash of `params[0]`. */
export function hashParam(params: unknown[]): string {
  const hash = params[0];
  if (typeof hash !== "string" || !isHexString(hash, 32)) throw invalidParams("expected a transaction hash");
  return hash;
}
