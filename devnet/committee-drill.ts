/**
 * Failover drills on a committee devnet (`startDevnet({ committee: n })`), with real processes over
 * libp2p on loopback (issue 12):
 *
 * 1. kill -9 the leader: the next batch is decided by a round change (the time from the kill to the
 *    next decided height is the failover figure), users' transactions keep landing through a live
 *    member, and the killed member, restarted from its data directory, catches up;
 * 2. kill f+1 members: the rest decide nothing (no quorum) and nothing conflicting; when they return,
 *    the committee resumes;
 * 3. throughout: every member holds the same block at every height, the exporter (which follows every
 *    signed vote in gossip) saw no member vote twice differently for one (height, round), and the rollup
 *    chain on L1 has no gap.
 *
 * Each check throws a DrillError saying what was expected and what was found.
 */
import { JsonRpcProvider, Wallet, parseEther } from "ethers";

import { L2_CHAIN_ID } from "../protocol/predeploys.js";
import { RollupRegistry__factory } from "../types/ethers-contracts/index.js";
import type { Devnet } from "./index.js";
import type { CommitteeMemberInfo } from "./types.js";

export class DrillError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DrillError";
  }
}

export interface DrillResult {
  /** ms from kill -9 of the leader to the next height decided by the others. */
  failoverMs: number;
  /** Transactions sent and landed during the drill. */
  transactions: number;
  /** Heights compared across members at the end. */
  heightsCompared: number;
  /** Rollups on L1, checked for gaps. */
  rollups: number;
  /** Signed votes the exporter followed in gossip, none conflicting. */
  votesChecked: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function metric(m: CommitteeMemberInfo, name: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(m.metricsUrl, { signal: AbortSignal.timeout(2000) })).text();
    const v = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1];
    return v === undefined ? undefined : Number(v);
  } catch {
    return undefined;
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, stepMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new DrillError(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

export async function runCommitteeDrill(devnet: Devnet, log: (line: string) => void = () => {}): Promise<DrillResult> {
  const control = devnet.operators;
  const members = devnet.committee;
  if (control === undefined || members === undefined) throw new DrillError("the devnet runs no committee");
  const n = members.length;
  const f = Math.floor((n - 1) / 3);
  const live = () => members.filter((m) => control.running(m.operatorId));
  const height = (m: CommitteeMemberInfo) => metric(m, "veilnet_qbft_height");
  const maxHeight = async (ms: readonly CommitteeMemberInfo[]) =>
    Math.max(...(await Promise.all(ms.map(async (m) => (await height(m)) ?? -1))));

  const user = devnet.accounts[4];
  if (user === undefined) throw new DrillError("no dev account #4 to send transactions from");
  let transactions = 0;
  const send = async (): Promise<void> => {
    const via = live()[0];
    if (via === undefined) throw new DrillError("no live member to send a transaction through");
    const provider = new JsonRpcProvider(via.l2Url, L2_CHAIN_ID, { staticNetwork: true, polling: true });
    provider.pollingInterval = 100;
    try {
      const wallet = new Wallet(user.privateKey, provider);
      const tx = await wallet.sendTransaction({
        to: Wallet.createRandom().address,
        value: parseEther("0.001"),
        type: 2,
        maxFeePerGas: 10n ** 9n,
        maxPriorityFeePerGas: 10n ** 9n,
      });
      const receipt = await tx.wait(1, 30_000);
      if (receipt?.status !== 1) throw new DrillError(`transaction ${tx.hash} did not succeed through ${via.l2Url}`);
      transactions++;
    } finally {
      provider.destroy();
    }
  };

  // 1. kill -9 the leader.
  await send();
  let leader: CommitteeMemberInfo | undefined;
  await until(
    "a member that leads the height being decided",
    async () => {
      for (const m of live()) if ((await metric(m, "veilnet_qbft_is_leader")) === 1) leader = m;
      return leader !== undefined;
    },
    10_000,
  );
  const killed = leader as CommitteeMemberInfo;
  const others = members.filter((m) => m !== killed);
  const before = await maxHeight(others);
  const killedAt = Date.now();
  await control.kill(killed.operatorId);
  log(`killed the leader, operator ${killed.operatorId}, at height ${before} (kill -9)`);
  await until(`a height above ${before} at the others`, async () => (await maxHeight(others)) > before, 30_000, 20);
  const failoverMs = Date.now() - killedAt;
  log(`next height decided by the others ${failoverMs} ms after the kill`);
  await send();
  await send();
  log("transactions keep landing through a live member");
  await control.restart(killed.operatorId);
  const target = await maxHeight(others);
  await until(
    `operator ${killed.operatorId} catching up to ${target}`,
    async () => ((await height(killed)) ?? 0) >= target,
    60_000,
  );
  log(`operator ${killed.operatorId} restarted from its data and caught up (height ≥ ${target})`);

  // 2. kill f+1.
  const down = members.slice(0, f + 1);
  for (const m of down) await control.kill(m.operatorId);
  const rest = members.slice(f + 1);
  await sleep(1000);
  const stalled = await maxHeight(rest);
  await sleep(8000);
  const after = await maxHeight(rest);
  if (after > stalled + 1) {
    throw new DrillError(`with ${f + 1} of ${n} members down the rest decided heights ${stalled}…${after}: no quorum`);
  }
  log(
    `killed ${f + 1} of ${n} members (${down.map((m) => m.operatorId).join(", ")}): the rest halted at height ${after}`,
  );
  for (const m of down) await control.restart(m.operatorId);
  await until(
    `heights above ${after + 2} with everyone back`,
    async () => (await maxHeight(members)) > after + 2,
    60_000,
  );
  await send();
  log("they returned: the committee resumed and transactions land");

  // 3. the checks.
  const top = Math.min(...(await Promise.all(members.map(async (m) => (await height(m)) ?? 0))));
  await checkSameBlocks(members, top);
  const votesChecked = await checkEquivocations(devnet);
  const rollups = await checkRollupChain(devnet);
  log(
    `${top} heights identical at every member, ${votesChecked} votes followed by the exporter, none conflicting, ${rollups} rollups without a gap`,
  );
  return { failoverMs, transactions, heightsCompared: top, rollups, votesChecked };
}

/** Every member has the same block hash at every height below `top`. */
async function checkSameBlocks(members: readonly CommitteeMemberInfo[], top: number): Promise<void> {
  const providers = members.map((m) => new JsonRpcProvider(m.l2Url, L2_CHAIN_ID, { staticNetwork: true }));
  try {
    for (let h = 1; h < top; h++) {
      const hashes = await Promise.all(providers.map(async (p) => (await p.getBlock(h))?.hash ?? "missing"));
      if (new Set(hashes).size !== 1) {
        throw new DrillError(`L2 block ${h} differs between members: ${hashes.join(" / ")}`);
      }
    }
  } finally {
    for (const p of providers) p.destroy();
  }
}

/** The exporter, which followed every signed vote in gossip, saw no operator vote twice differently. */
async function checkEquivocations(devnet: Devnet): Promise<number> {
  const url = devnet.exporter?.url;
  if (url === undefined) throw new DrillError("the committee devnet runs no exporter");
  const status = (await (await fetch(`${url}/v1/status`)).json()) as { votesFollowed: number; height: number };
  const equivocations = (await (await fetch(`${url}/v1/equivocations`)).json()) as unknown[];
  if (equivocations.length > 0) {
    throw new DrillError(`the exporter saw ${equivocations.length} equivocations: ${JSON.stringify(equivocations)}`);
  }
  if (status.votesFollowed === 0 || status.height < 1) {
    throw new DrillError(`the exporter followed no votes (status ${JSON.stringify(status)})`);
  }
  return status.votesFollowed;
}

/** The RollupAdded events form a chain of batch ranges without a gap. */
async function checkRollupChain(devnet: Devnet): Promise<number> {
  const provider = new JsonRpcProvider(devnet.l1Url, undefined, { staticNetwork: true });
  try {
    const registry = RollupRegistry__factory.connect(devnet.addresses.RollupRegistry, provider);
    const events = await registry.queryFilter(registry.filters.RollupAdded(), devnet.deployment.deploymentBlock);
    let next = 0n;
    for (const e of events) {
      if (e.args.firstSeq !== next) {
        throw new DrillError(`rollup ${e.args.rollupHash} starts at batch ${e.args.firstSeq}, expected ${next}: a gap`);
      }
      next = e.args.lastSeq + 1n;
    }
    if (events.length === 0) throw new DrillError("no rollup landed on L1 during the drill");
    return events.length;
  } finally {
    provider.destroy();
  }
}
