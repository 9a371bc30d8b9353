/**
 * The withdrawal-processor against a Hardhat node in another process (the code under test talks to it
 * by URL) and the real Redis (a unique prefix per test). Rollups are signed with an attested test key
 * and carry message trees built by the fixture; their messages are served by the node's withdrawal
 * methods in this process (testing/withdrawal-node.ts: the rollups read from L1, the messages those
 * batches published), which the processor asks over JSON-RPC (L2NodeWithdrawalSource), and the RollupAdded / RollupRejected deliveries are enqueued from the L1
 * logs as the event-subscriber would.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";

import { Queue } from "bullmq";
import { expect } from "chai";
import { type HDNodeWallet, type JsonRpcProvider, Wallet, hexlify, parseEther, parseUnits, randomBytes } from "ethers";
import { Redis } from "ioredis";
import { Registry } from "prom-client";

import { writeDeployment } from "../../deploy/deployment-file.js";
import { type CrossChainMessage, MessageTree } from "../../protocol/messages.js";
import { formatWithdrawalStatus, withdrawalStatusReport } from "../../tasks/withdrawal-status.js";
import { CrossChainMessenger__factory, MessageBus__factory } from "../../types/ethers-contracts/index.js";
import { bindContracts, connectL1 } from "../../platform/chain.js";
import { ConfigError, commonConfigSchema, parseConfig } from "../../platform/config.js";
import type { WorkerContext } from "../../platform/context.js";
import { type EventJob, type RollupAdded, type RollupRejected, eventJobId } from "../../platform/events.js";
import { createLogger, silentLogger } from "../../platform/logger.js";
import {
  type DeadLetter,
  type QueueSettings,
  createQueue,
  deadLetterQueueName,
  redrive,
} from "../../platform/queues.js";
import { queueSettings } from "../../platform/runtime.js";
import { TxSender } from "../../platform/tx-sender/tx-sender.js";
import {
  WithdrawalProcessor,
  createWithdrawalProcessor,
  type WithdrawalJob,
  type WithdrawalState,
  type WithdrawalStatus,
  L2NodeWithdrawalSource,
  type WithdrawalSource,
  getWithdrawalStatus,
  messageLeaf,
  relayRollupJobId,
  relayWithdrawalJobId,
} from "../../workers/withdrawal-processor/index.js";
import { at, only, take } from "../../testing/defined.js";
import { type L1Node, startL1Node } from "../../testing/l1-node.js";
import { type WithdrawalNode, startWithdrawalNode } from "../../testing/withdrawal-node.js";
import { deploymentOf, eventJobOf } from "../../testing/worker-process.js";
import {
  type Connection,
  type Veilnet,
  deployVeilnet,
  initializeGenesis,
  passChallengePeriod,
  submitRollup,
  withdrawalMessages,
} from "../../testing/veilnet.js";

const REDIS_URL = "redis://127.0.0.1:6379";
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return 0;
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
    .reduce((sum, v) => sum + v.value, 0);
}

async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== "0");
}

describe("withdrawal-processor", function () {
  let node: L1Node;
  let connection: Connection;
  let provider: JsonRpcProvider;
  let redis: Redis;
  let chainId: number;
  const prefixes: string[] = [];
  const cleanups: Array<() => Promise<void>> = [];

  async function fixture() {
    const v = await deployVeilnet(connection);
    const sequencer = await initializeGenesis(v);
    // Fund the bridge: withdrawals pay out of deposits.
    await (await v.bridge.connect(v.users[0]).depositNative(v.users[0].address, { value: parseEther("50") })).wait();
    return { v, sequencer };
  }

  /** An L2 node serving the rollups of `v`'s deployment (closed after the test). */
  async function l2Node(v: Veilnet): Promise<WithdrawalNode> {
    const node = await startWithdrawalNode({
      provider,
      rollupRegistry: v.addresses.RollupRegistry,
      messageBus: v.addresses.MessageBus,
    });
    cleanups.push(() => node.close());
    return node;
  }

  /** `source`, except for the roots in `lies` (a node that lies: the processor's own check must catch it). */
  function lyingSource(source: WithdrawalSource, lies = new Map<string, CrossChainMessage[]>()): WithdrawalSource {
    return {
      messagesForRoot: async (root) => lies.get(root.toLowerCase()) ?? source.messagesForRoot(root),
    };
  }

  /** Says what the batches of `rollup` published, as the node's chain would hold them. */
  function publish(
    node: WithdrawalNode,
    header: { firstBatchSeq: bigint; lastBatchSeq: bigint },
    messages: CrossChainMessage[],
  ) {
    node.batches.publish(header.firstBatchSeq, messages);
    for (let s = header.firstBatchSeq + 1n; s <= header.lastBatchSeq; s++) node.batches.publish(s, []);
  }

  before(async function () {
    node = await startL1Node();
    connection = await node.connect();
    ({ provider, chainId } = (await connectL1(node.url)) as { provider: JsonRpcProvider; chainId: number });
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  });

  afterEach(async function () {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  after(async function () {
    for (const prefix of prefixes) await deleteKeys(redis, prefix);
    redis.disconnect();
    provider.destroy();
    await connection?.close();
    await node?.stop();
  });

  interface Harness {
    prefix: string;
    /** The L2 node the processor reads the rollups' messages from. */
    node: WithdrawalNode;
    queues: QueueSettings;
    processor: WithdrawalProcessor;
    sender: TxSender;
    /** The processor's signing key (a fresh funded account). */
    wallet: HDNodeWallet;
    registry: Registry;
    rollups: Queue<EventJob>;
    withdrawals: Queue<WithdrawalJob>;
    /** Status changes seen, per sequence. */
    history: Map<string, WithdrawalState[]>;
    status(sequence: bigint | number): Promise<WithdrawalStatus | undefined>;
    /** Stops the processor and its sender (the queues and statuses stay in Redis). */
    stop(): Promise<void>;
    /** A new processor and sender on the same prefix and key (a restart). */
    restart(): Promise<void>;
  }

  async function harness(
    v: Veilnet,
    /** `lies`: roots for which the processor's source answers these messages instead of the node's. */
    options: { attempts?: number; backoffMs?: number; lies?: Map<string, CrossChainMessage[]> } = {},
  ): Promise<Harness> {
    const l2 = await l2Node(v);
    const prefix = `t-wp-${hexlify(randomBytes(4)).slice(2)}`;
    prefixes.push(prefix);
    const queues: QueueSettings = {
      connection: { host: "127.0.0.1", port: 6379 },
      prefix,
      attempts: options.attempts ?? 3,
      backoffMs: options.backoffMs ?? 100,
    };
    // The processor's own connection, as in a worker process (no cache shared with other tests).
    const l1 = (await connectL1(node.url)).provider;
    const wallet = Wallet.createRandom().connect(l1);
    await (await v.admin.sendTransaction({ to: wallet.address, value: parseEther("10") })).wait();
    const registry = new Registry();
    const history = new Map<string, WithdrawalState[]>();
    const contracts = {
      messageBus: MessageBus__factory.connect(await v.messageBus.getAddress(), l1),
      messenger: CrossChainMessenger__factory.connect(await v.messenger.getAddress(), l1),
    };
    const make = () => {
      const sender = new TxSender({
        provider: l1,
        signer: wallet.privateKey,
        redis,
        keyPrefix: prefix,
        logger: silentLogger(),
        metrics: registry,
        maxFeePerGas: parseUnits("1000", "gwei"),
        pollIntervalMs: 50,
      });
      const processor = new WithdrawalProcessor({
        chainId,
        contracts,
        provider: l1,
        writer: sender,
        redis,
        queues,
        // WP_DEBUG=1 prints the processor's logs.
        logger: process.env.WP_DEBUG !== undefined ? createLogger("debug") : silentLogger(),
        metrics: registry,
        source: lyingSource(new L2NodeWithdrawalSource([l2.url]), options.lies),
        settings: { activationPollMs: 200 },
        onStatus: (s) => history.set(s.sequence, [...(history.get(s.sequence) ?? []), s.status]),
      });
      return { sender, processor };
    };
    let current = make();
    await current.processor.start();
    // As the event-subscriber enqueues them: with the retry policy of every queue.
    const rollups = createQueue<EventJob>("rollups", queues);
    const withdrawals = createQueue<WithdrawalJob>("withdrawals", queues);
    let running = true;
    const h: Harness = {
      prefix,
      node: l2,
      queues,
      get processor() {
        return current.processor;
      },
      get sender() {
        return current.sender;
      },
      wallet,
      registry,
      rollups,
      withdrawals,
      history,
      status: (sequence) => getWithdrawalStatus(redis, prefix, chainId, sequence),
      stop: async () => {
        if (!running) return;
        running = false;
        await current.processor.stop();
        await current.sender.stop();
      },
      restart: async () => {
        await h.stop();
        current = make();
        await current.processor.start();
        running = true;
      },
    };
    cleanups.push(async () => {
      await h.stop();
      await rollups.close();
      await withdrawals.close();
      await l1.destroy();
    });
    return h;
  }

  /** The delivery of the RollupAdded log of `rollupHash`, as the event-subscriber enqueues it. */
  async function rollupAddedJob(v: Veilnet, rollupHash: string): Promise<EventJob<RollupAdded>> {
    const logs = await v.rollupRegistry.queryFilter(v.rollupRegistry.filters.RollupAdded(rollupHash));
    return eventJobOf(v, at(logs, 0, `RollupAdded log of ${rollupHash}`), "RollupAdded");
  }

  async function rollupRejectedJob(v: Veilnet, rollupHash: string): Promise<EventJob<RollupRejected>> {
    const logs = await v.rollupRegistry.queryFilter(v.rollupRegistry.filters.RollupRejected(rollupHash));
    return eventJobOf(v, at(logs, 0, `RollupRejected log of ${rollupHash}`), "RollupRejected");
  }

  async function deliver(h: Harness, job: EventJob, jobId = eventJobId(job.ref, job.removed)): Promise<string> {
    await h.rollups.add(job.event.type, job, { jobId });
    return jobId;
  }

  /** Waits until the `rollups` job `jobId` completed; returns its result. */
  async function completed(h: Harness, jobId: string): Promise<string> {
    return waitFor(`rollups job ${jobId} to complete`, async () => {
      // The state first, then the job (the other way round, a job finishing in between has no return value yet).
      if ((await h.rollups.getJobState(jobId)) !== "completed") return undefined;
      return String((await h.rollups.getJob(jobId))!.returnvalue);
    });
  }

  async function statuses(h: Harness, messages: readonly CrossChainMessage[]): Promise<WithdrawalStatus[]> {
    return Promise.all(messages.map(async (m) => (await h.status(m.sequence))!));
  }

  async function allInState(h: Harness, messages: readonly CrossChainMessage[], state: WithdrawalState) {
    return waitFor(`withdrawals ${messages.map((m) => m.sequence).join(",")} to be ${state}`, async () => {
      const all = await Promise.all(messages.map((m) => h.status(m.sequence)));
      return all.every((s) => s?.status === state) ? (all as WithdrawalStatus[]) : undefined;
    });
  }

  /** Submits a rollup of `messages`; the node's batches published them. */
  async function rollupWith(
    v: Veilnet,
    sequencer: Awaited<ReturnType<typeof fixture>>["sequencer"],
    h: Harness,
    messages: CrossChainMessage[],
  ) {
    const tree = new MessageTree(messages);
    const rollup = await submitRollup(v, sequencer, messages);
    publish(h.node, rollup.header, messages);
    return { ...rollup, tree, root: tree.root };
  }

  const recipients = (n: number) => Array.from({ length: n }, () => Wallet.createRandom().address);
  const recipient = () => Wallet.createRandom().address;

  it("tracks a rollup's withdrawals, relays each exactly once after the challenge period, ignores re-deliveries", async function () {
    const { v, sequencer } = await connection.networkHelpers.loadFixture(fixture);
    const h = await harness(v);
    const to = recipients(3);
    const amounts = [parseEther("1"), parseEther("2"), parseEther("3")];
    const messages = await withdrawalMessages(
      v,
      to.map((t, i) => ({ to: t, amount: at(amounts, i, "amount") })),
    );
    const rollup = await rollupWith(v, sequencer, h, messages);
    const added = await rollupAddedJob(v, rollup.hash);
    const deliveryId = await deliver(h, added);

    const waiting = await allInState(h, messages, "waiting");
    const registration = await v.messageBus.messageRoot(rollup.root);
    const bridge = await v.bridge.getAddress();
    for (const [i, s] of waiting.entries()) {
      const message = at(messages, i, "withdrawal message");
      expect(s.sequence).to.equal(message.sequence.toString());
      expect(s.rollupHash).to.equal(rollup.hash.toLowerCase());
      expect(s.root).to.equal(rollup.root.toLowerCase());
      expect(s.leaf).to.equal(messageLeaf(message).toLowerCase());
      expect(s.target).to.equal(bridge);
      expect(s.activatesAt).to.equal(Number(registration.activatesAt));
      expect(s.attempts).to.equal(0);
      expect(s.job).to.equal(relayRollupJobId(rollup.hash));
    }
    expect(await completed(h, deliveryId)).to.equal("tracked 3 of 3 withdrawals");
    const batch = await h.withdrawals.getJob(relayRollupJobId(rollup.hash));
    expect(await batch!.getState()).to.equal("delayed");
    expect(await metricValue(h.registry, "veilnet_withdrawals_tracked_total")).to.equal(3);
    expect(await metricValue(h.registry, "veilnet_withdrawals_waiting")).to.equal(3);
    for (const m of messages) expect(await v.messenger.isRelayed(m.sequence)).to.equal(false);

    await passChallengePeriod(v);
    const relayed = await allInState(h, messages, "relayed");

    for (const [i, m] of messages.entries()) {
      const status = at(relayed, i, "relayed status");
      expect(await provider.getBalance(at(to, i, "recipient"))).to.equal(at(amounts, i, "amount"));
      expect(await v.messenger.isRelayed(m.sequence)).to.equal(true);
      expect(await v.messenger.failedMessages(messageLeaf(m))).to.equal(false);
      const receipt = (await provider.getTransactionReceipt(status.txHash!))!;
      expect(receipt.from).to.equal(h.wallet.address);
      const logs = receipt.logs.map((l) => v.messenger.interface.parseLog(l)).filter((l) => l !== null);
      expect(logs.map((l) => [l.name, l.args.sequence])).to.deep.equal([["MessageRelayed", m.sequence]]);
      expect(status.attempts).to.equal(1);
      expect(h.history.get(m.sequence.toString())).to.deep.equal(["waiting", "relayed"]);
    }
    expect(await provider.getTransactionCount(h.wallet.address)).to.equal(3);
    expect(await metricValue(h.registry, "veilnet_withdrawals_relayed_total", { by: "processor" })).to.equal(3);
    expect(await metricValue(h.registry, "veilnet_withdrawals_waiting")).to.equal(0);

    // The same delivery again is deduplicated by its job id; a second delivery of the same event under
    // another id is handled and changes nothing.
    await deliver(h, added);
    const again = await deliver(h, added, `${deliveryId}-again`);
    expect(await completed(h, again)).to.equal("tracked 0 of 3 withdrawals");
    expect(await statuses(h, messages)).to.deep.equal(relayed);
    expect(await h.rollups.getJobCounts("completed", "waiting", "delayed", "failed")).to.deep.include({
      completed: 2,
      waiting: 0,
      delayed: 0,
      failed: 0,
    });
    expect(await h.withdrawals.getJobCounts("completed", "waiting", "delayed", "failed")).to.deep.include({
      completed: 1,
      waiting: 0,
      delayed: 0,
      failed: 0,
    });
    expect(await provider.getTransactionCount(h.wallet.address)).to.equal(3);
    expect(await metricValue(h.registry, "veilnet_withdrawals_tracked_total")).to.equal(3);
  });

  it("skips a withdrawal someone else relayed first (no transaction from the processor's key)", async function () {
    const { v, sequencer } = await connection.networkHelpers.loadFixture(fixture);
    const h = await harness(v);
    const [to0, to1] = take(recipients(2), 2, "recipients");
    const messages = await withdrawalMessages(v, [
      { to: to0, amount: parseEther("1") },
      { to: to1, amount: parseEther("2") },
    ]);
    const rollup = await rollupWith(v, sequencer, h, messages);
    await deliver(h, await rollupAddedJob(v, rollup.hash));
    await allInState(h, messages, "waiting");

    // The processor is down while the root activates and a stranger relays the first withdrawal.
    await h.stop();
    await passChallengePeriod(v);
    const strangerTx = await v.messenger
      .connect(v.stranger)
      .relayMessageWithProof(messages[0], rollup.tree.proofFor(0n), rollup.root);
    await strangerTx.wait();

    await h.restart();
    const [first, second] = take(await allInState(h, messages, "relayed"), 2, "relayed statuses");
    expect(first.txHash).to.equal(strangerTx.hash.toLowerCase());
    expect(first.attempts).to.equal(0);
    expect(second.attempts).to.equal(1);
    expect((await provider.getTransactionReceipt(second.txHash!))!.from).to.equal(h.wallet.address);
    expect(await provider.getTransactionCount(h.wallet.address)).to.equal(1);
    expect(await provider.getBalance(to0)).to.equal(parseEther("1"));
    expect(await provider.getBalance(to1)).to.equal(parseEther("2"));
    expect(await metricValue(h.registry, "veilnet_withdrawals_relayed_total", { by: "other" })).to.equal(1);
    expect(await metricValue(h.registry, "veilnet_withdrawals_relayed_total", { by: "processor" })).to.equal(1);
  });

  it("records a failing target call, retries it, dead-letters it with its reason, and relays it after a re-drive", async function () {
    const { v, sequencer } = await connection.networkHelpers.loadFixture(fixture);
    const h = await harness(v, { attempts: 3, backoffMs: 100 });
    const receiver = await connection.ethers.deployContract("RejectingReceiver");
    const other = recipient();
    const messages = await withdrawalMessages(v, [
      { to: await receiver.getAddress(), amount: parseEther("1") },
      { to: other, amount: parseEther("2") },
    ]);
    const [refused, fine] = messages;
    const rollup = await rollupWith(v, sequencer, h, messages);
    await deliver(h, await rollupAddedJob(v, rollup.hash));
    await allInState(h, messages, "waiting");
    await passChallengePeriod(v);

    const dead = await waitFor("the refused withdrawal to be dead", async () => {
      const s = await h.status(refused.sequence);
      return s?.status === "dead" ? s : undefined;
    });
    // The other withdrawal of the rollup is not held back by the failing one.
    expect((await h.status(fine.sequence))?.status).to.equal("relayed");
    expect(await provider.getBalance(other)).to.equal(parseEther("2"));

    const reason = 'target call failed: Error("RejectingReceiver: refused")';
    expect(dead.error).to.equal(reason);
    expect(dead.attempts).to.equal(4); // the rollup's relay, then 3 retries of its own job
    expect(dead.job).to.equal(relayWithdrawalJobId(refused.sequence));
    expect(h.history.get(refused.sequence.toString())).to.deep.equal(["waiting", "failed", "failed", "failed", "dead"]);
    const leaf = messageLeaf(refused);
    expect(await v.messenger.isRelayed(refused.sequence)).to.equal(true);
    expect(await v.messenger.failedMessages(leaf)).to.equal(true);
    expect(await provider.getBalance(await receiver.getAddress())).to.equal(0n);
    // The relay transaction recorded the failure with the target's reason.
    const relayReceipt = (await provider.getTransactionReceipt(dead.txHash!))!;
    const failedLog = relayReceipt.logs.map((l) => v.messenger.interface.parseLog(l)).find((l) => l !== null)!;
    expect(failedLog.name).to.equal("MessageRelayFailed");
    expect(failedLog.args.sequence).to.equal(refused.sequence);

    const deadLetters = new Queue<DeadLetter<WithdrawalJob>>(deadLetterQueueName("withdrawals"), {
      connection: h.queues.connection,
      prefix: h.prefix,
    });
    cleanups.push(() => deadLetters.close());
    const letters = await deadLetters.getJobs(["waiting"]);
    expect(letters.map((l) => [l.data.jobId, l.data.failedReason, l.data.attemptsMade])).to.deep.equal([
      [relayWithdrawalJobId(refused.sequence), reason, 3],
    ]);
    expect(await (await h.withdrawals.getJob(relayWithdrawalJobId(refused.sequence)))!.getState()).to.equal("failed");
    expect(await metricValue(h.registry, "veilnet_withdrawal_relay_failures_total")).to.equal(4);
    expect(await metricValue(h.registry, "veilnet_withdrawals_dead_total")).to.equal(1);

    // Once the receiver accepts ETH, a re-drive retries the message (retryMessage) and it is relayed.
    await (await receiver.setAccept(true)).wait();
    expect(await redrive("withdrawals", h.queues)).to.deep.equal([relayWithdrawalJobId(refused.sequence)]);
    const relayed = await waitFor("the re-driven withdrawal to be relayed", async () => {
      const s = await h.status(refused.sequence);
      return s?.status === "relayed" ? s : undefined;
    });
    expect(await provider.getBalance(await receiver.getAddress())).to.equal(parseEther("1"));
    expect(await v.messenger.failedMessages(leaf)).to.equal(false);
    const retryTx = (await provider.getTransaction(relayed.txHash!))!;
    expect(retryTx.from).to.equal(h.wallet.address);
    expect(v.messenger.interface.parseTransaction(retryTx)!.name).to.equal("retryMessage");
    expect(relayed.error).to.equal(undefined);
    expect(await deadLetters.getJobCounts("waiting")).to.deep.include({ waiting: 0 });
  });

  it("marks a rejected rollup's withdrawals rejected and never relays them", async function () {
    const { v, sequencer } = await connection.networkHelpers.loadFixture(fixture);
    const h = await harness(v);
    const to = recipients(4);
    const messages = await withdrawalMessages(
      v,
      to.map((t) => ({ to: t, amount: parseEther("1") })),
    );
    const [firstTwo, lastTwo] = [messages.slice(0, 2), messages.slice(2)];

    // Rejected, and the processor hears of it through RollupRejected.
    const a = await rollupWith(v, sequencer, h, firstTwo);
    const addedA = await rollupAddedJob(v, a.hash);
    await deliver(h, addedA);
    await allInState(h, firstTwo, "waiting");
    await (await v.rollupRegistry.rejectRollup(a.header)).wait();
    const rejection = await deliver(h, await rollupRejectedJob(v, a.hash));
    expect(await completed(h, rejection)).to.equal("2 withdrawals rejected");
    const rejectedA = await allInState(h, firstTwo, "rejected");
    expect(rejectedA.map((s) => s.error)).to.deep.equal(
      Array(2).fill(`rollup rejected by the guardian ${v.admin.address}`),
    );
    expect(await h.withdrawals.getJob(relayRollupJobId(a.hash))).to.equal(undefined);
    // A re-delivery of its RollupAdded does not bring it back.
    const again = await deliver(h, addedA, `${eventJobId(addedA.ref)}-again`);
    expect(await completed(h, again)).to.equal("tracked 0 of 2 withdrawals (rollup rejected)");

    // Rejected on L1 while its relay job waits: the job finds out by itself.
    const b = await rollupWith(v, sequencer, h, lastTwo);
    await deliver(h, await rollupAddedJob(v, b.hash));
    await allInState(h, lastTwo, "waiting");
    await (await v.rollupRegistry.rejectRollup(b.header)).wait();
    const rejectedB = await allInState(h, lastTwo, "rejected");
    expect(rejectedB.map((s) => s.error)).to.deep.equal(Array(2).fill("message root rejected on L1"));
    const lateRejection = await deliver(h, await rollupRejectedJob(v, b.hash));
    expect(await completed(h, lateRejection)).to.equal("0 withdrawals rejected");

    await passChallengePeriod(v);
    await connection.networkHelpers.mine(2);
    expect(await h.withdrawals.getJobCounts("waiting", "delayed", "active", "failed")).to.deep.include({
      waiting: 0,
      delayed: 0,
      active: 0,
      failed: 0,
    });
    for (const [i, m] of messages.entries()) {
      expect(await v.messenger.isRelayed(m.sequence)).to.equal(false);
      expect(await provider.getBalance(at(to, i, "recipient"))).to.equal(0n);
    }
    expect(await provider.getTransactionCount(h.wallet.address)).to.equal(0);
    expect(await metricValue(h.registry, "veilnet_withdrawals_rejected_total")).to.equal(4);
    expect(await metricValue(h.registry, "veilnet_withdrawals_waiting")).to.equal(0);
  });

  it("forgets a rollup removed by a reorg and tracks its resubmission", async function () {
    const { v, sequencer } = await connection.networkHelpers.loadFixture(fixture);
    const h = await harness(v);
    const to = recipients(2);
    const messages = await withdrawalMessages(
      v,
      to.map((t) => ({ to: t, amount: parseEther("1") })),
    );
    const beforeRollup = await connection.networkHelpers.takeSnapshot();
    const first = await rollupWith(v, sequencer, h, messages);
    const added = await rollupAddedJob(v, first.hash);
    await deliver(h, added);
    await allInState(h, messages, "waiting");

    // The block carrying the rollup is reorged away; the event-subscriber delivers the compensation.
    await beforeRollup.restore();
    const compensation = await deliver(h, { ...added, removed: true });
    expect(await completed(h, compensation)).to.equal("2 withdrawals reorged");
    const reorged = await allInState(h, messages, "reorged");
    expect(reorged.every((s) => s.rollupHash === first.hash.toLowerCase())).to.equal(true);
    expect(await h.withdrawals.getJob(relayRollupJobId(first.hash))).to.equal(undefined);

    // The sequencer resubmits the same messages in a new rollup.
    const second = await rollupWith(v, sequencer, h, messages);
    expect(second.root).to.equal(first.root);
    const readded = await rollupAddedJob(v, second.hash);
    await deliver(h, readded);
    const waiting = await allInState(h, messages, "waiting");
    expect(waiting.every((s) => s.rollupHash === second.hash.toLowerCase())).to.equal(true);
    await passChallengePeriod(v);
    await allInState(h, messages, "relayed");
    for (const t of to) expect(await provider.getBalance(t)).to.equal(parseEther("1"));
    expect(await provider.getTransactionCount(h.wallet.address)).to.equal(2);

    // A compensation for a rollup that is on L1 (re-included) undoes nothing.
    expect(await h.processor.handleRollupEvent({ ...readded, removed: true })).to.equal(
      "rollup is on L1 again (re-included): nothing to undo",
    );
    expect((await h.status(at(messages, 0, "withdrawal message").sequence))?.status).to.equal("relayed");
  });

  it("dead-letters a rollup whose messages are unknown or do not match its root", async function () {
    const { v, sequencer } = await connection.networkHelpers.loadFixture(fixture);
    const lies = new Map<string, CrossChainMessage[]>();
    const h = await harness(v, { attempts: 3, backoffMs: 50, lies });
    const messages = await withdrawalMessages(v, [{ to: recipient(), amount: parseEther("1") }]);
    // On L1, but no node holds its batches.
    const unknown = await submitRollup(v, sequencer, messages);
    const unknownJob = await deliver(h, await rollupAddedJob(v, unknown.hash));

    const wrongMessages = await withdrawalMessages(v, [{ to: recipient(), amount: parseEther("1") }], 1n);
    const mismatched = await submitRollup(v, sequencer, wrongMessages);
    lies.set(mismatched.tree!.root.toLowerCase(), messages); // not the rollup's messages
    const mismatchedJob = await deliver(h, await rollupAddedJob(v, mismatched.hash));

    const deadLetters = new Queue<DeadLetter<EventJob>>(deadLetterQueueName("rollups"), {
      connection: h.queues.connection,
      prefix: h.prefix,
    });
    cleanups.push(() => deadLetters.close());
    const letters = await waitFor("both rollups to be dead-lettered", async () => {
      const jobs = await deadLetters.getJobs(["waiting"]);
      return jobs.length === 2 ? jobs : undefined;
    });
    const byId = new Map(letters.map((l) => [l.data.jobId, l.data]));
    const root = unknown.tree!.root.toLowerCase();
    expect(byId.get(unknownJob)?.failedReason).to.equal(`messages for root ${root} unknown`);
    expect(byId.get(unknownJob)?.attemptsMade).to.equal(3);
    expect(byId.get(mismatchedJob)?.failedReason).to.equal(
      `messages for root ${mismatched.tree!.root.toLowerCase()} build a different tree (root ${unknown.tree!.root})`,
    );
    expect(byId.get(mismatchedJob)?.attemptsMade).to.equal(1); // unrecoverable: no retries
    expect(await h.status(messages[0].sequence)).to.equal(undefined);
    expect(await h.status(wrongMessages[0].sequence)).to.equal(undefined);
  });

  it("reports a withdrawal's status and L1 state (veil:withdrawal-status), and says when an id is unknown", async function () {
    const { v, sequencer } = await connection.networkHelpers.loadFixture(fixture);
    const h = await harness(v);
    const messages = await withdrawalMessages(v, [{ to: recipient(), amount: parseEther("1") }], 5n);
    const rollup = await rollupWith(v, sequencer, h, messages);
    await deliver(h, await rollupAddedJob(v, rollup.hash));
    await allInState(h, messages, "waiting");
    await passChallengePeriod(v);
    const relayed = only(await allInState(h, messages, "relayed"), "relayed status");

    const contracts = {
      messenger: CrossChainMessenger__factory.connect(await v.messenger.getAddress(), provider),
      messageBus: MessageBus__factory.connect(await v.messageBus.getAddress(), provider),
    };
    const report = async (id: bigint) =>
      withdrawalStatusReport({
        id,
        chainId,
        queuePrefix: h.prefix,
        redisUrl: REDIS_URL,
        redis,
        provider,
        ...contracts,
      });

    const known = await report(5n);
    expect(known.stored).to.deep.equal(relayed);
    expect(known.onChain.relayed).to.equal(true);
    expect(known.onChain.failedRetryable).to.equal(false);
    expect(known.onChain.root).to.deep.include({ registered: true, rejected: false, active: true });
    const text = formatWithdrawalStatus(known);
    expect(text).to.match(/status\s+relayed/);
    expect(text).to.include(relayed.txHash!);
    expect(text).to.match(/relayed\s+yes/);
    expect(text).to.match(/failed, retryable\s+no/);
    expect(text).to.include("active since");

    const missing = await report(99n);
    expect(missing.stored).to.equal(undefined);
    expect(missing.onChain.relayed).to.equal(false);
    expect(formatWithdrawalStatus(missing)).to.include(
      `Withdrawal 99 is unknown: the withdrawal-processor has no status for it (chain ${chainId}, queue prefix "${h.prefix}"`,
    );

    // The task from the command line, against the node (deployment file in a temporary directory).
    const dir = mkdtempSync(path.join(os.tmpdir(), "veilnet-wp-"));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    writeDeployment(await deploymentOf(v), dir);
    const cli = async (sequence: string) =>
      promisify(execFile)(
        path.join(root, "node_modules", ".bin", "hardhat"),
        [
          "veil:withdrawal-status",
          "--network",
          "localhost",
          sequence,
          "--redis-url",
          REDIS_URL,
          "--queue-prefix",
          h.prefix,
          "--deployments-dir",
          dir,
        ],
        { cwd: root, env: { ...process.env, L1_RPC_URL: node.url } },
      );
    const [cliKnown, cliUnknown] = await Promise.all([cli("5"), cli("99")]);
    expect(cliKnown.stdout).to.match(/status\s+relayed/);
    expect(cliKnown.stdout).to.include(relayed.txHash!);
    expect(cliUnknown.stdout).to.include("Withdrawal 99 is unknown");
  });

  it("createWithdrawalProcessor: needs its signing key, then runs from a worker context", async function () {
    const { v, sequencer } = await connection.networkHelpers.loadFixture(fixture);
    const prefix = `t-wp-${hexlify(randomBytes(4)).slice(2)}`;
    prefixes.push(prefix);
    const { provider: l1 } = await connectL1(node.url);
    cleanups.push(async () => l1.destroy());
    const wallet = Wallet.createRandom();
    await (await v.admin.sendTransaction({ to: wallet.address, value: parseEther("10") })).wait();
    const l2 = await l2Node(v);
    const source: Record<string, unknown> = {
      L1_RPC_URL: node.url,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      JOB_ATTEMPTS: "3",
      JOB_BACKOFF_MS: "100",
      WITHDRAWAL_ACTIVATION_POLL_MS: "200",
      TX_POLL_INTERVAL_MS: "50",
      WITHDRAWAL_L2_RPC_URLS: l2.url,
    };
    const config = parseConfig(commonConfigSchema, source);
    const deployment = await deploymentOf(v);
    const ctx = (src: Record<string, unknown>): WorkerContext => ({
      config,
      source: src,
      logger: silentLogger(),
      redis,
      queues: queueSettings(config),
      provider: l1,
      chainId,
      deployment,
      contracts: bindContracts(deployment.addresses, l1),
      metrics: new Registry(),
    });

    const error = await createWithdrawalProcessor(ctx(source)).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).to.be.instanceOf(ConfigError);
    expect(error?.message).to.equal("config: SIGNER_PRIVATE_KEY: Required");

    const service = await createWithdrawalProcessor(ctx({ ...source, SIGNER_PRIVATE_KEY: wallet.privateKey }));
    expect(service.name).to.equal("withdrawal-processor");
    expect(await service.health()).to.deep.equal({ ok: false, detail: "not running" });
    await service.start();
    cleanups.push(() => service.stop());
    expect(await service.health()).to.deep.equal({ ok: true });

    const to = recipient();
    const messages = await withdrawalMessages(v, [{ to, amount: parseEther("1") }]);
    const rollup = await submitRollup(v, sequencer, messages);
    publish(l2, rollup.header, messages);
    const rollups = createQueue<EventJob>("rollups", ctx(source).queues);
    cleanups.push(() => rollups.close());
    const added = await rollupAddedJob(v, rollup.hash);
    await rollups.add(added.event.type, added, { jobId: eventJobId(added.ref) });
    await waitFor(
      "the withdrawal to be tracked",
      async () => (await getWithdrawalStatus(redis, prefix, chainId, 0n))?.status === "waiting",
    );
    await passChallengePeriod(v);
    const relayed = await waitFor("the withdrawal to be relayed", async () => {
      const s = await getWithdrawalStatus(redis, prefix, chainId, 0n);
      return s?.status === "relayed" ? s : undefined;
    });
    expect((await provider.getTransactionReceipt(relayed.txHash!))!.from).to.equal(wallet.address);
    expect(await provider.getBalance(to)).to.equal(parseEther("1"));

    await service.stop();
    expect(await service.health()).to.deep.equal({ ok: false, detail: "not running" });
  });
});
