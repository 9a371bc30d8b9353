/**
 * The rollup-producer against the in-process Hardhat L1 (the Veilnet fixture, an attested sequencer
 * enclave) with a real TxSender and the real Redis (a unique prefix per test). Batches are synthetic:
 * the registry does not re-execute them, so their transactions are random bytes.
 */
import { expect } from "chai";
import {
  BrowserProvider,
  type TransactionReceipt,
  Wallet,
  hexlify,
  keccak256,
  parseEther,
  parseUnits,
  randomBytes,
} from "ethers";
import { network } from "hardhat";
import { Redis } from "ioredis";
import { Registry } from "prom-client";

import { derive } from "../../enclave/crypto/derive.js";
import type { SealedBatch } from "../../enclave/rollup/batch.js";
import { type RollupSigningEnclave, epochKey, epochKeyCommitment } from "../../enclave/rollup/builder.js";
import { compress, encodeRollupContent, openRollupPayload } from "../../enclave/rollup/codec.js";
import { type CrossChainMessage, MessageTree } from "../../protocol/messages.js";
import { EPOCH_LENGTH, type RollupHeader, rollupHash, signRollupHeader } from "../../protocol/rollup.js";
import { type L1Provider, bindContracts } from "../../platform/chain.js";
import { ConfigError, commonConfigSchema, parseConfig } from "../../platform/config.js";
import type { WorkerContext } from "../../platform/context.js";
import { createLogger, silentLogger } from "../../platform/logger.js";
import { queueSettings } from "../../platform/runtime.js";
import {
  BatchSourceError,
  type ProducerRound,
  RollupProducer,
  type RollupWriter,
  type RollupProducerSettings,
  type SealedBatchSource,
  createRollupProducerService,
  rollupProducerConfigSchema,
} from "../../enclave/rollup-producer/index.js";
import { TxSender, type TxSenderOptions } from "../../platform/tx-sender/tx-sender.js";
import { TxRevertedError } from "../../platform/tx-sender/types.js";
import { RollupIndex } from "../../enclave/rpc/rollup-index.js";
import { WithdrawalMethods } from "../../enclave/rpc/withdrawals.js";
import { parseRollupMessages } from "../../protocol/withdrawals.js";
import { at, defined, only, take } from "../../testing/defined.js";
import { deleteKeys, deploymentOf, sleep, waitFor } from "../../testing/worker-process.js";
import { type Veilnet, deployVeilnet, initializeGenesis, withdrawalMessages } from "../../testing/veilnet.js";

const REDIS_URL = "redis://127.0.0.1:6379";
const connection = await network.create();
const { networkHelpers } = connection;

/** The sealed batches of a pretend sequencer. */
class MemorySource implements SealedBatchSource {
  readonly batches: SealedBatch[] = [];

  /** Seals `count` batches, each with `txs` random transactions of `txBytes` bytes. */
  seal(count: number, opts: { txs?: number; txBytes?: number; messages?: CrossChainMessage[] } = {}): SealedBatch[] {
    const sealed: SealedBatch[] = [];
    for (let i = 0; i < count; i++) {
      const seq = BigInt(this.batches.length);
      const batch: SealedBatch = {
        seq,
        hash: hexlify(randomBytes(32)),
        // Not in the past: the time threshold then counts from when the producer first sees the batch.
        timestamp: BigInt(Math.ceil(Date.now() / 1000)),
        l1BaseFee: 1_000_000_000n + seq,
        l1MessagesTo: seq,
        l1Block: 0n,
        txs: Array.from({ length: opts.txs ?? 2 }, () => hexlify(randomBytes(opts.txBytes ?? 120))),
        messages: i === 0 ? (opts.messages ?? []) : [],
      };
      this.batches.push(batch);
      sealed.push(batch);
    }
    return sealed;
  }

  sealedBatches(from: bigint, max: number): Promise<SealedBatch[]> {
    return Promise.resolve(this.batches.slice(Number(from), Number(from) + max));
  }
}

/** What the RollupRegistry holds: every addRollup that landed, decoded from its transaction. */
interface Landed {
  header: RollupHeader;
  payload: string;
  blockNumber: number;
}

/** The sum of metric `name`'s values with `labels` (for a histogram: of its `series`, e.g. `<name>_count`). */
async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
  series = name,
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return 0;
  const { values } = await metric.get();
  return values
    .filter((v) => ((v as { metricName?: string }).metricName ?? name) === series)
    .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
    .reduce((sum, v) => sum + v.value, 0);
}

describe("rollup-producer", function () {
  let redis: Redis;
  let provider: BrowserProvider;
  const prefixes: string[] = [];
  const cleanups: Array<() => Promise<void>> = [];

  async function fixture() {
    const v = await deployVeilnet(connection);
    const genesis = await initializeGenesis(v);
    return { v, genesis };
  }

  before(function () {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    // The producer's and sender's view of the L1, without ethers' 250 ms read cache (they read right
    // after writing, and right after a reorg).
    provider = new BrowserProvider(connection.provider, undefined, { cacheTimeout: -1 });
  });

  afterEach(async function () {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  after(async function () {
    for (const prefix of prefixes) await deleteKeys(REDIS_URL, prefix);
    redis.disconnect();
    provider.destroy();
  });

  interface Harness {
    v: Veilnet;
    enclave: RollupSigningEnclave;
    source: MemorySource;
    prefix: string;
    metrics: Registry;
    signer: Wallet;
    sender: TxSender;
    producer: RollupProducer;
    /** Rollups on L1, in order. */
    landed(): Promise<Landed[]>;
    /** Another producer, writing through `writer`. */
    producerWith(writer: RollupWriter): RollupProducer;
    /** A new producer (and TxSender) on the same prefix and key: a restart. */
    restart(settings?: Partial<RollupProducerSettings>): RollupProducer;
  }

  async function harness(
    settings: Partial<RollupProducerSettings> = {},
    opts: { clock?: () => number; sender?: Partial<TxSenderOptions> } = {},
  ): Promise<Harness> {
    const { v, genesis } = await networkHelpers.loadFixture(fixture);
    const prefix = `t-rp-${hexlify(randomBytes(4)).slice(2)}`;
    prefixes.push(prefix);
    const signer = Wallet.createRandom() as unknown as Wallet;
    await (await v.admin.sendTransaction({ to: signer.address, value: parseEther("10") })).wait();
    // The attested genesis enclave: derives the epoch keys from the network secret, signs with its key.
    const enclave: RollupSigningEnclave = {
      address: genesis.address,
      derive: (label) => derive(genesis.secret, label),
      signRollupHeader: (domain, header) => signRollupHeader(genesis.wallet, domain, header),
    };
    const source = new MemorySource();
    const metrics = new Registry();
    const contracts = bindContracts(v.addresses, provider);
    const makeSender = (extra: Partial<TxSenderOptions> = {}) => {
      const sender = new TxSender({
        provider,
        signer: signer.privateKey,
        redis,
        keyPrefix: prefix,
        logger: silentLogger(),
        metrics,
        maxFeePerGas: parseUnits("1000", "gwei"),
        pollIntervalMs: 20,
        ...extra,
      });
      cleanups.push(() => sender.stop());
      return sender;
    };
    const makeProducer = (writer: RollupWriter, extra: Partial<RollupProducerSettings> = {}) => {
      const producer = new RollupProducer({
        chainId: Number(v.chainId),
        source,
        enclave,
        writer,
        contracts,
        provider,
        // RP_DEBUG=1 prints the producer's logs.
        logger: process.env.RP_DEBUG !== undefined ? createLogger("debug") : silentLogger(),
        metrics,
        settings: {
          rollupIntervalMs: 0,
          maxRollupBytes: 120_000,
          bindingDepth: 1,
          pollMs: 20,
          ...settings,
          ...extra,
        },
        clock: opts.clock,
      });
      cleanups.push(() => producer.stop());
      return producer;
    };
    const sender = makeSender(opts.sender);
    const h: Harness = {
      v,
      enclave,
      source,
      prefix,
      metrics,
      signer,
      sender,
      producer: makeProducer(sender),
      async landed() {
        const logs = await v.rollupRegistry.queryFilter(v.rollupRegistry.filters.RollupAdded());
        return Promise.all(
          logs.map(async (log) => {
            const tx = (await provider.getTransaction(log.transactionHash))!;
            const [header, payload] = v.rollupRegistry.interface.decodeFunctionData("addRollup", tx.data);
            const r = header as unknown as RollupHeader;
            return {
              header: {
                firstBatchSeq: r.firstBatchSeq,
                lastBatchSeq: r.lastBatchSeq,
                lastBatchHash: r.lastBatchHash,
                previousBatchHash: r.previousBatchHash,
                l1BlockNumber: r.l1BlockNumber,
                l1BlockHash: r.l1BlockHash,
                messageRoot: r.messageRoot,
                payloadHash: r.payloadHash,
                revelationEpoch: r.revelationEpoch,
                keyCommitment: r.keyCommitment,
              },
              payload: payload as string,
              blockNumber: log.blockNumber,
            };
          }),
        );
      },
      producerWith: (writer) => makeProducer(writer),
      restart(extra = {}) {
        h.sender = makeSender();
        h.producer = makeProducer(h.sender, extra);
        return h.producer;
      },
    };
    return h;
  }

  /** Runs rounds until one is not a landing (idle or waiting); returns them all. */
  async function drain(producer: RollupProducer): Promise<ProducerRound[]> {
    const rounds: ProducerRound[] = [];
    for (;;) {
      const round = await producer.round();
      rounds.push(round);
      if (round.kind !== "landed") return rounds;
      if (rounds.length > 100) throw new Error("the producer keeps landing rollups");
    }
  }

  /** The payload of `batches` decrypted and decoded, checked against them. */
  function expectPayloadOf(h: Harness, landed: Landed, batches: SealedBatch[]): void {
    const key = epochKey(h.enclave, landed.header.revelationEpoch);
    expect(landed.header.keyCommitment).to.equal(epochKeyCommitment(key));
    const content = openRollupPayload(landed.payload, key);
    expect(content.firstSeq).to.equal(at(batches, 0, "batch of the rollup").seq);
    expect(content.batches).to.deep.equal(
      batches.map((b) => ({
        timestamp: b.timestamp,
        l1BaseFee: b.l1BaseFee,
        l1MessagesTo: b.l1MessagesTo,
        txs: b.txs,
      })),
    );
  }

  it("submits one rollup once the oldest batch has waited the interval, with the right header, payload and messages", async function () {
    const h = await harness({ rollupIntervalMs: 1500, pollMs: 50 });
    const messages = await withdrawalMessages(h.v, [
      { to: h.v.users[0].address, amount: parseEther("1") },
      { to: h.v.users[1].address, amount: parseEther("2") },
    ]);
    const batches = [...h.source.seal(1, { messages }), ...h.source.seal(2)];
    const startedAt = Date.now();
    await h.producer.start();

    await sleep(700);
    expect(await h.v.rollupRegistry.nextBatchSeq()).to.equal(0n, "submitted before the interval");
    await waitFor("the rollup to land", async () => (await h.v.rollupRegistry.nextBatchSeq()) === 3n);
    expect(Date.now() - startedAt).to.be.at.least(1500);
    await sleep(200);

    const [first, ...more] = await h.landed();
    expect(more).to.have.length(0);
    const rollup = defined(first, "a landed rollup");
    const { header } = rollup;
    expect(header.firstBatchSeq).to.equal(0n);
    expect(header.lastBatchSeq).to.equal(2n);
    expect(header.lastBatchHash).to.equal(at(batches, 2, "batch").hash);
    const root = new MessageTree(messages).root;
    expect(header.messageRoot).to.equal(root);
    expect(header.payloadHash).to.equal(keccak256(rollup.payload));
    // Bound to the block below the head it was built at (automine: the head was the block before its own).
    expect(header.l1BlockNumber).to.equal(BigInt(rollup.blockNumber - 2));
    expect(header.l1BlockHash).to.equal((await provider.getBlock(rollup.blockNumber - 2))!.hash);
    expect(header.revelationEpoch).to.equal(header.l1BlockNumber / EPOCH_LENGTH);
    expectPayloadOf(h, rollup, batches);
    // A node finds the rollup on L1 by its root, and its batches' messages build that root.
    const node = new WithdrawalMethods({
      provider: { request: () => Promise.reject(new Error("no L2 chain in this test")) },
      rollups: new RollupIndex({
        provider,
        rollupRegistry: h.v.addresses.RollupRegistry,
        messageBus: h.v.addresses.MessageBus,
        fromBlock: 0,
      }),
      batches: {
        messagesOf: (first, last) =>
          Promise.resolve(h.source.batches.filter((b) => b.seq >= first && b.seq <= last).flatMap((b) => b.messages)),
      },
    });
    const found = parseRollupMessages(await node.rollupMessagesJson([root]));
    expect(found.rollup.hash).to.equal(rollupHash(header).toLowerCase());
    expect(found.messages).to.deep.equal(messages);

    expect(await metricValue(h.metrics, "veilnet_rollups_submitted_total")).to.equal(1);
    expect(await metricValue(h.metrics, "veilnet_rollup_last_landed_batch_seq")).to.equal(2);
    expect(await metricValue(h.metrics, "veilnet_rollup_batches", {}, "veilnet_rollup_batches_sum")).to.equal(3);
    expect(
      await metricValue(h.metrics, "veilnet_rollup_submission_seconds", {}, "veilnet_rollup_submission_seconds_count"),
    ).to.equal(1);
    expect(await h.producer.health()).to.deep.equal({ ok: true });
  });

  it("splits a long run of batches by size: consecutive rollups, each as full as fits in maxRollupBytes", async function () {
    const max = 4000;
    let now = Date.now();
    const h = await harness({ rollupIntervalMs: 60_000, maxRollupBytes: max }, { clock: () => now });
    h.source.seal(12, { txs: 1, txBytes: 500 });
    h.source.seal(1, { txs: 1, txBytes: 6000 }); // bigger than a rollup by itself
    h.source.seal(12, { txs: 1, txBytes: 500 });

    const rounds = await drain(h.producer);
    const last = rounds.at(-1)!;
    expect(last.kind).to.equal("waiting", "the tail below the size threshold waits for the interval");
    const landed = await h.landed();
    expect(landed).to.have.length(rounds.length - 1);
    expect(landed.length).to.be.at.least(4);

    let next = 0n;
    for (const rollup of landed) {
      const { firstBatchSeq: first, lastBatchSeq: lastSeq } = rollup.header;
      expect(first).to.equal(next, "rollups are consecutive");
      next = lastSeq + 1n;
      const batches = h.source.batches.slice(Number(first), Number(lastSeq) + 1);
      expectPayloadOf(h, rollup, batches);
      const bytes = (rollup.payload.length - 2) / 2;
      const alone = batches.length === 1 ? only(batches, "batch of the rollup") : undefined;
      if (alone !== undefined && at(alone.txs, 0, "transaction of the batch").length > 2 * max) {
        expect(bytes).to.be.greaterThan(max, "the oversized batch goes alone");
        continue;
      }
      expect(bytes).to.be.at.most(max);
      // As full as fits: one more batch would not have fitted.
      const withNext = h.source.batches.slice(Number(first), Number(lastSeq) + 2);
      const content = {
        firstSeq: first,
        batches: withNext.map((b) => ({
          timestamp: b.timestamp,
          l1BaseFee: b.l1BaseFee,
          l1MessagesTo: b.l1MessagesTo,
          txs: b.txs,
        })),
      };
      expect((await compress(encodeRollupContent(content))).length + 29).to.be.greaterThan(max);
    }
    expect(landed.some((r) => r.header.firstBatchSeq === 12n && r.header.lastBatchSeq === 12n)).to.equal(true);
    expect(await h.v.rollupRegistry.nextBatchSeq()).to.equal(next);

    // The tail goes once the interval has passed.
    now += 60_000;
    const [tail, idle] = take(await drain(h.producer), 2, "producer rounds");
    expect(tail.kind).to.equal("landed");
    expect(idle).to.deep.equal({ kind: "idle", nextBatchSeq: 25n });
    expect(await metricValue(h.metrics, "veilnet_rollups_submitted_total")).to.equal(landed.length + 1);
  });

  it("continues from L1's nextBatchSeq after a restart, even one right after broadcasting, without duplicates", async function () {
    // The first process "crashes" right after broadcasting: its send never reports back.
    const h = await harness(
      {},
      {
        sender: {
          testHooks: {
            afterBroadcast: () => {
              throw new Error("crash after broadcast");
            },
          },
        },
      },
    );
    h.source.seal(5);
    let crashed: unknown;
    await h.producer.round().catch((e: unknown) => (crashed = e));
    expect((crashed as Error).message).to.equal("crash after broadcast");
    await h.sender.stop();
    await h.producer.stop();

    // The restarted process: its TxSender adopts the pending intent; the producer reads L1.
    const producer = h.restart();
    expect(await producer.round()).to.deep.equal({ kind: "idle", nextBatchSeq: 5n });
    const more = h.source.seal(4);
    const [round, idle] = take(await drain(producer), 2, "producer rounds");
    expect(round.kind).to.equal("landed");
    expect(idle.kind).to.equal("idle");

    const landed = await h.landed();
    expect(landed.map((r) => [r.header.firstBatchSeq, r.header.lastBatchSeq])).to.deep.equal([
      [0n, 4n],
      [5n, 8n],
    ]);
    expectPayloadOf(h, at(landed, 1, "landed rollup"), more);
    expect(await h.v.rollupRegistry.nextBatchSeq()).to.equal(9n);
  });

  it("submits again when the binding block of a landed rollup is reorged away; it lands once", async function () {
    const h = await harness();
    const batches = h.source.seal(3);
    const beforeBinding = await networkHelpers.takeSnapshot();
    await networkHelpers.mine(2);
    const first = at(await drain(h.producer), 0, "producer round");
    if (first.kind !== "landed") throw new Error(`expected a landing, got ${first.kind}`);
    const oldBinding = first.rollup.binding;
    const intent = defined(await h.sender.intent(first.rollup.key), "the intent of the landed rollup");
    const { raw } = at(intent.txs, 0, "transaction of the intent");

    // Reorg: back to before the binding block, then a different chain of blocks (other timestamps).
    await beforeBinding.restore();
    await networkHelpers.time.increase(1000);
    await networkHelpers.mine(3);
    expect((await provider.getBlock(Number(oldBinding.number)))!.hash).to.not.equal(oldBinding.hash);
    expect(await h.v.rollupRegistry.nextBatchSeq()).to.equal(0n);
    // As a node would, the new chain includes the reorged transaction again: it now reverts.
    await connection.provider.request({ method: "eth_sendRawTransaction", params: [raw] }).catch(() => undefined);
    const receipt = (await provider.getTransactionReceipt(keccak256(raw))) as TransactionReceipt;
    expect(receipt.status).to.equal(0);

    const [again, idle] = take(await drain(h.producer), 2, "producer rounds");
    if (again.kind !== "landed") throw new Error(`expected a landing, got ${again.kind}`);
    expect(again.rollup.binding.hash).to.not.equal(oldBinding.hash);
    expect(idle.kind).to.equal("idle");
    const landed = await h.landed();
    expect(landed).to.have.length(1);
    const rollup = at(landed, 0, "landed rollup");
    expect(rollup.header.l1BlockHash).to.equal((await provider.getBlock(Number(rollup.header.l1BlockNumber)))!.hash);
    expectPayloadOf(h, rollup, batches);
    expect(await h.v.rollupRegistry.nextBatchSeq()).to.equal(3n);
    expect(await metricValue(h.metrics, "veilnet_rollup_resubmissions_total", { reason: "reorged-out" })).to.equal(1);
  });

  it("builds again on a new binding when the binding block is reorged away before the rollup lands", async function () {
    const h = await harness();
    h.source.seal(3);
    const beforeBinding = await networkHelpers.takeSnapshot();
    await networkHelpers.mine(2);
    // The reorg happens between building the rollup and sending it.
    const sender = h.sender;
    let reorgs = 0;
    const producer = h.producerWith({
      send: async (intent) => {
        if (reorgs++ === 0) {
          await beforeBinding.restore();
          await networkHelpers.time.increase(1000);
          await networkHelpers.mine(3);
        }
        return sender.send(intent);
      },
    });

    const rebind = await producer.round();
    if (rebind.kind !== "rebind") throw new Error(`expected a rebind, got ${rebind.kind}`);
    expect(rebind.reason).to.match(/^BindingBlockHashMismatch/);
    expect(await h.v.rollupRegistry.nextBatchSeq()).to.equal(0n);
    const [again, idle] = take(await drain(producer), 2, "producer rounds");
    if (again.kind !== "landed") throw new Error(`expected a landing, got ${again.kind}`);
    expect(again.rollup.binding.hash).to.not.equal(rebind.rollup.binding.hash);
    expect(again.rollup.key).to.not.equal(rebind.rollup.key);
    expect(idle.kind).to.equal("idle");
    expect(await h.landed()).to.have.length(1);
    expect(await h.v.rollupRegistry.nextBatchSeq()).to.equal(3n);
    expect(
      await metricValue(h.metrics, "veilnet_rollup_resubmissions_total", { reason: "BindingBlockHashMismatch" }),
    ).to.equal(1);
  });

  it("keeps the batches while submission reverts for another reason (paused), reports unhealthy, lands after unpause", async function () {
    const h = await harness({ pollMs: 20, maxBackoffMs: 100, unhealthyAfter: 3 });
    await (await h.v.rollupRegistry.pause()).wait();
    h.source.seal(4);
    let error: unknown;
    await h.producer.round().catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(TxRevertedError);
    expect((error as TxRevertedError).errorName).to.equal("EnforcedPause");

    await h.producer.start();
    await waitFor("the producer to report unhealthy", async () => !(await h.producer.health()).ok);
    expect((await h.producer.health()).detail).to.match(/rollup rounds failed: .*EnforcedPause/);
    h.source.seal(2); // sealed meanwhile
    expect(await h.v.rollupRegistry.nextBatchSeq()).to.equal(0n);
    expect(await metricValue(h.metrics, "veilnet_rollup_producer_failures_total")).to.be.at.least(3);

    await (await h.v.rollupRegistry.unpause()).wait();
    await waitFor("all batches to land", async () => (await h.v.rollupRegistry.nextBatchSeq()) === 6n, 10_000);
    await waitFor("the producer to be healthy again", async () => (await h.producer.health()).ok);
    // One rollup, or two if a round had read the batches before the last two were sealed: none lost.
    let next = 0n;
    for (const rollup of await h.landed()) {
      expect(rollup.header.firstBatchSeq).to.equal(next);
      next = rollup.header.lastBatchSeq + 1n;
      expectPayloadOf(h, rollup, h.source.batches.slice(Number(rollup.header.firstBatchSeq), Number(next)));
    }
    expect(next).to.equal(6n);
  });

  it("refuses a batch source that skips or misplaces batches", async function () {
    const h = await harness();
    h.source.seal(3);
    h.source.batches.splice(1, 1); // batch 1 missing
    let error: unknown;
    await h.producer.round().catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(BatchSourceError);
    expect((error as Error).message).to.equal("batch source returned batch 2 at position 1 of a read from 0");
    expect(await h.v.rollupRegistry.nextBatchSeq()).to.equal(0n);
  });

  it("runs as the node's service from its configuration (defaults, bad values named)", async function () {
    const h = await harness();
    const defaults = parseConfig(rollupProducerConfigSchema, { SIGNER_PRIVATE_KEY: h.signer.privateKey });
    expect(defaults).to.include({
      ROLLUP_INTERVAL_MS: 10_000,
      ROLLUP_MAX_BYTES: 120_000,
      ROLLUP_BINDING_DEPTH: 1,
      ROLLUP_POLL_MS: 500,
    });
    expect(() =>
      parseConfig(rollupProducerConfigSchema, { SIGNER_PRIVATE_KEY: h.signer.privateKey, ROLLUP_MAX_BYTES: "200000" }),
    ).to.throw(ConfigError, /^config: ROLLUP_MAX_BYTES: /);

    const source = {
      L1_RPC_URL: "http://127.0.0.1:1",
      REDIS_URL,
      QUEUE_PREFIX: h.prefix,
      SIGNER_PRIVATE_KEY: h.signer.privateKey,
      TX_POLL_INTERVAL_MS: "20",
      ROLLUP_INTERVAL_MS: "1",
      ROLLUP_POLL_MS: "20",
    };
    const config = parseConfig(commonConfigSchema, source);
    const ctx: WorkerContext = {
      config,
      source,
      logger: silentLogger(),
      redis,
      queues: queueSettings(config),
      provider: provider as unknown as L1Provider,
      chainId: Number(h.v.chainId),
      deployment: await deploymentOf(h.v),
      contracts: bindContracts(h.v.addresses, provider),
      metrics: h.metrics,
    };
    await h.sender.stop(); // the service brings its own
    const service = await createRollupProducerService(ctx, { source: h.source, enclave: h.enclave });
    cleanups.push(() => service.stop());
    h.source.seal(3);
    await service.start();
    await waitFor("the rollup to land", async () => (await h.v.rollupRegistry.nextBatchSeq()) === 3n);
    expect(await service.health()).to.deep.equal({ ok: true });
    await service.stop();
    expect(await h.landed()).to.have.length(1);
  });
});
