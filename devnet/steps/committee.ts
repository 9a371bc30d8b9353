/**
 * The devnet with a sequencing committee (`npm run devnet -- --committee <n>`, n = 4, 7, 10 or 13):
 * instead of one sequencer, n operator processes (`veilnet node --operator`) that decide every batch
 * with QBFT over libp2p on loopback.
 *
 * Operator 1 runs the genesis enclave and serves the enclave host interface the workers' secret-
 * responder asks; operators 2…n each get a new enclave that joins through an on-chain secret request,
 * paid by a dev account of their own. Their enclave keys and libp2p identities are made before any of
 * them starts, so every member knows the committee and a bootstrap list of the others. Once they have
 * joined, the governor grants their enclaves the sequencer role through the timelock (on the devnet's
 * own L1 the timelock delay is skipped with evm_increaseTime), so that any member can post rollups.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";

import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { JsonRpcProvider, NonceManager, Wallet, ZeroHash, hexlify, parseEther, randomBytes } from "ethers";

import type { Deployment } from "../../deploy/deployment-file.js";
import { type KeyDealing, dealCommitteeKey } from "../../enclave/committee/key-dealing.js";
import { Enclave } from "../../enclave/secret/enclave.js";
import { hexOf, proofOfPossession } from "../../platform/bls/index.js";
import { loadOrCreatePeerKey } from "../../platform/p2p/index.js";
import { L2_CHAIN_ID } from "../../protocol/predeploys.js";
import { rollupRegistryDomain } from "../../protocol/rollup.js";
import {
  EnclaveRegistry__factory,
  OperatorRegistry__factory,
  RollupRegistry__factory,
  TimelockController__factory,
} from "../../types/ethers-contracts/index.js";
import { type DevAccount, devAccounts, roleAccount } from "../accounts.js";
import { freePort } from "../ports.js";
import type { DevnetRun } from "../run.js";
import type { CommitteeMemberInfo } from "../types.js";
import type { SequencerEnclave } from "./services.js";
import type { VeilnetChild, VeilnetLauncher } from "./environment.js";

/** Committee sizes the devnet runs (n = 3f + 1, f ≥ 1). */
export const DEVNET_COMMITTEE_SIZES: readonly number[] = [4, 7, 10, 13];
/** Dev account index of operator 2; operator i pays with account OPERATOR_ACCOUNT_BASE + i - 2. */
export const OPERATOR_ACCOUNT_BASE = 8;

export interface StartedCommittee {
  members: CommitteeMemberInfo[];
  /** Kills and restarts members, for failover drills and tests. */
  control: CommitteeControl;
  /** Operator 1's L2 JSON-RPC (the gateway and the workers use it). */
  url: string;
  /** The exporter's JSON API (`/v1/status`, `/v1/heights`, `/v1/operators`, `/v1/equivocations`) and /healthz. */
  exporter: { url: string; healthUrl: string };
  healthUrl: string;
}

/** Failover drills on a running committee devnet. */
export interface CommitteeControl {
  /** The committee's id in the OperatorRegistry (its gossip topics carry it). */
  readonly committeeId: bigint;
  /** Sends `signal` (default SIGKILL, as a crash) to operator `id` and waits for it to exit. */
  kill(id: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts operator `id` again from its data directory (same ports); resolves once its L2 JSON-RPC answers. */
  restart(id: number): Promise<void>;
  /** Whether operator `id`'s process runs. */
  running(id: number): boolean;
}

/** The L1 account operator `id` pays with (operator 1: the sequencer operator, the genesis initializer). */
function operatorAccount(accounts: readonly DevAccount[], id: number): DevAccount {
  if (id === 1) return roleAccount(accounts, "sequencer");
  const index = OPERATOR_ACCOUNT_BASE + id - 2;
  const account = devAccounts(index + 1)[index];
  if (account === undefined) throw new Error(`no dev account #${index} for operator ${id}`);
  return account;
}

/** The governor schedules `calls` on the timelock, lets the delay pass and executes them. */
async function governNow(
  provider: JsonRpcProvider,
  deployment: Deployment,
  wallet: NonceManager,
  calls: { target: string; data: string }[],
  skipDelay: boolean,
): Promise<void> {
  const timelock = TimelockController__factory.connect(deployment.addresses.Timelock, wallet);
  const targets = calls.map((c) => c.target);
  const datas = calls.map((c) => c.data);
  const values = calls.map(() => 0n);
  const salt = hexlify(randomBytes(32));
  const delay = await timelock.getMinDelay();
  await (await timelock.scheduleBatch(targets, values, datas, ZeroHash, salt, delay)).wait();
  if (skipDelay) {
    await provider.send("evm_increaseTime", [Number(delay) + 1]);
    await provider.send("evm_mine", []);
  } else {
    await new Promise((r) => setTimeout(r, (Number(delay) + 2) * 1000));
  }
  await (await timelock.executeBatch(targets, values, datas, ZeroHash, salt)).wait();
}

/** A key dealt to the devnet's committee: the dealing's file, and the secret for the proof of possession. */
interface DevnetKey {
  file: string;
  dealing: KeyDealing;
  secretKey: Uint8Array;
  /** The members' enclaves (from the devnet's state files), in member order, with their shares opened. */
  enclaves: Enclave[];
}

/** Deals a threshold key to `members` (their enclaves' state files are the devnet's) and writes the dealing. */
function dealDevnetKey(committeeId: bigint, members: readonly CommitteeMemberInfo[], dataDir: string): DevnetKey {
  const enclaves = members.map((m) => Enclave.load(m.stateFile));
  const { dealing, secretKey } = dealCommitteeKey(
    committeeId,
    members.map((m, i) => ({ operatorId: m.operatorId, enclave: m.enclave, enclavePublicKey: enclaves[i]!.publicKey })),
  );
  members.forEach((m, i) => enclaves[i]!.loadCommitteeShare(dealing, m.operatorId));
  const file = path.join(dataDir, `committee-${committeeId}-key.json`);
  writeFileSync(file, JSON.stringify(dealing, null, 2) + "\n", { mode: 0o600 });
  return { file, dealing, secretKey, enclaves };
}

/**
 * Registers the dealt key on L1: every member's enclave (its share opened when the key was dealt; the
 * devnet holds their state files) approves the key, and the dealer's secret makes the proof of possession
 * for the committee's owner (the admin, who created it).
 */
async function registerDevnetKey(
  provider: JsonRpcProvider,
  funder: NonceManager,
  deployment: Deployment,
  committeeId: bigint,
  members: readonly CommitteeMemberInfo[],
  key: DevnetKey,
): Promise<void> {
  const rollups = RollupRegistry__factory.connect(deployment.addresses.RollupRegistry, funder);
  const operators = OperatorRegistry__factory.connect(deployment.addresses.OperatorRegistry, provider);
  const { chainId } = await provider.getNetwork();
  const domain = rollupRegistryDomain(chainId, deployment.addresses.RollupRegistry);
  const nonce = await rollups.committeeKeyNonce(committeeId);
  const approvals: string[] = [];
  for (const enclave of key.enclaves) approvals.push((await enclave.approveCommitteeKey(domain, nonce)).slice(2));
  const owner = (await operators.committee(committeeId)).owner;
  const pop = hexOf(proofOfPossession(key.secretKey, owner, nonce).eip2537);
  key.secretKey.fill(0); // the dealer forgets the key
  await (
    await rollups.registerCommitteeKey(
      committeeId,
      key.dealing.publicKey,
      pop,
      members.map((m) => m.enclave),
      `0x${approvals.join("")}`,
    )
  ).wait();
}

/** Step 6 with `--committee n`: n operator nodes; resolves once every one is healthy (deciding batches). */
export async function startCommittee(
  run: DevnetRun,
  launcher: VeilnetLauncher,
  accounts: readonly DevAccount[],
  genesis: SequencerEnclave,
  dataDir: string,
  settings: {
    size: number;
    port: number;
    l1Url: string;
    external: boolean;
    deployment: Deployment;
    batchIntervalMs?: number;
    rollupIntervalMs?: number;
    /** Deal the committee a threshold key and register it on L1 (rollups then carry one BLS signature). */
    thresholdKey?: boolean;
  },
): Promise<StartedCommittee> {
  const { size, deployment } = settings;
  run.step(
    `starting a committee of ${size} operators (QBFT over libp2p; L2 JSON-RPC of operator 1 on ${settings.port})`,
  );
  const provider = new JsonRpcProvider(settings.l1Url, undefined, { staticNetwork: true, polling: true });
  try {
    const admin = roleAccount(accounts, "admin");
    // The admin funds the operators' accounts and, as the governor, schedules the grants: one nonce sequence.
    const funder = new NonceManager(new Wallet(admin.privateKey, provider));
    const operators = OperatorRegistry__factory.connect(deployment.addresses.OperatorRegistry, provider);
    // Operator ids on L1: the genesis operator's (the genesis committee of one), then one registered
    // now for each other seat, paid by that seat's account (its owner), so ids are known before any start.
    const genesisId = Number(await operators.operatorIdOfEnclave(genesis.address));
    if (genesisId === 0) throw new Error(`the genesis enclave ${genesis.address} is bound to no operator on L1`);
    const members: CommitteeMemberInfo[] = [];
    const payers = new Map<number, DevAccount>();
    for (let seat = 1; seat <= size; seat++) {
      const payer = operatorAccount(accounts, seat);
      // Operators 2…n pay for their registration, secret request and rollups with their own account.
      if (seat > 1 && (await provider.getBalance(payer.address)) < parseEther("1")) {
        await (await funder.sendTransaction({ to: payer.address, value: parseEther("10") })).wait();
      }
      let operatorId = genesisId;
      if (seat > 1) {
        const key = new Wallet(payer.privateKey).signingKey.publicKey;
        operatorId = Number(await operators.operatorIdOf(key));
        if (operatorId === 0) {
          await (await operators.connect(new Wallet(payer.privateKey, provider)).registerOperator(key, 0n)).wait();
          operatorId = Number(await operators.operatorIdOf(key));
        }
      }
      payers.set(operatorId, payer);
      const stateFile = seat === 1 ? genesis.stateFile : path.join(dataDir, `operator-${seat}-enclave.json`);
      const enclave =
        seat === 1
          ? genesis.address
          : Enclave.loadOrCreate(stateFile, { measurement: deployment.parameters.measurement }).address;
      const memberDir = path.join(dataDir, `operator-${seat}-l2`);
      const peerId = peerIdFromPrivateKey(await loadOrCreatePeerKey(path.join(memberDir, "p2p"))).toString();
      const p2pPort = await freePort();
      const l2Port = seat === 1 ? settings.port : await freePort();
      members.push({
        operatorId,
        enclave,
        peerId,
        p2p: `/ip4/127.0.0.1/tcp/${p2pPort}/p2p/${peerId}`,
        l2Url: `http://127.0.0.1:${l2Port}`,
        healthUrl: "",
        metricsUrl: "",
        stateFile,
        dataDir: memberDir,
      });
    }
    members.sort((a, b) => a.operatorId - b.operatorId);
    const committeeId = (await operators.committeeCount()) + 1n;
    const payerOf = (m: CommitteeMemberInfo): DevAccount => {
      const payer = payers.get(m.operatorId);
      if (payer === undefined) throw new Error(`no account for operator ${m.operatorId}`);
      return payer;
    };
    const committee = members.map((m) => `${m.operatorId}=${m.enclave}`).join(",");
    // With a threshold key: dealt now (the enclaves' keys are known), registered once the committee exists.
    const dealt = settings.thresholdKey === true ? dealDevnetKey(committeeId, members, dataDir) : undefined;
    const registry = EnclaveRegistry__factory.connect(deployment.addresses.EnclaveRegistry, provider);
    const { supervisor, readyMs } = launcher;
    const children = new Map<number, VeilnetChild["child"]>();
    const envs = new Map<number, NodeJS.ProcessEnv>();
    for (const m of members) {
      const payer = payerOf(m);
      const listen = m.p2p.replace(/\/p2p\/.*$/, "");
      const env: NodeJS.ProcessEnv = {
        SIGNER_PRIVATE_KEY: payer.privateKey,
        ATTESTATION_SERVICE_KEY: admin.privateKey,
        ENCLAVE_STATE_FILE: m.stateFile,
        ...(m.enclave === genesis.address ? genesis.host.node : {}),
        NODE_DATA_DIR: m.dataDir,
        L2_RPC_PORT: new URL(m.l2Url).port,
        OPERATOR_ID: String(m.operatorId),
        COMMITTEE_ID: committeeId.toString(),
        // Until the committee is active on L1 (below), its members are given; restarts read L1.
        COMMITTEE_MEMBERS: committee,
        P2P_LISTEN: listen,
        P2P_BOOTSTRAP: members
          .filter((o) => o.operatorId !== m.operatorId)
          .map((o) => o.p2p)
          .join(","),
        P2P_DHT: "false",
        BATCH_INTERVAL_MS: String(settings.batchIntervalMs ?? 1000),
        ROLLUP_INTERVAL_MS: String(settings.rollupIntervalMs ?? 5000),
        ...(dealt === undefined ? {} : { COMMITTEE_KEY_FILE: dealt.file }),
      };
      const { child, healthUrl } = await launcher.spawn(`operator-${m.operatorId}`, ["node", "--operator"], env);
      // A restart keeps the metrics port, so the member's /healthz URL stays the same.
      envs.set(m.operatorId, { ...env, METRICS_PORT: new URL(healthUrl).port });
      m.healthUrl = healthUrl;
      m.metricsUrl = healthUrl.replace(/\/healthz$/, "/metrics");
      children.set(m.operatorId, child);
      // The genesis operator serves at once (its enclave answers the others' secret requests); the others join first.
      if (m.enclave === genesis.address) {
        await supervisor.waitHealthy(child, { kind: "json-rpc", url: m.l2Url, chainId: L2_CHAIN_ID }, readyMs);
      }
    }
    const childOf = (m: CommitteeMemberInfo): VeilnetChild["child"] => {
      const child = children.get(m.operatorId);
      if (child === undefined) throw new Error(`operator ${m.operatorId} was not started`);
      return child;
    };
    await Promise.all(
      members.map((m) =>
        supervisor.waitHealthy(childOf(m), { kind: "json-rpc", url: m.l2Url, chainId: L2_CHAIN_ID }, readyMs * 2),
      ),
    );
    run.checkCrash();
    for (const m of members) {
      run.log(`operator ${m.operatorId}: enclave ${m.enclave}, peer ${m.peerId}, L2 JSON-RPC ${m.l2Url}`);
    }
    const grants = [];
    for (const m of members) {
      if (!(await registry.isSequencer(m.enclave))) {
        grants.push({
          target: deployment.addresses.EnclaveRegistry,
          data: registry.interface.encodeFunctionData("grantSequencer", [m.enclave]),
        });
      }
    }
    if (grants.length > 0) {
      run.log(`granting the sequencer role to ${grants.length} operator enclaves through the timelock`);
      await governNow(provider, deployment, funder, grants, !settings.external);
    }
    // On L1: each operator binds its enclave, the admin creates the committee (with a balance), and the
    // timelock makes it the active committee: from then on RollupRegistry takes only its quorum's rollups.
    for (const m of members) {
      if (m.enclave === genesis.address) continue;
      const owner = new Wallet(payerOf(m).privateKey, provider);
      await (await operators.connect(owner).setOperatorEnclave(m.operatorId, m.enclave)).wait();
    }
    const ids = members.map((m) => m.operatorId);
    await (await operators.connect(funder).createCommittee(ids, { value: parseEther("1") })).wait();
    if ((await operators.committeeCount()) !== committeeId) {
      throw new Error(
        `the committee was created with another id than ${committeeId} (another committee was created meanwhile?)`,
      );
    }
    if (dealt !== undefined) {
      await registerDevnetKey(provider, funder, deployment, committeeId, members, dealt);
      run.log(
        `committee ${committeeId}'s threshold key registered on L1 (${dealt.file}); rollups carry one BLS signature`,
      );
    }
    run.log(`committee ${committeeId} of operators ${ids.join(", ")} created; activating it through the timelock`);
    await governNow(
      provider,
      deployment,
      funder,
      [
        {
          target: deployment.addresses.OperatorRegistry,
          data: operators.interface.encodeFunctionData("setActiveCommittee", [committeeId]),
        },
      ],
      !settings.external,
    );
    for (const env of envs.values()) delete env.COMMITTEE_MEMBERS;
    for (const m of members) {
      await supervisor.waitHealthy(childOf(m), { kind: "http", url: m.healthUrl }, readyMs);
    }
    // The exporter follows the gossip read-only (no enclave): duties, and equivocations if any.
    const apiPort = await freePort();
    // It reads the committee from L1 (the OperatorRegistry's events), as restarted operators do.
    const exporterChild = await launcher.spawn("exporter", ["node", "--exporter"], {
      P2P_LISTEN: `/ip4/127.0.0.1/tcp/${await freePort()}`,
      P2P_BOOTSTRAP: members.map((o) => o.p2p).join(","),
      P2P_DHT: "false",
      EXPORTER_DATA_DIR: path.join(dataDir, "exporter"),
      EXPORTER_API_PORT: String(apiPort),
    });
    const exporter = { url: `http://127.0.0.1:${apiPort}`, healthUrl: exporterChild.healthUrl };
    await supervisor.waitHealthy(exporterChild.child, { kind: "http", url: exporter.healthUrl }, readyMs);
    run.log(`exporter: ${exporter.url}/v1/status`);
    run.checkCrash();
    const first = members[0];
    if (first === undefined) throw new Error("a committee has at least one member");
    const restarts = new Map<number, number>();
    const memberOf = (id: number): CommitteeMemberInfo => {
      const m = members.find((x) => x.operatorId === id);
      if (m === undefined) throw new Error(`no operator ${id} in the committee`);
      return m;
    };
    const control: CommitteeControl = {
      committeeId,
      async kill(id, signal = "SIGKILL") {
        const child = childOf(memberOf(id));
        if (!child.running()) return;
        if (child.child.pid !== undefined) process.kill(-child.child.pid, signal);
        await child.exited;
      },
      async restart(id) {
        const m = memberOf(id);
        if (childOf(m).running()) throw new Error(`operator ${id} is running`);
        const n = (restarts.get(id) ?? 0) + 1;
        restarts.set(id, n);
        const { child } = await launcher.spawn(
          `operator-${id}-restart-${n}`,
          ["node", "--operator"],
          envs.get(id) ?? {},
        );
        children.set(id, child);
        await supervisor.waitHealthy(child, { kind: "json-rpc", url: m.l2Url, chainId: L2_CHAIN_ID }, readyMs);
      },
      running: (id) => childOf(memberOf(id)).running(),
    };
    return { members, control, exporter, url: first.l2Url, healthUrl: first.healthUrl };
  } finally {
    provider.destroy();
  }
}

/** One line per member: its id, enclave, peers, whether it leads the height being decided, and its height. */
export async function committeeStatus(members: readonly CommitteeMemberInfo[]): Promise<string[]> {
  const lines: string[] = [];
  for (const m of members) {
    let text = "";
    try {
      text = await (await fetch(m.metricsUrl)).text();
    } catch {
      lines.push(`  operator ${m.operatorId}  ${m.enclave}  (metrics unreachable)`);
      continue;
    }
    const value = (name: string): string => new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1] ?? "?";
    const leader = value("veilnet_qbft_is_leader") === "1" ? "  leader" : "";
    lines.push(
      `  operator ${m.operatorId}  ${m.enclave}  peers ${value("veilnet_p2p_peers")}  height ${value("veilnet_qbft_height")}${leader}`,
    );
  }
  return lines;
}
