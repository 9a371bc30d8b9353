/**
 * Revert decoding: turns the revert data a node returns (from eth_call / eth_estimateGas, or by replaying
 * a mined failed transaction) into the custom error's name and a readable `Name(arg, ...)` string, using
 * the error declarations of every Veilnet L1 contract by default (an error raised by a contract called
 * internally, e.g. EnclaveRegistry's `NotSequencer` under RollupRegistry.addRollup, decodes too). The
 * errors come from the interfaces that declare them (contracts/interfaces/I<Name>Errors.sol and
 * OpenZeppelin's declarations), not from the contracts' full ABIs.
 */
import { type ErrorDescription, Interface, isHexString, type Result } from "ethers";

import {
  Errors__factory,
  IAccessControlDefaultAdminRules__factory,
  IAttestationReportsErrors__factory,
  IBLS12381Errors__factory,
  IBridgeErrors__factory,
  ICrossChainMessengerErrors__factory,
  IEnclaveRegistryErrors__factory,
  IFeeVaultErrors__factory,
  IMessageBusErrors__factory,
  INetworkConfigErrors__factory,
  IRollupRegistryErrors__factory,
  ISignedReportVerifierErrors__factory,
  Nonces__factory,
  Pausable__factory,
  ReentrancyGuardTransient__factory,
  SafeCast__factory,
  SafeERC20__factory,
  ShortStrings__factory,
} from "../types/ethers-contracts/index.js";

/** A decoded revert. `name` is undefined when no known error matches (then `reason` is the raw data). */
export interface DecodedRevert {
  name: string | undefined;
  reason: string;
  data: string | undefined;
}

/**
 * The errors of all Veilnet L1 contracts: their own (I<Name>Errors, AttestationReports') and those they
 * inherit from OpenZeppelin (access control, pausing, reentrancy guard, nonces, SafeERC20, SafeCast,
 * Address, ShortStrings), each from the interface or library that declares it.
 */
export function veilnetErrorInterfaces(): Interface[] {
  return [
    INetworkConfigErrors__factory.createInterface(),
    ISignedReportVerifierErrors__factory.createInterface(),
    IAttestationReportsErrors__factory.createInterface(),
    IEnclaveRegistryErrors__factory.createInterface(),
    IFeeVaultErrors__factory.createInterface(),
    IMessageBusErrors__factory.createInterface(),
    IRollupRegistryErrors__factory.createInterface(),
    IBLS12381Errors__factory.createInterface(),
    ICrossChainMessengerErrors__factory.createInterface(),
    IBridgeErrors__factory.createInterface(),
    ...openZeppelinErrorInterfaces(),
  ];
}

/** OpenZeppelin's declarations of the errors the Veilnet L1 contracts inherit or use. */
function openZeppelinErrorInterfaces(): Interface[] {
  return [
    IAccessControlDefaultAdminRules__factory.createInterface(),
    Pausable__factory.createInterface(),
    ReentrancyGuardTransient__factory.createInterface(),
    Nonces__factory.createInterface(),
    SafeERC20__factory.createInterface(),
    SafeCast__factory.createInterface(),
    Errors__factory.createInterface(),
    ShortStrings__factory.createInterface(),
  ];
}

/**
 * The revert data carried by an ethers error (CALL_EXCEPTION `data`, or nested in the JSON-RPC error the
 * node returned), or undefined when the error carries none (e.g. a network failure).
 */
export function revertData(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number): string | undefined => {
    if (value === null || typeof value !== "object" || seen.has(value) || depth > 6) return undefined;
    seen.add(value);
    const record = value as Record<string, unknown>;
    const data = record.data;
    if (typeof data === "string" && isHexString(data) && data.length >= 10) return data;
    if (typeof data === "object" && data !== null) {
      const nested = (data as Record<string, unknown>).data;
      if (typeof nested === "string" && isHexString(nested) && nested.length >= 10) return nested;
    }
    for (const key of ["error", "info", "cause", "data"]) {
      const found = visit(record[key], depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return visit(error, 0);
}

/**
 * Is `error` a revert (as opposed to a transport or node failure)? ethers turns every JSON-RPC error of
 * eth_call / eth_estimateGas into CALL_EXCEPTION, so without revert data the node's message must say so.
 */
export function isRevert(error: unknown): boolean {
  if (revertData(error) !== undefined) return true;
  const e = error as { code?: unknown } | null;
  if (e?.code !== "CALL_EXCEPTION") return false;
  return /revert|invalid opcode|out of gas|gas required exceeds/i.test(nodeMessages(error).join(" "));
}

/** The messages nested in an ethers error (what the node said), not ethers' own summary. */
function nodeMessages(error: unknown): string[] {
  const found: string[] = [];
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number) => {
    if (value === null || typeof value !== "object" || seen.has(value) || depth > 6) return;
    seen.add(value);
    const r = value as Record<string, unknown>;
    if (depth > 0 && typeof r.message === "string") found.push(r.message);
    for (const k of ["error", "info", "cause"]) visit(r[k], depth + 1);
  };
  visit(error, 0);
  return found;
}

/**
 * Solidity's built-in `Error(string)` and `Panic(uint256)`: ethers' Interface knows them (every interface
 * parses them), this empty one decodes them when `decodeRevert` is given no interfaces.
 */
const BUILTIN_ERRORS = new Interface([]);

/** Decodes revert `data` with `interfaces` (first match wins), then as Error(string) / Panic(uint256). */
export function decodeRevert(data: string | undefined, interfaces: readonly Interface[]): DecodedRevert {
  if (data === undefined || data === "0x") return { name: undefined, reason: "revert without data", data };
  for (const iface of [...interfaces, BUILTIN_ERRORS]) {
    let parsed: ErrorDescription | null;
    try {
      parsed = iface.parseError(data);
    } catch {
      parsed = null;
    }
    if (parsed !== null) {
      return { name: parsed.name, reason: `${parsed.name}(${formatArgs(parsed.args)})`, data };
    }
  }
  return { name: undefined, reason: `unknown error ${data}`, data };
}

/** The revert of `error` decoded (or its message when it carries no revert data). */
export function decodeRevertError(error: unknown, interfaces: readonly Interface[]): DecodedRevert {
  const data = revertData(error);
  if (data !== undefined) return decodeRevert(data, interfaces);
  const e = error as { reason?: unknown; shortMessage?: unknown; message?: unknown } | null;
  const reason = [e?.reason, e?.shortMessage, e?.message].find((r) => typeof r === "string" && r !== "");
  return { name: undefined, reason: typeof reason === "string" ? reason : String(error), data: undefined };
}

function formatArgs(args: Result | readonly unknown[]): string {
  return Array.from(args, formatValue).join(", ");
}

function formatValue(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string") return isHexString(value) ? value : JSON.stringify(value);
  if (Array.isArray(value)) return `[${formatArgs(value)}]`;
  return String(value);
}
