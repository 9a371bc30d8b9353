/**
 * Relaying one L2→L1 message on L1: `CrossChainMessenger.relayMessageWithProof(message, proof, root)`,
 * the call the withdrawal-processor makes through its TxSender, here also sent directly with a signer
 * (self-serve withdrawals). A message is relayed once: `isRelayed` tells whether anyone did already.
 */
import type { Signer, TransactionReceipt } from "ethers";

import type { CrossChainMessage } from "../../protocol/messages.js";
import { type CrossChainMessenger, CrossChainMessenger__factory } from "../../types/ethers-contracts/index.js";
import { decodeRevert, decodeRevertError, veilnetErrorInterfaces } from "../revert.js";

const messengerInterface = CrossChainMessenger__factory.createInterface();

/** Calldata of `relayMessageWithProof(message, proof, root)`. */
export function relayCalldata(message: CrossChainMessage, proof: readonly string[], root: string): string {
  return messengerInterface.encodeFunctionData("relayMessageWithProof", [message, [...proof], root]);
}

/** The outcome of relaying `sequence`, from a mined transaction's messenger logs (undefined: neither log). */
export function relayOutcome(
  receipt: Pick<TransactionReceipt, "logs">,
  sequence: bigint,
  messenger: string,
): { kind: "relayed" } | { kind: "failed"; reason: string } | undefined {
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== messenger.toLowerCase()) continue;
    let parsed;
    try {
      parsed = messengerInterface.parseLog({ topics: [...log.topics], data: log.data });
    } catch {
      continue;
    }
    if (parsed === null || BigInt(parsed.args.sequence as bigint) !== sequence) continue;
    if (parsed.name === "MessageRelayed") return { kind: "relayed" };
    if (parsed.name === "MessageRelayFailed")
      return { kind: "failed", reason: decodeTargetReason(String(parsed.args.reason)) };
  }
  return undefined;
}

/** The target's revert data of a MessageRelayFailed, decoded with the Veilnet interfaces / Error(string). */
export function decodeTargetReason(reason: string): string {
  return decodeRevert(reason === "0x" ? undefined : reason, veilnetErrorInterfaces()).reason;
}

export type RelayResult =
  | { kind: "already-relayed" }
  | { kind: "relayed"; txHash: string }
  /** Relayed, but the target call failed: the messenger recorded it for `retryMessage`. */
  | { kind: "target-failed"; txHash: string; reason: string };

/**
 * Relays `message` under `root` with `signer`, unless it was relayed already. Throws with the decoded
 * reason when the transaction reverts (root not active, rejected, bad proof …).
 */
export async function relayMessage(args: {
  messenger: string;
  signer: Signer;
  message: CrossChainMessage;
  proof: readonly string[];
  root: string;
}): Promise<RelayResult> {
  const messenger: CrossChainMessenger = CrossChainMessenger__factory.connect(args.messenger, args.signer);
  if (await messenger.isRelayed(args.message.sequence)) return { kind: "already-relayed" };
  let receipt: TransactionReceipt | null;
  try {
    const tx = await args.signer.sendTransaction({
      to: args.messenger,
      data: relayCalldata(args.message, args.proof, args.root),
    });
    receipt = await tx.wait();
  } catch (e) {
    const { reason } = decodeRevertError(e, veilnetErrorInterfaces());
    throw new Error(`relayMessageWithProof of message ${args.message.sequence} failed: ${reason}`, { cause: e });
  }
  if (receipt === null) throw new Error(`the relay of message ${args.message.sequence} was not mined`);
  const outcome = relayOutcome(receipt, args.message.sequence, args.messenger);
  if (outcome?.kind === "failed") return { kind: "target-failed", txHash: receipt.hash, reason: outcome.reason };
  return { kind: "relayed", txHash: receipt.hash };
}
