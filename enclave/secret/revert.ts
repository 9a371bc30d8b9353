/** Turning a contract revert into a readable reason (custom error name and arguments). */
import { type Interface, isError, isHexString } from "ethers";

export interface DecodedRevert {
  /** The custom error's name, when one of the interfaces knows it. */
  name?: string;
  /** E.g. `MeasurementNotAllowed(0x12…)`, or the raw revert data / message when unknown. */
  reason: string;
}

/**
 * The revert behind `e` if `e` is a revert (an ethers CALL_EXCEPTION, or any error carrying revert data,
 * such as a JSON-RPC error or Hardhat's in-process SolidityError), decoded with the contract's own
 * interface (ethers' `revert`) or else with `interfaces`; `undefined` for anything else (a transport
 * failure), which the caller should treat as retryable.
 */
export function decodeRevert(e: unknown, interfaces: readonly Interface[] = []): DecodedRevert | undefined {
  if (isError(e, "CALL_EXCEPTION") && e.revert !== null && e.revert !== undefined) {
    return { name: e.revert.name, reason: `${e.revert.name}(${e.revert.args.map(String).join(", ")})` };
  }
  const data = revertData(e);
  if (data !== undefined) {
    for (const iface of interfaces) {
      let parsed: ReturnType<Interface["parseError"]>;
      try {
        parsed = iface.parseError(data);
      } catch {
        continue; // a selector clash with arguments that do not decode
      }
      if (parsed !== null) {
        return { name: parsed.name, reason: `${parsed.name}(${parsed.args.map(String).join(", ")})` };
      }
    }
    return { reason: `revert data ${data}` };
  }
  if (isError(e, "CALL_EXCEPTION")) return { reason: e.shortMessage };
  return undefined;
}

/** Revert data carried by `e` itself or by the node error it wraps (`error`, `info.error`), if any. */
function revertData(e: unknown): string | undefined {
  const candidates: unknown[] = [];
  const record = (v: unknown): Record<string, unknown> | undefined =>
    v !== null && typeof v === "object" ? (v as Record<string, unknown>) : undefined;
  const top = record(e);
  candidates.push(top?.data, record(top?.error)?.data, record(record(top?.info)?.error)?.data);
  for (const c of candidates) {
    if (typeof c === "string" && isHexString(c) && c.length >= 10) return c;
    const nested = record(c)?.data;
    if (typeof nested === "string" && isHexString(nested) && nested.length >= 10) return nested;
  }
  return undefined;
}
