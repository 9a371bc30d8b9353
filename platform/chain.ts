/**
 * The L1 as workers see it: a JSON-RPC provider checked at start, the deployment read from
 * deployments/<chainId>.json, and TypeChain-typed contracts bound to it.
 */
import { type BaseContract, type ContractRunner, JsonRpcProvider, Network, WebSocketProvider } from "ethers";

import {
  type ContractName,
  type Deployment,
  type DeploymentAddresses,
  readDeployment,
} from "../deploy/deployment-file.js";
import {
  type Bridge,
  Bridge__factory,
  type CrossChainMessenger,
  CrossChainMessenger__factory,
  type EnclaveRegistry,
  EnclaveRegistry__factory,
  type FeeVault,
  FeeVault__factory,
  type MessageBus,
  MessageBus__factory,
  type NetworkConfig,
  NetworkConfig__factory,
  type OperatorRegistry,
  OperatorRegistry__factory,
  type RollupRegistry,
  RollupRegistry__factory,
  type SignedReportVerifier,
  SignedReportVerifier__factory,
  type TimelockController,
  TimelockController__factory,
} from "../types/ethers-contracts/index.js";
import type { DependencyCheck } from "./http.js";
import { redactUrl, withTimeout } from "./redis.js";

export class RpcUnavailableError extends Error {
  constructor(url: string, cause: unknown) {
    super(`L1 RPC is unreachable at ${redactUrl(url)}: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = "RpcUnavailableError";
  }
}

export type L1Provider = JsonRpcProvider | WebSocketProvider;

/**
 * Connects to the L1 at `url` and asks its chain id (within `timeoutMs`); throws RpcUnavailableError
 * when it does not answer. The provider is pinned to that network (no re-detection on every call).
 */
export async function connectL1(url: string, timeoutMs = 10_000): Promise<{ provider: L1Provider; chainId: number }> {
  let chainId: number;
  try {
    chainId = await withTimeout(probeChainId(url), timeoutMs, `no answer within ${timeoutMs} ms`);
  } catch (e) {
    throw new RpcUnavailableError(url, e);
  }
  const network = Network.from(chainId);
  // No read cache (ethers keeps identical calls for 250 ms by default): workers read state right after
  // changing it (a relay, then isRelayed) or right after a reorg, and must see the chain as it is.
  const provider = url.startsWith("ws")
    ? new WebSocketProvider(url, network, { cacheTimeout: -1 })
    : new JsonRpcProvider(url, network, { staticNetwork: network, pollingInterval: 500, cacheTimeout: -1 });
  return { provider, chainId };
}

async function probeChainId(url: string): Promise<number> {
  if (url.startsWith("ws")) {
    const ws = new WebSocketProvider(url);
    try {
      return Number((await ws.getNetwork()).chainId);
    } finally {
      await ws.destroy();
    }
  }
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const body = (await response.json()) as { result?: string; error?: { message: string } };
  if (body.result === undefined) throw new Error(body.error?.message ?? "no result");
  return Number(BigInt(body.result));
}

/** The deployment's contracts, typed. */
export interface VeilnetContracts {
  /** OpenZeppelin's TimelockController: every contract's admin. */
  timelock: TimelockController;
  networkConfig: NetworkConfig;
  verifier: SignedReportVerifier;
  enclaveRegistry: EnclaveRegistry;
  feeVault: FeeVault;
  messageBus: MessageBus;
  /** The operators and committees; its active committee signs rollups. */
  operatorRegistry: OperatorRegistry;
  rollupRegistry: RollupRegistry;
  messenger: CrossChainMessenger;
  bridge: Bridge;
}

export function bindContracts(a: DeploymentAddresses, runner: ContractRunner): VeilnetContracts {
  return {
    timelock: TimelockController__factory.connect(a.Timelock, runner),
    networkConfig: NetworkConfig__factory.connect(a.NetworkConfig, runner),
    verifier: SignedReportVerifier__factory.connect(a.SignedReportVerifier, runner),
    enclaveRegistry: EnclaveRegistry__factory.connect(a.EnclaveRegistry, runner),
    feeVault: FeeVault__factory.connect(a.FeeVault, runner),
    messageBus: MessageBus__factory.connect(a.MessageBus, runner),
    operatorRegistry: OperatorRegistry__factory.connect(a.OperatorRegistry, runner),
    rollupRegistry: RollupRegistry__factory.connect(a.RollupRegistry, runner),
    messenger: CrossChainMessenger__factory.connect(a.CrossChainMessenger, runner),
    bridge: Bridge__factory.connect(a.Bridge, runner),
  };
}

/** Bound contracts keyed by their address-book names (deployments/<chainId>.json). */
export function contractsByName(c: VeilnetContracts): Record<ContractName, BaseContract> {
  return {
    Timelock: c.timelock,
    NetworkConfig: c.networkConfig,
    SignedReportVerifier: c.verifier,
    EnclaveRegistry: c.enclaveRegistry,
    FeeVault: c.feeVault,
    MessageBus: c.messageBus,
    OperatorRegistry: c.operatorRegistry,
    RollupRegistry: c.rollupRegistry,
    CrossChainMessenger: c.messenger,
    Bridge: c.bridge,
  };
}

/** The deployment of `chainId` (from VEILNET_DEPLOYMENTS_DIR or ./deployments). */
export function loadDeployment(chainId: number, dir?: string): Deployment {
  return readDeployment(chainId, dir);
}

/** The health check of the L1 connection (the /healthz "l1" dependency): the head block, or why not. */
export function l1DependencyCheck(provider: L1Provider): DependencyCheck {
  return {
    name: "l1",
    check: async () => {
      try {
        // A raw request: the provider's own getBlockNumber() may answer from a short-lived cache.
        const hex = (await provider.send("eth_blockNumber", [])) as string;
        return { ok: true, detail: `block ${Number(BigInt(hex))}` };
      } catch (e) {
        return { ok: false, detail: (e as { shortMessage?: string }).shortMessage ?? (e as Error).message };
      }
    },
  };
}
