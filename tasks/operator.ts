/**
 * `npx hardhat veil:operator <action> [options]`: the operator network's registry (OperatorRegistry,
 * DESIGN §9.1) from the command line, sent from the task's first account.
 *
 *   register --public-key <hex> [--fee <wei per block>]     (default key: the sender's own)
 *   set-enclave --operator <id> --enclave <address>
 *   create-committee --operators 1,2,3,4 [--deposit <ether>]
 *   deposit | withdraw | reactivate --committee <id> --amount <ether>;  liquidate --committee <id>
 *   declare-fee | reduce-fee --operator <id> --fee <wei>;  execute-fee | cancel-fee | remove --operator <id>
 *   withdraw-earnings --operator <id> --amount <ether>;  collect-rewards
 *   status [--operator <id>] [--committee <id>]
 *
 * Making a committee the active one is an admin (timelock) action: `veil:govern schedule --contract
 * OperatorRegistry --method setActiveCommittee --args '[<id>]'`, which `status` and `create-committee` print.
 */
import {
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
  type Interface,
  SigningKey,
  formatEther,
  getAddress,
  getBytes,
  hashMessage,
  isAddress,
  isHexString,
  parseEther,
} from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { type CommitteeView, OperatorRegistryView } from "../enclave/committee/registry-view.js";
import { bindContracts } from "../platform/chain.js";
import type { JsonRpcSender } from "../platform/l1-events/rpc.js";
import type { FeeVault, OperatorRegistry } from "../types/ethers-contracts/index.js";
import { VeilnetTaskError, connect, loadDeployment, table, taskSigner, transactionError } from "./lib.js";

export const OPERATOR_ACTIONS = [
  "register",
  "set-enclave",
  "create-committee",
  "deposit",
  "withdraw",
  "liquidate",
  "reactivate",
  "declare-fee",
  "execute-fee",
  "cancel-fee",
  "reduce-fee",
  "remove",
  "withdraw-earnings",
  "collect-rewards",
  "status",
] as const;
export type OperatorAction = (typeof OPERATOR_ACTIONS)[number];

/** Committee sizes the registry accepts: 3f+1 members, at most 13. */
export const COMMITTEE_SIZES = [1, 4, 7, 10, 13] as const;

const MAX_UINT64 = 2n ** 64n - 1n;

export interface OperatorTaskArguments {
  action: string;
  /** register: the operator's secp256k1 public key, hex (default: the sender's). */
  publicKey?: string;
  /** register, declare-fee, reduce-fee: wei per L1 block. */
  fee?: string;
  /** Operator id. */
  operator?: string;
  /** set-enclave: the attested sequencer enclave's address. */
  enclave?: string;
  /** create-committee: comma-separated operator ids. */
  operators?: string;
  /** create-committee: initial balance, ether. */
  deposit?: string;
  /** Committee id. */
  committee?: string;
  /** deposit, withdraw, reactivate, withdraw-earnings: ether. */
  amount?: string;
  deploymentsDir?: string;
}

/** An operator as `status` shows it: the event view plus live views. */
export interface OperatorStatus {
  id: bigint;
  owner: string;
  publicKey: string;
  /** Wei per L1 block. */
  fee: bigint;
  enclave: string | undefined;
  /** Unwithdrawn earnings as of now, wei. */
  earnings: bigint;
  removed: boolean;
  /** A declared fee increase and its execution window (Unix time), if any. */
  declaredFee?: { fee: bigint; executableFrom: bigint; executableUntil: bigint };
}

/** A committee as `status` shows it. */
export interface CommitteeStatus {
  id: bigint;
  owner: string;
  operatorIds: bigint[];
  quorum: number;
  signers: string[];
  active: boolean;
  liquidated: boolean;
  /** As of now, wei. */
  balance: bigint;
  /** Wei per L1 block it pays while active: its members' fees plus the network fee. */
  burnRate: bigint;
  /** L1 blocks its balance covers at its burn rate (undefined: the burn rate is zero). */
  blocksLeft: bigint | undefined;
  /**
   * L1 blocks of burn (while active) after which it is liquidatable, its balance then below the larger of
   * the minimum collateral and `minimumBlocksBeforeLiquidation` blocks of its burn rate (0: liquidatable
   * now; undefined: burn rate zero).
   */
  blocksUntilLiquidatable: bigint | undefined;
  liquidatable: boolean;
}

export interface OperatorRegistryStatus {
  registry: string;
  activeCommitteeId: bigint | undefined;
  committees: CommitteeStatus[];
  operators: OperatorStatus[];
  networkFee: bigint;
  minimumBlocksBeforeLiquidation: bigint;
  minimumLiquidationCollateral: bigint;
  /** Sequencing rewards credited to the registry in the FeeVault and claimable now (collect-rewards), wei. */
  collectableRewards: bigint;
  /** Rewards credited to the registry and not vested yet, wei, and when the last of them vests (Unix time). */
  unvestedRewards: { amount: bigint; vestsAt: bigint };
}

export interface OperatorResult {
  action: OperatorAction;
  txHash?: string;
  /** register: the new operator's id. */
  operatorId?: bigint;
  /** create-committee: the new committee's id. */
  committeeId?: bigint;
  status?: OperatorRegistryStatus;
}

// ------------------------------------------------------------------------------------------------
// Option parsing: every mistake named, before anything is sent.

const given = (value: string | undefined): value is string => value !== undefined && value !== "";

function required(option: string, value: string | undefined, what: string): string {
  if (!given(value)) throw new VeilnetTaskError(`Missing --${option} <${what}>`);
  return value;
}

/** A positive uint64 id (operator or committee). */
export function parseId(option: string, value: string): bigint {
  if (!/^\d+$/.test(value)) throw new VeilnetTaskError(`--${option} ${value} is not a number (an id from 1)`);
  const id = BigInt(value);
  if (id === 0n || id > MAX_UINT64) throw new VeilnetTaskError(`--${option} ${value} is not an id (1 to 2^64-1)`);
  return id;
}

/** A fee in wei per L1 block (a whole number). */
export function parseFee(value: string): bigint {
  if (!/^\d+$/.test(value)) throw new VeilnetTaskError(`--fee ${value} is not a number of wei per block`);
  return BigInt(value);
}

/** An amount of ether (at most 18 decimals), positive unless `allowZero`. */
export function parseAmount(option: string, value: string, allowZero = false): bigint {
  if (!/^\d+(\.\d{1,18})?$/.test(value) && !/^\.\d{1,18}$/.test(value)) {
    throw new VeilnetTaskError(`--${option} ${value} is not an amount of ether (e.g. 0.5)`);
  }
  const wei = parseEther(value);
  if (wei === 0n && !allowZero) throw new VeilnetTaskError(`--${option} must be positive`);
  return wei;
}

export function parseAddress(option: string, value: string): string {
  if (!isAddress(value)) throw new VeilnetTaskError(`--${option} ${value} is not an address`);
  return getAddress(value);
}

/** A secp256k1 public key as the registry takes it: 33 bytes compressed (0x02/0x03…) or 65 uncompressed (0x04…). */
export function parsePublicKey(value: string): string {
  const bytes = isHexString(value) ? getBytes(value) : undefined;
  const ok =
    bytes !== undefined &&
    ((bytes.length === 33 && (bytes[0] === 2 || bytes[0] === 3)) || (bytes.length === 65 && bytes[0] === 4));
  if (!ok) {
    throw new VeilnetTaskError(
      `--public-key ${value} is not a secp256k1 public key: 33 bytes compressed (0x02… or 0x03…) ` +
        `or 65 bytes uncompressed (0x04…), hex`,
    );
  }
  return value.toLowerCase();
}

/** The members of a committee: distinct ids, as many as a committee may have, ascending. */
export function parseOperatorIds(value: string): bigint[] {
  const parts = value.split(",").map((p) => p.trim());
  const ids = parts.map((p) => {
    if (!/^\d+$/.test(p) || BigInt(p) === 0n || BigInt(p) > MAX_UINT64) {
      throw new VeilnetTaskError(`--operators ${value}: "${p}" is not an operator id (comma-separated, e.g. 1,2,3,4)`);
    }
    return BigInt(p);
  });
  if (new Set(ids).size !== ids.length) throw new VeilnetTaskError(`--operators ${value} names an operator twice`);
  if (!(COMMITTEE_SIZES as readonly number[]).includes(ids.length)) {
    throw new VeilnetTaskError(
      `--operators ${value}: a committee has ${COMMITTEE_SIZES.join(", ")} members (3f+1), not ${ids.length}`,
    );
  }
  return ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The action's inputs, checked. */
interface Inputs {
  publicKey?: string;
  fee?: bigint;
  operator?: bigint;
  enclave?: string;
  operatorIds?: bigint[];
  deposit?: bigint;
  committee?: bigint;
  amount?: bigint;
}

function parseInputs(action: OperatorAction, a: OperatorTaskArguments): Inputs {
  const operator = () => parseId("operator", required("operator", a.operator, "id"));
  const committee = () => parseId("committee", required("committee", a.committee, "id"));
  const amount = () => parseAmount("amount", required("amount", a.amount, "ether"));
  const fee = () => parseFee(required("fee", a.fee, "wei per block"));
  switch (action) {
    case "register":
      return {
        publicKey: given(a.publicKey) ? parsePublicKey(a.publicKey) : undefined,
        fee: given(a.fee) ? parseFee(a.fee) : 0n,
      };
    case "set-enclave":
      return { operator: operator(), enclave: parseAddress("enclave", required("enclave", a.enclave, "address")) };
    case "create-committee":
      return {
        operatorIds: parseOperatorIds(required("operators", a.operators, "ids, e.g. 1,2,3,4")),
        deposit: given(a.deposit) ? parseAmount("deposit", a.deposit, true) : 0n,
      };
    case "deposit":
    case "withdraw":
    case "reactivate":
      return { committee: committee(), amount: amount() };
    case "liquidate":
      return { committee: committee() };
    case "declare-fee":
    case "reduce-fee":
      return { operator: operator(), fee: fee() };
    case "execute-fee":
    case "cancel-fee":
    case "remove":
      return { operator: operator() };
    case "withdraw-earnings":
      return { operator: operator(), amount: amount() };
    case "collect-rewards":
      return {};
    case "status":
      return {
        operator: given(a.operator) ? parseId("operator", a.operator) : undefined,
        committee: given(a.committee) ? parseId("committee", a.committee) : undefined,
      };
  }
}

// ------------------------------------------------------------------------------------------------
// Status

const when = (t: bigint): string => new Date(Number(t) * 1000).toISOString();

/** The veil:govern command that makes committee `id` the active one. */
export function activationCommand(id: bigint, network: string): string {
  return (
    `npx hardhat veil:govern schedule --contract OperatorRegistry --method setActiveCommittee ` +
    `--args '[${id}]' --network ${network}`
  );
}

async function committeeStatus(
  registry: OperatorRegistry,
  c: CommitteeView,
  activeId: bigint | undefined,
  thresholds: { minimumBlocksBeforeLiquidation: bigint; minimumLiquidationCollateral: bigint },
): Promise<CommitteeStatus> {
  const id = BigInt(c.id);
  const balance = await registry.committeeBalance(id);
  const burnRate = await registry.burnRate(id);
  const floor = [thresholds.minimumLiquidationCollateral, thresholds.minimumBlocksBeforeLiquidation * burnRate].reduce(
    (a, b) => (a > b ? a : b),
  );
  return {
    id,
    owner: c.owner,
    operatorIds: c.operatorIds.map(BigInt),
    quorum: c.quorum,
    signers: c.signers,
    active: id === activeId,
    liquidated: c.liquidated,
    balance,
    burnRate,
    blocksLeft: burnRate === 0n ? undefined : balance / burnRate,
    // Liquidatable once the balance is below the floor: after the first block of burn that takes it there.
    blocksUntilLiquidatable: burnRate === 0n ? undefined : balance >= floor ? (balance - floor) / burnRate + 1n : 0n,
    liquidatable: await registry.isLiquidatable(id),
  };
}

async function readStatus(
  registry: OperatorRegistry,
  feeVault: FeeVault,
  provider: JsonRpcSender,
  fromBlock: number,
  only: { operator?: bigint; committee?: bigint },
): Promise<OperatorRegistryStatus> {
  const address = await registry.getAddress();
  const parameters = await registry.parameters();
  const view = new OperatorRegistryView({ provider, address, fromBlock });
  await view.sync();
  const activeId = view.activeId === undefined ? undefined : BigInt(view.activeId);

  const committeeIds = new Set<number>();
  if (view.activeId !== undefined) committeeIds.add(view.activeId);
  if (only.committee !== undefined) {
    if (!view.committees.has(Number(only.committee))) {
      throw new VeilnetTaskError(`--committee ${only.committee}: no such committee (${view.committees.size} created)`);
    }
    committeeIds.add(Number(only.committee));
  }
  const committees: CommitteeStatus[] = [];
  for (const id of committeeIds) {
    committees.push(await committeeStatus(registry, view.committees.get(id)!, activeId, parameters));
  }

  if (only.operator !== undefined && !view.operators.has(Number(only.operator))) {
    throw new VeilnetTaskError(`--operator ${only.operator}: no such operator (${view.operators.size} registered)`);
  }
  const operators: OperatorStatus[] = [];
  for (const o of view.operators.values()) {
    if (only.operator !== undefined && BigInt(o.id) !== only.operator) continue;
    const id = BigInt(o.id);
    const declared = await registry.declaredFees(id);
    // The fee as stored: removal zeroes it without an OperatorFeeExecuted event.
    const { fee } = await registry.operators(id);
    operators.push({
      id,
      owner: o.owner,
      publicKey: o.publicKey,
      fee,
      enclave: o.removed ? undefined : o.enclave,
      earnings: await registry.operatorEarnings(id),
      removed: o.removed,
      declaredFee:
        declared.fee === 0n
          ? undefined
          : { fee: declared.fee, executableFrom: declared.executableFrom, executableUntil: declared.executableUntil },
    });
  }
  const [unvested, vestsAt] = await feeVault.unvestedRewardsOf(address);
  return {
    registry: address,
    activeCommitteeId: activeId,
    committees,
    operators,
    networkFee: await registry.networkFee(),
    minimumBlocksBeforeLiquidation: parameters.minimumBlocksBeforeLiquidation,
    minimumLiquidationCollateral: parameters.minimumLiquidationCollateral,
    collectableRewards: await feeVault.rewardsOf(address),
    unvestedRewards: { amount: unvested, vestsAt },
  };
}

const eth = (wei: bigint): string => `${formatEther(wei)} ETH`;

function printStatus(s: OperatorRegistryStatus, network: string): void {
  console.log(`OperatorRegistry ${s.registry}`);
  console.log(
    `  network fee ${s.networkFee} wei/block; liquidatable below ${s.minimumBlocksBeforeLiquidation} blocks ` +
      `of the burn rate or below ${eth(s.minimumLiquidationCollateral)}`,
  );
  console.log(
    `  FeeVault rewards to collect (collect-rewards): ${eth(s.collectableRewards)}` +
      (s.unvestedRewards.amount === 0n
        ? ""
        : `; ${eth(s.unvestedRewards.amount)} more vesting (all vested at ${when(s.unvestedRewards.vestsAt)})`),
  );
  if (s.activeCommitteeId === undefined) console.log("Active committee: none");
  for (const c of s.committees) {
    console.log(`${c.active ? "Active committee" : "Committee"} ${c.id}${c.liquidated ? " (liquidated)" : ""}`);
    console.log(
      table([
        ["members", c.operatorIds.join(", ")],
        ["quorum", `${c.quorum} of ${c.operatorIds.length}`],
        ["owner", c.owner],
        ["signers", c.signers.join(", ")],
        ["balance", eth(c.balance)],
        ["burn rate", `${c.burnRate} wei/block${c.active ? "" : " (paid only while active)"}`],
        ["blocks left", c.blocksLeft === undefined ? "unlimited (burn rate 0)" : c.blocksLeft.toString()],
        [
          "liquidatable in",
          c.blocksUntilLiquidatable === undefined
            ? "never at burn rate 0"
            : c.blocksUntilLiquidatable === 0n
              ? "now"
              : `${c.blocksUntilLiquidatable} blocks of burn (deposit to stay clear)`,
        ],
        ["liquidatable", c.liquidatable ? "YES: anyone may liquidate it now" : "no"],
      ]),
    );
    if (!c.active && !c.liquidated) {
      console.log(`  To make it the active committee (timelock): ${activationCommand(c.id, network)}`);
    }
  }
  if (s.operators.length === 0) {
    console.log("Operators: none");
    return;
  }
  console.log("Operators:");
  console.log(
    table([
      ["id", "owner", "fee (wei/block)", "enclave", "earnings", "removed"],
      ...s.operators.map((o) => [
        o.id.toString(),
        o.owner,
        o.fee.toString() +
          (o.declaredFee === undefined
            ? ""
            : ` (declared ${o.declaredFee.fee}, executable ${when(o.declaredFee.executableFrom)} to ${when(o.declaredFee.executableUntil)})`),
        o.enclave ?? "none",
        eth(o.earnings),
        o.removed ? "yes" : "no",
      ]),
    ]),
  );
}

// ------------------------------------------------------------------------------------------------

/** The compressed secp256k1 public key of `signer`, recovered from a signature it makes. */
async function publicKeyOf(signer: { signMessage(message: string): Promise<string> }): Promise<string> {
  const message = "Veilnet operator key";
  const signature = await signer.signMessage(message);
  return SigningKey.computePublicKey(SigningKey.recoverPublicKey(hashMessage(message), signature), true);
}

/** Argument `index` of the first `name` event `address` emitted in `receipt`, as a bigint. */
function eventArg(
  receipt: ContractTransactionReceipt,
  iface: Interface,
  address: string,
  name: string,
  index = 0,
): bigint {
  for (const log of receipt.logs) {
    if (getAddress(log.address) !== address) continue;
    const parsed = iface.parseLog(log);
    if (parsed?.name === name) return BigInt(parsed.args[index] as bigint);
  }
  throw new VeilnetTaskError(`Transaction ${receipt.hash} emitted no ${name} event`);
}

export default async function operatorTask(
  args: OperatorTaskArguments,
  hre: HardhatRuntimeEnvironment,
): Promise<OperatorResult> {
  const action = OPERATOR_ACTIONS.find((a) => a === args.action);
  if (action === undefined) {
    throw new VeilnetTaskError(`Unknown action "${args.action}": use one of ${OPERATOR_ACTIONS.join(", ")}`);
  }
  const inputs = parseInputs(action, args);

  const connection = await connect(hre);
  const deployment = await loadDeployment(connection, args.deploymentsDir);
  const signer = await taskSigner(connection);
  const contracts = bindContracts(deployment.addresses, signer);
  const registry = contracts.operatorRegistry;
  const registryAddress = deployment.addresses.OperatorRegistry;
  const errors = [registry.interface, contracts.feeVault.interface];
  const network = connection.networkName;

  if (action === "status") {
    const status = await readStatus(
      registry,
      contracts.feeVault,
      connection.ethers.provider,
      deployment.deploymentBlock,
      inputs,
    );
    printStatus(status, network);
    return { action, status };
  }

  const send = async (what: string, tx: () => Promise<ContractTransactionResponse>) => {
    let receipt: ContractTransactionReceipt | null;
    try {
      receipt = await (await tx()).wait();
    } catch (e) {
      throw transactionError(`OperatorRegistry.${what}`, e, errors);
    }
    if (receipt === null) throw new VeilnetTaskError(`OperatorRegistry.${what}: no receipt`);
    return receipt;
  };
  const done = (receipt: ContractTransactionReceipt, extra: Partial<OperatorResult> = {}): OperatorResult => {
    console.log(`  tx ${receipt.hash} (block ${receipt.blockNumber})`);
    return { action, txHash: receipt.hash, ...extra };
  };
  // parseInputs filled in what each action needs.
  const operator = inputs.operator!;
  const committee = inputs.committee!;
  const amount = inputs.amount!;
  const fee = inputs.fee!;

  switch (action) {
    case "register": {
      const key = inputs.publicKey ?? (await publicKeyOf(signer));
      const receipt = await send(`registerOperator(${key}, ${fee})`, () => registry.registerOperator(key, fee));
      const id = eventArg(receipt, registry.interface, registryAddress, "OperatorRegistered");
      console.log(`Registered operator ${id} (owner ${signer.address}, fee ${fee} wei/block)`);
      console.log(`  public key ${key}${inputs.publicKey === undefined ? " (the sender's own)" : ""}`);
      console.log(
        `  next: npx hardhat veil:operator set-enclave --operator ${id} --enclave <address> --network ${network}`,
      );
      return done(receipt, { operatorId: id });
    }
    case "set-enclave": {
      const enclave = inputs.enclave!;
      const receipt = await send(`setOperatorEnclave(${operator}, ${enclave})`, () =>
        registry.setOperatorEnclave(operator, enclave),
      );
      console.log(`Operator ${operator} signs with enclave ${enclave}`);
      return done(receipt);
    }
    case "create-committee": {
      const ids = inputs.operatorIds!;
      const value = inputs.deposit!;
      const receipt = await send(`createCommittee([${ids.join(", ")}]) with ${eth(value)}`, () =>
        registry.createCommittee(ids, { value }),
      );
      const id = eventArg(receipt, registry.interface, registryAddress, "CommitteeCreated");
      const quorum = 2 * Math.floor((ids.length - 1) / 3) + 1;
      console.log(
        `Created committee ${id}: operators ${ids.join(", ")}, quorum ${quorum} of ${ids.length}, balance ${eth(value)}`,
      );
      console.log(`  to make it the active committee (timelock): ${activationCommand(id, network)}`);
      return done(receipt, { committeeId: id });
    }
    case "deposit": {
      const receipt = await send(`deposit(${committee}) with ${eth(amount)}`, () =>
        registry.deposit(committee, { value: amount }),
      );
      console.log(`Deposited ${eth(amount)} into committee ${committee}`);
      console.log(`  balance ${eth(await registry.committeeBalance(committee))}`);
      return done(receipt);
    }
    case "withdraw": {
      const receipt = await send(`withdraw(${committee}, ${amount})`, () => registry.withdraw(committee, amount));
      console.log(`Withdrew ${eth(amount)} from committee ${committee}`);
      console.log(`  balance ${eth(await registry.committeeBalance(committee))}`);
      return done(receipt);
    }
    case "liquidate": {
      const receipt = await send(`liquidate(${committee})`, () => registry.liquidate(committee));
      const collected = eventArg(receipt, registry.interface, registryAddress, "CommitteeLiquidated", 2);
      console.log(`Liquidated committee ${committee}: collected its balance of ${eth(collected)}`);
      console.log(`  its owner may bring it back: veil:operator reactivate --committee ${committee} --amount <ether>`);
      return done(receipt);
    }
    case "reactivate": {
      const receipt = await send(`reactivate(${committee}) with ${eth(amount)}`, () =>
        registry.reactivate(committee, { value: amount }),
      );
      console.log(`Reactivated committee ${committee}`);
      console.log(`  balance ${eth(await registry.committeeBalance(committee))}`);
      return done(receipt);
    }
    case "declare-fee": {
      const receipt = await send(`declareOperatorFee(${operator}, ${fee})`, () =>
        registry.declareOperatorFee(operator, fee),
      );
      const declared = await registry.declaredFees(operator);
      console.log(`Declared fee ${fee} wei/block for operator ${operator}`);
      console.log(
        `  execute it (execute-fee) from ${when(declared.executableFrom)} until ${when(declared.executableUntil)}`,
      );
      return done(receipt);
    }
    case "execute-fee": {
      const declared = await registry.declaredFees(operator);
      const receipt = await send(`executeOperatorFee(${operator})`, () => registry.executeOperatorFee(operator));
      console.log(`Operator ${operator}'s fee is now ${declared.fee} wei/block`);
      return done(receipt);
    }
    case "cancel-fee": {
      const receipt = await send(`cancelDeclaredOperatorFee(${operator})`, () =>
        registry.cancelDeclaredOperatorFee(operator),
      );
      console.log(`Cancelled operator ${operator}'s declared fee`);
      return done(receipt);
    }
    case "reduce-fee": {
      const receipt = await send(`reduceOperatorFee(${operator}, ${fee})`, () =>
        registry.reduceOperatorFee(operator, fee),
      );
      console.log(`Operator ${operator}'s fee is now ${fee} wei/block`);
      return done(receipt);
    }
    case "remove": {
      const receipt = await send(`removeOperator(${operator})`, () => registry.removeOperator(operator));
      console.log(`Removed operator ${operator}: fee 0, no enclave; its earnings stay withdrawable`);
      return done(receipt);
    }
    case "withdraw-earnings": {
      const receipt = await send(`operatorWithdraw(${operator}, ${amount})`, () =>
        registry.operatorWithdraw(operator, amount),
      );
      console.log(`Withdrew ${eth(amount)} of operator ${operator}'s earnings to ${signer.address}`);
      console.log(`  earnings left ${eth(await registry.operatorEarnings(operator))}`);
      return done(receipt);
    }
    case "collect-rewards": {
      const receipt = await send("collectRewards()", () => registry.collectRewards());
      const id = eventArg(receipt, registry.interface, registryAddress, "RewardsCollected");
      const collected = eventArg(receipt, registry.interface, registryAddress, "RewardsCollected", 1);
      console.log(`Collected ${eth(collected)} of FeeVault rewards into the active committee ${id}`);
      return done(receipt);
    }
  }
}
