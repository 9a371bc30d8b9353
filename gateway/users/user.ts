/**
 * A gateway user: a random token (the user id, carried in the RPC URL), the viewing key the gateway made
 * for them, and the accounts bound to that key (each with the account's EIP-712 signature).
 */
import { randomBytes } from "node:crypto";

import { getAddress } from "ethers";

import type { AccountBinding, ChannelKey } from "../../protocol/private-rpc.js";

/** Bytes of a token (printed as 40 hex digits). */
export const TOKEN_BYTES = 20;

/** The enclave takes at most this many bindings per request (protocol/private-rpc.ts). */
export const MAX_BINDINGS = 64;

export interface User {
  /** 40 lowercase hex digits, no 0x. */
  readonly token: string;
  readonly viewingKey: ChannelKey;
  /** Bound accounts (checksummed) → their binding, in binding order. */
  readonly bindings: ReadonlyMap<string, AccountBinding>;
}

/** A new random token. */
export function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString("hex");
}

/** The token in its stored form (lowercase, no 0x), or undefined when `value` is not a token. */
export function normalizeToken(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  const hex = value.startsWith("0x") || value.startsWith("0X") ? value.slice(2) : value;
  return /^[0-9a-fA-F]{40}$/.test(hex) ? hex.toLowerCase() : undefined;
}

/** The user's bound accounts, checksummed, in binding order. */
export function boundAccounts(user: User): string[] {
  return [...user.bindings.keys()];
}

/** Whether `account` is bound to the user. */
export function isBound(user: User, account: string): boolean {
  return user.bindings.has(getAddress(account));
}
