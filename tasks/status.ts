/**
 * `npx hardhat veil:status`: what a Veilnet deployment looks like on chain — addresses, the timelock
 * (its delay, pending operations), who holds each role on each contract (enumerated from the role
 * events), pending admin transfers, rollups, fees, open network-secret requests and pause flags.
 */
import { formatEther, getAddress } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { formatDeploymentTable } from "../deploy/deploy-veilnet.js";
import { CONTRACT_NAMES, type ContractName, type Deployment } from "../deploy/deployment-file.js";
import { roleHolders } from "../deploy/roles.js";

import { bindContracts, contractsByName } from "../platform/chain.js";
import { type PendingOperation, formatPending, pendingOperations } from "./govern.js";
import { connect, loadDeployment, table } from "./lib.js";

export interface StatusTaskArguments {
  deploymentsDir?: string;
}

export interface RoleHolding {
  contract: ContractName;
  role: string;
  /** Current holders (from the role events since the deployment block, checked with hasRole). */
  accounts: string[];
  /**
   * The holders as named: the parameters' accounts ("governor", "guardian", "initializer",
   * "attestationService", "deployer"; several names joined by "/" when one account plays several) and
   * the suite's contracts; other accounts by address.
   */
  holders: string[];
  deployerHolds: boolean;
}

export interface PendingAdminTransfer {
  contract: ContractName;
  newAdmin: string;
  /** Unix time from which the new admin may accept. */
  acceptableAt: bigint;
}

export interface OpenSecretRequest {
  id: bigint;
  enclaveId: string;
  bounty: bigint;
  payer: string;
  createdAt: bigint;
  cancellableAt: bigint;
}

export interface VeilnetStatus {
  deployment: Deployment;
  roles: RoleHolding[];
  timelock: { address: string; minDelay: bigint; pending: PendingOperation[] };
  /** Each contract's DEFAULT_ADMIN_ROLE holder and transfer delay (AccessControlDefaultAdminRules). */
  defaultAdmins: Array<{ contract: ContractName; admin: string; delay: bigint }>;
  pendingAdminTransfers: PendingAdminTransfer[];
  /** The RollupRegistry the MessageBus accepts message roots from (bound once at deployment). */
  messageBusRollupRegistry: string;
  messageBusBoundToRollupRegistry: boolean;
  feeVaultRewarder: string;
  feeVaultRewarderIsRollupRegistry: boolean;
  /** The deployment's attestation service and whether the verifier still accepts it. */
  attestationService: { address: string; allowed: boolean };
  /** Names whose NetworkConfig entry differs from the deployment file. */
  addressBookMismatches: string[];
  challengePeriod: bigint;
  rollupCount: bigint;
  nextBatchSeq: bigint;
  messageFee: bigint;
  nextMessageSequence: bigint;
  networkSecretInitialized: boolean;
  secretRequestCount: bigint;
  openSecretRequests: OpenSecretRequest[];
  /** Pause flag of every Pausable contract of the suite. */
  paused: Partial<Record<ContractName, boolean>>;
  registeredTokens: string[];
  permissionlessTokenRegistration: boolean;
  feeVault: { balance: bigint; treasury: bigint; unclaimedRewards: bigint };
}

const OPEN = 1n; // EnclaveRegistry.RequestStatus.Open

export default async function statusTask(
  args: StatusTaskArguments,
  hre: HardhatRuntimeEnvironment,
): Promise<VeilnetStatus> {
  const connection = await connect(hre);
  const deployment = await loadDeployment(connection, args.deploymentsDir);
  const { ethers } = connection;
  const a = deployment.addresses;
  const bound = bindContracts(a, ethers.provider);
  const { timelock, networkConfig, verifier, enclaveRegistry, feeVault, messageBus, rollupRegistry, bridge } = bound;
  const contracts = contractsByName(bound);

  // Names of the accounts the deployment knows.
  const known = new Map<string, string[]>();
  const p = deployment.parameters;
  const accountNames: Array<[string, string]> = [
    [p.governor, "governor"],
    [p.guardian, "guardian"],
    [p.initializer, "initializer"],
    [p.attestationService, "attestationService"],
    [deployment.deployer, "deployer"],
    ...CONTRACT_NAMES.map((n): [string, string] => [a[n], n]),
  ];
  for (const [addr, label] of accountNames)
    known.set(getAddress(addr), [...(known.get(getAddress(addr)) ?? []), label]);
  const labelOf = (addr: string): string => known.get(getAddress(addr))?.join("/") ?? addr;

  const roles: RoleHolding[] = [];
  const defaultAdmins: VeilnetStatus["defaultAdmins"] = [];
  const pendingAdminTransfers: PendingAdminTransfer[] = [];
  for (const name of CONTRACT_NAMES) {
    const c = contracts[name];
    for (const r of await roleHolders(c, deployment.deploymentBlock)) {
      roles.push({
        contract: name,
        role: r.role,
        accounts: r.holders,
        holders: r.holders.map(labelOf),
        deployerHolds: r.holders.includes(deployment.deployer),
      });
    }
    if (c.interface.getFunction("pendingDefaultAdmin") !== null) {
      defaultAdmins.push({
        contract: name,
        admin: getAddress(String(await c.getFunction("defaultAdmin").staticCall())),
        delay: BigInt(await c.getFunction("defaultAdminDelay").staticCall()),
      });
      const [newAdmin, schedule] = (await c.getFunction("pendingDefaultAdmin").staticCall()) as [string, bigint];
      if (BigInt(newAdmin) !== 0n) {
        pendingAdminTransfers.push({ contract: name, newAdmin: getAddress(newAdmin), acceptableAt: BigInt(schedule) });
      }
    }
  }

  const paused: Partial<Record<ContractName, boolean>> = {};
  for (const name of CONTRACT_NAMES) {
    const c = contracts[name];
    if (c.interface.getFunction("paused") !== null)
      paused[name] = (await c.getFunction("paused").staticCall()) === true;
  }

  const addressBookMismatches: string[] = [];
  for (const name of CONTRACT_NAMES) {
    if (name === "NetworkConfig") continue;
    // `getAddress(string)` is shadowed by BaseContract.getAddress(): call it by signature.
    const recorded: unknown = await networkConfig
      .getFunction("getAddress(string)")
      .staticCall(name)
      .catch(() => undefined);
    if (typeof recorded !== "string" || getAddress(recorded) !== a[name]) addressBookMismatches.push(name);
  }

  // The registry stores only a hash per request and the bridge no token list: both come from events.
  const secretRequestCount = BigInt(await enclaveRegistry.requestCount());
  const timeout = await enclaveRegistry.secretRequestTimeout();
  const openSecretRequests: OpenSecretRequest[] = [];
  const requests = await enclaveRegistry.queryFilter(
    enclaveRegistry.filters.NetworkSecretRequested(),
    deployment.deploymentBlock,
    "latest",
  );
  for (const { args: r } of requests) {
    if (BigInt(await enclaveRegistry.requestStatus(r.requestId)) === OPEN) {
      openSecretRequests.push({
        id: r.requestId,
        enclaveId: r.enclaveId,
        bounty: r.bounty,
        payer: r.payer,
        createdAt: r.createdAt,
        cancellableAt: r.createdAt + timeout,
      });
    }
  }
  const registeredTokens = (
    await bridge.queryFilter(bridge.filters.TokenRegistered(), deployment.deploymentBlock, "latest")
  ).map((e) => getAddress(e.args.token));

  const feeVaultRewarder = getAddress(await feeVault.rewarder());
  const messageBusRollupRegistry = getAddress(await messageBus.rollupRegistry());
  const status: VeilnetStatus = {
    deployment,
    roles,
    timelock: {
      address: a.Timelock,
      minDelay: await timelock.getMinDelay(),
      pending: await pendingOperations(timelock, contracts, deployment.deploymentBlock),
    },
    defaultAdmins,
    pendingAdminTransfers,
    messageBusRollupRegistry,
    messageBusBoundToRollupRegistry: messageBusRollupRegistry === a.RollupRegistry,
    feeVaultRewarder,
    feeVaultRewarderIsRollupRegistry: feeVaultRewarder === a.RollupRegistry,
    attestationService: {
      address: deployment.parameters.attestationService,
      allowed: await verifier.isAttestationService(deployment.parameters.attestationService),
    },
    addressBookMismatches,
    challengePeriod: BigInt(await rollupRegistry.challengePeriod()),
    rollupCount: BigInt(await rollupRegistry.rollupCount()),
    nextBatchSeq: BigInt(await rollupRegistry.nextBatchSeq()),
    messageFee: await messageBus.messageFee(),
    nextMessageSequence: BigInt(await messageBus.nextSequence()),
    networkSecretInitialized: BigInt(await enclaveRegistry.secretCommitment()) !== 0n,
    secretRequestCount,
    openSecretRequests,
    paused,
    registeredTokens,
    permissionlessTokenRegistration: await bridge.permissionlessRegistration(),
    feeVault: {
      balance: await ethers.provider.getBalance(a.FeeVault),
      treasury: BigInt(await feeVault.treasuryBalance()),
      unclaimedRewards: BigInt(await feeVault.totalUnclaimed()),
    },
  };
  console.log(formatStatus(status));
  return status;
}

export function formatStatus(s: VeilnetStatus): string {
  const out: string[] = [];
  out.push(`Veilnet on ${s.deployment.network} (chain ${s.deployment.chainId})`);
  out.push(formatDeploymentTable(s.deployment));
  if (s.addressBookMismatches.length > 0) {
    out.push(`WARNING: NetworkConfig's address book differs from the file for: ${s.addressBookMismatches.join(", ")}`);
  } else {
    out.push("NetworkConfig address book matches the deployment file.");
  }

  out.push("");
  const p = s.deployment.parameters;
  out.push(
    `Governance: every admin role is the Timelock's (${s.timelock.address}), minimum delay ${s.timelock.minDelay} s`,
  );
  out.push(
    table([
      ["governor", `${p.governor} (proposes, cancels and executes timelock operations)`],
      ["guardian", `${p.guardian} (pauses, rejects rollups in their challenge period: at once)`],
      ["initializer", `${p.initializer} (initializes the network secret, once)`],
    ]),
  );
  const now = BigInt(Math.floor(Date.now() / 1000));
  out.push(formatPending(s.timelock.pending, now));

  out.push("");
  out.push("Roles (current holders, from the role events):");
  out.push(
    table([["contract", "role", "holders"], ...s.roles.map((r) => [r.contract, r.role, r.holders.join(", ") || "-"])]),
  );
  const delays = [...new Set(s.defaultAdmins.map((d) => d.delay))];
  out.push(`  DEFAULT_ADMIN_ROLE transfers: two-step, delay ${delays.map((d) => `${d} s`).join(" / ")}`);
  if (s.pendingAdminTransfers.length === 0) {
    out.push("  Pending admin transfers: none");
  } else {
    out.push("  Pending admin transfers:");
    out.push(
      table(
        s.pendingAdminTransfers.map((t) => [
          t.contract,
          `to ${t.newAdmin}`,
          `acceptable from ${new Date(Number(t.acceptableAt) * 1000).toISOString()}`,
        ]),
        "    ",
      ),
    );
  }
  const deployerRoles = s.roles.filter((r) => r.deployerHolds);
  if (deployerRoles.length > 0) {
    out.push(
      `  The deployer holds: ${deployerRoles.map((r) => `${r.contract}.${r.role}`).join(", ")}` +
        " (only as governor/guardian/initializer when the parameters say so)",
    );
  }
  out.push(
    `  MessageBus accepts message roots from: ${s.messageBusRollupRegistry}` +
      (s.messageBusBoundToRollupRegistry ? " (RollupRegistry)" : " (NOT the RollupRegistry)"),
  );
  out.push(
    `  FeeVault rewarder: ${s.feeVaultRewarder}${s.feeVaultRewarderIsRollupRegistry ? " (RollupRegistry)" : " (NOT the RollupRegistry)"}`,
  );

  out.push("");
  out.push("State:");
  out.push(
    table([
      [
        "attestation service",
        `${s.attestationService.address}${s.attestationService.address === s.deployment.deployer ? " (deployer)" : ""}` +
          (s.attestationService.allowed ? "" : " (NO LONGER ALLOWED by the verifier)"),
      ],
      ["challenge period", `${s.challengePeriod} s`],
      ["rollups", String(s.rollupCount)],
      ["next batch seq", String(s.nextBatchSeq)],
      ["message fee", `${s.messageFee} wei (${formatEther(s.messageFee)} ETH)`],
      ["next message seq", String(s.nextMessageSequence)],
      ["network secret", s.networkSecretInitialized ? "initialized" : "not initialized"],
      ["secret requests", `${s.secretRequestCount} total, ${s.openSecretRequests.length} open`],
      [
        "registered tokens",
        `${s.registeredTokens.length === 0 ? "none" : s.registeredTokens.join(", ")} (registration ${s.permissionlessTokenRegistration ? "permissionless" : "restricted to TOKEN_ADMIN_ROLE"})`,
      ],
      [
        "fee vault",
        `balance ${formatEther(s.feeVault.balance)} ETH, treasury ${formatEther(s.feeVault.treasury)} ETH, unclaimed rewards ${formatEther(s.feeVault.unclaimedRewards)} ETH`,
      ],
    ]),
  );

  out.push("");
  if (s.openSecretRequests.length === 0) {
    out.push("Open secret requests: none");
  } else {
    out.push("Open secret requests:");
    out.push(
      table([
        ["id", "enclave", "bounty (ETH)", "payer", "cancellable at"],
        ...s.openSecretRequests.map((r) => [
          String(r.id),
          r.enclaveId,
          formatEther(r.bounty),
          r.payer,
          new Date(Number(r.cancellableAt) * 1000).toISOString(),
        ]),
      ]),
    );
  }

  out.push("");
  out.push("Paused:");
  out.push(table(Object.entries(s.paused).map(([name, p]) => [name, p ? "PAUSED" : "no"])));
  return out.join("\n");
}
