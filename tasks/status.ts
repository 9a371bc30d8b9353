/**
 * `npx hardhat veil:status`: what a Veilnet deployment looks like on chain — addresses, who holds
 * each role (among the deployer, the attestation service and the suite's contracts), rollups, fees,
 * open network-secret requests and pause flags.
 */
import { type BaseContract, FunctionFragment, formatEther, getAddress } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { formatDeploymentTable } from "../deploy/deploy-veilnet.js";
import { CONTRACT_NAMES, type ContractName, type Deployment } from "../deploy/deployment-file.js";

import { bindContracts } from "../workers/core/chain.js";
import { connect, loadDeployment, table } from "./lib.js";

export interface StatusTaskArguments {
  deploymentsDir?: string;
}

export interface RoleHolding {
  contract: ContractName;
  role: string;
  /** Names of the known accounts holding the role ("deployer", "attestationService", contract names). */
  holders: string[];
  deployerHolds: boolean;
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
  rollupRegistryIsRootRegistrar: boolean;
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
  const { networkConfig, verifier, enclaveRegistry, feeVault, messageBus, rollupRegistry, messenger, bridge } =
    bindContracts(a, ethers.provider);
  const contracts: Record<ContractName, BaseContract> = {
    NetworkConfig: networkConfig,
    SignedReportVerifier: verifier,
    EnclaveRegistry: enclaveRegistry,
    FeeVault: feeVault,
    MessageBus: messageBus,
    RollupRegistry: rollupRegistry,
    CrossChainMessenger: messenger,
    Bridge: bridge,
  };

  // Known accounts whose roles are reported (AccessControl cannot enumerate holders).
  const known = new Map<string, string>();
  known.set(deployment.deployer, "deployer");
  if (!known.has(deployment.parameters.attestationService)) {
    known.set(deployment.parameters.attestationService, "attestationService");
  }
  for (const name of CONTRACT_NAMES) known.set(a[name], name);

  const roles: RoleHolding[] = [];
  for (const name of CONTRACT_NAMES) {
    const c = contracts[name];
    for (const role of roleNames(c)) {
      const roleId = String(await c.getFunction(role).staticCall());
      const holders: string[] = [];
      for (const [addr, label] of known) {
        if ((await c.getFunction("hasRole").staticCall(roleId, addr)) === true) holders.push(label);
      }
      roles.push({ contract: name, role, holders, deployerHolds: holders.includes("deployer") });
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

  const secretRequestCount = await enclaveRegistry.requestCount();
  const timeout = await enclaveRegistry.secretRequestTimeout();
  const openSecretRequests: OpenSecretRequest[] = [];
  for (let id = 1n; id <= secretRequestCount; id++) {
    const r = await enclaveRegistry.secretRequest(id);
    if (BigInt(r.status) === OPEN) {
      openSecretRequests.push({
        id,
        enclaveId: r.enclaveId,
        bounty: r.bounty,
        payer: r.payer,
        createdAt: r.createdAt,
        cancellableAt: r.createdAt + timeout,
      });
    }
  }

  const feeVaultRewarder = getAddress(await feeVault.rewarder());
  const status: VeilnetStatus = {
    deployment,
    roles,
    // Root registration is bound once at deployment (MessageBus.bindRollupRegistry), not a role.
    rollupRegistryIsRootRegistrar: getAddress(await messageBus.rollupRegistry()) === a.RollupRegistry,
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
    registeredTokens: (await bridge.registeredTokens()).map((t) => getAddress(t)),
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

/** The role constants a contract exposes (`DEFAULT_ADMIN_ROLE`, `*_ROLE`). */
function roleNames(c: BaseContract): string[] {
  const names: string[] = [];
  c.interface.forEachFunction((f: FunctionFragment) => {
    if (
      f.name.endsWith("_ROLE") &&
      f.inputs.length === 0 &&
      f.outputs.length === 1 &&
      f.outputs[0].type === "bytes32"
    ) {
      names.push(f.name);
    }
  });
  return names.sort((x, y) => (x === "DEFAULT_ADMIN_ROLE" ? -1 : y === "DEFAULT_ADMIN_ROLE" ? 1 : x.localeCompare(y)));
}

const yesNo = (ok: boolean, good = true): string => (ok === good ? "yes" : "NO");

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
  out.push("Roles (holders among the deployer, the attestation service and the suite's contracts):");
  out.push(
    table([
      ["contract", "role", "deployer", "holders"],
      ...s.roles.map((r) => [r.contract, r.role, r.deployerHolds ? "yes" : "no", r.holders.join(", ") || "-"]),
    ]),
  );
  out.push(`  RollupRegistry is the MessageBus's bound root registrar: ${yesNo(s.rollupRegistryIsRootRegistrar)}`);
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
