/**
 * A real Veilnet stack for the gateway tests, in this process: the L1 (Hardhat's in-process EDR) with the
 * suite deployed and a genesis enclave (the real Enclave class, attested through the dev attestation
 * service and initializeNetworkSecret), the L2 chain with its sequencer, the node's L2 JSON-RPC endpoint
 * (L2RpcServer with the enclave: veil_rpcKey, veil_private, public methods), and gateways in front of it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { type BaseWallet, Wallet, parseEther } from "ethers";
import hre from "hardhat";
import pino from "pino";
import { Registry } from "prom-client";

import { L2Chain } from "../enclave/execution/l2-chain.js";
import { rollupHeads } from "../enclave/l1/safe-heads.js";
import { RollupIndex } from "../enclave/rpc/rollup-index.js";
import { L2RpcServer } from "../enclave/rpc/server.js";
import { DevAttestationService } from "../enclave/secret/attestation-service.js";
import { Enclave } from "../enclave/secret/enclave.js";
import { Sequencer } from "../enclave/sequencer/sequencer.js";
import { DerivationLabels } from "../enclave/crypto/derive.js";
import { type GatewayConfig, gatewayConfigSchema } from "../gateway/config.js";
import { type Gateway, startGateway } from "../gateway/gateway.js";
import type { ViewingKeyTypedData } from "../gateway/users/typed-data.js";
import { enclaveRegistryDomain } from "../protocol/secret.js";
import { type Connection, MEASUREMENT, type Veilnet, deployVeilnet } from "./veilnet.js";
import { formGenesisCommittee } from "../platform/committee.js";
import { waitFor } from "./worker-process.js";
import { openTestSequencer } from "./l2-sequencer.js";
import { requestFields, requestReport } from "./secret-requests.js";

export const MIN_FEE = 1_000_000n;

/** waitFor (testing/worker-process.ts), polling every 50 ms unless told otherwise. */
export function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<T> {
  return waitFor(what, probe, timeoutMs, intervalMs);
}

/** An L2 JSON-RPC endpoint of the stack's chain, serving veil_rpcKey / veil_private for `enclave`. */
export interface EnclaveEndpoint {
  enclave: Enclave;
  server: L2RpcServer;
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface Stack {
  v: Veilnet;
  /** The genesis enclave: attested, holds the network secret. */
  enclave: Enclave;
  chain: L2Chain;
  sequencer: Sequencer;
  /** The node's endpoint (the genesis enclave). */
  node: EnclaveEndpoint;
  /** Serves the chain with another enclave on `port` (default: any free port). */
  serve(enclave: Enclave, port?: number): Promise<EnclaveEndpoint>;
  /** A new enclave (not attested) with the network secret (same RPC key as the node). */
  peerEnclave(): Enclave;
  /** A new enclave attested on L1 (through a secret request answered by the genesis enclave) holding ANOTHER secret. */
  attestedImpostor(): Promise<Enclave>;
  /** Deposits `amount` to `to` on L1 and waits for it on L2. */
  fund(to: string, amount?: bigint): Promise<void>;
  /** The L2 balance, read from the chain itself (not through any RPC). */
  balance(address: string): Promise<bigint>;
  /** Starts a gateway in front of `url` (default: the node). */
  gateway(
    overrides?: Partial<GatewayConfig> & { url?: string; registry?: { isAttested(a: string): Promise<boolean> } },
  ): Promise<Gateway>;
  /** A fresh temporary directory, deleted by close(). */
  tempDir(): string;
  close(): Promise<void>;
}

/** The stack on `connection`'s L1 (default: a new in-process EDR chain). */
export async function startStack(connection?: Connection): Promise<Stack> {
  const v = await deployVeilnet(connection ?? (await hre.network.create()));
  const attestation = new DevAttestationService({
    signer: v.attestationService,
    chainId: v.chainId,
    verifier: v.addresses.SignedReportVerifier,
  });
  const enclave = Enclave.create({ measurement: MEASUREMENT, attestation });
  const commitment = enclave.initializeSecret();
  await (await v.enclaveRegistry.initializeNetworkSecret(await enclave.attestationReport(), commitment)).wait();
  await formGenesisCommittee(v, v.initializer, {
    address: enclave.address,
    operatorKey: Wallet.createRandom().signingKey.publicKey,
  });

  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), "veilnet-gateway-test-"));
    dirs.push(dir);
    return dir;
  };
  const { chain, store, sequencer, l1 } = await openTestSequencer(v, {
    dataDir: tempDir(),
    entropy: (seq) => enclave.derive(DerivationLabels.batchEntropy(seq)),
    minPriorityFee: MIN_FEE,
    batchIntervalMs: 100,
  });
  sequencer.start();

  const endpoints: EnclaveEndpoint[] = [];
  // The rollups on L1, for the nodes' withdrawal methods (veil_getRollupMessages, veil_getWithdrawalProof).
  const rollups = new RollupIndex({
    provider: v.connection.ethers.provider,
    rollupRegistry: v.addresses.RollupRegistry,
    messageBus: v.addresses.MessageBus,
    fromBlock: 0,
  });
  const serve = async (e: Enclave, port = 0): Promise<EnclaveEndpoint> => {
    const server = new L2RpcServer({
      provider: chain.provider,
      l1Fees: chain,
      heads: rollupHeads(
        () => l1.rollupsRead(),
        () => l1.l1Timestamp,
      ),
      mempool: sequencer.mempool,
      minPriorityFee: MIN_FEE,
      clientVersion: "gateway-test",
      enclave: e,
      rollups,
    });
    const url = await server.listen(port);
    let closed = false;
    const endpoint: EnclaveEndpoint = {
      enclave: e,
      server,
      url,
      port: Number(new URL(url).port),
      close: async () => {
        if (closed) return;
        closed = true;
        await server.close();
      },
    };
    endpoints.push(endpoint);
    return endpoint;
  };
  const node = await serve(enclave);

  const gateways: Gateway[] = [];
  const balance = async (address: string) =>
    BigInt((await chain.provider.request({ method: "eth_getBalance", params: [address, "latest"] })) as string);

  return {
    v,
    enclave,
    chain,
    sequencer,
    node,
    serve,
    peerEnclave: () => {
      const peer = Enclave.create({ measurement: MEASUREMENT, attestation });
      peer.acceptSecret(enclave.encryptSecretFor(peer.publicKey), commitment);
      return peer;
    },
    attestedImpostor: async () => {
      const impostor = Enclave.create({ measurement: MEASUREMENT, attestation });
      impostor.initializeSecret(); // its own secret: another RPC key
      const request = await (await v.enclaveRegistry.requestNetworkSecret(await impostor.attestationReport())).wait();
      const event = request!.logs
        .map((l) => v.enclaveRegistry.interface.parseLog(l))
        .find((p) => p?.name === "NetworkSecretRequested");
      const requestId = event!.args.requestId as bigint;
      const encrypted = enclave.encryptSecretFor(impostor.publicKey);
      const signature = await enclave.signSecretResponse(
        enclaveRegistryDomain(v.chainId, v.addresses.EnclaveRegistry),
        requestId,
        encrypted,
      );
      await (
        await v.enclaveRegistry.respondNetworkSecret(
          requestId,
          await requestFields(v, requestId),
          await requestReport(v, requestId),
          encrypted,
          signature,
        )
      ).wait();
      return impostor;
    },
    fund: async (to, amount = parseEther("10")) => {
      const before = await balance(to);
      await (await v.bridge.connect(v.users[0]).depositNative(to, { value: amount })).wait();
      await until(`the deposit to ${to} on L2`, async () => (await balance(to)) >= before + amount);
    },
    balance,
    gateway: async (overrides = {}) => {
      const { url, registry, ...settings } = overrides;
      const gateway = await startGateway({
        settings: gatewayConfigSchema.parse({
          GATEWAY_PORT: 0,
          GATEWAY_ENCLAVE_URL: url ?? node.url,
          GATEWAY_DATA_DIR: tempDir(),
          GATEWAY_POLL_MS: 100,
          GATEWAY_ENCLAVE_TIMEOUT_MS: 5000,
          ...settings,
        }),
        registry: registry ?? { isAttested: (a) => v.enclaveRegistry.isAttested(a) },
        registryAddress: v.addresses.EnclaveRegistry,
        logger: pino({ level: "silent" }),
        metrics: new Registry(),
        retryMs: 100,
      });
      gateways.push(gateway);
      return gateway;
    },
    tempDir,
    close: async () => {
      for (const g of gateways) await g.close();
      await sequencer.stop();
      for (const e of endpoints) await e.close();
      store.close();
      await chain.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** GET/POST a gateway API path; the status and JSON body. */
export async function api(
  gateway: Pick<Gateway, "url">,
  pathAndQuery: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${gateway.url}${pathAndQuery}`, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** What a wallet does with /v1/typed-data's payload for eth_signTypedData_v4 (ethers: no EIP712Domain in types). */
export async function signTypedDataV4(wallet: BaseWallet, payload: ViewingKeyTypedData): Promise<string> {
  const { EIP712Domain: _domainType, ...types } = payload.types;
  return wallet.signTypedData(payload.domain, types, payload.message);
}

/** Joins the gateway and binds `wallets` the way the web page does; the token. */
export async function joinAndBind(gateway: Pick<Gateway, "url">, wallets: readonly BaseWallet[]): Promise<string> {
  const joined = await api(gateway, "/v1/join");
  const token = joined.body.token as string;
  for (const wallet of wallets) {
    const payload = await api(gateway, `/v1/typed-data?token=${token}&address=${wallet.address}`);
    const signature = await signTypedDataV4(wallet, payload.body as unknown as ViewingKeyTypedData);
    const bound = await api(gateway, `/v1/authenticate?token=${token}`, { address: wallet.address, signature });
    if (bound.status !== 200) throw new Error(`binding ${wallet.address} failed: ${JSON.stringify(bound.body)}`);
  }
  return token;
}

/** A JSON-RPC call with fetch (no ethers): the raw answer. */
export async function rpc(
  url: string,
  method: string,
  params: unknown[] = [],
): Promise<{ result?: unknown; error?: { code: number; message: string; data?: unknown } }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return (await response.json()) as { result?: unknown; error?: { code: number; message: string } };
}
