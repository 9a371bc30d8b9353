/**
 * Test fixture: deploys the L1 suite through the Ignition module (so tests exercise the real
 * deployment, TimelockController included) and offers helpers to make enclaves, reports, rollups and
 * message trees. Admin actions go through the timelock: testing/governance.ts `govern()`.
 */
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { type BytesLike, Wallet, ZeroHash, getBytes, hexlify, id, keccak256, randomBytes } from "ethers";
import hre from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";

import type { DeploymentAddresses } from "../deploy/deployment-file.js";
import VeilnetModule from "../deploy/modules/Veilnet.js";
import type { VeilnetParameters } from "../deploy/parameters.js";
import {
  type EnclaveIdentity,
  attestationDomain,
  enclaveIdentity,
  signAttestationReport,
} from "../protocol/attestation.js";
import { type CrossChainMessage, MessageTree, withdrawalMessage } from "../protocol/messages.js";
import { L2Predeploys } from "../protocol/predeploys.js";
import {
  type CommitteeSignatures,
  type RollupHeader,
  addRollupArguments,
  epochOf,
  packCommitteeSignatures,
  rollupHash,
  rollupRegistryDomain,
  signRollupHeader,
} from "../protocol/rollup.js";
import { enclaveRegistryDomain, encryptSecret, secretCommitment, signSecretResponse } from "../protocol/secret.js";
import { type VeilnetContracts, bindContracts } from "../platform/chain.js";
import { formGenesisCommittee } from "../platform/committee.js";

export const MEASUREMENT = id("veilnet-enclave-v1");
export const CHALLENGE_PERIOD = 3600n;
/** L1 blocks after an epoch's end until its key may be revealed (RollupRegistry.MIN_REVELATION_PERIOD). */
export const REVELATION_PERIOD = 256n;
export const SECRET_REQUEST_TIMEOUT = 600n;
export const BASE_REWARD = 10n ** 15n;
export const PER_BATCH_REWARD = 10n ** 14n;
export const TREASURY_BPS = 1000n;

export interface VeilnetOptions {
  messageFee?: bigint;
  permissionlessTokenRegistration?: boolean;
  baseReward?: bigint;
  perBatchReward?: bigint;
  /**
   * The timelock's minimum delay, seconds. Default 0: `govern()` schedules and executes at once. With a
   * real delay `govern()` moves time past it between the two.
   */
  timelockDelay?: bigint;
  /** DEFAULT_ADMIN_ROLE transfer delay of every contract, seconds (default 0). */
  adminDelay?: bigint;
  /** The timelock's proposer/executor (default: account 0, the deployer). Becomes `v.admin`. */
  governor?: HardhatEthersSigner;
  /** Holder of the emergency roles (default: account 0). */
  guardian?: HardhatEthersSigner;
  /** Holder of EnclaveRegistry's GENESIS_ROLE (default: account 0). */
  initializer?: HardhatEthersSigner;
}

export type Connection = NetworkConnection;

/** How many user accounts the fixture guarantees (tests index `v.users` up to 9). */
export const USER_COUNT = 10;

type S = HardhatEthersSigner;
/** The user accounts: at least {@link USER_COUNT}, so tests may index the first ten unchecked. */
export type Users = [S, S, S, S, S, S, S, S, S, S, ...S[]];

/**
 * Splits the network's accounts into deployer, attestation service, stranger and users, failing with a
 * clear error if the network configures too few accounts.
 */
function fixtureAccounts(signers: S[]): { deployer: S; attestationService: S; stranger: S; users: Users } {
  const [deployer, attestationService, stranger, ...users] = signers;
  if (
    deployer === undefined ||
    attestationService === undefined ||
    stranger === undefined ||
    users.length < USER_COUNT
  ) {
    throw new Error(`the network has ${signers.length} accounts; the fixture needs ${3 + USER_COUNT}`);
  }
  // Length checked just above.
  return { deployer, attestationService, stranger, users: users as Users };
}

/** The deployed suite (its typed contracts, bound to the admin) and the accounts tests use. */
export interface Veilnet extends VeilnetContracts {
  connection: Connection;
  /**
   * The governor: proposer and executor of the timelock, which holds every admin role (`govern()` acts
   * through it). By default also the guardian (PAUSER_ROLE, GUARDIAN_ROLE), the genesis initializer and
   * the deployer (account 0).
   */
  admin: HardhatEthersSigner;
  /** Holds PAUSER_ROLE everywhere and RollupRegistry's GUARDIAN_ROLE. */
  guardian: HardhatEthersSigner;
  /** Holds EnclaveRegistry's GENESIS_ROLE until it initializes the network secret. */
  initializer: HardhatEthersSigner;
  /** Account 0: sent the deployment; holds no role of its own. */
  deployer: HardhatEthersSigner;
  /** The timelock's minimum delay, seconds. */
  timelockDelay: bigint;
  /** The module parameters the suite was deployed with. */
  parameters: VeilnetParameters;
  /** Signs attestation reports (the dev attestation service). */
  attestationService: HardhatEthersSigner;
  /** Holds no role anywhere. */
  stranger: HardhatEthersSigner;
  /** The remaining accounts, at least {@link USER_COUNT} of them; hold no role. */
  users: Users;
  chainId: bigint;
  /** The L2 bridge address the L1 bridge trusts (the L2 predeploy). */
  l2Bridge: string;
  /** Every contract's address, as named in deployments/<chainId>.json. */
  addresses: DeploymentAddresses;
}

/**
 * Deploys the suite with the test parameters above. The timelock is every contract's admin; account 0
 * deploys and, unless `options` say otherwise, is governor, guardian and genesis initializer.
 */
export async function deployVeilnet(connection: Connection, options: VeilnetOptions = {}): Promise<Veilnet> {
  const { ethers, ignition } = connection;
  const { deployer, attestationService, stranger, users } = fixtureAccounts(await ethers.getSigners());
  const admin = options.governor ?? deployer;
  const guardian = options.guardian ?? deployer;
  const initializer = options.initializer ?? deployer;
  const timelockDelay = options.timelockDelay ?? 0n;
  // Over HTTP (a node in another process) Ignition keeps a journal on disk: give each test deployment
  // its own and delete it afterwards, so runs never resume each other's deployments.
  const overHttp = connection.networkConfig.type !== "edr-simulated";
  const deploymentId = overHttp ? `veilnet-test-${hexlify(randomBytes(6)).slice(2)}` : undefined;
  const parameters: VeilnetParameters = {
    challengePeriod: CHALLENGE_PERIOD,
    revelationPeriod: REVELATION_PERIOD,
    secretRequestTimeout: SECRET_REQUEST_TIMEOUT,
    messageFee: options.messageFee ?? 0n,
    baseReward: options.baseReward ?? BASE_REWARD,
    perBatchReward: options.perBatchReward ?? PER_BATCH_REWARD,
    treasuryShareBps: TREASURY_BPS,
    attestationService: attestationService.address,
    measurement: MEASUREMENT,
    l2Bridge: L2Predeploys.bridge,
    permissionlessTokenRegistration: options.permissionlessTokenRegistration ?? true,
    timelockDelay,
    adminDelay: options.adminDelay ?? 0n,
    governor: admin.address,
    guardian: guardian.address,
    initializer: initializer.address,
  };
  const deployed = await ignition.deploy(VeilnetModule, {
    deploymentId,
    parameters: { Veilnet: { ...parameters } },
  });
  if (deploymentId !== undefined) {
    rmSync(path.join(hre.config.paths.ignition, "deployments", deploymentId), { recursive: true, force: true });
  }
  const at = async (c: { getAddress(): Promise<string> }) => c.getAddress();
  const addresses: DeploymentAddresses = {
    Timelock: await at(deployed.timelock),
    NetworkConfig: await at(deployed.networkConfig),
    SignedReportVerifier: await at(deployed.verifier),
    EnclaveRegistry: await at(deployed.enclaveRegistry),
    FeeVault: await at(deployed.feeVault),
    MessageBus: await at(deployed.messageBus),
    OperatorRegistry: await at(deployed.operatorRegistry),
    RollupRegistry: await at(deployed.rollupRegistry),
    CrossChainMessenger: await at(deployed.messenger),
    Bridge: await at(deployed.bridge),
  };
  return {
    connection,
    admin,
    guardian,
    initializer,
    deployer,
    timelockDelay,
    parameters,
    attestationService,
    stranger,
    users,
    chainId: (await ethers.provider.getNetwork()).chainId,
    ...bindContracts(addresses, admin),
    l2Bridge: L2Predeploys.bridge,
    addresses,
  };
}

/** A fresh enclave key pair and a report for it signed by the fixture's attestation service. */
export async function makeEnclave(
  v: Veilnet,
  overrides: { measurement?: string; expiresAt?: bigint; signer?: HardhatEthersSigner | Wallet } = {},
): Promise<EnclaveIdentity & { report: string }> {
  const identity = enclaveIdentity();
  const now = BigInt((await v.connection.ethers.provider.getBlock("latest"))!.timestamp);
  const report = await signAttestationReport(
    overrides.signer ?? v.attestationService,
    attestationDomain(v.chainId, await v.verifier.getAddress()),
    {
      enclavePubKey: identity.publicKey,
      measurement: overrides.measurement ?? MEASUREMENT,
      issuedAt: now,
      expiresAt: overrides.expiresAt ?? now + 86_400n,
    },
  );
  return { ...identity, report };
}

/**
 * The genesis enclave with the network secret initialized by the initializer (attested, sequencer, operator
 * = the initializer, by default the admin), and the genesis committee of one formed around it (the
 * OperatorRegistry's active committee: rollups signed by this enclave alone are accepted).
 */
export async function initializeGenesis(v: Veilnet): Promise<EnclaveIdentity & { report: string; secret: string }> {
  const genesis = await makeEnclave(v);
  const secret = hexlify(randomBytes(32));
  const registry = v.enclaveRegistry.connect(v.initializer);
  await (await registry.initializeNetworkSecret(genesis.report, secretCommitment(secret))).wait();
  await formGenesisCommittee(v, v.initializer, {
    address: genesis.address,
    operatorKey: Wallet.createRandom().signingKey.publicKey,
  });
  return { ...genesis, secret };
}

/**
 * Writes `identity`'s enclave state file (mode 0600), holding `secret`, as `veilnet enclave init` would
 * have: what a node or a command loads with ENCLAVE_STATE_FILE / --state-file.
 */
export function writeEnclaveState(file: string, identity: EnclaveIdentity, secret: string | null): void {
  const state = {
    version: 1,
    enclaveId: identity.address,
    privateKey: identity.wallet.privateKey,
    measurement: MEASUREMENT,
    secret,
  };
  writeFileSync(file, JSON.stringify(state), { mode: 0o600 });
}

/** A signed response of `responder` to request `requestId`, encrypting `secret` to `requesterPubKey`. */
export async function secretResponse(
  v: Veilnet,
  responder: EnclaveIdentity,
  requestId: bigint,
  requesterPubKey: string,
  secret: string,
): Promise<{ encryptedSecret: string; signature: string }> {
  const encryptedSecret = encryptSecret(requesterPubKey, secret);
  const signature = await signSecretResponse(
    responder.wallet,
    enclaveRegistryDomain(v.chainId, await v.enclaveRegistry.getAddress()),
    requestId,
    encryptedSecret,
  );
  return { encryptedSecret, signature };
}

/** The stand-in key of revelation epoch `epoch` in headers made by {@link nextRollupHeader}. */
export function testEpochKey(epoch: bigint): string {
  return id(`epoch-${epoch}-key`);
}

/**
 * A header for the next rollup, chained to the last accepted one (`previousBatchHash`), bound to the latest L1 block (in that block's revelation epoch, committing
 * to {@link testEpochKey}), with sensible defaults.
 */
export async function nextRollupHeader(
  v: Veilnet,
  overrides: Partial<RollupHeader> & { payload?: BytesLike } = {},
): Promise<{ header: RollupHeader; payload: string }> {
  const block = (await v.connection.ethers.provider.getBlock("latest"))!;
  const first = await v.rollupRegistry.nextBatchSeq();
  const payload = hexlify(overrides.payload ?? randomBytes(64));
  const epoch = epochOf(overrides.l1BlockNumber ?? BigInt(block.number));
  const header: RollupHeader = {
    firstBatchSeq: first,
    lastBatchSeq: first,
    lastBatchHash: hexlify(randomBytes(32)),
    previousBatchHash: await v.rollupRegistry.lastBatchHash(),
    l1BlockNumber: BigInt(block.number),
    l1BlockHash: block.hash!,
    messageRoot: ZeroHash,
    payloadHash: getBytes(payload).length === 0 ? ZeroHash : keccak256(payload),
    revelationEpoch: epoch,
    keyCommitment: keccak256(testEpochKey(epoch)),
    ...overrides,
  };
  return { header, payload };
}

/** `signer`'s EIP-712 signature of `header` (one committee member's). */
export async function signRollupAs(v: Veilnet, signer: EnclaveIdentity, header: RollupHeader): Promise<string> {
  return signRollupHeader(signer.wallet, rollupRegistryDomain(v.chainId, await v.rollupRegistry.getAddress()), header);
}

/**
 * `header` signed by a committee: every one of `signers` (member index → enclave) signs it; `members`
 * (default: the signers' addresses in index order) is the committee's signer set.
 */
export async function signRollupByCommittee(
  v: Veilnet,
  header: RollupHeader,
  signers: ReadonlyMap<number, EnclaveIdentity>,
  members: readonly string[] = [...signers.entries()].sort(([a], [b]) => a - b).map(([, e]) => e.address),
): Promise<CommitteeSignatures> {
  const signed = new Map<number, string>();
  for (const [index, enclave] of signers) signed.set(index, await signRollupAs(v, enclave, header));
  return packCommitteeSignatures(members, signed);
}

/** Signs `header` by the committee of one made of `sequencer` (the genesis committee). */
export async function signRollup(
  v: Veilnet,
  sequencer: EnclaveIdentity,
  header: RollupHeader,
): Promise<CommitteeSignatures> {
  return signRollupByCommittee(v, header, new Map([[0, sequencer]]));
}

/** The arguments of RollupRegistry.addRollup (re-exported for tests: `addRollup(...rollupArgs(…))`). */
export const rollupArgs = addRollupArguments;

/** Builds, signs and submits the next rollup carrying `messages` (if any). */
export async function submitRollup(
  v: Veilnet,
  sequencer: EnclaveIdentity,
  messages: readonly CrossChainMessage[] = [],
  overrides: Partial<RollupHeader> = {},
): Promise<{ header: RollupHeader; hash: string; tree?: MessageTree }> {
  const tree = messages.length > 0 ? new MessageTree(messages) : undefined;
  const { header, payload } = await nextRollupHeader(v, { messageRoot: tree?.root ?? ZeroHash, ...overrides });
  const signature = await signRollup(v, sequencer, header);
  await (await v.rollupRegistry.addRollup(...addRollupArguments(header, payload, signature))).wait();
  return { header, hash: rollupHash(header), tree };
}

/** A withdrawal from L2 to `to` on L1: ETH, or `token` (its L1 address). */
export interface Withdrawal {
  token?: string;
  to: string;
  amount: bigint;
}

/**
 * ETH/token withdrawal messages from the L2 bridge to the L1 bridge, sequences starting at `firstSequence`:
 * one per withdrawal, in order (typed as such, so a literal list of two gives two messages).
 */
export async function withdrawalMessages<const W extends readonly Withdrawal[]>(
  v: Veilnet,
  withdrawals: W,
  firstSequence = 0n,
): Promise<{ -readonly [K in keyof W]: CrossChainMessage }> {
  const l1Bridge = await v.bridge.getAddress();
  const messages = withdrawals.map((w, i) =>
    withdrawalMessage({
      l2Bridge: v.l2Bridge,
      l1Bridge,
      l1Token: w.token ?? "0x0000000000000000000000000000000000000000",
      to: w.to,
      amount: w.amount,
      sequence: firstSequence + BigInt(i),
    }),
  );
  // map keeps the length and order: one message per withdrawal.
  return messages as { -readonly [K in keyof W]: CrossChainMessage };
}

/** Moves time past the challenge period. */
export async function passChallengePeriod(v: Veilnet): Promise<void> {
  await v.connection.networkHelpers.time.increase(CHALLENGE_PERIOD + 1n);
}

/**
 * The FeeVault's accounting invariant: balance == unclaimed rewards + treasury + unallocated, with
 * unallocated never negative. Call after every test that touches the vault.
 */
export async function feeVaultInvariant(v: Veilnet): Promise<{ balance: bigint; unclaimed: bigint; treasury: bigint }> {
  const balance = await v.connection.ethers.provider.getBalance(await v.feeVault.getAddress());
  const unclaimed = await v.feeVault.totalUnclaimed();
  const treasury = await v.feeVault.treasuryBalance();
  if (balance < unclaimed + treasury) {
    throw new Error(`FeeVault insolvent: balance ${balance} < unclaimed ${unclaimed} + treasury ${treasury}`);
  }
  const unallocated = await v.feeVault.unallocated();
  if (balance !== unclaimed + treasury + unallocated) {
    throw new Error(`FeeVault accounting broken: ${balance} != ${unclaimed} + ${treasury} + ${unallocated}`);
  }
  return { balance, unclaimed, treasury };
}
