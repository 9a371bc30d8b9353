/**
 * JSON-RPC 2.0 as both endpoints speak it (the enclave node's and the gateway's): the answer shapes,
 * JSON-RPC's own error codes and the error a method throws to answer with a chosen code. Each side adds
 * its own codes (enclave/rpc/jsonrpc.ts, gateway/rpc/jsonrpc.ts).
 */

export type JsonRpcId = string | number | null;

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export type JsonRpcResponse =
  { jsonrpc: "2.0"; id: JsonRpcId; result: unknown } | { jsonrpc: "2.0"; id: JsonRpcId; error: JsonRpcErrorObject };

/** JSON-RPC 2.0's own error codes. */
export const JsonRpcErrorCodes = {
  parse: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internal: -32603,
} as const;

/** An error answered as it is: code, message and data chosen by the endpoint. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = "RpcError";
  }

  toObject(): JsonRpcErrorObject {
    return errorObjectOf(this.code, this.message, this.data);
  }
}

/** `{ code, message }`, with `data` only when there is some. */
export function errorObjectOf(code: number, message: string, data?: unknown): JsonRpcErrorObject {
  return data === undefined ? { code, message } : { code, message, data };
}
