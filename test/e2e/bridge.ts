/**
 * End to end: a whole devnet (L1 node, deployment, workers, sequencer and validator enclave nodes) in
 * a temporary directory, on free ports, with its own deployments directory and its own queue prefix in
 * the Redis at 127.0.0.1:6379; the bridge scenario of `npm run demo` (devnet/scenario.ts) runs against
 * it — on L2 through the devnet's gateway, alice and bob each with their own token, as wallet users —
 * and the test checks on L1 and L2 itself what the scenario reports: alice's L1 balances right to the
 * wei, each withdrawal relayed exactly once, the L2 traffic counted by the gateway, bob (through his
 * own gateway token) refused alice's balance and shown none of her WithdrawalInitiated events while
 * she sees them, the validator's L2 block hash equal to the sequencer's (an operator's view: the nodes).
 * Then the failure paths: the validator step on a devnet without one, and the scenario with the workers
 * down. Stopping leaves nothing of the devnet in Redis.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { JsonRpcProvider, Wallet, ZeroAddress } from "ethers";
import { Redis } from "ioredis";

import { type Devnet, devAccounts, startDevnet } from "../../devnet/index.js";
import { freePort } from "../../devnet/ports.js";
import { jsonRpc } from "../../devnet/processes.js";
import {
  type BridgeScenarioResult,
  SCENARIO_AMOUNTS,
  ScenarioCheckError,
  gatewayProvider,
  joinGateway,
  runBridgeScenario,
} from "../../devnet/scenario.js";
import { L2Predeploys } from "../../protocol/predeploys.js";
import {
  Bridge__factory,
  CrossChainMessenger__factory,
  IERC20Metadata__factory,
  IMessageBus__factory,
  L2Bridge__factory,
} from "../../types/ethers-contracts/index.js";
import { defined, only, take } from "../../testing/defined.js";

const REDIS_URL = "redis://127.0.0.1:6379";

/** The gateway's `veilnet_gateway_requests_total{method,outcome="ok"}` per method, from its /metrics. */
async function gatewayRequests(devnet: Devnet): Promise<Map<string, number>> {
  const text = await (await fetch(devnet.health.gateway.replace(/\/healthz$/, "/metrics"))).text();
  const counts = new Map<string, number>();
  for (const m of text.matchAll(/^veilnet_gateway_requests_total\{([^}]*)\} (\d+)/gm)) {
    const labels = defined(m[1], `the labels of metrics line ${m[0]}`);
    const count = Number(defined(m[2], `the count of metrics line ${m[0]}`));
    const method = /method="([^"]+)"/.exec(labels)?.[1];
    if (method !== undefined && /outcome="ok"/.test(labels)) counts.set(method, (counts.get(method) ?? 0) + count);
  }
  return counts;
}

/** `n` distinct ports free on 127.0.0.1 right now. */
async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

async function keysUnder(prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    let count = 0;
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      count += keys.length;
    } while (cursor !== "0");
    return count;
  } finally {
    redis.disconnect();
  }
}

describe("e2e: bridge through the devnet", function () {
  this.timeout(240_000);

  let dir: string;
  let devnet: Devnet | undefined;
  let l1: JsonRpcProvider | undefined;
  let result: BridgeScenarioResult | undefined;
  const lines: string[] = [];

  const running = (): { devnet: Devnet; l1: JsonRpcProvider } => {
    if (devnet === undefined || l1 === undefined) throw new Error("the devnet did not start");
    return { devnet, l1 };
  };
  const scenario = (): BridgeScenarioResult => {
    if (result === undefined) throw new Error("the scenario did not complete (see the first failure)");
    return result;
  };

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "veilnet-e2e-bridge-"));
    const [l1Port, l2RpcPort, validatorL2RpcPort] = await freePorts(3);
    const started = Date.now();
    devnet = await startDevnet({
      dir,
      deploymentsDir: path.join(dir, "deployments"),
      l1Port,
      l2RpcPort,
      validatorL2RpcPort,
      gatewayPort: 0,
      redisUrl: REDIS_URL,
      validator: true,
    });
    l1 = new JsonRpcProvider(devnet.l1Url, undefined, { staticNetwork: true });
    console.log(`        devnet up in ${((Date.now() - started) / 1000).toFixed(1)} s (${dir})`);
  });

  after(async function () {
    l1?.destroy();
    try {
      await devnet?.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs on its own ports, directory, deployments directory and queue prefix", async () => {
    const { devnet } = running();
    expect(devnet.dataDir.startsWith(dir)).to.equal(true);
    expect(devnet.logDir.startsWith(dir)).to.equal(true);
    expect(devnet.validatorL2Url).to.be.a("string");
    expect(devnet.queuePrefix).to.match(/^devnet-31337-[0-9a-z]+$/);
    // The workers and nodes are using the prefix (BullMQ queues, withdrawal statuses).
    expect(await keysUnder(devnet.queuePrefix)).to.be.greaterThan(0);
  });

  it("walks the bridge scenario with every check holding", async () => {
    const { devnet } = running();
    const before = await gatewayRequests(devnet);
    result = await runBridgeScenario(devnet, { print: (line) => lines.push(line), validator: true });
    console.log(`        scenario done in ${(result.durationMs / 1000).toFixed(1)} s`);
    const steps = lines.filter((l) => l.startsWith("step "));
    expect(steps).to.have.length(11);
    expect(steps[0]).to.match(/^step 1: alice joins the gateway and binds her account/);
    expect(steps[5]).to.match(/^step 6: bob, through his own gateway token, sees neither alice's L2 balance/);
    expect(steps[10]).to.equal("step 11: the validator re-executed the rollups from L1 to the same L2 block hash");
    expect(devnet.crashes).to.deep.equal([]);
    // Alice's L2 transactions (transfer, deployment, two withdrawals) went through the gateway.
    const after = await gatewayRequests(devnet);
    const sent = (after.get("eth_sendRawTransaction") ?? 0) - (before.get("eth_sendRawTransaction") ?? 0);
    expect(sent).to.equal(4);
    expect((after.get("eth_getBalance") ?? 0) - (before.get("eth_getBalance") ?? 0)).to.be.greaterThan(0);
  });

  it("bob, through his own gateway token, cannot read alice's L2 balance nor see her withdrawal events; she can", async () => {
    const { devnet } = running();
    const r = scenario();
    // What the scenario saw.
    expect(r.privacy.bobReadsAliceBalance).to.match(/readable only by that account/);
    expect(r.privacy.aliceWithdrawalLogs).to.deep.equal(r.withdrawals.map((w) => w.l2TxHash));
    expect(r.privacy.bobWithdrawalLogs).to.deep.equal([]);
    // And again, with new gateway users of the test's own.
    const [aliceKey, bobKey] = take(devAccounts(7).slice(5), 2, "dev accounts #5 and #6");
    const alice = gatewayProvider(
      devnet.gatewayUrl,
      await joinGateway(devnet.gatewayUrl, [new Wallet(aliceKey.privateKey)]),
    );
    const bob = gatewayProvider(
      devnet.gatewayUrl,
      await joinGateway(devnet.gatewayUrl, [new Wallet(bobKey.privateKey)]),
    );
    try {
      expect(await alice.getBalance(r.alice)).to.be.greaterThan(0n);
      expect(await bob.getBalance(r.bob)).to.be.greaterThan(0n);
      const refused = await bob.getBalance(r.alice).then(
        (b) => `read ${b}`,
        (e: unknown) => (e instanceof Error ? e.message : String(e)),
      );
      expect(refused).to.match(/readable only by that account/);
      const bridge = L2Bridge__factory.connect(L2Predeploys.bridge);
      const filter = {
        address: L2Predeploys.bridge,
        topics: await bridge.filters.WithdrawalInitiated().getTopicFilter(),
        fromBlock: 0,
        toBlock: r.withdrawalBlock,
      };
      const [alices, bobs] = await Promise.all([alice.getLogs(filter), bob.getLogs(filter)]);
      const withdrawalTxs = r.withdrawals.map((w) => w.l2TxHash);
      expect(alices.map((l) => l.transactionHash)).to.include.members(withdrawalTxs);
      for (const log of alices) expect(bridge.interface.parseLog(log)?.args.from).to.equal(r.alice);
      expect(bobs.filter((l) => withdrawalTxs.includes(l.transactionHash))).to.deep.equal([]);
    } finally {
      alice.destroy();
      bob.destroy();
    }
  });

  it("alice's L1 ETH is right to the wei: before - deposit - fees - gas + withdrawal", async () => {
    const { devnet, l1 } = running();
    const r = scenario();
    const fee = await IMessageBus__factory.connect(devnet.addresses.MessageBus, l1).messageFee();
    expect(r.amounts.messageFee).to.equal(fee);
    expect(r.l1.feesPaid).to.equal(3n * fee);
    // Gas and value of every L1 transaction of alice, from the L1 itself.
    let gas = 0n;
    let value = 0n;
    for (const t of r.l1.transactions) {
      const [tx, receipt] = await Promise.all([l1.getTransaction(t.hash), l1.getTransactionReceipt(t.hash)]);
      expect(tx?.from, t.what).to.equal(r.alice);
      expect(receipt?.status, t.what).to.equal(1);
      gas += receipt!.gasUsed * receipt!.gasPrice;
      value += tx!.value;
    }
    expect(r.l1.transactions).to.have.length(6);
    expect(gas).to.be.greaterThan(0n);
    expect(r.l1.gasPaid).to.equal(gas);
    expect(value).to.equal(SCENARIO_AMOUNTS.ethDeposit + 3n * fee);
    expect(await l1.getBalance(r.alice)).to.equal(r.l1.ethAfter);
    expect(r.l1.ethAfter).to.equal(
      r.l1.ethBefore - SCENARIO_AMOUNTS.ethDeposit - 3n * fee - gas + SCENARIO_AMOUNTS.ethWithdrawal,
    );
  });

  it("alice's L1 tokens are right to the wei: before - deposit + withdrawal; the bridge holds the rest", async () => {
    const { devnet, l1 } = running();
    const r = scenario();
    const token = IERC20Metadata__factory.connect(r.token, l1);
    const balanceOf = async (who: string) => await token.balanceOf(who);
    expect(r.l1.tokenBefore).to.equal(SCENARIO_AMOUNTS.tokenMint);
    expect(await balanceOf(r.alice)).to.equal(r.l1.tokenAfter);
    expect(r.l1.tokenAfter).to.equal(
      r.l1.tokenBefore - SCENARIO_AMOUNTS.tokenDeposit + SCENARIO_AMOUNTS.tokenWithdrawal,
    );
    expect(await balanceOf(devnet.addresses.Bridge)).to.equal(
      SCENARIO_AMOUNTS.tokenDeposit - SCENARIO_AMOUNTS.tokenWithdrawal,
    );
  });

  it("each withdrawal was relayed exactly once on L1 and paid out once", async () => {
    const { devnet, l1 } = running();
    const r = scenario();
    const messenger = CrossChainMessenger__factory.connect(devnet.addresses.CrossChainMessenger, l1);
    const bridge = Bridge__factory.connect(devnet.addresses.Bridge, l1);
    const fromBlock = devnet.deployment.deploymentBlock;
    expect(r.withdrawals.map((w) => [w.asset, w.l1Token, w.amount])).to.deep.equal([
      ["ETH", ZeroAddress, SCENARIO_AMOUNTS.ethWithdrawal],
      ["token", r.token, SCENARIO_AMOUNTS.tokenWithdrawal],
    ]);
    const [ethWithdrawal, tokenWithdrawal] = take(r.withdrawals, 2, "withdrawals of the scenario");
    expect(ethWithdrawal.sequence).to.not.equal(tokenWithdrawal.sequence);
    for (const w of r.withdrawals) {
      expect(w.relayedEvents, `withdrawal ${w.sequence}`).to.equal(1);
      expect(w.relayFailedEvents, `withdrawal ${w.sequence}`).to.equal(0);
      const relayed = await messenger.queryFilter(messenger.filters.MessageRelayed(w.messageHash), fromBlock);
      expect(relayed, `MessageRelayed for ${w.messageHash}`).to.have.length(1);
      const relay = only(relayed, `MessageRelayed for ${w.messageHash}`);
      const log = messenger.interface.parseLog(relay)!;
      expect(BigInt(log.args.sequence)).to.equal(w.sequence);
      expect(log.args.target).to.equal(devnet.addresses.Bridge);
      expect(relay.transactionHash).to.equal(w.relayTxHash);
      expect(
        await messenger.queryFilter(messenger.filters.MessageRelayFailed(undefined, w.sequence), fromBlock),
      ).to.have.length(0);
      expect(await messenger.isRelayed(w.sequence)).to.equal(true);
      // The relay was the withdrawal-processor's, not alice's: her gas figures hold no relay.
      expect(r.l1.transactions.map((t) => t.hash)).to.not.include(w.relayTxHash);
    }
    const finalized = await bridge.queryFilter(bridge.filters.WithdrawalFinalized(undefined, r.alice), fromBlock);
    expect(
      finalized.map((e) => {
        const log = bridge.interface.parseLog(e)!;
        return [log.args.token as string, BigInt(log.args.amount), e.transactionHash];
      }),
    ).to.have.deep.members([
      [ZeroAddress, SCENARIO_AMOUNTS.ethWithdrawal, ethWithdrawal.relayTxHash],
      [r.token, SCENARIO_AMOUNTS.tokenWithdrawal, tokenWithdrawal.relayTxHash],
    ]);
  });

  it("the validator's L2 block hash equals the sequencer's at the last withdrawal", async () => {
    const { devnet } = running();
    const r = scenario();
    expect(r.validator).to.not.equal(undefined);
    const { block, sequencerHash, validatorHash } = r.validator!;
    expect(block).to.equal(r.withdrawalBlock);
    expect(block).to.be.greaterThan(0);
    const hashAt = async (url: string) =>
      ((await jsonRpc(url, "eth_getBlockByNumber", [`0x${block.toString(16)}`, false])) as { hash: string }).hash;
    const [onSequencer, onValidator] = await Promise.all([hashAt(devnet.l2Url), hashAt(devnet.validatorL2Url!)]);
    expect(onSequencer).to.match(/^0x[0-9a-f]{64}$/);
    expect(onSequencer).to.equal(sequencerHash);
    expect(onValidator).to.equal(validatorHash);
    expect(validatorHash).to.equal(sequencerHash);
  });

  it("refuses the validator step on a devnet without a validator, before sending anything", async () => {
    const { devnet, l1 } = running();
    const alice = scenario().alice;
    const nonce = await l1.getTransactionCount(alice);
    const printed: string[] = [];
    const error = await runBridgeScenario(
      { ...devnet, validatorL2Url: undefined },
      { validator: true, print: (l) => printed.push(l) },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ScenarioCheckError);
    expect((error as Error).message).to.equal("the validator step was asked for, but the devnet runs no validator");
    expect(printed).to.deep.equal([]);
    expect(await l1.getTransactionCount(alice)).to.equal(nonce);
  });

  it("with the workers down, fails naming the withdrawal-processor it waited for", async () => {
    const { devnet } = running();
    const workers = devnet.supervisor.processes.find((p) => p.name === "workers");
    expect(workers?.running()).to.equal(true);
    process.kill(-workers!.child.pid!, "SIGTERM");
    await workers!.exited;
    // The nodes read L1 themselves: a second run gets its deposits and withdrawals through (the L2
    // checks are relative), but nothing tracks the rollup for the withdrawals any more.
    const printed: string[] = [];
    const error = await runBridgeScenario(devnet, { timeoutMs: 20_000, print: (l) => printed.push(l) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ScenarioCheckError);
    expect((error as Error).message).to.equal(
      "timed out after 20 s waiting for the withdrawal-processor to track both withdrawals",
    );
    expect(printed.filter((l) => l.startsWith("step ")).at(-1)).to.match(/^step 7: the rollup with the withdrawals/);
    expect(devnet.crashes.map((c) => c.name)).to.deep.equal(["workers"]);
  });

  it("stopping the devnet leaves nothing under its queue prefix in Redis", async () => {
    const { devnet } = running();
    expect(await keysUnder(devnet.queuePrefix)).to.be.greaterThan(0);
    await devnet.stop();
    expect(await keysUnder(devnet.queuePrefix)).to.equal(0);
    expect(devnet.supervisor.processes.filter((p) => p.running())).to.deep.equal([]);
  });
});
