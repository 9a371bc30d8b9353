/**
 * The epoch-revealer against the in-process Hardhat L1 (the Veilnet fixture, the attested genesis enclave
 * committing its epoch keys through rollups) with a real TxSender and the real Redis (a unique prefix per
 * test). Time travel is `hardhat_mine` (revealableAt is 7,200 + 256 blocks away).
 */
import { expect } from "chai";
import { BrowserProvider, Wallet, ZeroHash, hexlify, keccak256, parseEther, parseUnits, randomBytes } from "ethers";
import { network } from "hardhat";
import { Redis } from "ioredis";
import { Registry } from "prom-client";

import { derive } from "../../enclave/crypto/derive.js";
import { epochKey, epochKeyCommitment } from "../../enclave/rollup/builder.js";
import { EPOCH_LENGTH, epochOf, revealableAt } from "../../protocol/rollup.js";
import type { Deployment } from "../../deploy/deployment-file.js";
import { type L1Provider, bindContracts } from "../../platform/chain.js";
import { ConfigError, commonConfigSchema, parseConfig } from "../../platform/config.js";
import type { WorkerContext } from "../../platform/context.js";
import { createLogger, silentLogger } from "../../platform/logger.js";
import { queueSettings } from "../../platform/runtime.js";
import {
  EpochRevealer,
  type EpochRevealerSettings,
  createEpochRevealerService,
  epochRevealerConfigSchema,
  revealIntentKey,
} from "../../enclave/epoch-revealer/index.js";
import { TxSender, type TxSenderOptions } from "../../platform/tx-sender/tx-sender.js";
import { at } from "../../testing/defined.js";
import { deleteKeys, deploymentOf, waitFor } from "../../testing/worker-process.js";
import {
  REVELATION_PERIOD,
  type Veilnet,
  deployVeilnet,
  initializeGenesis,
  submitRollup,
  testEpochKey,
} from "../../testing/veilnet.js";

const REDIS_URL = "redis://127.0.0.1:6379";
const connection = await network.create();
const { networkHelpers } = connection;

/** The value of counter/gauge `name` in `registry` (0 when absent). */
async function metricValue(registry: Registry, name: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return 0;
  return (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
}

describe("epoch-revealer", function () {
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
    genesis: Awaited<ReturnType<typeof initializeGenesis>>;
    /** The fixture's deployment (found before any time travel: bulk-mined blocks hide older code). */
    deployment: Deployment;
    /** The genesis enclave's key of `epoch` (what the revealer must publish). */
    key(epoch: bigint): string;
    prefix: string;
    metrics: Registry;
    signer: Wallet;
    sender: TxSender;
    revealer: EpochRevealer;
    /** A rollup bound to the latest block, committing the enclave's key of its epoch; returns the epoch. */
    commit(): Promise<bigint>;
    /** A new revealer and TxSender on the same prefix and key: a restart. */
    restart(sender?: Partial<TxSenderOptions>): EpochRevealer;
    /** EpochKeyRevealed events on L1 as [epoch, key]. */
    reveals(): Promise<[bigint, string][]>;
  }

  async function harness(
    opts: { sender?: Partial<TxSenderOptions>; settings?: Partial<EpochRevealerSettings> } = {},
  ): Promise<Harness> {
    const { v, genesis } = await networkHelpers.loadFixture(fixture);
    const prefix = `t-er-${hexlify(randomBytes(4)).slice(2)}`;
    prefixes.push(prefix);
    const signer = Wallet.createRandom() as unknown as Wallet;
    await (await v.admin.sendTransaction({ to: signer.address, value: parseEther("10") })).wait();
    const enclave = { derive: (label: string) => derive(genesis.secret, label) };
    const metrics = new Registry();
    const contracts = bindContracts(v.addresses, provider);
    const deployment = await deploymentOf(v);
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
    const makeRevealer = (sender: TxSender) => {
      const revealer = new EpochRevealer({
        chainId: Number(v.chainId),
        enclave,
        writer: sender,
        contracts,
        provider,
        fromBlock: deployment.deploymentBlock,
        // ER_DEBUG=1 prints the revealer's logs.
        logger: process.env.ER_DEBUG !== undefined ? createLogger("debug") : silentLogger(),
        metrics,
        settings: { pollMs: 20, ...opts.settings },
      });
      cleanups.push(() => revealer.stop());
      return revealer;
    };
    const sender = makeSender(opts.sender);
    const h: Harness = {
      v,
      genesis,
      deployment,
      key: (epoch) => epochKey(enclave, epoch),
      prefix,
      metrics,
      signer,
      sender,
      revealer: makeRevealer(sender),
      async commit() {
        const epoch = epochOf(BigInt(await provider.getBlockNumber()));
        const { header } = await submitRollup(v, genesis, [], {
          keyCommitment: epochKeyCommitment(epochKey(enclave, epoch)),
        });
        expect(header.revelationEpoch).to.equal(epoch);
        return epoch;
      },
      restart(extra = {}) {
        h.sender = makeSender(extra);
        h.revealer = makeRevealer(h.sender);
        return h.revealer;
      },
      async reveals() {
        const logs = await v.rollupRegistry.queryFilter(v.rollupRegistry.filters.EpochKeyRevealed());
        return logs.map((l) => [l.args.epoch, l.args.key]);
      },
    };
    return h;
  }

  it("publishes an epoch's key once its revealableAt is reached, not before, and only once", async function () {
    const h = await harness();
    expect(await h.commit()).to.equal(0n);
    await h.commit(); // a second rollup of the same epoch
    const firstRevealable = revealableAt(0n, REVELATION_PERIOD);
    expect(await h.v.rollupRegistry.revealableAt(0n)).to.equal(firstRevealable);

    // Not revealable: nothing sent.
    const early = await h.revealer.round();
    expect(early.epochs).to.deep.equal([]);
    expect(early.next).to.deep.equal({ epoch: 0n, revealableAt: firstRevealable });
    await networkHelpers.mineUpTo(firstRevealable - 1n);
    expect((await h.revealer.round()).epochs).to.deep.equal([]);
    expect(await h.sender.intent(revealIntentKey(Number(h.v.chainId), 0n))).to.equal(undefined);
    expect(await h.v.rollupRegistry.epochKey(0n)).to.equal(ZeroHash);
    expect(await provider.getTransactionCount(h.signer.address)).to.equal(0);

    // Revealable: the enclave's key lands, checked against the commitment by the registry.
    await networkHelpers.mine(1);
    const round = await h.revealer.round();
    expect(round.epochs).to.have.length(1);
    const done = at(round.epochs, 0, "epoch outcome");
    if (done.kind !== "revealed") throw new Error(`expected a reveal, got ${done.kind}`);
    expect(done.outcome.status).to.equal("mined");
    expect(await h.v.rollupRegistry.epochKey(0n)).to.equal(h.key(0n));
    expect(keccak256(h.key(0n))).to.equal(await h.v.rollupRegistry.epochKeyCommitment(0n));
    expect(await h.reveals()).to.deep.equal([[0n, h.key(0n)]]);
    expect(await metricValue(h.metrics, "veilnet_epoch_keys_revealed_total")).to.equal(1);
    expect(await metricValue(h.metrics, "veilnet_epoch_revealer_settled_through")).to.equal(0);

    // Later rounds: nothing more to do.
    const next = await h.revealer.round();
    expect(next.epochs).to.deep.equal([]);
    expect(next.next).to.deep.equal({ epoch: 1n, revealableAt: revealableAt(1n, REVELATION_PERIOD) });
    expect(await provider.getTransactionCount(h.signer.address)).to.equal(1);
    expect(await h.revealer.health()).to.deep.equal({ ok: true });
  });

  it("after a restart sends nothing for epochs L1 holds; an epoch not yet revealable stays unrevealed", async function () {
    const h = await harness();
    await h.commit();
    await networkHelpers.mineUpTo(revealableAt(0n, REVELATION_PERIOD));
    expect((await h.revealer.round()).epochs.map((e) => e.kind)).to.deep.equal(["revealed"]);
    const epoch1 = await h.commit();
    expect(epoch1).to.equal(1n);
    await h.sender.stop();
    await h.revealer.stop();

    const revealer = h.restart();
    const round = await revealer.round();
    expect(round.epochs).to.deep.equal([{ epoch: 0n, kind: "already-revealed" }]);
    expect(round.next).to.deep.equal({ epoch: 1n, revealableAt: revealableAt(1n, REVELATION_PERIOD) });
    expect(await h.v.rollupRegistry.epochKey(1n)).to.equal(ZeroHash);
    expect(await h.reveals()).to.deep.equal([[0n, h.key(0n)]]);
    expect(await provider.getTransactionCount(h.signer.address)).to.equal(1);

    // Once epoch 1 is revealable the restarted revealer publishes it.
    await networkHelpers.mineUpTo(revealableAt(1n, REVELATION_PERIOD));
    expect((await revealer.round()).epochs.map((e) => [e.epoch, e.kind])).to.deep.equal([[1n, "revealed"]]);
    expect(await h.reveals()).to.deep.equal([
      [0n, h.key(0n)],
      [1n, h.key(1n)],
    ]);
  });

  it("a restart right after broadcasting adopts the pending reveal instead of sending another", async function () {
    const h = await harness({
      sender: {
        testHooks: {
          afterBroadcast: () => {
            throw new Error("crash after broadcast");
          },
        },
      },
    });
    await h.commit();
    await networkHelpers.mineUpTo(revealableAt(0n, REVELATION_PERIOD));
    const key = revealIntentKey(Number(h.v.chainId), 0n);
    await connection.provider.request({ method: "evm_setAutomine", params: [false] });
    try {
      let crashed: unknown;
      await h.revealer.round().catch((e: unknown) => (crashed = e));
      expect((crashed as Error).message).to.equal("crash after broadcast");
      await h.sender.stop();
      await h.revealer.stop();
      expect((await h.sender.intent(key))?.status).to.equal("pending");

      // The restarted process: the reveal is still in the pool, not on L1.
      const revealer = h.restart();
      const round = revealer.round();
      await waitFor("the adopted reveal to be watched", () => h.sender.inFlight === 1);
      await networkHelpers.mine(1);
      const done = at((await round).epochs, 0, "epoch outcome");
      if (done.kind !== "revealed") throw new Error(`expected a reveal, got ${done.kind}`);
      expect(done.outcome.status).to.equal("mined");
    } finally {
      await connection.provider.request({ method: "evm_setAutomine", params: [true] });
    }
    expect(await h.reveals()).to.deep.equal([[0n, h.key(0n)]]);
    expect(await provider.getTransactionCount(h.signer.address)).to.equal(1);
    expect((await h.sender.intent(key))?.status).to.equal("mined");
  });

  it("skips epochs without a rollup and epochs someone else revealed", async function () {
    const h = await harness();
    await h.commit(); // epoch 0
    await networkHelpers.mineUpTo(2n * EPOCH_LENGTH + 10n);
    expect(await h.commit()).to.equal(2n); // epoch 1 has no rollup
    await networkHelpers.mineUpTo(revealableAt(2n, REVELATION_PERIOD));
    // Anyone holding the key may reveal: here the admin publishes epoch 0's.
    await (await h.v.rollupRegistry.revealEpochKey(0n, h.key(0n))).wait();

    const round = await h.revealer.round();
    expect(round.epochs.map((e) => [e.epoch, e.kind])).to.deep.equal([
      [0n, "already-revealed"],
      [1n, "empty"],
      [2n, "revealed"],
    ]);
    expect(await h.v.rollupRegistry.epochKey(2n)).to.equal(h.key(2n));
    expect(await provider.getTransactionCount(h.signer.address)).to.equal(1);
    expect(await metricValue(h.metrics, "veilnet_epoch_revealer_settled_through")).to.equal(2);
  });

  it("refuses loudly to reveal an epoch whose commitment is not the enclave's key, and goes on with the next", async function () {
    const h = await harness();
    // Epoch 0's rollup commits to a key this network's enclave does not derive.
    await submitRollup(h.v, h.genesis);
    const foreign = await h.v.rollupRegistry.epochKeyCommitment(0n);
    expect(foreign).to.equal(keccak256(testEpochKey(0n)));
    await networkHelpers.mineUpTo(EPOCH_LENGTH + 5n);
    await h.commit(); // epoch 1, the enclave's key
    await networkHelpers.mineUpTo(revealableAt(1n, REVELATION_PERIOD));

    const round = await h.revealer.round();
    expect(round.epochs).to.have.length(2);
    expect(round.epochs[0]).to.deep.equal({
      epoch: 0n,
      kind: "refused",
      commitment: foreign,
      keyHash: keccak256(h.key(0n)),
    });
    expect(round.epochs[1]).to.include({ epoch: 1n, kind: "revealed" });
    expect(await h.v.rollupRegistry.epochKey(0n)).to.equal(ZeroHash);
    expect(await h.v.rollupRegistry.epochKey(1n)).to.equal(h.key(1n));
    expect(await h.reveals()).to.deep.equal([[1n, h.key(1n)]]);
    expect(await metricValue(h.metrics, "veilnet_epoch_key_refusals_total")).to.equal(1);
    expect(await h.revealer.health()).to.deep.equal({
      ok: false,
      detail: "epoch key(s) not revealed: L1's commitment is not this enclave's key for epoch(s) 0",
    });
  });

  it("runs as the node's service from its configuration (defaults, bad values named)", async function () {
    const h = await harness();
    expect(parseConfig(epochRevealerConfigSchema, { SIGNER_PRIVATE_KEY: h.signer.privateKey })).to.include({
      REVEAL_POLL_MS: 30_000,
    });
    expect(() =>
      parseConfig(epochRevealerConfigSchema, { SIGNER_PRIVATE_KEY: h.signer.privateKey, REVEAL_POLL_MS: "5" }),
    ).to.throw(ConfigError, /^config: REVEAL_POLL_MS: /);

    await h.commit();
    await networkHelpers.mineUpTo(revealableAt(0n, REVELATION_PERIOD));
    const source = {
      L1_RPC_URL: "http://127.0.0.1:1",
      REDIS_URL,
      QUEUE_PREFIX: h.prefix,
      SIGNER_PRIVATE_KEY: h.signer.privateKey,
      TX_POLL_INTERVAL_MS: "20",
      REVEAL_POLL_MS: "20",
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
      deployment: h.deployment,
      contracts: bindContracts(h.v.addresses, provider),
      metrics: h.metrics,
    };
    await h.sender.stop(); // the service brings its own
    const service = await createEpochRevealerService(ctx, {
      enclave: { derive: (label) => derive(h.genesis.secret, label) },
    });
    cleanups.push(() => service.stop());
    await service.start();
    await waitFor("the key to be revealed", async () => (await h.v.rollupRegistry.epochKey(0n)) !== ZeroHash);
    expect(await h.v.rollupRegistry.epochKey(0n)).to.equal(h.key(0n));
    expect(await service.health()).to.deep.equal({ ok: true });
    await service.stop();
    expect(await h.reveals()).to.have.length(1);
  });
});
