/**
 * A user's call forwarded to the enclave through `veil_private`, with every failure turned into the
 * JSON-RPC error the wallet gets: the enclave's own answer for the user (a revert, a refused
 * transaction, a privacy refusal) as it is; the gateway's codes when the enclave does not answer or is
 * not trusted.
 */
import {
  type EnclaveClient,
  EnclaveNotAttestedError,
  EnclaveProtocolError,
  EnclaveRpcError,
  EnclaveUnavailableError,
} from "../enclave/client.js";
import type { User } from "../users/user.js";
import { GatewayErrorCodes, RpcError } from "./jsonrpc.js";

/** The error a wallet gets for a failure between the gateway and the enclave. */
export function toRpcError(e: unknown): RpcError {
  if (e instanceof RpcError) return e;
  if (e instanceof EnclaveUnavailableError) {
    return new RpcError(GatewayErrorCodes.enclaveUnavailable, `${e.message}; try again shortly`);
  }
  if (e instanceof EnclaveNotAttestedError) return new RpcError(GatewayErrorCodes.enclaveNotAttested, e.message);
  if (e instanceof EnclaveRpcError) {
    return new RpcError(GatewayErrorCodes.internal, `the enclave refused the gateway's envelope: ${e.message}`);
  }
  if (e instanceof EnclaveProtocolError) return new RpcError(GatewayErrorCodes.internal, e.message);
  return new RpcError(GatewayErrorCodes.internal, `gateway error: ${e instanceof Error ? e.message : String(e)}`);
}

/** Whether an error means the enclave could not be asked (rather than that it answered no). */
export function isUnavailable(e: RpcError): boolean {
  return (
    e.code === GatewayErrorCodes.enclaveUnavailable ||
    e.code === GatewayErrorCodes.enclaveNotAttested ||
    e.code === GatewayErrorCodes.notReady
  );
}

/** `method(params)` for `user` through veil_private; the result, or an RpcError. */
export async function forward(enclave: EnclaveClient, user: User, method: string, params: unknown[]): Promise<unknown> {
  let answer;
  try {
    answer = await enclave.private(user, method, params);
  } catch (e) {
    throw toRpcError(e);
  }
  if ("error" in answer) throw new RpcError(answer.error.code, answer.error.message, answer.error.data);
  return answer.result;
}

/** A plain call of one of the enclave's public methods; the result, or an RpcError. */
export async function callPublic(enclave: EnclaveClient, method: string, params: unknown[] = []): Promise<unknown> {
  try {
    return await enclave.call(method, params);
  } catch (e) {
    if (e instanceof EnclaveRpcError) throw new RpcError(e.code, e.message, e.data);
    throw toRpcError(e);
  }
}
