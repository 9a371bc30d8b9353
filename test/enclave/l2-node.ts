/**
 * The enclave's L2: the sequencer executing deposits and transactions on a real EVM, its mempool's
 * refusals, a restart from its data directory, and validators replaying rollups from L1 — agreeing
 * with an honest sequencer and refusing a rollup that does not re-execute.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import {
  type BaseWallet,
  type TypedDataDomain,
  Wallet,
  ZeroAddress,
  hexlify,
  id,
  parseEther,
  randomBytes,
} from "ethers";
import hre from "hardhat";
import pino from "pino";

import { DerivationLabels, derive } from "../../enclave/crypto/derive.js";
import { L2Chain } from "../../enclave/execution/l2-chain.js";
import { type RollupSigningEnclave, buildRollup, epochKey } from "../../enclave/rollup/builder.js";
import { MempoolError } from "../../enclave/sequencer/mempool.js";
import { Sequencer } from "../../enclave/sequencer/sequencer.js";
import { SequencerStore } from "../../enclave/sequencer/store.js";
import { Validator } from "../../enclave/validator/validator.js";
import { withdrawalMessage } from "../../protocol/messages.js";
import { L2_CHAIN_ID, L2Predeploys } from "../../protocol/predeploys.js";
import {
  type CommitteeSignatures,
  type RollupHeader,
  rollupRegistryDomain,
  signRollupHeader,
} from "../../protocol/rollup.js";
import { at } from "../../testing/defined.js";
import { type Veilnet, deployVeilnet, initializeGenesis, rollupArgs } from "../../testing/veilnet.js";
import { openTestSequencer, testL1Reader } from "../../testing/l2-sequencer.js";

const logger = pino({ level: "silent" });
const GWEI = 10n ** 9n;

interface Harness {
  v: Veilnet;
  enclave: RollupSigningEnclave;
  domain: TypedDataDomain;
  dir: string;
  chain: L2Chain;
  sequencer: Sequencer;
  store: SequencerStore;
  clock: { now: bigint };
}

function openSequencer(v: Veilnet, enclave: RollupSigningEnclave, dir: string, clock: { now: bigint }) {
  return openTestSequencer(v, {
    dataDir: dir,
    entropy: (seq) => enclave.derive(DerivationLabels.batchEntropy(seq)),
    minPriorityFee: GWEI / 1000n,
    batchIntervalMs: 1000,
    logger,
    clock: () => (clock.now += 2n),
  });
}

async function setup(): Promise<Harness> {
  const connection = await hre.network.create();
  const v = await deployVeilnet(connection);
  const genesis = await initializeGenesis(v);
  const enclave: RollupSigningEnclave = {
    derive: (label) => derive(genesis.secret, label),
    address: genesis.address,
    signRollupHeader: (domain, header) => signRollupHeader(genesis.wallet, domain, header),
  };
  const domain = rollupRegistryDomain(v.chainId, v.addresses.RollupRegistry);
  const dir = mkdtempSync(path.join(tmpdir(), "veilnet-seq-"));
  const clock = { now: BigInt(Math.floor(Date.now() / 1000)) };
  return { v, enclave, domain, dir, clock, ...(await openSequencer(v, enclave, dir, clock)) };
}

async function transfer(
  wallet: BaseWallet,
  nonce: number,
  to: string,
  value: bigint,
  overrides: Record<string, unknown> = {},
) {
  return wallet.signTransaction({
    type: 2,
    chainId: L2_CHAIN_ID,
    nonce,
    to,
    value,
    gasLimit: 21_000n,
    maxFeePerGas: GWEI,
    maxPriorityFeePerGas: GWEI,
    ...overrides,
  });
}

async function submit(
  h: Harness,
  header: RollupHeader,
  payload: string,
  signature: CommitteeSignatures,
): Promise<void> {
  await (await h.v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature))).wait();
}

describe("enclave L2: sequencer, mempool, restart, validators", function () {
  let h: Harness;
  const alice = Wallet.createRandom();
  const bob = Wallet.createRandom().address;

  before(async () => {
    h = await setup();
  });

  after(async () => {
    await h.chain.close();
    h.store.close();
    rmSync(h.dir, { recursive: true, force: true });
  });

  it("delivers an L1 deposit on L2 exactly once, in a batch of its own", async () => {
    await (await h.v.bridge.connect(h.v.users[0]).depositNative(alice.address, { value: parseEther("10") })).wait();
    const batch = await h.sequencer.produceBatch();
    expect(batch?.seq).to.equal(0n);
    expect(batch?.l1MessagesTo).to.equal(1n);
    expect(await h.chain.balance(alice.address)).to.equal(parseEther("10"));
    expect(await h.sequencer.produceBatch()).to.equal(undefined); // nothing new: no empty batch, no second delivery
    expect(await h.chain.balance(alice.address)).to.equal(parseEther("10"));
  });

  it("executes a transfer, pays the fee collector gas and L1 data fee", async () => {
    const raw = await transfer(alice, 0, bob, parseEther("1"));
    const hash = await h.sequencer.mempool.add(raw);
    expect(h.sequencer.mempool.status(hash)?.status).to.equal("pending");
    const collectorBefore = await h.chain.balance(L2Predeploys.feeCollector);
    const batch = await h.sequencer.produceBatch();
    expect(batch?.txs).to.deep.equal([raw]);
    expect(h.sequencer.mempool.status(hash)).to.deep.equal({ status: "included", batch: batch!.seq });
    expect(await h.chain.balance(bob)).to.equal(parseEther("1"));
    const paid = parseEther("9") - (await h.chain.balance(alice.address));
    const gasFee = 21_000n * GWEI;
    expect(paid > gasFee, "the L1 data fee is charged on top of gas").to.equal(true);
    expect((await h.chain.balance(L2Predeploys.feeCollector)) - collectorBefore).to.equal(paid);
  });

  it("refuses bad transactions with errors that say what is wrong", async () => {
    const pool = h.sequencer.mempool;
    const refusal = async (raw: string): Promise<MempoolError> => {
      try {
        await pool.add(raw);
      } catch (e) {
        return e as MempoolError;
      }
      throw new Error("accepted");
    };
    expect((await refusal("0x02f8")).code).to.equal("malformed");
    expect((await refusal(await transfer(alice, 1, bob, 1n, { chainId: 1n }))).message).to.match(/wrong chain id 1/);
    expect((await refusal(await transfer(alice, 1, bob, 1n, { maxPriorityFeePerGas: 1n }))).code).to.equal(
      "underpriced",
    );
    expect((await refusal(await transfer(alice, 0, bob, 1n))).message).to.match(/nonce too low/);
    const broke = Wallet.createRandom();
    expect((await refusal(await transfer(broke, 0, bob, 0n))).message).to.match(/insufficient funds .* L1 data fee/);
    // All of alice's balance as value: gas and the L1 data fee no longer fit.
    const all = await h.chain.balance(alice.address);
    expect((await refusal(await transfer(alice, 1, bob, all))).code).to.equal("insufficient-funds");
    expect(pool.size).to.equal(0);
  });

  it("orders by fee then arrival, and a reverting transaction is included with status 0", async () => {
    const carol = Wallet.createRandom();
    await (await h.v.bridge.connect(h.v.users[0]).depositNative(carol.address, { value: parseEther("1") })).wait();
    await h.sequencer.produceBatch();
    const cheap = await transfer(alice, 1, bob, 1n);
    const dear = await transfer(carol, 0, bob, 1n, { maxPriorityFeePerGas: 2n * GWEI, maxFeePerGas: 2n * GWEI });
    // A call the L2 bridge refuses (withdrawNative with no value reverts ZeroAmount).
    const reverting = await transfer(alice, 2, L2Predeploys.bridge, 0n, { gasLimit: 100_000n, data: "0x3ccfd60b" });
    await h.sequencer.mempool.add(cheap);
    const revertHash = await h.sequencer.mempool.add(reverting);
    await h.sequencer.mempool.add(dear);
    const batch = await h.sequencer.produceBatch();
    expect(batch?.txs).to.deep.equal([dear, cheap, reverting]);
    const receipt = (await h.chain.rpc("eth_getTransactionReceipt", [revertHash])) as { status: string };
    expect(receipt.status).to.equal("0x0");
  });

  it("the fee collector sends what it collected to the L1 FeeVault through the bridge", async () => {
    const collected = await h.chain.balance(L2Predeploys.feeCollector);
    expect(collected > 0n).to.equal(true);
    const flush = await transfer(alice, 3, L2Predeploys.feeCollector, 0n, {
      gasLimit: 200_000n,
      data: id("flush()").slice(0, 10),
    });
    await h.sequencer.mempool.add(flush);
    const batch = (await h.sequencer.produceBatch())!;
    const message = at(batch.messages, 0, "message of the batch");
    // The flush's own gas went to the collector after it was emptied: only the earlier fees left.
    expect(message).to.deep.include({ sender: L2Predeploys.bridge, topic: 3 });
    const expected = withdrawalMessage({
      l2Bridge: L2Predeploys.bridge,
      l1Bridge: h.v.addresses.Bridge,
      l1Token: ZeroAddress,
      to: h.v.addresses.FeeVault,
      amount: collected,
      sequence: message.sequence,
      nonce: message.nonce,
    });
    expect(message.payload).to.equal(expected.payload);
  });

  it("restarts from its data directory: same state, sealed batches and pending transactions kept", async () => {
    const pendingRaw = await transfer(alice, 4, bob, 5n);
    const pendingHash = await h.sequencer.mempool.add(pendingRaw);
    const head = await h.chain.head();
    const batches = h.sequencer.batchCount;
    await h.chain.close();
    h.store.close();

    Object.assign(h, await openSequencer(h.v, h.enclave, h.dir, h.clock));
    expect((await h.chain.head()).hash).to.equal(head.hash);
    expect(h.sequencer.batchCount).to.equal(batches);
    expect(h.sequencer.mempool.status(pendingHash)?.status).to.equal("pending");
    const batch = await h.sequencer.produceBatch();
    expect(batch?.txs).to.deep.equal([pendingRaw]);
  });

  it("a validator replays the rollups from L1 and reaches the sequencer's state", async () => {
    const batches = h.sequencer.sealedBatches(0n, 1000);
    const half = Math.ceil(batches.length / 2);
    for (const part of [batches.slice(0, half), batches.slice(half)]) {
      const block = (await h.v.connection.ethers.provider.getBlock("latest"))!;
      const r = await buildRollup({
        enclave: h.enclave,
        batches: part,
        binding: { number: BigInt(block.number), hash: block.hash! },
        domain: h.domain,
        previousBatchHash: await h.v.rollupRegistry.lastBatchHash(),
      });
      await submit(h, r.header, r.payload, r.committee);
    }
    const chain = await L2Chain.create({ l1Bridge: h.v.addresses.Bridge, l1FeeRecipient: h.v.addresses.FeeVault });
    try {
      const validator = new Validator({
        chain,
        l1: testL1Reader(h.v),
        entropy: (seq) => h.enclave.derive(DerivationLabels.batchEntropy(seq)),
        epochKey: (epoch) => epochKey(h.enclave, epoch),
        logger,
      });
      expect(await validator.step()).to.equal(2);
      expect(validator.refused).to.equal(undefined);
      expect((await chain.head()).hash).to.equal((await h.chain.head()).hash);
      expect(await chain.balance(bob)).to.equal(await h.chain.balance(bob));
    } finally {
      await chain.close();
    }
  });

  it("a validator checks who signed: a rollup whose signer is not in the committee it names is refused", async () => {
    const chain = await L2Chain.create({ l1Bridge: h.v.addresses.Bridge, l1FeeRecipient: h.v.addresses.FeeVault });
    try {
      const validator = new Validator({
        chain,
        l1: testL1Reader(h.v),
        entropy: (seq) => h.enclave.derive(DerivationLabels.batchEntropy(seq)),
        epochKey: (epoch) => epochKey(h.enclave, epoch),
        logger,
        // A view of L1 in which the committee's only member is another enclave.
        committee: () =>
          Promise.resolve({ signers: new Set([Wallet.createRandom().address.toLowerCase()]), quorum: 1 }),
      });
      expect(await validator.step()).to.equal(0);
      expect(validator.refused?.reason).to.match(/signed it, not a member of committee/);
      const quorumOfTwo = new Validator({
        chain,
        l1: testL1Reader(h.v),
        entropy: (seq) => h.enclave.derive(DerivationLabels.batchEntropy(seq)),
        epochKey: (epoch) => epochKey(h.enclave, epoch),
        logger,
        committee: () => Promise.resolve({ signers: new Set([h.enclave.address.toLowerCase()]), quorum: 2 }),
      });
      expect(await quorumOfTwo.step()).to.equal(0);
      expect(quorumOfTwo.refused?.reason).to.match(/1 distinct members signed it, committee 1 needs 2/);
    } finally {
      await chain.close();
    }
  });

  it("a validator refuses a signed rollup whose batches do not re-execute to the claimed hash", async () => {
    const raw = await transfer(alice, 5, bob, 7n);
    await h.sequencer.mempool.add(raw);
    const batch = (await h.sequencer.produceBatch())!;
    const block = (await h.v.connection.ethers.provider.getBlock("latest"))!;
    // The attested sequencer key signs a rollup claiming a state its batch does not produce.
    const forged = { ...batch, hash: hexlify(randomBytes(32)) };
    const r = await buildRollup({
      enclave: h.enclave,
      batches: [forged],
      binding: { number: BigInt(block.number), hash: block.hash! },
      domain: h.domain,
      previousBatchHash: await h.v.rollupRegistry.lastBatchHash(),
    });
    await submit(h, r.header, r.payload, r.committee); // L1 cannot tell: it does not execute

    const chain = await L2Chain.create({ l1Bridge: h.v.addresses.Bridge, l1FeeRecipient: h.v.addresses.FeeVault });
    try {
      const validator = new Validator({
        chain,
        l1: testL1Reader(h.v),
        entropy: (seq) => h.enclave.derive(DerivationLabels.batchEntropy(seq)),
        epochKey: (epoch) => epochKey(h.enclave, epoch),
        logger,
      });
      expect(await validator.step()).to.equal(2); // the two honest rollups
      expect(validator.refused?.hash).to.equal(r.hash);
      expect(validator.refused?.reason).to.match(/re-executes to block .* the sequencer claims/);
      const before = await chain.head();
      expect(await validator.step()).to.equal(0); // it follows no further
      expect((await chain.head()).hash, "the refused batch was undone").to.equal(before.hash);
      expect(await chain.balance(bob)).to.equal((await h.chain.balance(bob)) - 7n);
    } finally {
      await chain.close();
    }
  });
});
