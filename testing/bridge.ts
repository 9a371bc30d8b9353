/**
 * Helpers for the bridge / messenger / L2 bridge tests: message hashing computed independently of the
 * contracts, revert-reason encoding, and extraction of `MessagePublished` events as messages.
 */
import { AbiCoder, type Interface, type TransactionReceipt, concat, id, keccak256 } from "ethers";

import type { CrossChainMessage, L1Message } from "../protocol/messages.js";

const coder = AbiCoder.defaultAbiCoder();

export const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

/** The Solidity tuple type of `CrossChain.Message`. */
export const MESSAGE_TUPLE =
  "tuple(address sender,uint64 sequence,uint64 nonce,uint32 topic,bytes payload,uint8 consistencyLevel)";

function fields(m: CrossChainMessage): [string, bigint, bigint, number, string, number] {
  return [m.sender, m.sequence, m.nonce, m.topic, m.payload, m.consistencyLevel];
}

/** `CrossChain.leafHash`: keccak256(keccak256(abi.encode(sender, sequence, nonce, topic, payload, level))). */
export function messageLeaf(m: CrossChainMessage): string {
  return keccak256(keccak256(coder.encode(["address", "uint64", "uint64", "uint32", "bytes", "uint8"], fields(m))));
}

/** The L2 MessageBus's key of a failed L1 message: keccak256(abi.encode(message)). */
export function l1MessageHash(m: CrossChainMessage): string {
  return keccak256(coder.encode([MESSAGE_TUPLE], [fields(m)]));
}

/** The revert data of `require(false, reason)` / `revert(reason)`. */
export function errorString(reason: string): string {
  return concat([id("Error(string)").slice(0, 10), coder.encode(["string"], [reason])]);
}

/** The payload of a `TOPIC_DEPOSIT` message. */
export function depositPayload(token: string, from: string, to: string, amount: bigint): string {
  return coder.encode(["address", "address", "address", "uint256"], [token, from, to, amount]);
}

/** The payload of a `TOPIC_TOKEN_REGISTERED` message. */
export function registrationPayload(token: string, name: string, symbol: string, decimals: number | bigint): string {
  return coder.encode(["address", "string", "string", "uint8"], [token, name, symbol, decimals]);
}

/** The `MessagePublished` events of the bus at `busAddress` in `receipt`, in log order. */
function publishedEvents(receipt: TransactionReceipt | null, bus: { interface: Interface }, busAddress: string) {
  if (receipt === null) throw new Error("no receipt");
  return receipt.logs
    .filter((log) => log.address.toLowerCase() === busAddress.toLowerCase())
    .map((log) => bus.interface.parseLog({ topics: [...log.topics], data: log.data }))
    .filter((parsed) => parsed !== null && parsed.name === "MessagePublished")
    .map((parsed) => parsed!.args);
}

/** The L1→L2 messages the L1 MessageBus at `busAddress` published in `receipt` (no nonce: L2 assigns it). */
export function publishedL1Messages(
  receipt: TransactionReceipt | null,
  bus: { interface: Interface },
  busAddress: string,
): L1Message[] {
  return publishedEvents(receipt, bus, busAddress).map((args) => ({
    sender: args.sender as string,
    sequence: args.sequence as bigint,
    topic: Number(args.topic as bigint),
    payload: args.payload as string,
    consistencyLevel: Number(args.consistencyLevel as bigint),
  }));
}

/** The L2→L1 messages the L2MessageBus at `busAddress` published in `receipt`, in log order. */
export function publishedMessages(
  receipt: TransactionReceipt | null,
  bus: { interface: Interface },
  busAddress: string,
): CrossChainMessage[] {
  return publishedEvents(receipt, bus, busAddress).map((args) => ({
    sender: args.sender as string,
    sequence: args.sequence as bigint,
    nonce: args.nonce as bigint,
    topic: Number(args.topic as bigint),
    payload: args.payload as string,
    consistencyLevel: Number(args.consistencyLevel as bigint),
  }));
}
