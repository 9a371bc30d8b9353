/**
 * Crash and restart of the real workers, run as `veilnet` child processes against a Hardhat node:
 * (a) a withdrawal-processor killed (SIGKILL) right after broadcasting a relay completes it exactly
 *     once when restarted;
 * (b) a Redis restart in the middle of the event-subscriber's run loses and duplicates no event;
 * (c) `veilnet workers` runs the three workers in one process.
 * Each part skips (with the reason) when a worker module it needs is missing.
 */
import { rmSync } from "node:fs";

import { expect } from "chai";
import { type Job, Queue } from "bullmq";
import { Wallet, hexlify, parseEther, randomBytes } from "ethers";
import { Redis } from "ioredis";

import { DevAttestationService, Enclave } from "../../enclave/secret/index.js";
import { type EventJob, eventJobId } from "../../platform/events.js";
import { QueueNames, createConsumer, deadLetterQueueName } from "../../platform/queues.js";
import { queueSettings } from "../../platform/runtime.js";
import { silentLogger } from "../../platform/logger.js";
import { connectL1 } from "../../platform/chain.js";
import { EnclaveRegistry__factory } from "../../types/ethers-contracts/index.js";
import { defined } from "../../testing/defined.js";
import { type TestEnclaveHost, startEnclaveHost } from "../../testing/enclave-host.js";
import { type L1Node, startL1Node } from "../../testing/l1-node.js";
import { type WithdrawalNode, startWithdrawalNode } from "../../testing/withdrawal-node.js";
import {
  MEASUREMENT,
  deployVeilnet,
  initializeGenesis,
  makeEnclave,
  passChallengePeriod,
  submitRollup,
  withdrawalMessages,
} from "../../testing/veilnet.js";
import {
  type VeilnetProcess,
  deleteKeys,
  deploymentOf,
  deploymentsDir,
  getHealth,
  opsPort,
  spawnVeilnet,
  startRedisServer,
  waitFor,
} from "../../testing/worker-process.js";

const REDIS_URL = "redis://127.0.0.1:6379";

/** Imports a worker module, or undefined (with the reason) when it is missing or broken. */
async function tryImport<M>(load: () => Promise<M>): Promise<{ module?: M; reason?: string }> {
  try {
    return { module: await load() };
  } catch (e) {
    return { reason: (e as Error).message.split("\n")[0] };
  }
}

/** Skips the test, saying why, when the worker module could not be loaded. */
function skipUnless(test: Mocha.Context, worker: string, reason: string | undefined): void {
  if (reason === undefined) return;
  console.log(`      skipped: workers/${worker}/index.ts cannot be loaded (${reason})`);
  test.skip();
}

describe("workers: real workers, crash and restart", function () {
  this.timeout(120_000);

  let node: L1Node;
  const running: VeilnetProcess[] = [];
  const dirs: string[] = [];

  const run = (args: string[], env: Record<string, string>) => {
    const p = spawnVeilnet(args, env);
    running.push(p);
    return p;
  };

  before(async () => {
    node = await startL1Node();
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed") for (const p of running) console.log(p.describe());
    await Promise.all(running.splice(0).map((p) => p.kill()));
  });

  after(async () => {
    await node?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** A fresh Veilnet deployment on the node and a deployments dir holding its file. */
  async function deploy() {
    const v = await deployVeilnet(await node.connect());
    const dir = deploymentsDir(await deploymentOf(v));
    dirs.push(dir);
    return { v, dir };
  }

  it("(a) a withdrawal-processor killed right after broadcasting a relay relays it exactly once after a restart", async function () {
    const processorModule = await tryImport(() => import("../../workers/withdrawal-processor/index.js"));
    const subscriberModule = await tryImport(() => import("../../workers/event-subscriber/index.js"));
    skipUnless(this, "withdrawal-processor", processorModule.reason);
    skipUnless(this, "event-subscriber", subscriberModule.reason);
    const { WithdrawalStore } = processorModule.module!;

    const prefix = `t-crash-a-${hexlify(randomBytes(4)).slice(2)}`;
    const redis = new Redis(REDIS_URL);
    let l2: WithdrawalNode | undefined;
    try {
      const { v, dir } = await deploy();
      const { ethers } = v.connection;
      const genesis = await initializeGenesis(v);
      const [depositor, recipientSigner] = v.users;
      const recipient = recipientSigner.address;

      // The bridge holds the deposited ETH; one withdrawal of 1 ETH to `recipient` in a rollup.
      await (await v.bridge.connect(depositor).depositNative(depositor.address, { value: parseEther("5") })).wait();
      const amount = parseEther("1");
      const sequence = 7n;
      const messages = await withdrawalMessages(v, [{ to: recipient, amount }], sequence);
      const { header } = await submitRollup(v, genesis, messages);
      // The L2 node the processor reads the rollup's messages from (the node's withdrawal methods, in this process).
      l2 = await startWithdrawalNode({
        provider: ethers.provider,
        rollupRegistry: v.addresses.RollupRegistry,
        messageBus: v.addresses.MessageBus,
      });
      l2.batches.publish(header.firstBatchSeq, messages);
      for (let s = header.firstBatchSeq + 1n; s <= header.lastBatchSeq; s++) l2.batches.publish(s, []);
      await passChallengePeriod(v);

      // The relayer: a fresh key with some ETH.
      const relayer = Wallet.createRandom();
      await (await v.admin.sendTransaction({ to: relayer.address, value: parseEther("10") })).wait();
      const balanceBefore = await ethers.provider.getBalance(recipient);

      const common = {
        L1_RPC_URL: node.url,
        REDIS_URL,
        QUEUE_PREFIX: prefix,
        VEILNET_DEPLOYMENTS_DIR: dir,
        METRICS_PORT: "0",
        METRICS_HOST: "127.0.0.1",
        LOG_LEVEL: "debug",
        JOB_LOCK_MS: "1000",
        JOB_STALLED_CHECK_MS: "500",
        JOB_BACKOFF_MS: "200",
      };
      const subscriber = run(["worker", "event-subscriber"], {
        ...common,
        SUBSCRIBER_CONFIRMATIONS: "0",
        SUBSCRIBER_POLL_INTERVAL_MS: "100",
        SUBSCRIBER_QUEUES: "secret-requests,rollups",
      });
      const processorEnv = {
        ...common,
        SIGNER_PRIVATE_KEY: relayer.privateKey,
        TX_POLL_INTERVAL_MS: "100",
        WITHDRAWAL_ACTIVATION_POLL_MS: "200",
        WITHDRAWAL_L2_RPC_URLS: l2.url,
      };
      const first = run(["worker", "withdrawal-processor"], {
        ...processorEnv,
        VEILNET_TEST_CRASH_POINT: "after-broadcast",
      });
      await opsPort(subscriber);

      // The first processor broadcasts the relay and hangs: kill it there.
      const marker = await waitFor(
        "the first processor to reach the crash point",
        () =>
          /VEILNET_TEST_CRASH_POINT after-broadcast "(0x[0-9a-f]{64})"/.exec(first.stderr())?.[1] ??
          (first.child.exitCode !== null ? "exited" : undefined),
        60_000,
      );
      expect(marker, "the first processor exited before the crash point").not.to.equal("exited");
      first.child.kill("SIGKILL");
      await first.waitForExit(5_000);

      // The relay is on chain (the node mines on receipt), but the processor never recorded it.
      const receipt = await ethers.provider.getTransactionReceipt(marker);
      expect(receipt?.status).to.equal(1);
      expect((await ethers.provider.getBalance(recipient)) - balanceBefore).to.equal(amount);
      const store = new WithdrawalStore(redis, prefix, Number(v.chainId));
      expect((await store.get(sequence))?.status).to.equal("waiting");

      // The second processor takes the job over once the dead one's lock expired, and finishes it.
      const second = run(["worker", "withdrawal-processor"], processorEnv);
      const port = await opsPort(second);
      const status = await waitFor(
        "the withdrawal relayed",
        async () => {
          const s = await store.get(sequence);
          return s?.status === "relayed" ? s : undefined;
        },
        30_000,
      );
      expect(status.txHash).to.equal(marker);

      // Exactly one relay: one transaction from the relayer, one MessageRelayed, the recipient paid once.
      expect(await ethers.provider.getTransactionCount(relayer.address)).to.equal(1);
      const relayed = await v.messenger.queryFilter(v.messenger.filters.MessageRelayed());
      expect(relayed.map((e) => [e.args.sequence, e.transactionHash])).to.deep.equal([[sequence, marker]]);
      const finalized = await v.bridge.queryFilter(v.bridge.filters.WithdrawalFinalized());
      expect(finalized.map((e) => [e.args.to, e.args.amount])).to.deep.equal([[recipient, amount]]);
      expect((await ethers.provider.getBalance(recipient)) - balanceBefore).to.equal(amount);

      const health = await getHealth(port);
      expect(health.status).to.equal(200);
      expect(defined(health.body.services["withdrawal-processor"], "the withdrawal-processor's health").ok).to.equal(
        true,
      );

      // Both stop gracefully.
      for (const p of [second, subscriber]) p.child.kill("SIGTERM");
      for (const p of [second, subscriber]) expect((await p.waitForExit(15_000)).code).to.equal(0);
    } finally {
      await l2?.close();
      redis.disconnect();
      await deleteKeys(REDIS_URL, prefix);
    }
  });

  it("(b) a Redis restart during the event-subscriber's run loses and duplicates no event", async function () {
    const subscriberModule = await tryImport(() => import("../../workers/event-subscriber/index.js"));
    skipUnless(this, "event-subscriber", subscriberModule.reason);
    const prefix = `t-crash-b-${hexlify(randomBytes(4)).slice(2)}`;
    const server = await startRedisServer();
    const settings = queueSettings({
      REDIS_URL: server.url,
      QUEUE_PREFIX: prefix,
      JOB_ATTEMPTS: 5,
      JOB_BACKOFF_MS: 100,
    });
    const handled = new Map<string, number>();
    const consumer = createConsumer<EventJob>(
      QueueNames.secretRequests,
      async (job: Job<EventJob>) => {
        handled.set(job.id!, (handled.get(job.id!) ?? 0) + 1);
      },
      settings,
      { logger: silentLogger() },
    );
    try {
      const { v, dir } = await deploy();
      const [sender] = v.users;
      await initializeGenesis(v);
      const registry = v.enclaveRegistry.connect(sender);
      // Secret requests: events a worker consumes (the secret-responder's queue; none runs here).
      const publish = async (n: number) => {
        for (let i = 0; i < n; i++) {
          await (await registry.requestNetworkSecret((await makeEnclave(v)).report, { value: 1n })).wait();
        }
      };

      const subscriber = run(["worker", "event-subscriber"], {
        L1_RPC_URL: node.url,
        REDIS_URL: server.url,
        QUEUE_PREFIX: prefix,
        VEILNET_DEPLOYMENTS_DIR: dir,
        METRICS_PORT: "0",
        METRICS_HOST: "127.0.0.1",
        SUBSCRIBER_CONFIRMATIONS: "0",
        SUBSCRIBER_POLL_INTERVAL_MS: "100",
        SUBSCRIBER_QUEUES: "secret-requests",
      });
      const port = await opsPort(subscriber);
      void consumer.worker.run();

      await publish(8);
      await waitFor("the first events handled", () => handled.size >= 4);

      await server.stop();
      await waitFor("/healthz to report Redis down", async () => (await getHealth(port)).status === 503);
      await publish(8); // while Redis is down
      await server.start();
      await publish(8);

      const published = await v.enclaveRegistry.queryFilter(v.enclaveRegistry.filters.NetworkSecretRequested());
      expect(published).to.have.length(24);
      const expected = published.map((e) =>
        eventJobId({ chainId: Number(v.chainId), blockHash: e.blockHash, logIndex: e.index }),
      );
      await waitFor("every event handled", () => expected.every((id) => handled.has(id)), 60_000);

      // Exactly once: one job per event in the queue, each handled once, nothing failed or dead-lettered.
      expect([...handled.keys()].sort()).to.deep.equal([...expected].sort());
      expect(
        [...handled.values()].every((n) => n === 1),
        JSON.stringify([...handled]),
      ).to.equal(true);
      const queue = new Queue(QueueNames.secretRequests, { connection: settings.connection, prefix });
      const dead = new Queue(deadLetterQueueName(QueueNames.secretRequests), {
        connection: settings.connection,
        prefix,
      });
      try {
        expect(await queue.getJobCounts("completed", "failed", "waiting", "active", "delayed", "paused")).to.deep.equal(
          {
            completed: 24,
            failed: 0,
            waiting: 0,
            active: 0,
            delayed: 0,
            paused: 0,
          },
        );
        expect(await dead.count()).to.equal(0);
      } finally {
        await Promise.all([queue.close(), dead.close()]);
      }
      expect((await getHealth(port)).status).to.equal(200);
      subscriber.child.kill("SIGTERM");
      expect((await subscriber.waitForExit(15_000)).code).to.equal(0);
    } finally {
      await Promise.all([consumer.worker.close(true), consumer.deadLetters.close()]);
      await server.destroy();
    }
  });
  it("(c) `veilnet workers` runs the three workers in one process; a worker's own bad setting exits 2", async function () {
    for (const [worker, load] of [
      ["event-subscriber", () => import("../../workers/event-subscriber/index.js")],
      ["secret-responder", () => import("../../workers/secret-responder/index.js")],
      ["withdrawal-processor", () => import("../../workers/withdrawal-processor/index.js")],
    ] as const) {
      skipUnless(this, worker, (await tryImport<unknown>(load)).reason);
    }
    const prefix = `t-crash-c-${hexlify(randomBytes(4)).slice(2)}`;
    const l1 = await connectL1(node.url);
    let host: TestEnclaveHost | undefined;
    try {
      const { v, dir } = await deploy();
      const attestation = new DevAttestationService({
        signer: v.attestationService,
        chainId: v.chainId,
        verifier: await v.verifier.getAddress(),
      });
      const genesis = Enclave.create({ measurement: MEASUREMENT, attestation });
      const commitment = genesis.initializeSecret();
      await (await v.enclaveRegistry.initializeNetworkSecret(await genesis.attestationReport(), commitment)).wait();
      // The genesis enclave's node, as far as the secret-responder sees it: its host interface.
      host = await startEnclaveHost({
        enclave: genesis,
        registry: EnclaveRegistry__factory.connect(await v.enclaveRegistry.getAddress(), l1.provider),
        provider: l1.provider,
        chainId: l1.chainId,
      });
      const operator = Wallet.createRandom();
      await (await v.admin.sendTransaction({ to: operator.address, value: parseEther("1") })).wait();
      const env = {
        L1_RPC_URL: node.url,
        REDIS_URL,
        QUEUE_PREFIX: prefix,
        VEILNET_DEPLOYMENTS_DIR: dir,
        METRICS_PORT: "0",
        METRICS_HOST: "127.0.0.1",
        SUBSCRIBER_CONFIRMATIONS: "0",
        ENCLAVE_HOST_URL: host.url,
      };

      // A worker's own settings are checked too (after the connections): one line, exit code 2.
      const bad = run(["worker", "withdrawal-processor"], env);
      expect((await bad.waitForExit(30_000)).code).to.equal(2);
      expect(bad.stderr()).to.equal("config: SIGNER_PRIVATE_KEY: Required\n");

      const all = run(["workers"], { ...env, SIGNER_PRIVATE_KEY: operator.privateKey });
      const port = await opsPort(all);
      const health = await waitFor("every service healthy", async () => {
        const h = await getHealth(port);
        return h.status === 200 ? h : undefined;
      });
      expect(Object.keys(health.body.services).sort()).to.deep.equal([
        "event-subscriber",
        "secret-responder",
        "withdrawal-processor",
      ]);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      for (const name of ["event-subscriber", "secret-responder", "withdrawal-processor"]) {
        expect(metrics).to.contain(`veilnet_health{kind="service",name="${name}"} 1`);
      }
      all.child.kill("SIGTERM");
      expect((await all.waitForExit(15_000)).code).to.equal(0);
      const stopped = all
        .logs()
        .filter((l) => l.msg === "runtime: service stopped")
        .map((l) => l.service as string);
      expect(stopped.sort()).to.deep.equal(["event-subscriber", "secret-responder", "withdrawal-processor"]);
    } finally {
      await host?.close();
      l1.provider.destroy();
      await deleteKeys(REDIS_URL, prefix);
    }
  });
});
