/**
 * Calls (`eth_call`, `eth_estimateGas`) run as one of the viewer's own accounts: contracts check
 * `msg.sender` to decide what a caller may read (a balance, an allowance), so letting a caller pick
 * someone else's `from` would bypass every such check. Without `from`, a call runs as the viewer's first
 * account, or as the zero address for an anonymous viewer (which anyone may use: nobody holds its key).
 * The answer, revert reason and data included, goes to the caller: it is their own call.
 */
import { ZeroAddress, getAddress, isAddress } from "ethers";

import type { Viewer } from "./viewer.js";

/** The account a call with this `from` runs as, or undefined when the viewer may not use it. */
export function callerOf(viewer: Viewer, from: unknown): string | undefined {
  if (from === undefined || from === null) return viewer.defaultCaller;
  if (typeof from !== "string") return undefined;
  const own = viewer.own(from); // the common case, without hashing a checksum
  if (own !== undefined) return own;
  if (!isAddress(from)) return undefined;
  const address = getAddress(from);
  return address === ZeroAddress || viewer.has(address) ? address : undefined;
}
