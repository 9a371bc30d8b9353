/**
 * TxSender against a Hardhat node in another process (over HTTP), with the real Redis: nonces, fee bumps,
 * dropped transactions, nonces used behind its back, crash recovery, idempotency, revert decoding,
 * confirmations and metrics.
 */
import { Writable } from "node:stream";

import { expect } from "chai";
import {
  JsonRpcProvider,
  Network,
  Transaction,
  Wallet,
  getAddress,
  hexlify,
  parseEther,
  parseUnits,
  randomBytes,
  toQuantity,
} from "ethers";
import { Redis } from "ioredis";
import { pino } from "pino";
import { Registry } from "prom-client";

import { rollupRegistryDomain, signRollupHeader } from "../../protocol/rollup.js";
import { ConfigError, commonConfigSchema, parseConfig } from "../../platform/config.js";
import { type Logger, silentLogger } from "../../platform/logger.js";
import {
  type IntentRecord,
  type TxIntent,
  type TxOutcome,
  TxRevertedError,
  TxSender,
  type TxSenderOptions,
  TxSenderStoppedError,
  senderFromConfig,
} from "../../platform/tx-sender/tx-sender.js";
import { at, only, take } from "../../testing/defined.js";
import { type L1Node, startL1Node } from "../../testing/l1-node.js";
import {
  type Veilnet,
  deployVeilnet,
  initializeGenesis,
  makeEnclave,
  nextRollupHeader,
  rollupArgs,
  signRollup,
} from "../../testing/veilnet.js";

const REDIS_URL = "redis://127.0.0.1:6379";
const prefix = `t-txs-${hexlify(randomBytes(4)).slice(2)}`;

let node: L1Node;
let provider: JsonRpcProvider;
let redis: Redis;
let chainId: bigint;
const senders: TxSender[] = [];

async function rpc<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
  return (await provider.send(method, params)) as T;
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function randomAddress(): string {
  return getAddress(hexlify(randomBytes(20)));
}

/** A fresh key holding 100 ETH (nonce 0). */
async function fundedKey(): Promise<Wallet> {
  const wallet = new Wallet(hexlify(randomBytes(32)));
  await rpc("hardhat_setBalance", [wallet.address, toQuantity(parseEther("100"))]);
  return wallet;
}

function makeSender(signer: Wallet, options: Partial<TxSenderOptions> = {}): TxSender {
  const sender = new TxSender({
    provider,
    signer: signer.privateKey,
    redis,
    keyPrefix: prefix,
    logger: silentLogger(),
    confirmations: 1,
    resendAfterMs: 60_000,
    feeBumpPercent: 20,
    maxFeePerGas: parseUnits("500", "gwei"),
    pollIntervalMs: 25,
    ...options,
  });
  senders.push(sender);
  return sender;
}

/** A plain ETH transfer of `value` wei to a fresh address. */
function transfer(key: string, value = 1000n): TxIntent & { to: string } {
  return { key, to: randomAddress(), data: "0x", value };
}

async function nonceOf(address: string, tag = "latest"): Promise<number> {
  return Number(BigInt(await rpc<string>("eth_getTransactionCount", [address, tag])));
}

async function balanceOf(address: string): Promise<bigint> {
  return BigInt(await rpc<string>("eth_getBalance", [address, "latest"]));
}

interface RpcTx {
  hash: string;
  nonce: string;
  maxFeePerGas: string;
  maxPriorityFeePerGas: string;
  blockNumber: string | null;
}

async function txByHash(hash: string): Promise<RpcTx | null> {
  return rpc<RpcTx | null>("eth_getTransactionByHash", [hash]);
}

async function receiptOf(hash: string): Promise<{ status: string; blockNumber: string } | null> {
  return rpc("eth_getTransactionReceipt", [hash]);
}

function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n")) if (line !== "") lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: "debug" }, stream), lines };
}

async function metricValue(registry: Registry, name: string, signer: string): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
  return values.find((v) => v.labels.signer === signer && v.labels.le === undefined)?.value ?? 0;
}

async function histogramCount(registry: Registry, name: string, signer: string): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as {
    value: number;
    labels: Record<string, string | number>;
    metricName?: string;
  }[];
  return values.find((v) => v.labels.signer === signer && v.metricName === `${name}_count`)?.value ?? 0;
}

/** Settles `promise` into a flag readable without awaiting. */
function track<T>(promise: Promise<T>): { settled: () => boolean; promise: Promise<T> } {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  return { settled: () => done, promise };
}

function intentKey(signer: Wallet, key: string): string {
  return `${prefix}:tx-sender:${chainId}:${signer.address.toLowerCase()}:intent:${key}`;
}

async function recordOf(sender: TxSender, key: string): Promise<IntentRecord> {
  const record = await sender.intent(key);
  if (record === undefined) throw new Error(`no record for ${key}`);
  return record;
}

describe("platform/tx-sender", function () {
  before(async function () {
    node = await startL1Node();
    const network = Network.from(31337);
    provider = new JsonRpcProvider(node.url, network, { staticNetwork: network, pollingInterval: 100 });
    chainId = (await provider.getNetwork()).chainId;
    redis = new Redis(REDIS_URL);
  });

  afterEach(async function () {
    await Promise.all(senders.splice(0).map((s) => s.stop()));
    await rpc("evm_setAutomine", [true]);
    await rpc("evm_mine");
  });

  after(async function () {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
    redis.disconnect();
    provider.destroy();
    await node.stop();
  });

  describe("nonces", function () {
    it("gives 20 concurrent sends consecutive nonces from the pending nonce, and all get mined", async function () {
      const key = await fundedKey();
      const registry = new Registry();
      const sender = makeSender(key, { metrics: registry });
      const intents = Array.from({ length: 20 }, (_, i) => transfer(`transfer-${i}`, 1000n + BigInt(i)));
      const outcomes = await Promise.all(
        intents.map(async (intent) => ({ intent, outcome: await sender.send(intent) })),
      );

      const nonces: number[] = [];
      for (const [i, { intent, outcome }] of outcomes.entries()) {
        expect(outcome.status).to.equal("mined");
        if (outcome.status !== "mined") continue;
        expect(outcome.attempts).to.equal(1);
        expect(outcome.gasUsed).to.equal(21_000n);
        const tx = (await txByHash(outcome.hash))!;
        nonces.push(Number(BigInt(tx.nonce)));
        expect(await balanceOf(intent.to)).to.equal(1000n + BigInt(i));
      }
      expect([...nonces].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 20 }, (_, i) => i));
      expect(await nonceOf(key.address)).to.equal(20);

      expect(await metricValue(registry, "veilnet_tx_sent_total", sender.address)).to.equal(20);
      expect(await metricValue(registry, "veilnet_tx_mined_total", sender.address)).to.equal(20);
      expect(await metricValue(registry, "veilnet_tx_resent_total", sender.address)).to.equal(0);
      expect(await metricValue(registry, "veilnet_tx_pending", sender.address)).to.equal(0);
      expect(await histogramCount(registry, "veilnet_tx_time_to_mine_seconds", sender.address)).to.equal(20);
    });

    it("starts from the chain's pending nonce", async function () {
      const key = await fundedKey();
      const other = key.connect(provider);
      for (const nonce of [0, 1]) {
        await (await other.sendTransaction({ to: randomAddress(), value: 1n, nonce })).wait();
      }
      const sender = makeSender(key);
      const outcome = await sender.send(transfer("after-two"));
      expect(outcome.status).to.equal("mined");
      expect(Number(BigInt((await txByHash((outcome as { hash: string }).hash))!.nonce))).to.equal(2);
    });

    it("continues from the chain's nonce when a reorg took away a mined transaction that never came back", async function () {
      const key = await fundedKey();
      const sender = makeSender(key);
      const snapshot = await rpc<string>("evm_snapshot");
      expect((await sender.send(transfer("reorged-away"))).status).to.equal("mined");
      await rpc("evm_revert", [snapshot]); // the block with nonce 0 is gone, and so is the transaction
      expect(await nonceOf(key.address, "pending")).to.equal(0);
      const outcome = await sender.send(transfer("after-reorg"));
      expect(outcome.status).to.equal("mined");
      expect(Number(BigInt((await txByHash((outcome as { hash: string }).hash))!.nonce))).to.equal(0);
    });

    it("recovers from 'nonce too low' when another process used the key's next nonce", async function () {
      const key = await fundedKey();
      const { logger, lines } = captureLogger();
      const sender = makeSender(key, { logger });
      const first = await sender.send(transfer("first"));
      expect(first.status).to.equal("mined");

      // Another wallet with the same private key takes nonce 1 behind the sender's back.
      const intruder = new Wallet(key.privateKey, provider);
      const foreign = await (await intruder.sendTransaction({ to: randomAddress(), value: 7n })).wait();
      expect(foreign!.index).to.be.a("number");
      expect(await nonceOf(key.address)).to.equal(2);

      const intent = transfer("second", 4242n);
      const second = await sender.send(intent);
      expect(second.status).to.equal("mined");
      if (second.status !== "mined") return;
      expect(Number(BigInt((await txByHash(second.hash))!.nonce))).to.equal(2);
      expect(await balanceOf(intent.to)).to.equal(4242n);
      expect(await nonceOf(key.address)).to.equal(3);
      expect(lines.some((l) => String(l.msg).includes("nonce already used"))).to.equal(true);

      // And it keeps going with consecutive nonces afterwards.
      const third = await sender.send(transfer("third"));
      expect(Number(BigInt((await txByHash((third as { hash: string }).hash))!.nonce))).to.equal(3);
    });

    it("re-sends with a new nonce when another process's transaction took the pending one's nonce", async function () {
      const key = await fundedKey();
      const sender = makeSender(key);
      await rpc("evm_setAutomine", [false]);
      const intent = transfer("displaced", 1234n);
      const pending = track(sender.send(intent));
      const record = await waitFor("the broadcast", async () => {
        const r = await sender.intent(intent.key);
        return r !== undefined && r.txs.length === 1 && (await txByHash(only(r.txs, "broadcast").hash)) !== null
          ? r
          : undefined;
      });
      const broadcast = only(record.txs, "broadcast");
      const ours = Transaction.from(broadcast.raw);

      // Same key, same nonce, twice the fees: the node replaces ours with it.
      const intruder = new Wallet(key.privateKey, provider);
      const foreign = await intruder.sendTransaction({
        to: randomAddress(),
        value: 9n,
        nonce: 0,
        gasLimit: 21_000n,
        maxFeePerGas: ours.maxFeePerGas! * 2n,
        maxPriorityFeePerGas: ours.maxPriorityFeePerGas! * 2n,
      });
      expect(await txByHash(broadcast.hash)).to.equal(null);
      await rpc("evm_mine");
      expect((await receiptOf(foreign.hash))!.status).to.equal("0x1");

      const resent = await waitFor("the re-send with nonce 1", async () => {
        const r = await sender.intent(intent.key);
        const last = r?.txs.at(-1);
        return last !== undefined && last.nonce === 1 && (await txByHash(last.hash)) !== null ? last : undefined;
      });
      expect(pending.settled()).to.equal(false);
      await rpc("evm_mine");
      const outcome = await pending.promise;
      expect(outcome).to.include({ status: "mined", hash: resent.hash });
      expect(await balanceOf(intent.to)).to.equal(1234n);
      expect(await nonceOf(key.address)).to.equal(2);
    });

    it("stop() rejects unfinished sends; the intent stays pending for the next process", async function () {
      const key = await fundedKey();
      const sender = makeSender(key);
      await rpc("evm_setAutomine", [false]);
      const intent = transfer("stopped", 3n);
      const pending = sender.send(intent).catch((e: unknown) => e);
      await waitFor("the broadcast", async () => (await sender.intent(intent.key))?.txs.length === 1);
      await sender.stop();
      expect(await pending).to.be.instanceOf(TxSenderStoppedError);
      expect((await redis.get(intentKey(key, intent.key)))!).to.include('"status":"pending"');

      const next = makeSender(key);
      const recovering = next.recover();
      await rpc("evm_mine");
      expect((await recovering).map((o) => o.status)).to.deep.equal(["mined"]);
      expect(await balanceOf(intent.to)).to.equal(3n);
    });

    it("keeps nonces consecutive after a restart with intents still pending", async function () {
      const key = await fundedKey();
      const first = makeSender(key);
      await rpc("evm_setAutomine", [false]);
      const a = transfer("restart-a", 1n);
      const b = transfer("restart-b", 2n);
      const pa = first.send(a).catch((e: unknown) => e);
      const pb = first.send(b).catch((e: unknown) => e);
      await waitFor("both broadcast", async () => first.inFlight === 2);
      await first.stop();
      await Promise.all([pa, pb]);
      // Both dropped while nobody watched (e.g. the node restarted): the chain's pending nonce is 0 again.
      for (const k of [a.key, b.key]) {
        const r = JSON.parse((await redis.get(intentKey(key, k)))!) as IntentRecord;
        await rpc("hardhat_dropTransaction", [at(r.txs, 0, `transaction of ${k}`).hash]);
      }
      expect(await nonceOf(key.address, "pending")).to.equal(0);

      const second = makeSender(key);
      const c = second.send(transfer("restart-c", 3n));
      await waitFor(
        "three in flight",
        async () => second.inFlight === 3 && (await nonceOf(key.address, "pending")) === 3,
      );
      await rpc("evm_mine");
      const outcome = await c;
      expect(Number(BigInt((await txByHash((outcome as { hash: string }).hash))!.nonce))).to.equal(2);
      await waitFor("all mined", async () => second.inFlight === 0);
      expect(await balanceOf(a.to)).to.equal(1n);
      expect(await balanceOf(b.to)).to.equal(2n);
      expect(await nonceOf(key.address)).to.equal(3);
    });
  });

  describe("fees and resends", function () {
    it("re-sends a transaction not mined in time with both fees bumped >= +10%; exactly one hash is mined", async function () {
      const key = await fundedKey();
      const registry = new Registry();
      const sender = makeSender(key, { resendAfterMs: 500, feeBumpPercent: 10, metrics: registry });
      await rpc("evm_setAutomine", [false]);
      const intent = transfer("bump", 5555n);
      const pending = track(sender.send(intent));

      const record = await waitFor("a replacement", async () => {
        const r = await sender.intent(intent.key);
        return r !== undefined && r.txs.length >= 2 ? r : undefined;
      });
      const [original, replacement] = take(record.txs, 2, "transactions (the original and its replacement)");
      expect(replacement.nonce).to.equal(original.nonce);
      const originalTx = Transaction.from(original.raw);

      // The node dropped the original from its pool in favour of the replacement.
      expect(await txByHash(original.hash)).to.equal(null);
      const replaced = (await txByHash(replacement.hash))!;
      expect(replaced).to.not.equal(null);
      expect(BigInt(replaced.nonce)).to.equal(BigInt(originalTx.nonce));
      expect(BigInt(replaced.maxFeePerGas) * 100n).to.be.gte(originalTx.maxFeePerGas! * 110n);
      expect(BigInt(replaced.maxPriorityFeePerGas) * 100n).to.be.gte(originalTx.maxPriorityFeePerGas! * 110n);
      expect(pending.settled()).to.equal(false);

      await rpc("evm_mine");
      const outcome = await pending.promise;
      expect(outcome.status).to.equal("mined");
      if (outcome.status !== "mined") return;
      expect(outcome.attempts).to.be.gte(2);

      const final = await recordOf(sender, intent.key);
      const mined = [];
      for (const tx of final.txs) if ((await receiptOf(tx.hash)) !== null) mined.push(tx.hash);
      expect(mined).to.deep.equal([outcome.hash]);
      expect(await balanceOf(intent.to)).to.equal(5555n);
      expect(await nonceOf(key.address)).to.equal(1);
      expect(await metricValue(registry, "veilnet_tx_resent_total", sender.address)).to.be.gte(1);
      expect(await metricValue(registry, "veilnet_tx_sent_total", sender.address)).to.equal(1);
    });

    it("at the fee cap keeps the transaction, re-broadcasts it and logs it", async function () {
      const key = await fundedKey();
      const block = await rpc<{ baseFeePerGas: string }>("eth_getBlockByNumber", ["latest", false]);
      // Below the node's suggestion (2 × base fee + 1 gwei): the first send already sits at the cap.
      const cap = BigInt(block.baseFeePerGas) * 2n;
      const { logger, lines } = captureLogger();
      const sender = makeSender(key, { resendAfterMs: 150, maxFeePerGas: cap, logger });
      await rpc("evm_setAutomine", [false]);
      const intent = transfer("capped");
      const pending = track(sender.send(intent));

      await waitFor("the cap warning", async () =>
        lines.some((l) => String(l.msg).includes("fee cap reached") && l.key === intent.key),
      );
      const record = await recordOf(sender, intent.key);
      expect(record.txs).to.have.length(1);
      const capped = only(record.txs, "capped transaction");
      expect(BigInt(capped.maxFeePerGas)).to.equal(cap);
      expect(await txByHash(capped.hash)).to.not.equal(null);
      expect(pending.settled()).to.equal(false);

      await rpc("evm_mine");
      const outcome = await pending.promise;
      expect(outcome).to.include({ status: "mined", hash: capped.hash, attempts: 1 });
    });

    it("uses the node's EIP-1559 fees, capped at the configured maximum", async function () {
      const key = await fundedKey();
      const cap = parseUnits("1.5", "gwei");
      const sender = makeSender(key, { maxFeePerGas: cap });
      const outcome = await sender.send(transfer("fees"));
      const tx = (await txByHash((outcome as { hash: string }).hash))!;
      expect(BigInt(tx.maxFeePerGas)).to.be.lte(cap);
      expect(BigInt(tx.maxPriorityFeePerGas)).to.be.lte(BigInt(tx.maxFeePerGas));
      expect(BigInt(tx.maxPriorityFeePerGas)).to.be.gt(0n);
    });

    it("re-broadcasts the same signed transaction when the node dropped it", async function () {
      const key = await fundedKey();
      const { logger, lines } = captureLogger();
      const sender = makeSender(key, { dropCheckMs: 100, logger });
      await rpc("evm_setAutomine", [false]);
      const intent = transfer("dropped", 777n);
      const pending = track(sender.send(intent));
      const record = await waitFor("the broadcast", async () => {
        const r = await sender.intent(intent.key);
        return r !== undefined && r.txs.length === 1 && (await txByHash(only(r.txs, "broadcast").hash)) !== null
          ? r
          : undefined;
      });
      const { hash } = only(record.txs, "broadcast");

      expect(await rpc("hardhat_dropTransaction", [hash])).to.equal(true);
      expect(await txByHash(hash)).to.equal(null);
      await waitFor("the re-broadcast", async () => (await txByHash(hash)) !== null);
      expect(lines.some((l) => String(l.msg).includes("dropped"))).to.equal(true);

      await rpc("evm_mine");
      const outcome = await pending.promise;
      expect(outcome).to.include({ status: "mined", hash, attempts: 1 });
      expect(await balanceOf(intent.to)).to.equal(777n);
      expect(await nonceOf(key.address)).to.equal(1);
    });
  });

  describe("confirmations", function () {
    it("waits for the configured number of confirmations", async function () {
      const key = await fundedKey();
      const sender = makeSender(key, { confirmations: 2 });
      const intent = transfer("confirmed");
      const pending = track(sender.send(intent));
      const record = await waitFor("the transaction mined", async () => {
        const r = await sender.intent(intent.key);
        return r !== undefined && r.txs.length > 0 && (await receiptOf(at(r.txs, 0, "transaction").hash)) !== null
          ? r
          : undefined;
      });
      const mined = at(record.txs, 0, "mined transaction");
      const receipt = (await receiptOf(mined.hash))!;
      // Mined in one block: not enough yet. Give the monitor many polls to (wrongly) finish.
      const head = Number(BigInt(await rpc<string>("eth_blockNumber")));
      expect(head).to.equal(Number(BigInt(receipt.blockNumber)));
      await new Promise((r) => setTimeout(r, 400));
      expect(pending.settled()).to.equal(false);

      await rpc("evm_mine");
      const outcome = await pending.promise;
      expect(outcome).to.include({
        status: "mined",
        hash: mined.hash,
        blockNumber: Number(BigInt(receipt.blockNumber)),
      });
    });
  });

  describe("persistence and recovery", function () {
    it("persists the intent (raw tx, hash, nonce) before broadcasting it", async function () {
      const key = await fundedKey();
      let seen: { record: IntentRecord; known: boolean } | undefined;
      const sender = makeSender(key, {
        testHooks: {
          beforeBroadcast: async (r) => {
            const stored = await redis.get(intentKey(key, r.key));
            const record = JSON.parse(stored!) as IntentRecord;
            seen = { record, known: (await txByHash(at(record.txs, 0, "stored transaction").hash)) !== null };
          },
        },
      });
      const intent = transfer("persisted", 99n);
      const outcome = await sender.send(intent);
      expect(seen).to.not.equal(undefined);
      expect(seen!.known).to.equal(false);
      const stored = seen!.record;
      expect(stored).to.include({
        key: intent.key,
        to: getAddress(intent.to),
        data: "0x",
        value: "99",
        nonce: 0,
        status: "pending",
        from: key.address,
      });
      expect(stored.txs).to.have.length(1);
      const storedTx = only(stored.txs, "stored transaction");
      expect(Transaction.from(storedTx.raw).hash).to.equal(storedTx.hash);
      expect(outcome).to.include({ status: "mined", hash: storedTx.hash });
      expect((await recordOf(sender, intent.key)).status).to.equal("mined");
    });

    /** Sends `intent` with a sender that "crashes" right after the broadcast; returns the broadcast hash. */
    async function crashAfterBroadcast(key: Wallet, intent: TxIntent): Promise<string> {
      let hash: string | undefined;
      const crashing = makeSender(key, {
        testHooks: {
          afterBroadcast: (record) => {
            hash = at(record.txs, 0, "broadcast transaction").hash;
            throw new Error("simulated crash");
          },
        },
      });
      const crash = await crashing.send(intent).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((crash as Error).message).to.equal("simulated crash");
      await crashing.stop();
      return hash!;
    }

    it("after a crash before mining, a new sender re-broadcasts the same signed tx; the action happens once", async function () {
      const key = await fundedKey();
      await rpc("evm_setAutomine", [false]);
      const intent = transfer("crash-pending", 31n);
      const hash = await crashAfterBroadcast(key, intent);
      expect(await txByHash(hash)).to.not.equal(null);

      const restarted = makeSender(key);
      const recovering = restarted.recover();
      await rpc("evm_mine");
      const outcomes = await recovering;
      expect(outcomes).to.have.length(1);
      expect(outcomes[0]).to.include({ status: "mined", key: intent.key, hash, attempts: 1 });
      expect(await nonceOf(key.address)).to.equal(1);
      expect(await balanceOf(intent.to)).to.equal(31n);
      expect((await recordOf(restarted, intent.key)).status).to.equal("mined");
    });

    it("after a crash and a drop, recovery re-broadcasts the same raw tx (same nonce, same hash)", async function () {
      const key = await fundedKey();
      await rpc("evm_setAutomine", [false]);
      const intent = transfer("crash-dropped", 32n);
      const hash = await crashAfterBroadcast(key, intent);
      expect(await rpc("hardhat_dropTransaction", [hash])).to.equal(true);

      const restarted = makeSender(key);
      const recovering = restarted.recover();
      await waitFor("the re-broadcast", async () => (await txByHash(hash)) !== null);
      await rpc("evm_mine");
      const outcomes = await recovering;
      expect(outcomes.map((o) => o.status === "mined" && o.hash)).to.deep.equal([hash]);
      expect(await nonceOf(key.address)).to.equal(1);
      expect(await balanceOf(intent.to)).to.equal(32n);
    });

    it("after a crash once mined, recovery reports it mined and sends nothing", async function () {
      const key = await fundedKey();
      const intent = transfer("crash-mined", 33n);
      const hash = await crashAfterBroadcast(key, intent);
      expect(await receiptOf(hash)).to.not.equal(null);

      const restarted = makeSender(key);
      const outcomes = await restarted.recover();
      expect(outcomes).to.have.length(1);
      expect(outcomes[0]).to.include({ status: "mined", hash });
      expect(await nonceOf(key.address)).to.equal(1);
      expect(await balanceOf(intent.to)).to.equal(33n);

      // A job retried after the restart with the same key gets the stored outcome.
      const again = await restarted.send({ ...intent, alreadyDone: () => Promise.reject(new Error("not asked")) });
      expect(again).to.include({ status: "mined", hash });
      expect(await nonceOf(key.address)).to.equal(1);
    });

    it("after a crash, when the effect is already on chain, cancels the pending tx (the action never happens)", async function () {
      const key = await fundedKey();
      await rpc("evm_setAutomine", [false]);
      const intent = transfer("crash-done", 34n);
      const hash = await crashAfterBroadcast(key, intent);

      const restarted = makeSender(key);
      const resumed = track(restarted.send({ ...intent, alreadyDone: async () => true }));
      const record = await waitFor("the cancellation", async () => {
        const r = await restarted.intent(intent.key);
        return r !== undefined && r.txs.some((t) => t.cancel) ? r : undefined;
      });
      const cancel = record.txs.find((t) => t.cancel)!;
      expect(cancel.nonce).to.equal(0);
      expect(await txByHash(hash)).to.equal(null); // replaced in the pool
      await rpc("evm_mine");
      const outcome = await resumed.promise;
      expect(outcome.status).to.equal("already-done");
      expect(await receiptOf(cancel.hash)).to.not.equal(null);
      expect(await receiptOf(hash)).to.equal(null);
      expect(await balanceOf(intent.to)).to.equal(0n);
      expect(await nonceOf(key.address)).to.equal(1);
    });

    it("recover() asks the resolver's alreadyDone for each stored intent", async function () {
      const key = await fundedKey();
      await rpc("evm_setAutomine", [false]);
      const intent = transfer("crash-resolved", 35n);
      const hash = await crashAfterBroadcast(key, intent);

      const restarted = makeSender(key);
      const asked: string[] = [];
      const recovering = restarted.recover((record) => async () => {
        asked.push(record.key);
        return true;
      });
      await waitFor("the cancellation", async () => (await restarted.intent(intent.key))?.txs.at(-1)?.cancel);
      await rpc("evm_mine");
      expect(await recovering).to.deep.equal([{ status: "already-done", key: intent.key }]);
      expect(asked).to.include(intent.key);
      expect(await receiptOf(hash)).to.equal(null);
      expect(await balanceOf(intent.to)).to.equal(0n);
    });

    it("a completed key returns the stored outcome without sending", async function () {
      const key = await fundedKey();
      const sender = makeSender(key);
      const intent = transfer("once", 5n);
      const first = await sender.send(intent);
      let asked = 0;
      const second = await sender.send({
        ...intent,
        alreadyDone: async () => {
          asked++;
          return false;
        },
      });
      expect(second).to.deep.equal(first);
      expect(asked).to.equal(0);
      expect(await nonceOf(key.address)).to.equal(1);
      expect(await balanceOf(intent.to)).to.equal(5n);
    });

    it("concurrent sends of the same key share one transaction", async function () {
      const key = await fundedKey();
      const sender = makeSender(key);
      const intent = transfer("same", 6n);
      const [a, b] = await Promise.all([sender.send(intent), sender.send(intent)]);
      expect(a).to.deep.equal(b);
      expect(await nonceOf(key.address)).to.equal(1);
      expect(await balanceOf(intent.to)).to.equal(6n);
    });

    it("checks alreadyDone before the first broadcast", async function () {
      const key = await fundedKey();
      const registry = new Registry();
      const sender = makeSender(key, { metrics: registry });
      const intent = transfer("done-before", 8n);
      const outcome = await sender.send({ ...intent, alreadyDone: async () => true });
      expect(outcome).to.deep.equal({ status: "already-done", key: intent.key });
      expect(await nonceOf(key.address, "pending")).to.equal(0);
      expect(await balanceOf(intent.to)).to.equal(0n);
      expect((await recordOf(sender, intent.key)).status).to.equal("already-done");
      expect(await metricValue(registry, "veilnet_tx_sent_total", sender.address)).to.equal(0);
      expect(await metricValue(registry, "veilnet_tx_already_done_total", sender.address)).to.equal(1);
    });
  });

  describe("reverts", function () {
    let v: Veilnet;
    let genesis: Awaited<ReturnType<typeof initializeGenesis>>;

    before(async function () {
      v = await deployVeilnet(await node.connect());
      genesis = await initializeGenesis(v);
    });

    /** addRollup calldata for the genesis committee of one, signed by a stranger enclave unless `signature`. */
    async function addRollupData(signature?: string): Promise<string> {
      const { header, payload } = await nextRollupHeader(v);
      const stranger = await makeEnclave(v); // not attested, not a member
      const sig =
        signature ??
        (await signRollupHeader(
          stranger.wallet,
          rollupRegistryDomain(v.chainId, await v.rollupRegistry.getAddress()),
          header,
        ));
      const committee = { members: [genesis.address], signerBitmap: 1n, signatures: sig };
      return v.rollupRegistry.interface.encodeFunctionData("addRollup", rollupArgs(header, payload, committee));
    }

    it("does not broadcast a transaction that would revert; throws the decoded custom error", async function () {
      const key = await fundedKey();
      const { logger, lines } = captureLogger();
      const registry = new Registry();
      const sender = makeSender(key, { logger, metrics: registry });
      const to = await v.rollupRegistry.getAddress();

      const data = await addRollupData();
      const error = await sender.send({ key: "rollup-bad-signer", to, data }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(TxRevertedError);
      const reverted = error as TxRevertedError;
      expect(reverted.errorName).to.equal("SignerMismatch");
      expect(reverted.reason).to.match(/^SignerMismatch\(0, 0x[0-9a-fA-F]{40}, 0x[0-9a-fA-F]{40}\)$/);
      expect(reverted.key).to.equal("rollup-bad-signer");
      expect(reverted.hash).to.equal(undefined);
      expect(lines.some((l) => l.errorName === "SignerMismatch" && l.key === "rollup-bad-signer")).to.equal(true);

      const garbled = await addRollupData(hexlify(randomBytes(65)));
      const e2 = await sender.send({ key: "rollup-bad-sig", to, data: garbled }).catch((e: unknown) => e);
      // A random 65-byte signature either fails to recover or recovers an address that is not the member.
      expect((e2 as TxRevertedError).errorName).to.be.oneOf(["InvalidSignature", "SignerMismatch"]);
      const short = await addRollupData("0x1234");
      const e3 = await sender.send({ key: "rollup-short-sig", to, data: short }).catch((e: unknown) => e);
      expect((e3 as TxRevertedError).errorName).to.equal("SignaturesLengthMismatch");
      expect((e3 as TxRevertedError).reason).to.equal("SignaturesLengthMismatch(2, 65)");

      expect(await nonceOf(key.address, "pending")).to.equal(0);
      expect(await metricValue(registry, "veilnet_tx_reverted_total", sender.address)).to.equal(3);
      expect(await metricValue(registry, "veilnet_tx_sent_total", sender.address)).to.equal(0);
      expect(await sender.intent("rollup-bad-signer")).to.equal(undefined);
    });

    it("a would-be revert whose effect is already on chain ends already-done", async function () {
      const key = await fundedKey();
      const sender = makeSender(key);
      const outcome = await sender.send({
        key: "rollup-done",
        to: await v.rollupRegistry.getAddress(),
        data: await addRollupData(),
        alreadyDone: (() => {
          let calls = 0;
          return async () => ++calls > 1; // not done before simulating, done when it reverts
        })(),
      });
      expect(outcome).to.deep.equal({ status: "already-done", key: "rollup-done" });
      expect(await nonceOf(key.address, "pending")).to.equal(0);
    });

    it("decodes a revert that happens on chain (state changed after the simulation)", async function () {
      const key = await fundedKey();
      const registry = new Registry();
      // Simulating on "latest" lets both through while neither is mined yet.
      const { logger, lines } = captureLogger();
      const sender = makeSender(key, { simulateBlockTag: "latest", metrics: registry, logger });
      const to = await v.rollupRegistry.getAddress();
      const { header, payload } = await nextRollupHeader(v);
      const signature = await signRollup(v, genesis, header);
      const data = v.rollupRegistry.interface.encodeFunctionData("addRollup", rollupArgs(header, payload, signature));
      const before = await v.rollupRegistry.rollupCount();
      await rpc("evm_mine"); // the binding block must be in the past of the simulated one
      await rpc("evm_setAutomine", [false]);
      const first = track(sender.send({ key: "rollup-1", to, data }));
      const second = track(sender.send({ key: "rollup-1-again", to, data }));
      await waitFor("both broadcast", async () => sender.inFlight === 2);
      await rpc("evm_mine");

      const outcome = await first.promise;
      expect(outcome.status).to.equal("mined");
      const error = (await second.promise.catch((e: unknown) => e)) as TxRevertedError;
      expect(error).to.be.instanceOf(TxRevertedError);
      expect(error.errorName).to.equal("BatchSequenceGap");
      expect(error.reason).to.equal(`BatchSequenceGap(${header.firstBatchSeq + 1n}, ${header.firstBatchSeq})`);
      expect(error.hash).to.match(/^0x[0-9a-f]{64}$/);
      expect((await receiptOf(error.hash!))!.status).to.equal("0x0");
      expect(await v.rollupRegistry.rollupCount()).to.equal(before + 1n);
      expect((await recordOf(sender, "rollup-1-again")).status).to.equal("reverted");
      expect(await metricValue(registry, "veilnet_tx_reverted_total", sender.address)).to.equal(1);
      expect(lines.some((l) => l.errorName === "BatchSequenceGap" && l.hash === error.hash)).to.equal(true);
    });
  });

  describe("senderFromConfig", function () {
    const ctx = () => ({
      provider,
      redis,
      config: parseConfig(commonConfigSchema, { L1_RPC_URL: node.url, QUEUE_PREFIX: prefix }),
      logger: silentLogger(),
      metrics: new Registry(),
      source: {},
    });

    it("builds a sender from SIGNER_PRIVATE_KEY and the TX_* settings", async function () {
      const key = await fundedKey();
      const sender = senderFromConfig(ctx(), {
        SIGNER_PRIVATE_KEY: key.privateKey,
        TX_CONFIRMATIONS: "1",
        TX_RESEND_AFTER_MS: "5000",
        TX_FEE_BUMP_PERCENT: "25",
        TX_MAX_FEE_GWEI: "1.5",
        TX_POLL_INTERVAL_MS: "30",
      });
      senders.push(sender);
      expect(sender.address).to.equal(key.address);
      expect(sender.settings).to.deep.equal({
        confirmations: 1,
        resendAfterMs: 5000,
        feeBumpPercent: 25,
        maxFeePerGas: parseUnits("1.5", "gwei"),
        pollIntervalMs: 30,
      });
      const outcome: TxOutcome = await sender.send(transfer("from-config"));
      expect(outcome.status).to.equal("mined");
    });

    it("names the bad field", function () {
      expect(() => senderFromConfig(ctx(), { SIGNER_PRIVATE_KEY: "0x1234" }))
        .to.throw(ConfigError)
        .with.property("message")
        .that.matches(/^config: SIGNER_PRIVATE_KEY: /);
      expect(() => senderFromConfig(ctx(), { SIGNER_PRIVATE_KEY: hexlify(randomBytes(32)), TX_FEE_BUMP_PERCENT: "5" }))
        .to.throw(ConfigError)
        .with.property("message")
        .that.matches(/TX_FEE_BUMP_PERCENT/);
    });
  });
});
