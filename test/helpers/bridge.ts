/**
 * Helpers for the bridge / messenger / L2 bridge tests: message hashing computed independently of the
 * contracts, revert-reason encoding, and extraction of `MessagePublished` events as messages.
 */
import { AbiCoder, type Interface, type TransactionReceipt, concat, id, keccak256 } from "ethers";

import type { CrossChainMessage } from "../../protocol/messages.js";

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

/**
 * The messages published by the bus at `busAddress` (L1 MessageBus or L2MessageBus, same event) in
 * `receipt`, in log order.
 */
export function publishedMessages(
  receipt: TransactionReceipt | null,
  bus: { interface: Interface },
  busAddress: string,
): CrossChainMessage[] {
  if (receipt === null) throw new Error("no receipt");
  const out: CrossChainMessage[] = [];
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== busAddress.toLowerCase()) continue;
    const parsed = bus.interface.parseLog({ topics: [...log.topics], data: log.data });
    if (parsed === null || parsed.name !== "MessagePublished") continue;
    out.push({
      sender: parsed.args.sender as string,
      sequence: parsed.args.sequence as bigint,
      nonce: parsed.args.nonce as bigint,
      topic: Number(parsed.args.topic as bigint),
      payload: parsed.args.payload as string,
      consistencyLevel: Number(parsed.args.consistencyLevel as bigint),
    });
  }
  return out;
}
