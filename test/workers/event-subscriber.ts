/**
 * event-subscriber against a Hardhat node over HTTP and the real Redis: decoding and routing of every
 * domain event with deterministic job ids, the confirmation depth, restart and crash re-delivery, reorgs
 * (compensation first, then the new branch), a flaky RPC endpoint, metrics, health and the service factory.
 */
import { type Job, Queue } from "bullmq";
import { expect } from "chai";
import { type TransactionReceipt, ZeroAddress, parseEther, toQuantity } from "ethers";
import { Redis } from "ioredis";
import { Registry } from "prom-client";

import type { Deployment, DeploymentAddresses } from "../../deploy/deployment-file.js";
import { withdrawalMessage, Topic, encodeCallPayload, type CrossChainMessage } from "../../protocol/messages.js";
import { RelayTarget__factory, TestToken__factory } from "../../types/ethers-contracts/index.js";
import { bindContracts, connectL1 } from "../../platform/chain.js";
import { ConfigError, commonConfigSchema, parseConfig } from "../../platform/config.js";
import type { WorkerContext } from "../../platform/context.js";
import { type DomainEvent, type EventJob, eventJobId } from "../../platform/events.js";
import { silentLogger } from "../../platform/logger.js";
import { EVENT_ROUTES, type EventRoutes, QueueNames, type QueueSettings } from "../../platform/queues.js";
import {
  DOMAIN_EVENT_TYPES,
  EVENT_QUEUES,
  EventSubscriber,
  LogDecoder,
  type RawLog,
  type SubscriberOptions,
  CONSUMED_EVENT_QUEUES,
  createEventSubscriber,
  subscriberConfigSchema,
  createSubscriberProvider,
} from "../../workers/event-subscriber/index.js";
import { at } from "../../testing/defined.js";
import { type L1Node, startL1Node } from "../../testing/l1-node.js";
import { type RpcFaultProxy, startRpcFaultProxy } from "../../testing/rpc-fault-proxy.js";
import {
  type Connection,
  SECRET_REQUEST_TIMEOUT,
  type Veilnet,
  deployVeilnet,
  initializeGenesis,
  makeEnclave,
  passChallengePeriod,
  secretResponse,
  submitRollup,
} from "../../testing/veilnet.js";
import { requestFields, requestReport } from "../../testing/secret-requests.js";

const REDIS_URL = "redis://127.0.0.1:6379";
const REDIS = { host: "127.0.0.1", port: 6379 };
/** Queues of this test for the events no worker consumes (production routes none of them). */
const L1_MESSAGES = "test-l1-messages";
const RELAYS = "test-relays";
/** Every event type routed somewhere, so that the subscriber's delivery of each can be checked. */
const TEST_ROUTES: EventRoutes = {
  ...EVENT_ROUTES,
  MessagePublished: [L1_MESSAGES],
  DepositInitiated: [L1_MESSAGES],
  TokenRegistered: [L1_MESSAGES],
  MessageRelayed: [RELAYS],
  MessageRelayFailed: [RELAYS],
  WithdrawalFinalized: [RELAYS],
};
const TEST_QUEUES = [...new Set(Object.values(TEST_ROUTES).flat())];

let node: L1Node;
let c: Connection;
let v: Veilnet;
let addresses: DeploymentAddresses;
let chainId: number;
let redis: Redis;
const prefixes: string[] = [];
const cleanups: (() => Promise<void>)[] = [];

function newPrefix(): string {
  const prefix = `t-es-${Math.random().toString(36).slice(2, 10)}`;
  prefixes.push(prefix);
  return prefix;
}

function queueSettings(prefix: string): QueueSettings {
  return { connection: REDIS, prefix, attempts: 3, backoffMs: 100 };
}

async function head(): Promise<number> {
  return c.ethers.provider.getBlockNumber();
}

async function rpc<T>(method: string, params: unknown[] = []): Promise<T> {
  return (await c.ethers.provider.send(method, params)) as T;
}

interface Harness {
  sub: EventSubscriber;
  prefix: string;
  registry: Registry;
  startBlock: number;
}

/** A subscriber on a fresh prefix (or `o.prefix`), reading from the next block (or `o.startBlock`). */
async function subscriber(
  options: Partial<SubscriberOptions> = {},
  o: { prefix?: string; url?: string; startBlock?: number } = {},
): Promise<Harness> {
  const prefix = o.prefix ?? newPrefix();
  const registry = new Registry();
  const startBlock = o.startBlock ?? (await head()) + 1;
  const sub = new EventSubscriber({
    provider: createSubscriberProvider(o.url ?? node.url, chainId, options.rpcTimeoutMs ?? 10_000),
    ownsProvider: true,
    chainId,
    addresses,
    deploymentBlock: startBlock,
    redis,
    queues: queueSettings(prefix),
    logger: silentLogger(),
    metrics: registry,
    options: { confirmations: 0, pollIntervalMs: 20, routes: TEST_ROUTES, ...options },
  });
  cleanups.push(() => sub.stop());
  return { sub, prefix, registry, startBlock };
}

/** The jobs waiting in `queue`, oldest first. */
async function jobs(prefix: string, queue: string): Promise<Job<EventJob>[]> {
  const q = new Queue<EventJob>(queue, { connection: REDIS, prefix });
  try {
    return await q.getJobs(["waiting"], 0, -1, true);
  } finally {
    await q.close();
  }
}

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function caughtUp(sub: EventSubscriber, block: number): Promise<void> {
  await waitFor(`checkpoint ${block}`, async () => ((await sub.checkpoint())?.number ?? -1) >= block);
}

async function deposit(userIndex: number, amount: bigint): Promise<TransactionReceipt> {
  const user = at(v.users, userIndex, "user");
  return (await (await v.bridge.connect(user).depositNative(user.address, { value: amount })).wait())!;
}

/** The jobs the receipts' logs must give, decoded by ethers' Interface (the reference decoder). */
function expectedJobs(receipts: TransactionReceipt[]): EventJob[] {
  const reference = new LogDecoder(chainId, addresses, { fast: false });
  const out: EventJob[] = [];
  for (const r of receipts) {
    for (const log of r.logs) {
      const raw: RawLog = {
        address: log.address,
        topics: [...log.topics],
        data: log.data,
        blockNumber: toQuantity(log.blockNumber),
        blockHash: log.blockHash,
        transactionHash: log.transactionHash,
        logIndex: toQuantity(log.index),
      };
      const job = reference.decode(raw);
      if (job !== undefined) out.push(job);
    }
  }
  return out;
}

const eventsOf = (list: Job<EventJob>[]) => list.map((j) => j.data.event);
const ofType = <T extends DomainEvent["type"]>(list: Job<EventJob>[], type: T) =>
  list.filter((j) => j.data.event.type === type).map((j) => j.data.event as Extract<DomainEvent, { type: T }>);

/** Sum of the metric's samples matching `labels`. */
async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const samples = (m?.values ?? []).filter((s) => Object.entries(labels).every(([k, val]) => s.labels[k] === val));
  return samples.reduce((sum, s) => sum + s.value, 0);
}

describe("event-subscriber", function () {
  this.timeout(120_000);

  before(async () => {
    node = await startL1Node();
    c = await node.connect();
    v = await deployVeilnet(c);
    chainId = Number(v.chainId);
    addresses = { ...v.addresses };
    redis = new Redis(REDIS_URL);
  });

  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((f) => f()));
  });

  after(async () => {
    for (const prefix of prefixes) {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== "0");
    }
    redis?.disconnect();
    await node?.stop();
  });

  it("delivers every domain event type, decoded, to its queues in log order with job id eventJobId(ref)", async () => {
    const { sub, prefix, startBlock } = await subscriber();
    const receipts: TransactionReceipt[] = [];
    const keep = async (tx: Promise<{ wait(): Promise<TransactionReceipt | null> }>) => {
      const receipt = (await (await tx).wait())!;
      receipts.push(receipt);
      return receipt;
    };
    const user = v.users[0];

    // Secret requests: one answered, one cancelled.
    const genesis = await initializeGenesis(v);
    const joiner = await makeEnclave(v);
    await keep(v.enclaveRegistry.connect(user).requestNetworkSecret(joiner.report, { value: 1000n }));
    const answeredId = await v.enclaveRegistry.requestCount();
    const response = await secretResponse(v, genesis, answeredId, joiner.publicKey, genesis.secret);
    await keep(
      v.enclaveRegistry.respondNetworkSecret(
        answeredId,
        await requestFields(v, answeredId),
        await requestReport(v, answeredId),
        response.encryptedSecret,
        response.signature,
      ),
    );
    const late = await makeEnclave(v);
    await keep(v.enclaveRegistry.connect(user).requestNetworkSecret(late.report, { value: 7n }));
    const cancelledId = await v.enclaveRegistry.requestCount();
    await c.networkHelpers.time.increase(SECRET_REQUEST_TIMEOUT + 1n);
    await keep(v.enclaveRegistry.cancelSecretRequest(cancelledId, await requestFields(v, cancelledId)));

    // A token registration and a deposit (each also publishes a message).
    const token = await new TestToken__factory(v.admin).deploy("Test Token", "TT", 6);
    await keep(v.bridge.registerToken(await token.getAddress()));
    await keep(v.bridge.connect(user).depositNative(user.address, { value: parseEther("5") }));

    // A rollup whose withdrawal is relayed and whose call fails; another rollup, rejected.
    const target = await new RelayTarget__factory(v.admin).deploy(await v.messenger.getAddress());
    await (await target.setShouldFail(true)).wait();
    const l2Sequence = BigInt(Date.now());
    const withdrawal = withdrawalMessage({
      l2Bridge: v.l2Bridge,
      l1Bridge: addresses.Bridge,
      l1Token: ZeroAddress,
      to: v.users[1].address,
      amount: parseEther("1"),
      sequence: l2Sequence,
    });
    const failingCall: CrossChainMessage = {
      sender: v.users[2].address,
      sequence: l2Sequence + 1n,
      nonce: 0n,
      topic: Topic.Call,
      payload: encodeCallPayload(await target.getAddress(), target.interface.encodeFunctionData("receiveCall", [9n])),
      consistencyLevel: 1,
    };
    const accepted = await submitRollup(v, genesis, [withdrawal, failingCall]);
    receipts.push((await c.ethers.provider.getTransactionReceipt((await latestTx())!))!);
    await passChallengePeriod(v);
    await keep(v.messenger.relayMessageWithProof(withdrawal, accepted.tree!.proof(0), accepted.tree!.root));
    await keep(v.messenger.relayMessageWithProof(failingCall, accepted.tree!.proof(1), accepted.tree!.root));
    const rejected = await submitRollup(v, genesis, [{ ...withdrawal, sequence: l2Sequence + 2n }]);
    receipts.push((await c.ethers.provider.getTransactionReceipt((await latestTx())!))!);
    await keep(v.rollupRegistry.rejectRollup(rejected.header));

    const result = await sub.pollOnce();
    const expected = expectedJobs(receipts);
    expect(result).to.deep.equal({ from: startBlock, to: await head(), events: expected.length, reorged: false });
    expect(new Set(expected.map((j) => j.event.type))).to.deep.equal(new Set(DOMAIN_EVENT_TYPES));
    expect(DOMAIN_EVENT_TYPES).to.have.length(11);
    // Other logs of these transactions (EnclaveAttested, MessageRootAdded, FeesReceived, Transfer...) are ignored.
    expect(receipts.reduce((n, r) => n + r.logs.length, 0)).to.be.greaterThan(expected.length);

    for (const queue of TEST_QUEUES) {
      const delivered = await jobs(prefix, queue);
      const want = expected.filter((j) => (TEST_ROUTES[j.event.type] ?? []).includes(queue));
      expect(
        delivered.map((j) => j.id),
        queue,
      ).to.deep.equal(want.map((j) => eventJobId(j.ref)));
      expect(delivered.map((j) => j.name)).to.deep.equal(want.map((j) => j.event.type));
      expect(delivered.map((j) => j.data)).to.deep.equal(want);
    }

    // Spot checks against the inputs (the reference decoder could be wrong too).
    const requestEventFields = async (requestId: bigint) => {
      const f = await requestFields(v, requestId);
      return {
        payer: f.payer,
        createdAt: f.createdAt.toString(),
      };
    };
    const secrets = await jobs(prefix, QueueNames.secretRequests);
    expect(eventsOf(secrets)).to.deep.equal([
      {
        type: "NetworkSecretRequested",
        requestId: answeredId.toString(),
        enclaveId: joiner.address,
        enclavePubKey: joiner.publicKey,
        bounty: "1000",
        ...(await requestEventFields(answeredId)),
      },
      {
        type: "NetworkSecretResponded",
        requestId: answeredId.toString(),
        responder: genesis.address,
        requester: joiner.address,
        encryptedSecret: response.encryptedSecret,
      },
      {
        type: "NetworkSecretRequested",
        requestId: cancelledId.toString(),
        enclaveId: late.address,
        enclavePubKey: late.publicKey,
        bounty: "7",
        ...(await requestEventFields(cancelledId)),
      },
      { type: "SecretRequestCancelled", requestId: cancelledId.toString(), refund: "7" },
    ]);
    const l1 = await jobs(prefix, L1_MESSAGES);
    expect(ofType(l1, "TokenRegistered")).to.deep.equal([
      { type: "TokenRegistered", token: await token.getAddress(), name: "Test Token", symbol: "TT", decimals: 6 },
    ]);
    const dep = at(ofType(l1, "DepositInitiated"), 0, "DepositInitiated job");
    expect(dep).to.include({
      token: ZeroAddress,
      from: user.address,
      to: user.address,
      amount: parseEther("5").toString(),
    });
    const published = ofType(l1, "MessagePublished");
    expect(published.map((m) => m.topic)).to.deep.equal([Topic.TokenRegistered, Topic.Deposit]);
    const depositMessage = at(published, 1, "MessagePublished job of the deposit");
    expect(depositMessage.sequence).to.equal(dep.sequence);
    expect(depositMessage.sender).to.equal(addresses.Bridge);
    const rollups = await jobs(prefix, QueueNames.rollups);
    expect(eventsOf(rollups)).to.deep.equal([
      {
        type: "RollupAdded",
        rollupHash: accepted.hash,
        firstSeq: accepted.header.firstBatchSeq.toString(),
        lastSeq: accepted.header.lastBatchSeq.toString(),
        messageRoot: accepted.tree!.root,
        committeeId: "1",
        signerBitmap: "1",
      },
      {
        type: "RollupAdded",
        rollupHash: rejected.hash,
        firstSeq: rejected.header.firstBatchSeq.toString(),
        lastSeq: rejected.header.lastBatchSeq.toString(),
        messageRoot: rejected.tree!.root,
        committeeId: "1",
        signerBitmap: "1",
      },
      {
        type: "RollupRejected",
        rollupHash: rejected.hash,
        messageRoot: rejected.tree!.root,
        guardian: v.admin.address,
      },
    ]);
    const relays = eventsOf(await jobs(prefix, RELAYS));
    expect(relays.map((e) => e.type)).to.deep.equal(["WithdrawalFinalized", "MessageRelayed", "MessageRelayFailed"]);
    expect(relays[0]).to.deep.equal({
      type: "WithdrawalFinalized",
      token: ZeroAddress,
      to: v.users[1].address,
      amount: parseEther("1").toString(),
    });
    expect(relays[1]).to.include({ sequence: l2Sequence.toString(), target: addresses.Bridge });
    expect(relays[2]).to.deep.include({
      type: "MessageRelayFailed",
      sequence: (l2Sequence + 1n).toString(),
      target: await target.getAddress(),
      reason: target.interface.encodeErrorResult("TargetFailure", [9n]),
    });
  });

  it("delivers only blocks with enough confirmations", async () => {
    const { sub, prefix, registry } = await subscriber({ confirmations: 2 });
    const receipt = await deposit(0, 1234n);
    const block = receipt.blockNumber;
    expect(await sub.pollOnce()).to.deep.equal({ from: block, to: block - 1, events: 0, reorged: false });
    await rpc("evm_mine");
    expect(await sub.pollOnce()).to.deep.include({ events: 0 });
    expect(await jobs(prefix, L1_MESSAGES)).to.have.length(0);
    await rpc("evm_mine");
    expect(await sub.pollOnce()).to.deep.equal({ from: block, to: block, events: 2, reorged: false });
    const delivered = await jobs(prefix, L1_MESSAGES);
    expect(delivered.map((j) => j.data.event.type)).to.deep.equal(["MessagePublished", "DepositInitiated"]);
    expect(await metric(registry, "veilnet_subscriber_last_processed_block")).to.equal(block);
    expect(await metric(registry, "veilnet_subscriber_head_block")).to.equal(block + 2);
    expect(await metric(registry, "veilnet_subscriber_lag_blocks")).to.equal(2);
  });

  it("resumes from its checkpoint after a restart: nothing missed, nothing delivered twice", async () => {
    const first = await subscriber();
    const seq0 = await v.messageBus.nextSequence();
    await first.sub.start();
    for (let i = 0; i < 5; i++) await deposit(i % 3, 100n + BigInt(i));
    await caughtUp(first.sub, await head());
    await first.sub.stop();
    const stoppedAt = (await first.sub.checkpoint())!.number;

    for (let i = 5; i < 10; i++) await deposit(i % 3, 100n + BigInt(i));
    const second = await subscriber({}, { prefix: first.prefix, startBlock: first.startBlock });
    const result = await second.sub.pollOnce();
    expect(result).to.deep.equal({ from: stoppedAt + 1, to: await head(), events: 10, reorged: false });

    const delivered = await jobs(first.prefix, L1_MESSAGES);
    expect(delivered).to.have.length(20);
    const perId = new Map<string, number>();
    for (const j of delivered) perId.set(j.id!, (perId.get(j.id!) ?? 0) + 1);
    expect([...perId.values()].every((n) => n === 1)).to.equal(true);
    const positions = new Set(delivered.map((j) => `${j.data.ref.blockNumber}/${j.data.ref.logIndex}`));
    expect(positions.size).to.equal(20);
    const sequences = ofType(delivered, "MessagePublished").map((m) => BigInt(m.sequence) - seq0);
    expect(sequences).to.deep.equal(Array.from({ length: 10 }, (_, i) => BigInt(i)));
    const amounts = ofType(delivered, "DepositInitiated").map((d) => d.amount);
    expect(amounts).to.deep.equal(Array.from({ length: 10 }, (_, i) => String(100 + i)));
  });

  it("re-delivers a range whose checkpoint was not saved without duplicating jobs", async () => {
    const { sub, prefix } = await subscriber();
    for (let i = 0; i < 3; i++) await deposit(0, 500n + BigInt(i));
    expect(await sub.pollOnce()).to.deep.include({ events: 6 });
    const before = (await jobs(prefix, L1_MESSAGES)).map((j) => j.id);
    // A crash between the enqueue and the checkpoint: the checkpoint is gone, the jobs are there.
    await redis.del(`${prefix}:subscriber:${chainId}:checkpoint`, `${prefix}:subscriber:${chainId}:hashes`);
    expect(await sub.checkpoint()).to.equal(null);
    expect(await sub.pollOnce()).to.deep.include({ events: 6 });
    expect((await jobs(prefix, L1_MESSAGES)).map((j) => j.id)).to.deep.equal(before);
  });

  it("undoes a reorg: compensation for the abandoned events first, then the new branch", async () => {
    const { sub, prefix, registry } = await subscriber();
    const snapshot = await rpc<string>("evm_snapshot");
    const n = await head();
    const a = [await deposit(0, 1111n), await deposit(1, 2222n)];
    expect(a.map((r) => r.blockNumber)).to.deep.equal([n + 1, n + 2]);
    expect(await sub.pollOnce()).to.deep.equal({ from: n + 1, to: n + 2, events: 4, reorged: false });
    const abandoned = expectedJobs(a);

    expect(await rpc<boolean>("evm_revert", [snapshot])).to.equal(true);
    const b = [await deposit(2, 3333n), await deposit(0, 4444n), await deposit(1, 5555n)];
    expect(b.map((r) => r.blockNumber)).to.deep.equal([n + 1, n + 2, n + 3]);
    expect(at(b, 0, "new branch receipt").blockHash).to.not.equal(at(a, 0, "abandoned receipt").blockHash);
    const replacement = expectedJobs(b);

    expect(await sub.pollOnce()).to.deep.equal({ from: n + 1, to: n + 3, events: 6, reorged: true });
    const delivered = (await jobs(prefix, L1_MESSAGES)).map((j) => ({ id: j.id, data: j.data }));
    const removals = [...abandoned].reverse().map((j) => ({ ...j, removed: true }));
    expect(delivered).to.deep.equal([
      ...abandoned.map((data) => ({ id: eventJobId(data.ref), data })),
      ...removals.map((data) => ({ id: eventJobId(data.ref, true), data })),
      ...replacement.map((data) => ({ id: eventJobId(data.ref), data })),
    ]);
    expect(ofType(await jobs(prefix, L1_MESSAGES), "DepositInitiated").map((d) => d.amount)).to.deep.equal([
      "1111",
      "2222",
      "2222",
      "1111",
      "3333",
      "4444",
      "5555",
    ]);
    expect(await metric(registry, "veilnet_subscriber_reorgs_total")).to.equal(1);
    expect(
      await metric(registry, "veilnet_subscriber_events_enqueued_total", { type: "DepositInitiated", removed: "true" }),
    ).to.equal(2);
    expect((await sub.checkpoint())!.hash).to.equal(at(b, 2, "new branch receipt").blockHash);
    // Nothing more to do, and the compensation is not sent again.
    expect(await sub.pollOnce()).to.deep.equal({ from: n + 4, to: n + 3, events: 0, reorged: false });
    expect(await jobs(prefix, L1_MESSAGES)).to.have.length(14);
  });

  it("detects a reorg at the checkpoint's height and on a shorter chain", async () => {
    const { sub, prefix } = await subscriber();
    const base = await rpc<string>("evm_snapshot");
    const n = await head();
    const a = [await deposit(0, 10n), await deposit(0, 11n)];
    expect(await sub.pollOnce()).to.deep.include({ to: n + 2, events: 4 });

    // Same height: the new n+2 replaces the delivered one; no new block above the checkpoint.
    expect(await rpc<boolean>("evm_revert", [base])).to.equal(true);
    const again = await rpc<string>("evm_snapshot");
    const b = [await deposit(1, 20n), await deposit(1, 21n)];
    expect(await head()).to.equal(n + 2);
    expect(await sub.pollOnce()).to.deep.equal({ from: n + 1, to: n + 2, events: 4, reorged: true });

    // Shorter chain: only one block replaces the two delivered ones.
    expect(await rpc<boolean>("evm_revert", [again])).to.equal(true);
    const short = [await deposit(2, 30n)];
    expect(await head()).to.equal(n + 1);
    expect(await sub.pollOnce()).to.deep.equal({ from: n + 1, to: n + 1, events: 2, reorged: true });

    const amounts = ofType(await jobs(prefix, L1_MESSAGES), "DepositInitiated").map((d) => d.amount);
    expect(amounts).to.deep.equal(["10", "11", "11", "10", "20", "21", "21", "20", "30"]);
    const all = await jobs(prefix, L1_MESSAGES);
    const removedIds = all.filter((j) => j.data.removed).map((j) => j.id);
    expect(removedIds).to.deep.equal([
      ...[...expectedJobs(a)].reverse().map((j) => eventJobId(j.ref, true)),
      ...[...expectedJobs(b)].reverse().map((j) => eventJobId(j.ref, true)),
    ]);
    expect(all.filter((j) => !j.data.removed).map((j) => j.id)).to.deep.equal(
      [...expectedJobs(a), ...expectedJobs(b), ...expectedJobs(short)].map((j) => eventJobId(j.ref)),
    );
  });

  it("loses nothing through an RPC endpoint that fails every 3rd request and stalls every 7th", async () => {
    const proxy: RpcFaultProxy = await startRpcFaultProxy(node.url, { failEvery: 3, stallEvery: 7 });
    cleanups.push(() => proxy.close());
    const { sub, prefix, registry } = await subscriber(
      { blockRange: 16, pollIntervalMs: 50, rpcTimeoutMs: 300, rpcRetryDelayMs: 10 },
      { url: proxy.url },
    );
    const seq0 = await v.messageBus.nextSequence();
    await sub.start();
    const count = 200;
    for (let i = 0; i < count; i++) await deposit(i % 5, 10_000n + BigInt(i));
    await caughtUp(sub, await head());
    await sub.stop();

    const delivered = await jobs(prefix, L1_MESSAGES);
    expect(delivered).to.have.length(2 * count);
    expect(new Set(delivered.map((j) => j.id)).size).to.equal(2 * count);
    expect(delivered.every((j) => !j.data.removed)).to.equal(true);
    const sequences = ofType(delivered, "MessagePublished").map((m) => BigInt(m.sequence) - seq0);
    expect(sequences).to.deep.equal(Array.from({ length: count }, (_, i) => BigInt(i)));
    const amounts = ofType(delivered, "DepositInitiated").map((d) => BigInt(d.amount) - 10_000n);
    expect(amounts).to.deep.equal(Array.from({ length: count }, (_, i) => BigInt(i)));
    expect(proxy.counts.failedHttp).to.be.greaterThan(0);
    expect(proxy.counts.failedRpc).to.be.greaterThan(0);
    expect(proxy.counts.stalled).to.be.greaterThan(0);
    expect(await metric(registry, "veilnet_subscriber_rpc_errors_total")).to.be.at.least(
      proxy.counts.failedHttp + proxy.counts.failedRpc,
    );
  });

  it("gives up on answers that come too late and retries them", async () => {
    const proxy = await startRpcFaultProxy(node.url, { stallEvery: 4, stallMs: 1500 });
    cleanups.push(() => proxy.close());
    const { sub, prefix } = await subscriber(
      { blockRange: 5, rpcTimeoutMs: 250, rpcRetryDelayMs: 10 },
      { url: proxy.url },
    );
    for (let i = 0; i < 20; i++) await deposit(i % 5, 300n + BigInt(i));
    const started = Date.now();
    expect(await sub.pollOnce()).to.deep.include({ events: 40, to: await head() });
    // Each stalled call cost one timeout, not the proxy's 1.5 s delay.
    expect(proxy.counts.stalled).to.be.greaterThan(0);
    expect(Date.now() - started).to.be.below(proxy.counts.stalled * 1500);
    const amounts = ofType(await jobs(prefix, L1_MESSAGES), "DepositInitiated").map((d) => d.amount);
    expect(amounts).to.deep.equal(Array.from({ length: 20 }, (_, i) => String(300 + i)));
  });

  it("reports unhealthy while the RPC fails and healthy again once it answers", async () => {
    const proxy = await startRpcFaultProxy(node.url, { failEvery: 1, failWith: "http" });
    cleanups.push(() => proxy.close());
    const { sub, registry } = await subscriber(
      { pollIntervalMs: 20, healthStaleMs: 300, rpcAttempts: 2, rpcRetryDelayMs: 5, maxBackoffMs: 40 },
      { url: proxy.url },
    );
    expect((await sub.health()).ok).to.equal(true);
    await sub.start();
    await waitFor("unhealthy", async () => !(await sub.health()).ok);
    const sick = await sub.health();
    expect(sick.detail).to.match(/^no successful poll for \d+ ms .*last error: .*500/);
    expect(
      await metric(registry, "veilnet_subscriber_rpc_errors_total", { method: "eth_blockNumber" }),
    ).to.be.greaterThan(0);

    proxy.setFaults({});
    await waitFor("healthy", async () => (await sub.health()).ok);
    const receipt = await deposit(0, 77n);
    await caughtUp(sub, receipt.blockNumber);
    expect(
      await metric(registry, "veilnet_subscriber_events_enqueued_total", {
        type: "DepositInitiated",
        removed: "false",
      }),
    ).to.equal(1);
    expect(
      await metric(registry, "veilnet_subscriber_events_enqueued_total", {
        type: "MessagePublished",
        removed: "false",
      }),
    ).to.equal(1);
  });

  it("is built by createEventSubscriber from SUBSCRIBER_* settings (and rejects bad ones naming the field)", async () => {
    const prefix = newPrefix();
    const startBlock = (await head()) + 1;
    const source: Record<string, unknown> = {
      L1_RPC_URL: node.url,
      QUEUE_PREFIX: prefix,
      SUBSCRIBER_CONFIRMATIONS: "0",
      SUBSCRIBER_POLL_INTERVAL_MS: "20",
      SUBSCRIBER_START_BLOCK: String(startBlock),
      SUBSCRIBER_QUEUES: "secret-requests, rollups",
    };
    const { provider } = await connectL1(node.url);
    cleanups.push(async () => provider.destroy());
    const deployment: Deployment = {
      chainId,
      network: "localhost",
      deployer: v.deployer.address,
      deploymentBlock: 0,
      addresses,
      parameters: v.parameters,
    };
    const ctx: WorkerContext = {
      config: parseConfig(commonConfigSchema, source),
      source,
      logger: silentLogger(),
      redis,
      queues: queueSettings(prefix),
      provider,
      chainId,
      deployment,
      contracts: bindContracts(deployment.addresses, provider),
      metrics: new Registry(),
    };
    for (const [key, value] of [
      ["SUBSCRIBER_BLOCK_RANGE", "0"],
      ["SUBSCRIBER_CONFIRMATIONS", "-1"],
      ["SUBSCRIBER_REORG_HISTORY", "many"],
      ["SUBSCRIBER_QUEUES", "deposits"],
      ["SUBSCRIBER_QUEUES", " , "],
    ] as const) {
      const error = await createEventSubscriber({ ...ctx, source: { ...source, [key]: value } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as Error).message).to.match(new RegExp(`^config: ${key}(\\.\\d+)?: `));
    }

    const service = await createEventSubscriber(ctx);
    cleanups.push(() => service.stop());
    expect(service.name).to.equal("event-subscriber");
    expect((service as EventSubscriber).options).to.include({
      confirmations: 0,
      blockRange: 2000,
      pollIntervalMs: 20,
      reorgHistory: 128,
    });
    expect((service as EventSubscriber).options.deliverTo).to.deep.equal([
      QueueNames.secretRequests,
      QueueNames.rollups,
    ]);
    // By default only the queues a worker of this release consumes get events.
    expect(parseConfig(subscriberConfigSchema, {}).SUBSCRIBER_QUEUES).to.deep.equal([...CONSUMED_EVENT_QUEUES]);
    const joiner = await makeEnclave(v);
    const request = await (
      await v.enclaveRegistry.connect(v.users[1]).requestNetworkSecret(joiner.report, { value: 4242n })
    ).wait();
    // A deposit: no worker consumes L1→L2 messages (the node reads them from L1), so no queue gets it.
    const receipt = await deposit(1, 4242n);
    await service.start();
    await caughtUp(service as EventSubscriber, receipt.blockNumber);
    // Only events from SUBSCRIBER_START_BLOCK on: the earlier tests' events are not delivered.
    const delivered = await jobs(prefix, QueueNames.secretRequests);
    expect(delivered.map((j) => j.data.ref.transactionHash)).to.deep.equal([request!.hash]);
    expect(ofType(delivered, "NetworkSecretRequested").map((d) => d.bounty)).to.deep.equal(["4242"]);
    expect(delivered).to.have.length(1);
    expect(await jobs(prefix, QueueNames.rollups)).to.have.length(0);
    for (const queue of [L1_MESSAGES, "l1-messages", "relays"]) expect(await jobs(prefix, queue)).to.have.length(0);
    expect(EVENT_QUEUES).to.deep.equal([QueueNames.secretRequests, QueueNames.rollups]);
  });
});

/** Hash of the latest block's last transaction (for helpers that do not return their receipt). */
async function latestTx(): Promise<string | undefined> {
  const block = await c.ethers.provider.getBlock("latest");
  return block?.transactions.at(-1);
}
