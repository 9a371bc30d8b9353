/**
 * Reading an account's state. An account's balance and nonce are its own: readable only by a viewer
 * it is bound to. A contract has no key and so no viewer: its balance and nonce are readable only if
 * it declares itself TRANSPARENT, and so is its storage (`eth_getStorageAt`), which would otherwise
 * bypass every check its code makes. Code is public (`eth_getCode`), as on any chain: it is needed to
 * verify and call contracts.
 */
import type { AddressKind } from "./contract-rules.js";
import { isTransparent } from "./visibility-config.js";
import type { Viewer } from "./viewer.js";

export type AccountField = "balance" | "nonce" | "storage";

/** Whether `viewer` may read `field` of `address`, which is `kind` at the block asked about. */
export function canReadAccount(viewer: Viewer, field: AccountField, address: string, kind: AddressKind): boolean {
  const transparent = kind.contract && isTransparent(kind.config);
  if (field === "storage") return transparent;
  return transparent || viewer.has(address);
}
