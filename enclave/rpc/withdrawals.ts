/**
 * The node's withdrawal methods (protocol/withdrawals.ts), served by sequencers and validators alike:
 * - `veil_getRollupMessages(rollupHash | messageRoot)`: the L2→L1 messages of a rollup on L1, i.e. those
 *   its batches firstBatchSeq…lastBatchSeq published, read back from this node's own L2 chain. Public:
 *   relaying publishes every one of them in L1 calldata anyway (docs/trust-model.md).
 * - `veil_getWithdrawalProof(l2TxHash)`: the messages one transaction emitted, its batch, and once a
 *   rollup carrying that batch is on L1 its hash, root, each message's Merkle proof and the root's L1
 *   state. Answered only through the privacy filter, to the transaction's sender (filter.ts).
 * The rollups come from L1 (RollupIndex); the messages from the chain, so nothing is kept besides it.
 * A node whose chain does not (yet) hold a rollup's batches, or whose batches build another root (a
 * validator behind, or one that replayed something else), says so with an error: a client then asks
 * another node.
 */
import { getAddress, isHexString, toQuantity } from "ethers";

import { type CrossChainMessage, MessageTree } from "../../protocol/messages.js";
import { L2_GENESIS_BLOCKS, L2Predeploys } from "../../protocol/predeploys.js";
import {
  type RollupMessages,
  type RollupRef,
  type WithdrawalProof,
  rollupMessagesToJson,
  withdrawalProofToJson,
} from "../../protocol/withdrawals.js";
import { type L2Provider, l2MessageBusInterface, publishedMessage } from "../execution/l2-chain.js";
import { RpcError, RpcErrorCode, invalidParams } from "./jsonrpc.js";
import type { RollupIndex } from "./rollup-index.js";

const MESSAGE_PUBLISHED = l2MessageBusInterface.getEvent("MessagePublished")!.topicHash;

interface RpcLog {
  address: string;
  topics: string[];
  data: string;
}

interface RpcReceipt {
  from: string;
  blockNumber: string;
  logs: RpcLog[];
}

/** Where a node reads the messages its batches published. */
export interface BatchMessages {
  /** The L2→L1 messages of batches `first`…`last` in order, or undefined when the chain lacks some of them. */
  messagesOf(first: bigint, last: bigint): Promise<CrossChainMessage[] | undefined>;
}

/** The messages published by an L2 MessageBus log list (others skipped). */
export function publishedMessages(logs: readonly RpcLog[]): CrossChainMessage[] {
  const out: CrossChainMessage[] = [];
  for (const log of logs) {
    if (getAddress(log.address) !== L2Predeploys.messageBus || log.topics[0] !== MESSAGE_PUBLISHED) continue;
    out.push(publishedMessage(log));
  }
  return out;
}

/** A batch's messages from the node's L2 chain: the MessagePublished logs of its block (one block per batch). */
export function chainBatchMessages(provider: L2Provider): BatchMessages {
  return {
    async messagesOf(first, last) {
      const head = BigInt((await provider.request({ method: "eth_blockNumber", params: [] })) as string);
      if (head < L2_GENESIS_BLOCKS + last) return undefined;
      const logs = (await provider.request({
        method: "eth_getLogs",
        params: [
          {
            fromBlock: toQuantity(L2_GENESIS_BLOCKS + first),
            toBlock: toQuantity(L2_GENESIS_BLOCKS + last),
            address: L2Predeploys.messageBus,
            topics: [MESSAGE_PUBLISHED],
          },
        ],
      })) as RpcLog[];
      return publishedMessages(logs);
    },
  };
}

export interface WithdrawalMethodsDeps {
  /** The node's L2 chain (receipts). */
  provider: L2Provider;
  rollups: RollupIndex;
  /** Default: the chain's own logs (chainBatchMessages). */
  batches?: BatchMessages;
}

function hash32Param(params: unknown[], what: string): string {
  const value = params[0];
  if (typeof value !== "string" || !isHexString(value, 32))
    throw invalidParams(`expected ${what} (0x + 64 hex digits)`);
  return value.toLowerCase();
}

export class WithdrawalMethods {
  private readonly batches: BatchMessages;

  constructor(private readonly deps: WithdrawalMethodsDeps) {
    this.batches = deps.batches ?? chainBatchMessages(deps.provider);
  }

  /** `veil_getRollupMessages` as JSON: null for a rollup not on L1 (as far as this node read it). */
  async rollupMessagesJson(params: unknown[]): Promise<unknown> {
    const ref = hash32Param(params, "a rollup hash or message root");
    const rollup = await this.deps.rollups.find(ref);
    if (rollup === undefined) return null;
    return rollupMessagesToJson(await this.rollupMessages(rollup));
  }

  /** The messages of `rollup`, checked against its root; an error when this node cannot build them. */
  async rollupMessages(rollup: RollupRef): Promise<RollupMessages> {
    const messages = await this.batches.messagesOf(rollup.firstBatchSeq, rollup.lastBatchSeq);
    const range = `batches ${rollup.firstBatchSeq}…${rollup.lastBatchSeq} of rollup ${rollup.hash}`;
    if (messages === undefined) {
      throw new RpcError(RpcErrorCode.server, `this node's L2 chain does not hold ${range} yet: ask another node`);
    }
    const root = messages.length === 0 ? `0x${"00".repeat(32)}` : new MessageTree(messages).root;
    if (root.toLowerCase() !== rollup.messageRoot.toLowerCase()) {
      throw new RpcError(
        RpcErrorCode.server,
        `this node's ${range} build message root ${root}, L1 has ${rollup.messageRoot} (not replayed yet, or voided): ask another node`,
      );
    }
    return { rollup, messages };
  }

  /**
   * `veil_getWithdrawalProof` as JSON for a viewer: null for an unknown transaction and for one whose
   * sender `mayView` refuses (the same answer, so that not even its existence leaks).
   */
  async withdrawalProofJson(params: unknown[], mayView: (sender: string) => boolean): Promise<unknown> {
    const hash = hash32Param(params, "an L2 transaction hash");
    const proof = await this.withdrawalProof(hash, mayView);
    return proof === undefined ? null : withdrawalProofToJson(proof);
  }

  private async withdrawalProof(
    hash: string,
    mayView: (sender: string) => boolean,
  ): Promise<WithdrawalProof | undefined> {
    const receipt = (await this.deps.provider.request({
      method: "eth_getTransactionReceipt",
      params: [hash],
    })) as RpcReceipt | null;
    if (receipt === null || !mayView(receipt.from)) return undefined;
    const l2BlockNumber = BigInt(receipt.blockNumber);
    const batchSeq = l2BlockNumber - L2_GENESIS_BLOCKS;
    const messages = publishedMessages(receipt.logs);
    const proof: WithdrawalProof = {
      transactionHash: hash,
      from: getAddress(receipt.from),
      l2BlockNumber,
      batchSeq,
      messages,
    };
    const rollup = messages.length === 0 ? undefined : await this.deps.rollups.covering(batchSeq);
    if (rollup === undefined) return proof;
    const { messages: all } = await this.rollupMessages(rollup);
    const tree = new MessageTree(all);
    proof.rollup = {
      ...rollup,
      ...(await this.deps.rollups.rootState(rollup)),
      proofs: messages.map((m) => tree.proofFor(m.sequence)),
    };
    return proof;
  }
}
