/**
 * `npx hardhat veil:govern <schedule|execute|cancel|pending>`: admin actions as governance makes them.
 * Every admin power of the suite belongs to the TimelockController; its proposer/executor (the
 * governor, this task's first account) schedules a call, waits the delay, then executes it.
 *
 *   veil:govern schedule --contract RollupRegistry --method setChallengePeriod --args '[7200]'
 *   veil:govern execute  --contract RollupRegistry --method setChallengePeriod --args '[7200]'
 *   veil:govern execute  --id 0x…          (an operation listed by `pending`)
 *   veil:govern cancel   --id 0x…
 *   veil:govern pending
 *
 * An operation is identified by target, calldata and salt (`--salt`, default zero), so `execute` with
 * the same --contract/--method/--args/--salt finds what `schedule` scheduled.
 */
import {
  type BaseContract,
  type ContractTransactionReceipt,
  type EventLog,
  type FunctionFragment,
  Interface,
  type Provider,
  ZeroHash,
  getAddress,
  isHexString,
} from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { CONTRACT_NAMES, type ContractName } from "../deploy/deployment-file.js";
import type { TimelockController } from "../types/ethers-contracts/index.js";
import { bindContracts, contractsByName } from "../platform/chain.js";
import { VeilnetTaskError, connect, loadDeployment, table, taskSigner, transactionError } from "./lib.js";

export const GOVERN_ACTIONS = ["schedule", "execute", "cancel", "pending"] as const;
export type GovernAction = (typeof GOVERN_ACTIONS)[number];

export interface GovernTaskArguments {
  action: string;
  contract?: string;
  method?: string;
  /** JSON array of the method's arguments (default []). */
  args?: string;
  /** bytes32 salt (default zero). */
  salt?: string;
  /** Seconds (default: the timelock's minimum delay). */
  delay?: string;
  /** Operation id (execute / cancel). */
  id?: string;
  deploymentsDir?: string;
}

export interface PendingOperation {
  id: string;
  target: string;
  /** The suite's name of the target, or its address. */
  contract: string;
  /** `method(args…)` when the target is a suite contract and the calldata decodes. */
  call: string;
  data: string;
  salt: string;
  /** Unix time from which it may be executed. */
  readyAt: bigint;
  ready: boolean;
}

export interface GovernResult {
  action: GovernAction;
  timelock: string;
  /** The operation (schedule / execute / cancel). */
  id?: string;
  txHash?: string;
  /** schedule: when it becomes executable. */
  readyAt?: bigint;
  pending?: PendingOperation[];
}

/** The state-changing functions of `iface`, as `name(types)`. */
function mutatingFunctions(iface: Interface): string[] {
  const out: string[] = [];
  iface.forEachFunction((f: FunctionFragment) => {
    if (!f.constant) out.push(f.format("sighash"));
  });
  return out.sort();
}

/** The calldata of `--method` with `--args` on `--contract`, every mistake named. */
export function encodeGovernCall(
  contracts: Record<ContractName, BaseContract>,
  contract: string | undefined,
  method: string | undefined,
  argsJson: string | undefined,
): { name: ContractName; target: BaseContract; fragment: FunctionFragment; data: string } {
  if (contract === undefined || contract === "") {
    throw new VeilnetTaskError(`Missing --contract <name>: one of ${CONTRACT_NAMES.join(", ")}`);
  }
  const name = CONTRACT_NAMES.find((n) => n === contract);
  if (name === undefined) {
    throw new VeilnetTaskError(`Unknown contract ${contract}: the suite has ${CONTRACT_NAMES.join(", ")}`);
  }
  const target = contracts[name];
  const methods = mutatingFunctions(target.interface);
  if (method === undefined || method === "") {
    throw new VeilnetTaskError(`Missing --method <name>: ${name} has ${methods.join(", ")}`);
  }
  let fragment: FunctionFragment | null;
  try {
    fragment = target.interface.getFunction(method);
  } catch (e) {
    throw new VeilnetTaskError(`${name}.${method} is ambiguous (${(e as Error).message}): give its signature`);
  }
  if (fragment === null) {
    throw new VeilnetTaskError(`${name} has no method ${method}; its methods: ${methods.join(", ")}`);
  }
  if (fragment.constant) {
    throw new VeilnetTaskError(`${name}.${fragment.name} is a view: there is nothing to govern`);
  }
  let args: unknown;
  try {
    args = JSON.parse(argsJson === undefined || argsJson === "" ? "[]" : argsJson);
  } catch (e) {
    throw new VeilnetTaskError(`--args must be a JSON array, e.g. '[7200]': ${(e as Error).message}`);
  }
  if (!Array.isArray(args)) throw new VeilnetTaskError(`--args must be a JSON array, e.g. '[7200]'`);
  if (args.length !== fragment.inputs.length) {
    throw new VeilnetTaskError(
      `${name}.${fragment.format("sighash")} takes ${fragment.inputs.length} argument(s), --args has ${args.length}`,
    );
  }
  let data: string;
  try {
    data = target.interface.encodeFunctionData(fragment, args);
  } catch (e) {
    const msg = (e as { shortMessage?: string }).shortMessage ?? (e as Error).message;
    throw new VeilnetTaskError(`--args do not fit ${name}.${fragment.format("sighash")}: ${msg}`);
  }
  return { name, target, fragment, data };
}

function parseSalt(salt: string | undefined): string {
  if (salt === undefined || salt === "") return ZeroHash;
  if (!isHexString(salt, 32)) throw new VeilnetTaskError(`--salt ${salt} is not a 32-byte hex string`);
  return salt;
}

function parseId(id: string | undefined): string | undefined {
  if (id === undefined || id === "") return undefined;
  if (!isHexString(id, 32)) throw new VeilnetTaskError(`--id ${id} is not an operation id (32-byte hex)`);
  return id.toLowerCase();
}

const when = (t: bigint): string => new Date(Number(t) * 1000).toISOString();

async function latestTimestamp(provider: Provider): Promise<bigint> {
  return BigInt((await provider.getBlock("latest"))!.timestamp);
}

/**
 * The operations scheduled on `timelock` since `fromBlock` that are still pending (neither executed nor
 * cancelled), with the suite's names for their targets and decoded calls.
 */
export async function pendingOperations(
  timelock: TimelockController,
  contracts: Record<ContractName, BaseContract>,
  fromBlock: number,
): Promise<PendingOperation[]> {
  const provider = timelock.runner!.provider!;
  const now = await latestTimestamp(provider);
  const byAddress = new Map<string, [ContractName, BaseContract]>();
  for (const name of CONTRACT_NAMES) {
    byAddress.set(getAddress(await contracts[name].getAddress()), [name, contracts[name]]);
  }
  const salts = new Map<string, string>();
  for (const e of (await timelock.queryFilter(timelock.filters.CallSalt(), fromBlock)) as unknown as EventLog[]) {
    salts.set(String(e.args[0]).toLowerCase(), String(e.args[1]));
  }
  const seen = new Set<string>();
  const out: PendingOperation[] = [];
  for (const e of (await timelock.queryFilter(timelock.filters.CallScheduled(), fromBlock)) as unknown as EventLog[]) {
    const opId = String(e.args[0]).toLowerCase();
    if (seen.has(opId)) continue;
    seen.add(opId);
    if (!(await timelock.isOperationPending(opId))) continue;
    const target = getAddress(String(e.args[2]));
    const data = String(e.args[4]);
    const known = byAddress.get(target);
    let call = data;
    if (known !== undefined) {
      const parsed = known[1].interface.parseTransaction({ data });
      if (parsed !== null) call = `${parsed.name}(${parsed.args.map((a) => JSON.stringify(a, jsonBigint)).join(", ")})`;
    }
    const readyAt = await timelock.getTimestamp(opId);
    out.push({
      id: opId,
      target,
      contract: known?.[0] ?? target,
      call,
      data,
      salt: salts.get(opId) ?? ZeroHash,
      readyAt,
      ready: readyAt <= now,
    });
  }
  return out;
}

const jsonBigint = (_key: string, value: unknown): unknown => (typeof value === "bigint" ? value.toString() : value);

export function formatPending(ops: PendingOperation[], now: bigint): string {
  if (ops.length === 0) return "Pending timelock operations: none";
  return [
    "Pending timelock operations:",
    table([
      ["id", "contract", "call", "executable"],
      ...ops.map((o) => [
        o.id,
        o.contract,
        o.call,
        o.ready ? `now (since ${when(o.readyAt)})` : `at ${when(o.readyAt)} (in ${o.readyAt - now} s)`,
      ]),
    ]),
  ].join("\n");
}

export default async function governTask(
  args: GovernTaskArguments,
  hre: HardhatRuntimeEnvironment,
): Promise<GovernResult> {
  const action = GOVERN_ACTIONS.find((a) => a === args.action);
  if (action === undefined) {
    throw new VeilnetTaskError(`Unknown action "${args.action}": use one of ${GOVERN_ACTIONS.join(", ")}`);
  }
  const connection = await connect(hre);
  const deployment = await loadDeployment(connection, args.deploymentsDir);
  const { ethers } = connection;
  const signer = await taskSigner(connection);
  const contracts = contractsByName(bindContracts(deployment.addresses, signer));
  const timelock = contracts.Timelock as TimelockController;
  const timelockAddress = deployment.addresses.Timelock;
  const errorAbis = [timelock.interface, ...CONTRACT_NAMES.map((n) => contracts[n].interface)];
  const now = await latestTimestamp(ethers.provider);

  if (action === "pending") {
    const pending = await pendingOperations(timelock, contracts, deployment.deploymentBlock);
    console.log(`Timelock ${timelockAddress} (minimum delay ${await timelock.getMinDelay()} s)`);
    console.log(formatPending(pending, now));
    return { action, timelock: timelockAddress, pending };
  }

  // The operation: by --id (looked up among the scheduled ones) or by --contract/--method/--args/--salt.
  let target: string;
  let data: string;
  let salt: string;
  let label: string;
  const givenId = parseId(args.id);
  if (givenId !== undefined && action !== "schedule") {
    const found = (await timelock.queryFilter(
      timelock.filters.CallScheduled(givenId),
      deployment.deploymentBlock,
    )) as unknown as EventLog[];
    const [scheduled] = found;
    if (scheduled === undefined)
      throw new VeilnetTaskError(`No operation ${givenId} was ever scheduled on the timelock ${timelockAddress}`);
    target = getAddress(String(scheduled.args[2]));
    data = String(scheduled.args[4]);
    const saltEvents = (await timelock.queryFilter(
      timelock.filters.CallSalt(givenId),
      deployment.deploymentBlock,
    )) as unknown as EventLog[];
    const [saltEvent] = saltEvents;
    salt = saltEvent === undefined ? ZeroHash : String(saltEvent.args[1]);
    label = `operation ${givenId}`;
  } else {
    const call = encodeGovernCall(contracts, args.contract, args.method, args.args);
    target = await call.target.getAddress();
    data = call.data;
    salt = parseSalt(args.salt);
    label = `${call.name}.${call.fragment.name}(${(JSON.parse(args.args ?? "[]") as unknown[]).map(String).join(", ")})`;
  }
  const opId = (await timelock.hashOperation(target, 0n, data, ZeroHash, salt)).toLowerCase();

  if (action === "schedule") {
    const minDelay = await timelock.getMinDelay();
    let delay = minDelay;
    if (args.delay !== undefined && args.delay !== "") {
      if (!/^\d+$/.test(args.delay)) throw new VeilnetTaskError(`--delay ${args.delay} is not a number of seconds`);
      delay = BigInt(args.delay);
      if (delay < minDelay) {
        throw new VeilnetTaskError(`--delay ${delay} is below the timelock's minimum delay of ${minDelay} s`);
      }
    }
    if (await timelock.isOperation(opId)) {
      const state = (await timelock.isOperationDone(opId)) ? "executed already" : "scheduled already";
      throw new VeilnetTaskError(`${label} (operation ${opId}) was ${state}: give another --salt to do it again`);
    }
    // Tell the governor now if the call would fail as things stand (it may still succeed later).
    try {
      await ethers.provider.call({ from: timelockAddress, to: target, data });
    } catch (e) {
      const err = transactionError(`${label}, executed now,`, e, errorAbis);
      console.log(`warning: ${err.message}`);
    }
    let receipt: ContractTransactionReceipt | null;
    try {
      receipt = await (await timelock.schedule(target, 0n, data, ZeroHash, salt, delay)).wait();
    } catch (e) {
      throw transactionError(`Timelock.schedule(${label})`, e, errorAbis);
    }
    const readyAt = await timelock.getTimestamp(opId);
    console.log(`Scheduled ${label} on the timelock ${timelockAddress}`);
    console.log(`  operation ${opId} (salt ${salt})`);
    console.log(`  executable from ${when(readyAt)} (in ${delay} s): npx hardhat veil:govern execute --id ${opId}`);
    console.log(`  tx ${receipt!.hash}`);
    return { action, timelock: timelockAddress, id: opId, txHash: receipt!.hash, readyAt };
  }

  // execute / cancel: say what is wrong with the operation's state before sending.
  if (!(await timelock.isOperation(opId))) {
    throw new VeilnetTaskError(
      `${label} (operation ${opId}) is not scheduled` +
        (givenId === undefined ? ` with salt ${salt}: schedule it first (veil:govern schedule …)` : ""),
    );
  }
  if (await timelock.isOperationDone(opId)) {
    throw new VeilnetTaskError(`${label} (operation ${opId}) was executed already`);
  }
  if (action === "execute" && !(await timelock.isOperationReady(opId))) {
    const readyAt = await timelock.getTimestamp(opId);
    throw new VeilnetTaskError(
      `${label} (operation ${opId}) is not ready yet: executable from ${when(readyAt)}, in ${readyAt - now} s`,
    );
  }
  let receipt: ContractTransactionReceipt | null;
  try {
    const tx =
      action === "execute" ? await timelock.execute(target, 0n, data, ZeroHash, salt) : await timelock.cancel(opId);
    receipt = await tx.wait();
  } catch (e) {
    throw transactionError(`Timelock.${action}(${label})`, e, errorAbis);
  }
  console.log(`${action === "execute" ? "Executed" : "Cancelled"} ${label} (operation ${opId})`);
  console.log(`  tx ${receipt!.hash}`);
  return { action, timelock: timelockAddress, id: opId, txHash: receipt!.hash };
}
