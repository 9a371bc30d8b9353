/** JSON-RPC 2.0 messages as the gateway reads and writes them, and the error codes it answers with. */

import {
  type JsonRpcErrorObject,
  JsonRpcErrorCodes,
  type JsonRpcId,
  type JsonRpcResponse,
  RpcError,
} from "../../protocol/jsonrpc.js";

export { type JsonRpcErrorObject, type JsonRpcId, type JsonRpcResponse, RpcError } from "../../protocol/jsonrpc.js";

/** A request object checked for shape by `parseRequest`. */
export interface JsonRpcRequest {
  id: JsonRpcId;
  method: string;
  params: unknown[];
  /** A notification (no `id` in the request): it gets no answer. */
  notification: boolean;
}

/** Codes of the errors the gateway itself answers (the enclave's pass through unchanged). */
export const GatewayErrorCodes = {
  ...JsonRpcErrorCodes,
  /** No token in the URL, or a token the gateway does not know. */
  noUser: -32040,
  /** The enclave did not answer (down, unreachable, timed out). */
  enclaveUnavailable: -32041,
  /** The enclave's RPC key is not signed by an enclave attested on L1: the gateway refuses to serve. */
  enclaveNotAttested: -32042,
  /** The gateway has not verified the enclave's RPC key yet. */
  notReady: -32043,
  /** A limit of the gateway (subscriptions, filters). */
  limit: -32005,
} as const;

function isId(value: unknown): value is JsonRpcId {
  return value === null || typeof value === "string" || (typeof value === "number" && Number.isFinite(value));
}

/** A request object checked for shape, or the error answer for it. */
export function parseRequest(value: unknown): JsonRpcRequest | JsonRpcResponse {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return errorResponse(null, new RpcError(GatewayErrorCodes.invalidRequest, "invalid request: expected an object"));
  }
  const r = value as Record<string, unknown>;
  const id = isId(r.id) ? r.id : null;
  if (r.id !== undefined && !isId(r.id)) {
    return errorResponse(null, new RpcError(GatewayErrorCodes.invalidRequest, "invalid request: bad id"));
  }
  if (typeof r.method !== "string" || r.method === "") {
    return errorResponse(
      id,
      new RpcError(GatewayErrorCodes.invalidRequest, "invalid request: method must be a string"),
    );
  }
  if (r.params !== undefined && r.params !== null && !Array.isArray(r.params)) {
    return errorResponse(id, new RpcError(GatewayErrorCodes.invalidParams, "invalid params: expected an array"));
  }
  return { id, method: r.method, params: (r.params as unknown[] | undefined) ?? [], notification: !("id" in r) };
}

export function isResponse(value: JsonRpcRequest | JsonRpcResponse): value is JsonRpcResponse {
  return "jsonrpc" in value;
}

export function resultResponse(id: JsonRpcId, result: unknown): JsonRpcResponse {
  return { jsonrpc: "2.0", id, result };
}

export function errorResponse(id: JsonRpcId, error: RpcError | JsonRpcErrorObject): JsonRpcResponse {
  return { jsonrpc: "2.0", id, error: error instanceof RpcError ? error.toObject() : error };
}

/** JSON text of a message (bigints as decimal strings, which no answer should carry anyway). */
export function stringify(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}
