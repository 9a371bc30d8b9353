/**
 * A contract's visibility declaration (contracts/interfaces/IVisibilityRules.sol, the shape of TEN's
 * ContractTransparencyConfig): its types, and the strict decoding of what `visibilityRules()` returns.
 * Anything that is not exactly a well-formed declaration is no declaration at all: the contract gets
 * the default rules, never more visibility than it asked for.
 */
import { AbiCoder } from "ethers";

import { IVisibilityRules__factory } from "../../types/ethers-contracts/index.js";

/** Who an event is visible to (IVisibilityRules.Field). */
export enum Field {
  TOPIC1 = 0,
  TOPIC2 = 1,
  TOPIC3 = 2,
  SENDER = 3,
  EVERYONE = 4,
}

/** What a contract as a whole reveals (IVisibilityRules.ContractCfg). */
export enum ContractCfg {
  TRANSPARENT = 0,
  PRIVATE = 1,
}

export interface VisibilityConfig {
  contractCfg: ContractCfg;
  /** Audience of each declared event, by topic 0 (lowercase hex); an empty list: nobody. */
  events: ReadonlyMap<string, readonly Field[]>;
}

/** Most event declarations a contract may make (more: the declaration is refused as a whole). */
export const MAX_EVENT_CONFIGS = 256;
/** Most fields one event declaration may list. */
export const MAX_FIELDS = 16;
/** Longest answer decoded (the largest well-formed declaration is far shorter). */
const MAX_RETURN_BYTES = 64 * 1024;

/** IVisibilityRules, compiled: `visibilityRules()` and the ABI type of its answer (a VisibilityConfig). */
export const visibilityRulesInterface = IVisibilityRules__factory.createInterface();
const RETURN_TYPE = visibilityRulesInterface.getFunction("visibilityRules").outputs[0]!;

/** Calldata of `visibilityRules()`. */
export const VISIBILITY_RULES_CALLDATA = visibilityRulesInterface.encodeFunctionData("visibilityRules");

/**
 * The declaration `data` (the return data of `visibilityRules()`) encodes, or undefined when it is
 * not one: not the canonical ABI encoding of a VisibilityConfig (which also catches dirty high bits
 * and stray offsets), an enum value out of range, too many entries, or one event declared twice.
 */
export function decodeVisibilityConfig(data: string): VisibilityConfig | undefined {
  if (typeof data !== "string" || !/^0x([0-9a-fA-F]{2})*$/.test(data) || data.length > 2 + 2 * MAX_RETURN_BYTES) {
    return undefined;
  }
  const coder = AbiCoder.defaultAbiCoder();
  let decoded: { contractCfg: bigint; eventLogConfigs: { eventSignature: string; visibleTo: bigint[] }[] };
  try {
    const [value] = coder.decode([RETURN_TYPE], data);
    decoded = value as typeof decoded;
    if (coder.encode([RETURN_TYPE], [value]).toLowerCase() !== data.toLowerCase()) return undefined;
  } catch {
    return undefined;
  }
  const contractCfg = Number(decoded.contractCfg);
  if (contractCfg !== ContractCfg.TRANSPARENT && contractCfg !== ContractCfg.PRIVATE) return undefined;
  if (decoded.eventLogConfigs.length > MAX_EVENT_CONFIGS) return undefined;
  const events = new Map<string, Field[]>();
  for (const entry of decoded.eventLogConfigs) {
    const signature = entry.eventSignature.toLowerCase();
    if (events.has(signature) || entry.visibleTo.length > MAX_FIELDS) return undefined;
    const fields: Field[] = [];
    for (const f of entry.visibleTo) {
      if (f > BigInt(Field.EVERYONE)) return undefined;
      if (!fields.includes(Number(f))) fields.push(Number(f));
    }
    events.set(signature, fields);
  }
  return { contractCfg, events };
}

export function isTransparent(config: VisibilityConfig | undefined): boolean {
  return config?.contractCfg === ContractCfg.TRANSPARENT;
}
