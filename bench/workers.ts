/**
 * Figures of the worker runtime, against a Hardhat node over HTTP and the Redis at REDIS_URL
 * (default redis://127.0.0.1:6379). Prints a table and writes bench/results/workers.json.
 *
 *   npm run bench:workers
 *
 * - backfill: 10,000 deposits (20,000 events: DepositInitiated + MessagePublished) read from the
 *   deployment block by one EventSubscriber.pollOnce(), from eth_getLogs to enqueued jobs.
 * - head lag: blocks mined every second with deposits in them, the subscriber running with its defaults
 *   (2 confirmations, 1 s poll); lag = head − checkpoint − confirmations, sampled every 100 ms.
 * - TxSender: L1 transactions per second through one TxSender (concurrent sends, automine).
 * - queue: jobs per second through one BullMQ queue (addBulk, then a consumer with concurrency 1 and 16).
 */

import { Queue, Worker } from "bullmq";
import { Wallet, hexlify, randomBytes } from "ethers";
import { Redis } from "ioredis";
import { Registry } from "prom-client";

import { startL1Node } from "../testing/l1-node.js";
import { deleteKeys } from "../testing/worker-process.js";
import { deployVeilnet } from "../testing/veilnet.js";
import { DepositLoop__factory } from "../types/ethers-contracts/index.js";
import { silentLogger } from "../platform/logger.js";
import type { EventRoutes, QueueSettings } from "../platform/queues.js";
import { EventSubscriber, createSubscriberProvider } from "../workers/event-subscriber/index.js";
import { TxSender } from "../platform/tx-sender/tx-sender.js";
import { type Row, formatRows, writeResults } from "./report.js";

const rows: Row[] = [];
/**
 * No worker consumes deposits (the node reads L1 itself), so the production routes enqueue none: the
 * bench routes them to a queue of its own, so that its figures are eth_getLogs to enqueued jobs.
 */
const BENCH_ROUTES: EventRoutes = { DepositInitiated: ["bench-events"], MessagePublished: ["bench-events"] };
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
const prefixes: string[] = [];
function settings(): QueueSettings {
  const prefix = `bench-${hexlify(randomBytes(4)).slice(2)}`;
  prefixes.push(prefix);
  return { connection: redis.options, prefix, attempts: 3, backoffMs: 100 };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const node = await startL1Node();
try {
  const connection = await node.connect();
  const { ethers } = connection;
  const startBlock = (await ethers.provider.getBlockNumber()) + 1;
  const v = await deployVeilnet(connection);
  const chainId = Number(v.chainId);
  const addresses = v.addresses;
  const loop = await new DepositLoop__factory(v.admin).deploy();

  // --- backfill ---------------------------------------------------------------------------------
  const deposits = 10_000;
  const perTx = 100;
  for (let i = 0; i < deposits; i += perTx) {
    await (
      await loop.depositMany(addresses.Bridge, v.users[0].address, perTx, { value: BigInt(perTx) * 1000n })
    ).wait();
  }
  {
    const sub = new EventSubscriber({
      provider: createSubscriberProvider(node.url, chainId, 60_000),
      ownsProvider: true,
      chainId,
      addresses,
      deploymentBlock: startBlock,
      redis,
      queues: settings(),
      logger: silentLogger(),
      metrics: new Registry(),
      options: { confirmations: 0, routes: BENCH_ROUTES },
    });
    const t = performance.now();
    const result = await sub.pollOnce();
    const seconds = (performance.now() - t) / 1000;
    await sub.stop();
    const perSecond = result.events / seconds;
    rows.push({
      figure: "backfill: events delivered per second",
      value: Math.round(perSecond),
      unit: "events/s",
      target: ">= 2,000",
      ok: perSecond >= 2000,
      note: `${result.events} events (${deposits} deposits × DepositInitiated + MessagePublished) in ${seconds.toFixed(2)} s`,
    });
    rows.push({ figure: "backfill: deposits per second", value: Math.round(deposits / seconds), unit: "deposits/s" });
  }

  // --- head lag ---------------------------------------------------------------------------------
  {
    const confirmations = 2;
    const metrics = new Registry();
    const sub = new EventSubscriber({
      provider: createSubscriberProvider(node.url, chainId, 10_000),
      ownsProvider: true,
      chainId,
      addresses,
      deploymentBlock: await ethers.provider.getBlockNumber(),
      redis,
      queues: settings(),
      logger: silentLogger(),
      metrics,
      options: { confirmations, routes: BENCH_ROUTES },
    });
    await ethers.provider.send("evm_setAutomine", [false]);
    await ethers.provider.send("evm_setIntervalMining", [1000]);
    await sub.start();
    const samples: number[] = [];
    const until = Date.now() + 20_000;
    let sent = 0;
    while (Date.now() < until) {
      if (sent % 5 === 0) {
        // A few deposits a second, mined by the interval miner.
        void loop.depositMany(addresses.Bridge, v.users[0].address, 5, { value: 5000n }).catch(() => undefined);
      }
      sent++;
      await sleep(100);
      const head = await ethers.provider.getBlockNumber();
      const checkpoint = (await sub.checkpoint())?.number ?? 0;
      if (checkpoint > 0) samples.push(head - checkpoint - confirmations);
    }
    await sub.stop();
    await ethers.provider.send("evm_setIntervalMining", [0]);
    await ethers.provider.send("evm_setAutomine", [true]);
    const max = Math.max(...samples);
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    rows.push({
      figure: "head lag beyond the confirmation depth (max)",
      value: max,
      unit: "blocks",
      target: "<= 1",
      ok: max <= 1,
      note: `1 block/s, ${confirmations} confirmations, 1 s poll; mean ${mean.toFixed(2)} over ${samples.length} samples in 20 s`,
    });
  }

  // --- TxSender ---------------------------------------------------------------------------------
  {
    const key = Wallet.createRandom().privateKey;
    const wallet = new Wallet(key);
    await connection.networkHelpers.setBalance(wallet.address, 10n ** 22n);
    const s = settings();
    const sender = new TxSender({
      provider: createSubscriberProvider(node.url, chainId, 30_000),
      signer: key,
      redis,
      keyPrefix: s.prefix,
      logger: silentLogger(),
      maxFeePerGas: 10n ** 12n,
      pollIntervalMs: 100,
    });
    const n = 500;
    const recipients = Array.from({ length: n }, () => hexlify(randomBytes(20)));
    const t = performance.now();
    await Promise.all(recipients.map((to, i) => sender.send({ key: `bench-${i}`, to, data: "0x", value: 1n })));
    const seconds = (performance.now() - t) / 1000;
    await sender.stop();
    rows.push({
      figure: "TxSender: L1 transactions per second (one key)",
      value: Math.round(n / seconds),
      unit: "tx/s",
      note: `${n} ETH transfers sent concurrently, each simulated, persisted, broadcast and awaited (automine)`,
    });
  }

  // --- queue throughput -------------------------------------------------------------------------
  for (const concurrency of [1, 16]) {
    const s = settings();
    const queue = new Queue("bench", { connection: s.connection, prefix: s.prefix });
    const n = 10_000;
    let done = 0;
    let resolveAll: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (resolveAll = resolve));
    const worker = new Worker(
      "bench",
      async () => {
        if (++done === n) resolveAll();
      },
      { connection: s.connection, prefix: s.prefix, concurrency, autorun: false },
    );
    void worker.run();
    const t = performance.now();
    for (let i = 0; i < n; i += 1000) {
      await queue.addBulk(
        Array.from({ length: 1000 }, (_, j) => ({
          name: "job",
          data: { i: i + j },
          opts: { jobId: `job-${i + j}`, removeOnComplete: true },
        })),
      );
    }
    await finished;
    const seconds = (performance.now() - t) / 1000;
    await worker.close();
    await queue.close();
    rows.push({
      figure: `queue: jobs per second (enqueue + process, concurrency ${concurrency})`,
      value: Math.round(n / seconds),
      unit: "jobs/s",
      note: `${n} no-op jobs`,
    });
  }
} finally {
  await node.stop();
  for (const prefix of prefixes) await deleteKeys(redisUrl, prefix);
  redis.disconnect();
}

console.log("\nVeilnet workers — Hardhat node over HTTP, Redis at " + redisUrl + "\n");
for (const line of formatRows(rows, { value: 8, unit: 11 })) console.log(line);
const out = writeResults("workers", { measuredAt: new Date().toISOString(), rows });
console.log(`\nwritten ${out}`);
