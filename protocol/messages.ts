/**
 * Cross-chain messages: their shape, Veilnet's topics, call payloads, and the L2→L1 message tree
 * (OpenZeppelin StandardMerkleTree, leaf encoding as in contracts/libraries/CrossChain.sol).
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { AbiCoder, concat, dataSlice, id } from "ethers";

export interface CrossChainMessage {
  sender: string;
  sequence: bigint;
  nonce: bigint;
  topic: number;
  payload: string;
  consistencyLevel: number;
}

/**
 * An L1→L2 message as the L1 MessageBus publishes it: L1 stores no per-sender nonce, the L2MessageBus
 * assigns it at delivery (see contracts/libraries/CrossChain.sol `L1Message`).
 */
export type L1Message = Omit<CrossChainMessage, "nonce">;

export const Topic = { Deposit: 1, TokenRegistered: 2, Call: 3 } as const;

export const MESSAGE_LEAF_ENCODING = ["address", "uint64", "uint64", "uint32", "bytes", "uint8"];

type LeafValue = [string, bigint, bigint, number, string, number];

function leafValue(m: CrossChainMessage): LeafValue {
  return [m.sender, m.sequence, m.nonce, m.topic, m.payload, m.consistencyLevel];
}

/** The Merkle tree of a rollup's L2→L1 messages. */
export class MessageTree {
  readonly tree: StandardMerkleTree<LeafValue>;

  constructor(readonly messages: readonly CrossChainMessage[]) {
    if (messages.length === 0) throw new Error("a message tree needs at least one message");
    this.tree = StandardMerkleTree.of(messages.map(leafValue), MESSAGE_LEAF_ENCODING);
  }

  get root(): string {
    return this.tree.root;
  }

  /** The proof of the message at `index` in the list the tree was built from. */
  proof(index: number): string[] {
    return this.tree.getProof(index);
  }

  /** The proof of the message with L2 sequence number `sequence`. */
  proofFor(sequence: bigint): string[] {
    const index = this.messages.findIndex((m) => m.sequence === sequence);
    if (index < 0) throw new Error(`message ${sequence} is not in this tree`);
    return this.proof(index);
  }
}

/** The payload of a `Topic.Call` message: `abi.encode(address target, bytes data)`. */
export function encodeCallPayload(target: string, data: string): string {
  return AbiCoder.defaultAbiCoder().encode(["address", "bytes"], [target, data]);
}

/**
 * The L1 call a withdrawal message carries, IBridge.finalizeWithdrawal(address token, address to, uint256
 * amount): its selector and arguments' ABI types. A format, not the contract's ABI (test/protocol/abi-formats.ts
 * checks it against the compiled IBridge).
 */
export const FINALIZE_WITHDRAWAL_ARGUMENTS: readonly string[] = ["address token", "address to", "uint256 amount"];
export const FINALIZE_WITHDRAWAL_SELECTOR = dataSlice(id("finalizeWithdrawal(address,address,uint256)"), 0, 4);

/** The calldata of IBridge.finalizeWithdrawal(token, to, amount). */
export function encodeFinalizeWithdrawal(token: string, to: string, amount: bigint): string {
  return concat([
    FINALIZE_WITHDRAWAL_SELECTOR,
    AbiCoder.defaultAbiCoder().encode(FINALIZE_WITHDRAWAL_ARGUMENTS, [token, to, amount]),
  ]);
}

/** The L2→L1 message the L2 bridge publishes for a withdrawal of `amount` of `l1Token` (zero = ETH). */
export function withdrawalMessage(args: {
  l2Bridge: string;
  l1Bridge: string;
  l1Token: string;
  to: string;
  amount: bigint;
  sequence: bigint;
  nonce?: bigint;
}): CrossChainMessage {
  const data = encodeFinalizeWithdrawal(args.l1Token, args.to, args.amount);
  return {
    sender: args.l2Bridge,
    sequence: args.sequence,
    nonce: args.nonce ?? args.sequence,
    topic: Topic.Call,
    payload: encodeCallPayload(args.l1Bridge, data),
    consistencyLevel: 1,
  };
}

/** The payload of a `Topic.Deposit` message. */
export function decodeDepositPayload(payload: string): { token: string; from: string; to: string; amount: bigint } {
  const [token, from, to, amount] = AbiCoder.defaultAbiCoder().decode(
    ["address", "address", "address", "uint256"],
    payload,
  ) as unknown as [string, string, string, bigint];
  return { token, from, to, amount };
}

/** A message as JSON (the integers as decimal strings): how stores and RPC answers carry it. */
export interface MessageJson {
  sender: string;
  sequence: string;
  nonce: string;
  topic: number;
  payload: string;
  consistencyLevel: number;
}

export function messageToJson(m: CrossChainMessage): MessageJson {
  return {
    sender: m.sender,
    sequence: m.sequence.toString(),
    nonce: m.nonce.toString(),
    topic: m.topic,
    payload: m.payload,
    consistencyLevel: m.consistencyLevel,
  };
}

export function messageFromJson(m: MessageJson): CrossChainMessage {
  return { ...m, sequence: BigInt(m.sequence), nonce: BigInt(m.nonce) };
}
