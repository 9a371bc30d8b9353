/**
 * A self-serve withdrawal: the owner of an L2 transaction that withdrew (L2Bridge → L2→L1 message)
 * proves and finalizes it on L1 with nothing but an L2 node's RPC (through a gateway, where it is
 * signed in as the sender: a withdrawal proof is its sender's only) and an L1 key. It fetches the
 * proof, waits for the root to activate when asked to, and relays each of the transaction's calls with
 * `relayMessageWithProof` — the relayers' call, so whoever comes first relays and the other finds it
 * done. Used by `npx hardhat veil:withdraw` and `npx veilnet withdraw`.
 */
import type { Signer } from "ethers";

import { Topic } from "../../protocol/messages.js";
import type { WithdrawalProof } from "../../protocol/withdrawals.js";
import { CrossChainMessenger__factory } from "../../types/ethers-contracts/index.js";
import type { L2Nodes } from "./l2-nodes.js";
import { type RelayResult, relayMessage } from "./relay.js";

/** What is wrong with the withdrawal (unknown, not the caller's, not on L1 yet, rejected …). */
export class WithdrawError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WithdrawError";
  }
}

export interface WithdrawArgs {
  /** The L2 node(s) to read the proof from, signed in as the owner (gatewayRpcUrl). */
  nodes: L2Nodes;
  txHash: string;
  /** The L1 signer: relays, and its address is the L2 account that owns the withdrawal. */
  signer: Signer;
  /** The CrossChainMessenger's address. */
  messenger: string;
  /** Wait for the rollup and the end of its challenge period instead of returning `pending`. */
  wait?: boolean;
  /** Between two looks while waiting, ms (default 2,000). */
  pollMs?: number;
  /** Longest wait, ms (default one hour). */
  timeoutMs?: number;
  /** Progress lines while waiting. */
  onProgress?: (line: string) => void;
}

export type WithdrawResult =
  | { kind: "already-relayed"; sequences: bigint[] }
  | { kind: "relayed"; relays: Array<{ sequence: bigint; result: RelayResult }> }
  /** The root activates at `activatesAt` (L1 time, s); run again then, or with `wait`. */
  | { kind: "pending"; rollupHash: string; activatesAt: bigint; l1Time: bigint };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Why the proof cannot be relayed now, or undefined when its root is active. */
function notReady(proof: WithdrawalProof): string | undefined {
  const { rollup } = proof;
  if (rollup === undefined) return `its batch ${proof.batchSeq} is in no rollup on L1 yet`;
  if (rollup.status === "unregistered") return `its rollup ${rollup.hash} is not on L1 (anymore): reorged away?`;
  if (rollup.status === "rejected") {
    return `its rollup ${rollup.hash} was rejected by the guardian: the withdrawal is relayable only once a corrected rollup carries its batch again`;
  }
  return undefined;
}

export async function withdraw(args: WithdrawArgs): Promise<WithdrawResult> {
  const owner = await args.signer.getAddress();
  const provider = args.signer.provider;
  if (provider === null) throw new Error("the L1 signer has no provider");
  const messenger = CrossChainMessenger__factory.connect(args.messenger, provider);
  const deadline = Date.now() + (args.timeoutMs ?? 3_600_000);
  const pollMs = args.pollMs ?? 2_000;
  for (;;) {
    const proof = await args.nodes.withdrawalProof(args.txHash);
    if (proof === undefined) {
      throw new WithdrawError(
        `L2 transaction ${args.txHash} is unknown, or not yours: the L2 shows a withdrawal only to its sender, and ${owner} is not it (or the transaction is not mined yet)`,
      );
    }
    if (proof.from.toLowerCase() !== owner.toLowerCase()) {
      throw new WithdrawError(`L2 transaction ${args.txHash} was sent by ${proof.from}, not by ${owner}: not yours`);
    }
    const calls = proof.messages.filter((m) => m.topic === Topic.Call);
    if (calls.length === 0) {
      throw new WithdrawError(`L2 transaction ${args.txHash} sent no L2→L1 call: it is not a withdrawal`);
    }
    const relayed = await Promise.all(calls.map((m) => messenger.isRelayed(m.sequence)));
    if (relayed.every(Boolean)) return { kind: "already-relayed", sequences: calls.map((m) => m.sequence) };

    const blocked = notReady(proof);
    const rollup = proof.rollup;
    if (blocked === undefined && rollup !== undefined && rollup.status === "active") {
      const relays: Array<{ sequence: bigint; result: RelayResult }> = [];
      for (const [i, m] of proof.messages.entries()) {
        if (m.topic !== Topic.Call) continue;
        const messageProof = rollup.proofs[i];
        if (messageProof === undefined) {
          throw new WithdrawError(
            `the withdrawal proof of ${args.txHash} has no Merkle proof of message ${m.sequence}`,
          );
        }
        const result = await relayMessage({
          messenger: args.messenger,
          signer: args.signer,
          message: m,
          proof: messageProof,
          root: rollup.messageRoot,
        });
        relays.push({ sequence: m.sequence, result });
      }
      return { kind: "relayed", relays };
    }
    if (blocked === undefined && rollup !== undefined && !args.wait) {
      return { kind: "pending", rollupHash: rollup.hash, activatesAt: rollup.activatesAt, l1Time: rollup.l1Time };
    }
    if (blocked !== undefined && !args.wait) throw new WithdrawError(`cannot withdraw ${args.txHash} yet: ${blocked}`);
    if (Date.now() > deadline) {
      throw new WithdrawError(
        `gave up waiting on ${args.txHash}: ${blocked ?? `its root activates at ${rollup!.activatesAt}`}`,
      );
    }
    args.onProgress?.(
      blocked ??
        `waiting for the challenge period of rollup ${rollup!.hash} to end (L1 time ${rollup!.l1Time}, active from ${rollup!.activatesAt})`,
    );
    await sleep(pollMs);
  }
}

/** What to tell the user of a withdrawal's result, one line each. */
export function describeWithdrawResult(txHash: string, result: WithdrawResult): string[] {
  switch (result.kind) {
    case "already-relayed":
      return [
        `The withdrawal of ${txHash} was already relayed on L1 (message ${result.sequences.join(", ")}): nothing to do`,
      ];
    case "pending": {
      const at = new Date(Number(result.activatesAt) * 1000).toISOString();
      const wait = result.activatesAt - result.l1Time;
      return [
        `The withdrawal of ${txHash} is in rollup ${result.rollupHash}, whose challenge period ends at L1 time ${result.activatesAt} (${at}, in ${wait} s)`,
        "Run again then, or pass --wait to wait for it",
      ];
    }
    case "relayed":
      return result.relays.map(({ sequence, result: r }) => {
        if (r.kind === "already-relayed") return `Message ${sequence}: already relayed`;
        if (r.kind === "relayed") return `Message ${sequence}: relayed on L1, tx ${r.txHash}`;
        return `Message ${sequence}: relayed on L1 (tx ${r.txHash}) but the L1 call failed: ${r.reason} (CrossChainMessenger.retryMessage retries it)`;
      });
  }
}
