/** JSON-RPC 2.0 messages and errors, as the node's endpoint speaks them. */
import {
  type JsonRpcErrorObject,
  JsonRpcErrorCodes,
  type JsonRpcResponse,
  RpcError,
  errorObjectOf,
} from "../../protocol/jsonrpc.js";
import { MempoolError } from "../sequencer/mempool.js";

export { type JsonRpcErrorObject, type JsonRpcResponse, RpcError } from "../../protocol/jsonrpc.js";

/** A request object as it arrives (checked by `answer`). */
export interface JsonRpcRequest {
  jsonrpc?: string;
  id?: string | number | null;
  method?: unknown;
  params?: unknown;
}

/** JSON-RPC's own error codes (-32700 … -32600) and the node's besides, as EIP-1474 and wallets use them. */
export const RpcErrorCode = {
  ...JsonRpcErrorCodes,
  /** A refused transaction or another server-side refusal (geth's code for mempool errors). */
  server: -32000,
  /**
   * The caller may not see or do this (the privacy rules): EIP-1193's "Unauthorized" (4100), which viem
   * shows as UnauthorizedProviderError ("The requested method and/or account has not been authorized
   * by the user.", then the reason) and ethers as an error whose `error` holds the code and reason.
   * (-32001 would read as "Requested resource not found" in viem.)
   */
  notAuthorized: 4100,
  /** The request asks for more than the endpoint serves at once (EIP-1474 "limit exceeded"). */
  limitExceeded: -32005,
} as const;

export function invalidParams(message: string): RpcError {
  return new RpcError(RpcErrorCode.invalidParams, `invalid params: ${message}`);
}

/**
 * The JSON-RPC error object of anything a method threw: an RpcError as it is, a mempool refusal as
 * -32000, and an error of the L2 chain (EDR) with its code, first message line and data (a revert's
 * data, for instance).
 */
export function errorObject(e: unknown): JsonRpcErrorObject {
  if (e instanceof RpcError) return e.toObject();
  if (e instanceof MempoolError) return { code: RpcErrorCode.server, message: e.message };
  const err = e as { code?: unknown; message?: unknown; data?: unknown } | null;
  const code = typeof err?.code === "number" ? err.code : RpcErrorCode.internal;
  const message = typeof err?.message === "string" ? err.message : String(e);
  const end = message.indexOf("\n");
  return errorObjectOf(code, end === -1 ? message : message.slice(0, end), err?.data);
}

/** Answers one request object with `call`, turning whatever it throws into a JSON-RPC error. */
export async function answer(
  request: JsonRpcRequest,
  call: (method: string, params: unknown[]) => Promise<unknown>,
): Promise<JsonRpcResponse> {
  const id = request?.id ?? null;
  try {
    if (typeof request?.method !== "string") {
      throw new RpcError(RpcErrorCode.invalidRequest, "invalid request: method must be a string");
    }
    const params = request.params ?? [];
    if (!Array.isArray(params)) throw invalidParams("expected an array");
    const result = await call(request.method, params as unknown[]);
    return { jsonrpc: "2.0", id, result: result === undefined ? null : result };
  } catch (e) {
    return { jsonrpc: "2.0", id, error: errorObject(e) };
  }
}
