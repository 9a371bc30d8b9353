/**
 * The devnet's long-running veilnet processes, each started and awaited healthy in its own step: the
 * genesis enclave (step 4, a one-off command), the workers, the sequencer, the gateway and the optional
 * validator (which joins in the background while the accounts are funded).
 */
import path from "node:path";

import type { Deployment } from "../../deploy/deployment-file.js";
import { L2_CHAIN_ID } from "../../protocol/predeploys.js";
import { type DevAccount, roleAccount } from "../accounts.js";
import { initSequencerEnclave } from "../enclave.js";
import { freePort } from "../ports.js";
import { enclaveHostWiring } from "../processes.js";
import type { DevnetRun } from "../run.js";
import type { VeilnetLauncher } from "./environment.js";

/** The sequencer (genesis) enclave: its address, its state file and the wiring of its host interface. */
export interface SequencerEnclave {
  address: string;
  stateFile: string;
  /** The node serves its enclave host interface on a free loopback port; the workers get its URL. */
  host: ReturnType<typeof enclaveHostWiring>;
}

/** Step 4: `veilnet enclave init`: the sequencer enclave and the network secret. */
export async function initEnclave(
  run: DevnetRun,
  launcher: VeilnetLauncher,
  l1Url: string,
  deployment: Deployment,
  dataDir: string,
  accounts: readonly DevAccount[],
): Promise<SequencerEnclave> {
  run.step("creating the sequencer enclave and the network secret (veilnet enclave init)");
  const stateFile = path.join(dataDir, "sequencer-enclave.json");
  const address = await initSequencerEnclave({
    supervisor: run.supervisor,
    l1Url,
    deployment,
    stateFile,
    attestationService: roleAccount(accounts, "admin"),
    operator: roleAccount(accounts, "sequencer"),
    env: launcher.env,
  });
  run.log(`sequencer enclave ${address} (${stateFile})`);
  run.checkCrash();
  return { address, stateFile, host: enclaveHostWiring(await freePort()) };
}

/** Step 5: `veilnet workers` (event-subscriber, secret-responder, withdrawal-processor); its /healthz URL. */
export async function startWorkers(
  run: DevnetRun,
  launcher: VeilnetLauncher,
  accounts: readonly DevAccount[],
  enclave: SequencerEnclave,
  l2RpcPort: number,
): Promise<string> {
  run.step("starting the workers (event-subscriber, secret-responder, withdrawal-processor)");
  // The secret-responder asks the sequencer's enclave (started next; the responder retries until then).
  const workers = await launcher.spawn("workers", ["workers"], {
    SIGNER_PRIVATE_KEY: roleAccount(accounts, "workers").privateKey,
    ...enclave.host.workers,
    // Notice quickly that a challenge period is over (also after an evm_increaseTime).
    WITHDRAWAL_ACTIVATION_POLL_MS: "2000",
    // The sequencer's node (started next) serves the rollups' messages.
    WITHDRAWAL_L2_RPC_URLS: `http://127.0.0.1:${l2RpcPort}`,
  });
  await launcher.supervisor.waitHealthy(workers.child, { kind: "http", url: workers.healthUrl }, launcher.readyMs);
  run.checkCrash();
  return workers.healthUrl;
}

/** A node's L2 JSON-RPC URL and /healthz URL. */
export interface NodeUrls {
  url: string;
  healthUrl: string;
}

/** Step 6: `veilnet node`, the sequencer enclave node serving the L2 JSON-RPC on `port`. */
export async function startSequencer(
  run: DevnetRun,
  launcher: VeilnetLauncher,
  accounts: readonly DevAccount[],
  enclave: SequencerEnclave,
  dataDir: string,
  settings: { port: number; batchIntervalMs?: number; rollupIntervalMs?: number },
): Promise<NodeUrls> {
  run.step(`starting the sequencer enclave node (L2 JSON-RPC on port ${settings.port})`);
  const url = `http://127.0.0.1:${settings.port}`;
  const sequencer = await launcher.spawn("sequencer", ["node"], {
    SIGNER_PRIVATE_KEY: roleAccount(accounts, "sequencer").privateKey,
    ENCLAVE_STATE_FILE: enclave.stateFile,
    ...enclave.host.node,
    NODE_DATA_DIR: path.join(dataDir, "sequencer-l2"),
    L2_RPC_PORT: String(settings.port),
    BATCH_INTERVAL_MS: String(settings.batchIntervalMs ?? 1000),
    ROLLUP_INTERVAL_MS: String(settings.rollupIntervalMs ?? 5000),
  });
  const { supervisor, readyMs } = launcher;
  await supervisor.waitHealthy(sequencer.child, { kind: "json-rpc", url, chainId: L2_CHAIN_ID }, readyMs);
  await supervisor.waitHealthy(sequencer.child, { kind: "http", url: sequencer.healthUrl }, readyMs);
  run.checkCrash();
  return { url, healthUrl: sequencer.healthUrl };
}

/** The gateway's base URL, user store and /healthz URL. */
export interface GatewayUrls {
  url: string;
  dataDir: string;
  healthUrl: string;
}

/** Step 7: `veilnet gateway`, the wallets' JSON-RPC (and web page) on `port` in front of the sequencer's `l2Url`. */
export async function startGateway(
  run: DevnetRun,
  launcher: VeilnetLauncher,
  port: number,
  l2Url: string,
  dataDir: string,
): Promise<GatewayUrls> {
  run.step(`starting the gateway (wallets' JSON-RPC and web page on port ${port})`);
  const url = `http://127.0.0.1:${port}`;
  const gatewayData = path.join(dataDir, "gateway");
  const gateway = await launcher.spawn("gateway", ["gateway"], {
    GATEWAY_PORT: String(port),
    GATEWAY_ENCLAVE_URL: l2Url,
    GATEWAY_DATA_DIR: gatewayData,
  });
  // Healthy once the enclave's RPC key is verified (its signer attested on L1).
  await launcher.supervisor.waitHealthy(gateway.child, { kind: "http", url: gateway.healthUrl }, launcher.readyMs);
  run.log(`wallets: ${url}/ — join there, then use the RPC URL with your token`);
  run.checkCrash();
  return { url, dataDir: gatewayData, healthUrl: gateway.healthUrl };
}

/** A validator that is joining: its URLs, and `ready` once it serves (await it to see its failure). */
export interface JoiningValidator extends NodeUrls {
  ready: Promise<void>;
}

/**
 * Step 8 (optional): `veilnet node --validator`, which joins through an on-chain secret request paying
 * `bountyEth`, then serves a read-only L2 JSON-RPC on `port`. Not awaited here: it joins in the background.
 */
export async function startValidator(
  run: DevnetRun,
  launcher: VeilnetLauncher,
  accounts: readonly DevAccount[],
  dataDir: string,
  settings: {
    port: number;
    bountyEth?: string;
    /** With a committee: follow its gossip (bootstrap on its members; the committee read from L1). */
    committee?: readonly { operatorId: number; enclave: string; p2p: string }[];
  },
): Promise<JoiningValidator> {
  run.step(
    `starting a validator enclave node (joins by an on-chain secret request; L2 JSON-RPC on port ${settings.port})`,
  );
  const url = `http://127.0.0.1:${settings.port}`;
  const { child: validator, healthUrl } = await launcher.spawn(
    "validator",
    ["node", "--validator", "--bounty", settings.bountyEth ?? "0"],
    {
      SIGNER_PRIVATE_KEY: roleAccount(accounts, "validator").privateKey,
      ATTESTATION_SERVICE_KEY: roleAccount(accounts, "admin").privateKey,
      ENCLAVE_STATE_FILE: path.join(dataDir, "validator-enclave.json"),
      NODE_DATA_DIR: path.join(dataDir, "validator-l2"),
      L2_RPC_PORT: String(settings.port),
      ...(settings.committee === undefined
        ? {}
        : {
            P2P_BOOTSTRAP: settings.committee.map((m) => m.p2p).join(","),
            P2P_DHT: "false",
          }),
    },
  );
  const { supervisor, readyMs } = launcher;
  const ready = (async () => {
    await supervisor.waitHealthy(validator, { kind: "json-rpc", url, chainId: L2_CHAIN_ID }, readyMs * 2);
    await supervisor.waitHealthy(validator, { kind: "http", url: healthUrl }, readyMs);
  })();
  // Reported when awaited; never an unhandled rejection meanwhile.
  ready.catch(() => {});
  return { url, healthUrl, ready };
}
