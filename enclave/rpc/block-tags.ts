/**
 * The block tags `safe` and `finalized`, as op-node means them: `safe` is the last block of the last
 * batch whose rollup is on L1 (for a validator: that it has replayed from L1), `finalized` the last
 * block of the last batch whose rollup is past its challenge period. EDR takes both for `latest`, so
 * the endpoint replaces them with the block numbers before asking the chain.
 */
import { toQuantity } from "ethers";

/** The safe and finalized L2 block numbers. */
export interface SafeHeads {
  safe(): bigint;
  finalized(): bigint;
}

/** Where each method takes a block tag: a parameter index, or `logs` (the filter's fromBlock / toBlock). */
const TAG_POSITION: Readonly<Record<string, number | "logs">> = {
  eth_getBalance: 1,
  eth_getCode: 1,
  eth_getTransactionCount: 1,
  eth_getStorageAt: 2,
  eth_call: 1,
  eth_estimateGas: 1,
  eth_feeHistory: 1,
  eth_getBlockByNumber: 0,
  eth_getBlockTransactionCountByNumber: 0,
  eth_getTransactionByBlockNumberAndIndex: 0,
  eth_getLogs: "logs",
};

function resolve(tag: unknown, heads: SafeHeads): unknown {
  if (tag === "safe") return toQuantity(heads.safe());
  if (tag === "finalized") return toQuantity(heads.finalized());
  if (typeof tag === "object" && tag !== null && !Array.isArray(tag)) {
    const spec = tag as { blockNumber?: unknown };
    if (spec.blockNumber === "safe" || spec.blockNumber === "finalized") {
      return { ...spec, blockNumber: resolve(spec.blockNumber, heads) };
    }
  }
  return tag;
}

/** `params` of `method` with `safe` / `finalized` replaced by their block numbers. */
export function resolveSafeTags(method: string, params: unknown[], heads: SafeHeads): unknown[] {
  const position = TAG_POSITION[method];
  if (position === undefined) return params;
  if (position === "logs") {
    const filter = params[0];
    if (typeof filter !== "object" || filter === null || Array.isArray(filter)) return params;
    const f = filter as { fromBlock?: unknown; toBlock?: unknown };
    const resolved = { ...f };
    if (f.fromBlock !== undefined) resolved.fromBlock = resolve(f.fromBlock, heads);
    if (f.toBlock !== undefined) resolved.toBlock = resolve(f.toBlock, heads);
    return [resolved, ...params.slice(1)];
  }
  if (params.length <= position) return params;
  const out = [...params];
  out[position] = resolve(params[position], heads);
  return out;
}
