/**
 * Reading withdrawals from L2 nodes: a rollup's L2→L1 messages and a transaction's withdrawal proof
 * (protocol/withdrawals.ts), from the first of a list of node URLs that answers. A URL that fails
 * (unreachable, timeout, JSON-RPC error, malformed answer, messages that do not build the rollup's
 * root) is skipped for the next; when none answers, the error names each URL and what it said. Any node
 * will do, sequencer or validator: none is trusted, since every answer is checked against L1's root
 * (here, and again by the messenger on relay).
 */
import { MessageTree } from "../../protocol/messages.js";
import { jsonRpcCall } from "../json-rpc-client.js";
import {
  ROLLUP_MESSAGES_METHOD,
  type RollupMessages,
  WITHDRAWAL_PROOF_METHOD,
  type WithdrawalProof,
  parseRollupMessages,
  parseWithdrawalProof,
  verifyMessageProof,
} from "../../protocol/withdrawals.js";

/** Every URL failed; `failures` says how each one did. */
export class L2NodesError extends Error {
  constructor(
    readonly what: string,
    readonly failures: ReadonlyArray<{ url: string; error: string }>,
  ) {
    super(`${what}: no L2 node answered (${failures.map((f) => `${f.url}: ${f.error}`).join("; ")})`);
    this.name = "L2NodesError";
  }
}

export interface L2NodesOptions {
  /** Per request, ms (default 10,000). */
  timeoutMs?: number;
}

/** The URL without its query (a gateway token is a credential: never in errors or logs). */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return url;
  }
}

export class L2Nodes {
  readonly urls: readonly string[];
  private readonly timeoutMs: number;

  constructor(urls: readonly string[], options: L2NodesOptions = {}) {
    if (urls.length === 0) throw new Error("no L2 node URL given");
    for (const url of urls) {
      if (!/^https?:\/\//.test(url)) throw new Error(`L2 node URL ${JSON.stringify(url)} is not http(s)://…`);
    }
    this.urls = [...urls];
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /**
   * The messages of the rollup with hash or message root `ref`, checked against the rollup's root;
   * undefined when the nodes that answered know no such rollup on L1 (yet).
   */
  rollupMessages(ref: string): Promise<RollupMessages | undefined> {
    return this.first(`the messages of rollup ${ref}`, ROLLUP_MESSAGES_METHOD, [ref], (json) => {
      const answer = parseRollupMessages(json);
      const { rollup, messages } = answer;
      const key = ref.toLowerCase();
      if (rollup.hash.toLowerCase() !== key && rollup.messageRoot.toLowerCase() !== key) {
        throw new Error(`answered rollup ${rollup.hash} (root ${rollup.messageRoot}), not ${ref}`);
      }
      const root = messages.length === 0 ? undefined : new MessageTree(messages).root.toLowerCase();
      if (root !== rollup.messageRoot.toLowerCase()) {
        throw new Error(`its messages build root ${root ?? "(none)"}, not the rollup's ${rollup.messageRoot}`);
      }
      return answer;
    });
  }

  /**
   * The withdrawal proof of L2 transaction `txHash`; undefined when the nodes answered that they know
   * no such transaction, or that it is not the caller's (they answer both alike).
   */
  withdrawalProof(txHash: string): Promise<WithdrawalProof | undefined> {
    return this.first(`the withdrawal proof of ${txHash}`, WITHDRAWAL_PROOF_METHOD, [txHash], (json) => {
      const proof = parseWithdrawalProof(json);
      if (proof.transactionHash.toLowerCase() !== txHash.toLowerCase()) {
        throw new Error(`answered transaction ${proof.transactionHash}, not ${txHash}`);
      }
      if (proof.rollup !== undefined) {
        const { proofs, messageRoot } = proof.rollup;
        for (const [i, m] of proof.messages.entries()) {
          const messageProof = proofs[i];
          if (messageProof === undefined) throw new Error(`answered no proof of message ${m.sequence}`);
          if (!verifyMessageProof(messageRoot, m, messageProof)) {
            throw new Error(`the proof of message ${m.sequence} does not verify against root ${messageRoot}`);
          }
        }
      }
      return proof;
    });
  }

  /** The first URL's checked answer; undefined when every URL that answered said null. */
  private async first<T>(
    what: string,
    method: string,
    params: unknown[],
    check: (json: unknown) => T,
  ): Promise<T | undefined> {
    const failures: { url: string; error: string }[] = [];
    let unknown = false;
    for (const url of this.urls) {
      try {
        const json = await jsonRpcCall(url, method, params, this.timeoutMs);
        if (json === null) {
          unknown = true;
          continue;
        }
        return check(json);
      } catch (e) {
        failures.push({ url: displayUrl(url), error: e instanceof Error ? e.message : String(e) });
      }
    }
    if (unknown) return undefined;
    throw new L2NodesError(what, failures);
  }
}
