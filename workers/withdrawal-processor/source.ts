/**
 * Where the withdrawal-processor gets a rollup's L2→L1 messages from. The L1 only carries the message
 * root; the messages themselves (and so the Merkle proofs) come from the L2 nodes, sequencers and
 * validators alike, each serving `veil_getRollupMessages` from its own chain (WITHDRAWAL_L2_RPC_URLS).
 * The answer is checked against the root here and again by the processor before anything is relayed.
 */
import type { CrossChainMessage } from "../../protocol/messages.js";
import type { Logger } from "../../platform/logger.js";
import { L2Nodes, L2NodesError } from "../../platform/withdrawals/l2-nodes.js";

export interface WithdrawalSource {
  /** The L2→L1 messages of the rollup whose message root is `root`, or undefined when unknown (yet). */
  messagesForRoot(root: string): Promise<CrossChainMessage[] | undefined>;
}

/**
 * The messages from the first of `urls` that answers (platform/withdrawals L2Nodes: fail-over, checked
 * root). When no node can give them (none holds the rollup's batches yet, none reachable) they are
 * unknown for now: the job is retried with backoff, and what each node said is logged.
 */
export class L2NodeWithdrawalSource implements WithdrawalSource {
  readonly nodes: L2Nodes;

  constructor(
    urls: readonly string[],
    private readonly options: { timeoutMs?: number; logger?: Logger } = {},
  ) {
    this.nodes = new L2Nodes(urls, options);
  }

  async messagesForRoot(root: string): Promise<CrossChainMessage[] | undefined> {
    try {
      return (await this.nodes.rollupMessages(root))?.messages;
    } catch (e) {
      if (!(e instanceof L2NodesError)) throw e;
      this.options.logger?.warn({ root, failures: e.failures }, "no L2 node gave the rollup's messages");
      return undefined;
    }
  }
}
