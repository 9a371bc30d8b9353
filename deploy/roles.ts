/**
 * Who holds which role on an OpenZeppelin AccessControl contract, enumerated from its `RoleGranted` /
 * `RoleRevoked` events (AccessControl keeps no list of holders) and checked against `hasRole`.
 * Used by `veil:status` and the governance tests.
 *
 * No Hardhat import here: workers may load this module.
 */
import { type BaseContract, type EventLog, FunctionFragment, getAddress } from "ethers";

export interface RoleHolders {
  /** The role's constant name (`DEFAULT_ADMIN_ROLE`, `PAUSER_ROLE` …), or its id when the contract names none. */
  role: string;
  roleId: string;
  /** Current holders, in the order first granted. */
  holders: string[];
}

/** The role constants `contract` exposes (`DEFAULT_ADMIN_ROLE`, `*_ROLE`), DEFAULT_ADMIN_ROLE first. */
export function roleConstantNames(contract: BaseContract): string[] {
  const names: string[] = [];
  contract.interface.forEachFunction((f: FunctionFragment) => {
    if (
      f.name.endsWith("_ROLE") &&
      f.inputs.length === 0 &&
      f.outputs.length === 1 &&
      f.outputs[0]?.type === "bytes32"
    ) {
      names.push(f.name);
    }
  });
  return names.sort((x, y) => (x === "DEFAULT_ADMIN_ROLE" ? -1 : y === "DEFAULT_ADMIN_ROLE" ? 1 : x.localeCompare(y)));
}

/**
 * Every role of `contract` (each named constant, and any other role id ever granted) with its current
 * holders, from the contract's events since `fromBlock` (its deployment block).
 */
export async function roleHolders(contract: BaseContract, fromBlock: number): Promise<RoleHolders[]> {
  const names = new Map<string, string>();
  for (const name of roleConstantNames(contract)) {
    names.set(String(await contract.getFunction(name).staticCall()).toLowerCase(), name);
  }
  const events = [
    ...(await contract.queryFilter("RoleGranted", fromBlock)),
    ...(await contract.queryFilter("RoleRevoked", fromBlock)),
  ] as EventLog[];
  events.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
  const candidates = new Map<string, string[]>([...names.keys()].map((id) => [id, []]));
  for (const e of events) {
    const roleId = String(e.args[0]).toLowerCase();
    const account = getAddress(String(e.args[1]));
    const list = candidates.get(roleId) ?? [];
    if (!list.includes(account)) list.push(account);
    candidates.set(roleId, list);
  }
  const out: RoleHolders[] = [];
  for (const [roleId, list] of candidates) {
    const holders: string[] = [];
    for (const account of list) {
      if ((await contract.getFunction("hasRole").staticCall(roleId, account)) === true) holders.push(account);
    }
    out.push({ role: names.get(roleId) ?? roleId, roleId, holders });
  }
  return out;
}
