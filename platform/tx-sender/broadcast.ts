/** Broadcasting a signed transaction and classifying the node's answer (what the sender does next). */
import { JsonRpcProvider } from "ethers";

import type { SenderState } from "./state.js";

/** How a node answered a raw transaction. */
export type BroadcastResult =
  | { kind: "ok" }
  /** Already in the node's pool. */
  | { kind: "known" }
  | { kind: "nonce-too-low"; message: string }
  | { kind: "underpriced"; message: string }
  /** Definitive refusal (funds, gas limit, malformed): retrying the same transaction cannot help. */
  | { kind: "rejected"; message: string }
  /** Anything else (transport error, node busy, nonce gap under automine): retried by the monitor. */
  | { kind: "unknown"; message: string };

/** eth_sendRawTransaction, classified. Never throws. */
export async function broadcast(state: SenderState, raw: string): Promise<BroadcastResult> {
  try {
    await fastSend(state, "eth_sendRawTransaction", [raw]);
    return { kind: "ok" };
  } catch (e) {
    return classifyBroadcastError(errorMessage(e));
  }
}

/**
 * A JSON-RPC call sent at once. ethers' `send` waits up to `batchStallTime` (10 ms) to batch requests,
 * which would cap a critical section that broadcasts one transaction at a time at ~100 tx/s; over HTTP
 * we post the request directly.
 */
async function fastSend(state: SenderState, method: string, params: unknown[]): Promise<unknown> {
  const provider = state.provider;
  if (!(provider instanceof JsonRpcProvider)) return provider.send(method, params);
  const payload = { jsonrpc: "2.0" as const, id: state.rpcId++, method, params };
  const [response] = (await provider._send(payload)) as unknown as {
    result?: unknown;
    error?: { code: number; message?: string; data?: unknown };
  }[];
  if (response === undefined) throw new Error(`${method}: empty response`);
  if (response.error !== undefined) {
    throw Object.assign(new Error(response.error.message ?? JSON.stringify(response.error)), {
      error: response.error,
    });
  }
  return response.result;
}

/** The message of an ethers / JSON-RPC error, including the node's own message when nested. */
function errorMessage(e: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number) => {
    if (value === null || typeof value !== "object" || seen.has(value) || depth > 5) return;
    seen.add(value);
    const r = value as Record<string, unknown>;
    if (typeof r.message === "string") parts.push(r.message);
    if (typeof r.code === "string") parts.push(r.code);
    for (const k of ["error", "info", "cause"]) visit(r[k], depth + 1);
  };
  visit(e, 0);
  return parts.length > 0 ? parts.join(" | ") : String(e);
}

function classifyBroadcastError(message: string): BroadcastResult {
  if (/already known|known transaction|alreadyknown|already imported|already exists/i.test(message)) {
    return { kind: "known" };
  }
  if (/nonce too low|nonce.*too low|nonce has already been used|NONCE_EXPIRED|oldnonce/i.test(message)) {
    return { kind: "nonce-too-low", message };
  }
  if (/replacement.*underpriced|underpriced replacement|REPLACEMENT_UNDERPRICED/i.test(message)) {
    return { kind: "underpriced", message };
  }
  if (
    /insufficient funds|enough funds|intrinsic gas too low|exceeds block gas limit|gas limit reached|invalid sender|invalid signature|invalid chain id|oversized data|INSUFFICIENT_FUNDS/i.test(
      message,
    )
  ) {
    return { kind: "rejected", message };
  }
  return { kind: "unknown", message };
}
