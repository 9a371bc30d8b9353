/**
 * The node's withdrawal methods (enclave/rpc/withdrawals.ts) for tests whose rollups are built by the
 * fixture rather than by a sequencer: the real RollupIndex reads the rollups from the test's L1, the
 * real WithdrawalMethods answer `veil_getRollupMessages` over the node's JSON-RPC transport, and the
 * batches' messages are those the fixture says its batches published (what a node's chain logs hold).
 */
import type { Provider } from "ethers";

import { RollupIndex } from "../enclave/rpc/rollup-index.js";
import { JsonRpcHttpServer } from "../enclave/rpc/http.js";
import { RpcError, RpcErrorCode, answer } from "../enclave/rpc/jsonrpc.js";
import { type BatchMessages, WithdrawalMethods } from "../enclave/rpc/withdrawals.js";
import type { CrossChainMessage } from "../protocol/messages.js";
import { ROLLUP_MESSAGES_METHOD } from "../protocol/withdrawals.js";

/** Batches' messages held in memory: `publish(seq, messages)` says what batch `seq` published. */
export class MemoryBatchMessages implements BatchMessages {
  private readonly batches = new Map<bigint, CrossChainMessage[]>();
  /** The newest batch the "chain" holds (batches above it are missing). */
  head = -1n;

  publish(seq: bigint, messages: readonly CrossChainMessage[]): void {
    this.batches.set(seq, [...messages]);
    if (seq > this.head) this.head = seq;
  }

  messagesOf(first: bigint, last: bigint): Promise<CrossChainMessage[] | undefined> {
    if (last > this.head) return Promise.resolve(undefined);
    const out: CrossChainMessage[] = [];
    for (let s = first; s <= last; s++) out.push(...(this.batches.get(s) ?? []));
    return Promise.resolve(out);
  }
}

export interface WithdrawalNode {
  url: string;
  batches: MemoryBatchMessages;
  methods: WithdrawalMethods;
  close(): Promise<void>;
}

/** Serves `veil_getRollupMessages` for the rollups on `provider`'s L1 on a free port. */
export async function startWithdrawalNode(options: {
  provider: Provider;
  rollupRegistry: string;
  messageBus: string;
  fromBlock?: number;
}): Promise<WithdrawalNode> {
  const batches = new MemoryBatchMessages();
  const rollups = new RollupIndex({ ...options, fromBlock: options.fromBlock ?? 0 });
  const methods = new WithdrawalMethods({
    provider: { request: () => Promise.reject(new Error("this test node has no L2 chain")) },
    rollups,
    batches,
  });
  const server = new JsonRpcHttpServer((request) =>
    answer(request, (method, params) => {
      if (method === ROLLUP_MESSAGES_METHOD) return methods.rollupMessagesJson(params);
      throw new RpcError(RpcErrorCode.methodNotFound, `method ${method} is not served by this test node`);
    }),
  );
  const url = await server.listen(0);
  return { url, batches, methods, close: () => server.close() };
}
