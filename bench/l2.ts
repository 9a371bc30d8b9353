/**
 * Figures of the enclave's L2: execution throughput, L1 bytes per L2 transaction, submission-to-rollup
 * latency and validator replay speed. L1 is Hardhat's in-process network (EDR), the L2 the enclave's
 * own in-process EDR chain driven by the real Sequencer, rollup builder, L1Reader and Validator.
 * Prints a table and writes bench/results/l2.json.
 *
 *   npm run bench:l2
 *
 * - transfers/s: 8,192 signed EIP-1559 ETH transfers from 4,096 funded senders to 8,192 fresh
 *   recipients; admission (Mempool.add: decode, native sender recovery, nonce/balance checks, journal
 *   fsync) and execution (Sequencer.produceBatch until the pool is empty) timed separately.
 * - mix: the same with a 50/50 mix of ETH transfers and ERC-20 `transfer` calls (TestToken deployed on
 *   the L2 by a signed transaction).
 * - L1 bytes: 4,096 transfers (one per sender, fresh recipients) sealed in batches of 256 and rolled up
 *   into rollups of ~100 kB payload (compressed + encrypted), submitted to L1 with addRollup; same for
 *   the mix.
 * - latency: the sequencer loop (batch every 1 s) and a rollup loop (a rollup once the oldest batch not
 *   rolled up is 2 s old), L1 mining a block every second; from Mempool.add to the mined addRollup
 *   receipt whose RollupAdded covers the transaction's batch.
 * - validator: 1,000 rollups (one batch of 3 transfers each) on a fresh L1, replayed by a fresh L2 chain
 *   through L1Reader + Validator.step().
 */
import { cpus } from "node:os";

import { getCreateAddress, parseEther } from "ethers";

import { DerivationLabels } from "../enclave/crypto/derive.js";
import { L2Chain } from "../enclave/execution/l2-chain.js";
import type { SealedBatch } from "../enclave/rollup/batch.js";
import { compress, encodeRollupContent } from "../enclave/rollup/codec.js";
import { type BuiltRollup, buildRollup, epochKey } from "../enclave/rollup/builder.js";
import { Validator } from "../enclave/validator/validator.js";
import { at, defined, take } from "../testing/defined.js";
import { rollupArgs } from "../testing/veilnet.js";
import { TestToken__factory } from "../types/ethers-contracts/index.js";
import { silentLogger } from "../platform/logger.js";
import { BENCH_FEE, L2Account } from "./l2-account.js";
import {
  BATCH_INTERVAL_MS,
  type Harness,
  type StepProfile,
  THROUGHPUT_SENDERS as SENDERS,
  admit,
  amount,
  edrAlonePerSecond,
  freshAddress,
  fundSenders,
  l1Reader,
  openHarness,
  run,
  throughputRun,
  transferPair,
} from "./l2-harness.js";
import { type Row, formatRows, writeResults } from "./report.js";

const rows: Row[] = [];
const logger = silentLogger();
const profiles: Record<string, StepProfile> = {};
/** Priority fee (= max fee: the L2 base fee is 0) of every transaction. */
const FEE = BENCH_FEE;
const ERC20_GAS_LIMIT = 60_000n;
const ROLLUP_TARGET_BYTES = 100_000;
const ROLLUP_AGE_MS = 2000;
const L1_BLOCK_MS = 1000;
const round = (x: number, digits = 0): number => Number(x.toFixed(digits));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tokenInterface = TestToken__factory.createInterface();

// --- rollups ---------------------------------------------------------------------------------

interface LandedRollup {
  rollup: BuiltRollup;
  txs: number;
  batches: number;
  payloadBytes: number;
  calldataBytes: number;
  l1Gas: bigint;
}

async function submitRollup(h: Harness, batches: readonly SealedBatch[]): Promise<LandedRollup> {
  const block = (await h.v.connection.ethers.provider.getBlock("latest"))!;
  const rollup = await buildRollup({
    enclave: h.enclave,
    batches,
    binding: { number: BigInt(block.number), hash: block.hash! },
    domain: h.domain,
    previousBatchHash: await h.v.rollupRegistry.lastBatchHash(),
  });
  const sent = await h.v.rollupRegistry.addRollup(...rollupArgs(rollup.header, rollup.payload, rollup.committee));
  const receipt = await sent.wait();
  if (receipt === null || receipt.status !== 1)
    throw new Error(`addRollup of batches ${rollup.header.firstBatchSeq}… failed`);
  h.rolledUpTo = rollup.header.lastBatchSeq + 1n;
  return {
    rollup,
    txs: batches.reduce((n, b) => n + b.txs.length, 0),
    batches: batches.length,
    payloadBytes: (rollup.payload.length - 2) / 2,
    calldataBytes: (sent.data.length - 2) / 2,
    l1Gas: receipt.gasUsed,
  };
}

const rawBytes = (batch: SealedBatch): number => batch.txs.reduce((n, raw) => n + (raw.length - 2) / 2, 0);

/**
 * Rolls up every sealed batch not on L1 yet, in rollups of about `targetBytes` payload: consecutive
 * batches are grouped while their estimated payload (raw transaction bytes × the compression ratio of
 * the first pending batch) stays within the target + 5%; a batch larger than that goes alone.
 */
async function rollUpAll(h: Harness, targetBytes = ROLLUP_TARGET_BYTES): Promise<LandedRollup[]> {
  const pending = h.sequencer.sealedBatches(h.rolledUpTo, 1_000_000);
  const landed: LandedRollup[] = [];
  const [firstPending] = pending;
  if (firstPending === undefined) return landed;
  const sample = pending.find((b) => b.txs.length > 0) ?? firstPending;
  const ratio =
    rawBytes(sample) === 0
      ? 1
      : (await compress(encodeRollupContent({ firstSeq: sample.seq, batches: [sample] }))).length / rawBytes(sample);
  let group: SealedBatch[] = [];
  let estimate = 0;
  for (const batch of pending) {
    const size = rawBytes(batch) * ratio + 16;
    if (group.length > 0 && estimate + size > targetBytes * 1.05) {
      landed.push(await submitRollup(h, group));
      group = [];
      estimate = 0;
    }
    group.push(batch);
    estimate += size;
  }
  if (group.length > 0) landed.push(await submitRollup(h, group));
  return landed;
}

/** Byte figures of rollups carrying L2 transactions. */
function byteFigures(rollups: readonly LandedRollup[]) {
  const carrying = rollups.filter((r) => r.txs > 0);
  const txs = carrying.reduce((n, r) => n + r.txs, 0);
  const payload = carrying.reduce((n, r) => n + r.payloadBytes, 0);
  const calldata = carrying.reduce((n, r) => n + r.calldataBytes, 0);
  const gas = carrying.reduce((n, r) => n + r.l1Gas, 0n);
  return {
    rollups: carrying.length,
    txs,
    payloadBytesPerTx: payload / txs,
    calldataBytesPerTx: calldata / txs,
    overheadBytesPerRollup: (calldata - payload) / carrying.length,
    meanPayloadBytes: payload / carrying.length,
    l1GasPerTx: Number(gas) / txs,
    meanTxsPerRollup: txs / carrying.length,
  };
}

// --- 1–4: throughput, bytes, latency on one L1 + L2 -------------------------------------------

const h = await openHarness();
const latencySettings = {
  batchIntervalMs: BATCH_INTERVAL_MS,
  rollupWhenOldestBatchMs: ROLLUP_AGE_MS,
  rollupPolicy:
    "driven here, not by enclave/rollup-producer: one rollup in flight, of every sealed batch not on L1, once the oldest of them has waited rollupWhenOldestBatchMs (the producer's time threshold, ROLLUP_INTERVAL_MS, defaults to 10 s); binding block = L1 head",
  l1Mining: `in-process EDR L1, interval mining every ${L1_BLOCK_MS} ms during the latency run (automine elsewhere)`,
  submission: "Mempool.add in-process (no JSON-RPC hop); landing observed by polling the addRollup receipt every 50 ms",
};
let latencies: number[];
let bytesTransfers: ReturnType<typeof byteFigures>;
let bytesMix: ReturnType<typeof byteFigures>;
const bigBatchBytes: Record<string, ReturnType<typeof byteFigures>> = {};
try {
  const setupStart = performance.now();
  const { root, senders } = await fundSenders(h, parseEther("0.1"), SENDERS);

  // ERC-20 on L2: deployed by a signed transaction; every sender mints itself a balance.
  const deployer = root;
  const deployTx = await new TestToken__factory().getDeployTransaction("Test Token", "TT", 18);
  const token = getCreateAddress({ from: deployer.address, nonce: deployer.nonce });
  await run(h, [deployer.sign(null, 0n, 3_000_000n, deployTx.data)], "token deployment");
  await run(
    h,
    senders.map((s) => s.sign(token, 0n, 100_000n, tokenInterface.encodeFunctionData("mint", [s.address, 10n ** 24n]))),
    "minting",
  );
  await rollUpAll(h); // the setup's batches: later rollups must follow them
  const setupSeconds = (performance.now() - setupStart) / 1000;

  const erc20 = (s: L2Account): string =>
    s.sign(token, 0n, ERC20_GAS_LIMIT, tokenInterface.encodeFunctionData("transfer", [freshAddress(), amount()]));

  // 1–2. throughput: plain transfers (2 per sender), then the 50/50 mix; every recipient fresh.
  const kinds = [
    {
      name: "transfers",
      label: "ETH transfers",
      make: (s: L2Account): string[] => transferPair(s),
    },
    {
      name: "mix",
      label: "50/50 ETH + ERC-20 transfers",
      make: (s: L2Account, i: number): string[] =>
        i % 2 === 0 ? [s.sign(freshAddress(), amount()), erc20(s)] : [erc20(s), s.sign(freshAddress(), amount())],
    },
  ] as const;
  for (const { name, label, make } of kinds) {
    const r = await throughputRun(
      h,
      profiles,
      name,
      senders.flatMap((s, i) => make(s, i)),
    );
    const n = r.txs;
    const executedPerSecond = n / r.executionSeconds;
    rows.push({
      figure: `${label}: executed per second`,
      value: Math.round(executedPerSecond),
      unit: "tx/s",
      ...(name === "transfers" ? { target: ">= 1,000", ok: executedPerSecond >= 1000 } : {}),
      note: `${n} txs, ${SENDERS} senders, ${n} fresh recipients; Sequencer.produceBatch: ${r.batches} batches in ${r.executionSeconds.toFixed(2)} s`,
    });
    rows.push({
      figure: `${label}: EDR alone (sendRawTransaction + mine) per s`,
      value: Math.round(edrAlonePerSecond(r)),
      unit: "tx/s",
      note: `the ceiling the L2 engine puts on the line above: ${((r.engineMs * 1000) / n).toFixed(0)} µs per tx of its ${((r.executionSeconds * 1e6) / n).toFixed(0)} µs`,
    });
    rows.push({
      figure: `${label}: admitted per second`,
      value: Math.round(n / r.admissionSeconds),
      unit: "tx/s",
      note: `Mempool.add, ${r.admissionSeconds.toFixed(2)} s; decode + native sender recovery alone ${(r.decodeMs / 1000).toFixed(2)} s`,
    });
    rows.push({
      figure: `${label}: end to end per second`,
      value: Math.round(n / (r.admissionSeconds + r.executionSeconds)),
      unit: "tx/s",
      note: "admission then execution, on one thread",
    });
    // The run's batches as rollups: each full batch (block gas limit) is over 100 kB, so goes alone.
    bigBatchBytes[name] = byteFigures(await rollUpAll(h));
  }

  // 3. L1 bytes: one transaction per sender, batches of 256 (what 1 s brings at 256 tx/s), rollups of ~100 kB.
  const bytesRun = async (make: (s: L2Account, i: number) => string): Promise<ReturnType<typeof byteFigures>> => {
    const raws = senders.map(make);
    for (let i = 0; i < raws.length; i += 256) await run(h, raws.slice(i, i + 256), "bytes run");
    return byteFigures(await rollUpAll(h));
  };
  bytesTransfers = await bytesRun((s) => s.sign(freshAddress(), amount()));
  bytesMix = await bytesRun((s, i) => (i % 2 === 0 ? s.sign(freshAddress(), amount()) : erc20(s)));
  for (const [label, b, target] of [
    ["ETH transfers", bytesTransfers, true],
    ["50/50 ETH + ERC-20", bytesMix, false],
  ] as const) {
    rows.push({
      figure: `${label}: L1 payload bytes per tx`,
      value: round(b.payloadBytesPerTx, 1),
      unit: "bytes/tx",
      ...(target ? { target: "<= 120", ok: b.payloadBytesPerTx <= 120 } : {}),
      note: `${b.txs} txs in ${b.rollups} rollups of ${Math.round(b.meanPayloadBytes).toLocaleString("en-US")} B payload on average (RLP, brotli, AES-GCM)`,
    });
    rows.push({
      figure: `${label}: addRollup calldata bytes per tx`,
      value: round(b.calldataBytesPerTx, 1),
      unit: "bytes/tx",
      note: `header + signature + ABI overhead ${Math.round(b.overheadBytesPerRollup)} B per rollup; L1 gas ${Math.round(b.l1GasPerTx)} per tx`,
    });
  }
  for (const { name, label } of kinds) {
    const b = defined(bigBatchBytes[name], `the 1-batch rollup figures of ${name}`);
    rows.push({
      figure: `${label}: L1 payload bytes per tx, 1-batch rollups`,
      value: round(b.payloadBytesPerTx, 1),
      unit: "bytes/tx",
      note: `the throughput run's full batches: ${b.rollups} rollups of ${Math.round(b.meanPayloadBytes).toLocaleString("en-US")} B on average (batches are capped at MAX_BATCH_BYTES, so each fits one 128 KiB L1 transaction)`,
    });
  }

  // 4. latency: sequencer loop + rollup loop, L1 mining every second.
  const provider = h.v.connection.ethers.provider;
  await provider.send("evm_setAutomine", [false]);
  await provider.send("evm_setIntervalMining", [L1_BLOCK_MS]);
  h.sequencer.start();
  let stop = false;
  const firstSeen = new Map<bigint, number>();
  /** When a rollup covering batch seq ≤ key landed: (lastBatchSeq, wall time). */
  const landed: { lastSeq: bigint; at: number }[] = [];
  let loopFailure: unknown;
  const rollupLoop = (async () => {
    while (!stop) {
      await sleep(50);
      const count = BigInt(h.sequencer.batchCount);
      for (let s = h.rolledUpTo; s < count; s++) if (!firstSeen.has(s)) firstSeen.set(s, performance.now());
      const oldest = firstSeen.get(h.rolledUpTo);
      if (oldest === undefined || performance.now() - oldest < ROLLUP_AGE_MS) continue;
      const batches = h.sequencer.sealedBatches(h.rolledUpTo, 1000);
      const block = (await provider.getBlock("latest"))!;
      const rollup = await buildRollup({
        enclave: h.enclave,
        batches,
        binding: { number: BigInt(block.number), hash: block.hash! },
        domain: h.domain,
        previousBatchHash: await h.v.rollupRegistry.lastBatchHash(),
      });
      const sent = await h.v.rollupRegistry.addRollup(...rollupArgs(rollup.header, rollup.payload, rollup.committee));
      for (;;) {
        const receipt = await provider.getTransactionReceipt(sent.hash);
        if (receipt !== null) {
          if (receipt.status !== 1) throw new Error("addRollup reverted in the latency run");
          break;
        }
        await sleep(50);
      }
      landed.push({ lastSeq: rollup.header.lastBatchSeq, at: performance.now() });
      h.rolledUpTo = rollup.header.lastBatchSeq + 1n;
    }
  })().catch((e: unknown) => {
    loopFailure = e;
  });
  const sent: { hash: string; at: number }[] = [];
  for (const s of take(senders, 20, "senders")) {
    const raw = s.sign(freshAddress(), amount());
    sent.push({ at: performance.now(), hash: await h.sequencer.mempool.add(raw) });
    await sleep(300 + Math.random() * 400);
  }
  const deadline = performance.now() + 30_000;
  const landedAt = (hash: string): number | undefined => {
    const status = h.sequencer.mempool.status(hash);
    if (status?.status !== "included") return undefined;
    return landed.find((r) => r.lastSeq >= status.batch)?.at;
  };
  while (sent.some((s) => landedAt(s.hash) === undefined)) {
    if (loopFailure !== undefined) throw loopFailure;
    if (performance.now() > deadline) throw new Error("latency run: transactions not rolled up within 30 s");
    await sleep(100);
  }
  stop = true;
  await rollupLoop;
  await h.sequencer.stop();
  await provider.send("evm_setIntervalMining", [0]);
  await provider.send("evm_setAutomine", [true]);
  latencies = sent.map((s) => (landedAt(s.hash)! - s.at) / 1000).sort((a, b) => a - b);
  const median = (at(latencies, 9, "latency") + at(latencies, 10, "latency")) / 2;
  rows.push({
    figure: "L2 submission to rollup on L1 (median)",
    value: round(median, 2),
    unit: "s",
    note: `20 txs over ~10 s; batch every ${BATCH_INTERVAL_MS / 1000} s, rollup when the oldest batch is ${ROLLUP_AGE_MS / 1000} s old, L1 block every ${L1_BLOCK_MS / 1000} s`,
  });
  rows.push({
    figure: "L2 submission to rollup on L1 (max)",
    value: round(at(latencies, -1, "latency"), 2),
    unit: "s",
    note: `min ${at(latencies, 0, "latency").toFixed(2)} s; ${landed.length} rollups landed during the run`,
  });
  rows.push({
    figure: "setup: funding 4,160 accounts, token deployment, 4,096 mints",
    value: round(setupSeconds, 1),
    unit: "s",
  });
} finally {
  await h.close();
}

// --- 5: validator replaying 1,000 rollups ----------------------------------------------------

const ROLLUPS = 1000;
const TXS_PER_ROLLUP = 3;
{
  const w = await openHarness();
  try {
    const senders = Array.from({ length: TXS_PER_ROLLUP }, () => L2Account.random());
    for (const s of senders) {
      await (await w.v.bridge.connect(w.v.users[0]).depositNative(s.address, { value: parseEther("10") })).wait();
    }
    await w.sequencer.produceBatch(); // the deposits
    await rollUpAll(w);
    const t = performance.now();
    for (let i = 1; i < ROLLUPS; i++) {
      await admit(
        w,
        senders.map((s) => s.sign(freshAddress(), amount())),
      );
      const batch = await w.sequencer.produceBatch();
      if (batch?.txs.length !== TXS_PER_ROLLUP)
        throw new Error(`validator run: batch ${i} holds ${batch?.txs.length} txs`);
      await submitRollup(w, [batch]);
    }
    const producing = (performance.now() - t) / 1000;
    const onL1 = await w.v.rollupRegistry.rollupCount();
    if (onL1 !== BigInt(ROLLUPS)) throw new Error(`validator run: L1 holds ${onL1} rollups, not ${ROLLUPS}`);

    const chain = await L2Chain.create({ l1Bridge: w.v.addresses.Bridge, l1FeeRecipient: w.v.addresses.FeeVault });
    try {
      const l1 = l1Reader(w.v);
      const validator = new Validator({
        chain,
        l1,
        entropy: (seq) => w.enclave.derive(DerivationLabels.batchEntropy(seq)),
        epochKey: (epoch) => epochKey(w.enclave, epoch),
        logger,
      });
      const start = performance.now();
      await l1.sync();
      const synced = performance.now();
      const verified = await validator.step();
      const end = performance.now();
      if (verified !== ROLLUPS || validator.refused !== undefined) {
        throw new Error(`validator verified ${verified} rollups, refused ${JSON.stringify(validator.refused)}`);
      }
      if ((await chain.head()).hash !== (await w.chain.head()).hash)
        throw new Error("validator head differs from the sequencer's");
      const seconds = (end - start) / 1000;
      rows.push({
        figure: `validator: replay ${ROLLUPS.toLocaleString("en-US")} rollups from L1`,
        value: round(seconds, 2),
        unit: "s",
        note: `${Math.round(ROLLUPS / seconds)} rollups/s; reading L1 (logs + ${ROLLUPS} addRollup transactions) ${((synced - start) / 1000).toFixed(2)} s, decrypt + re-execute ${((end - synced) / 1000).toFixed(2)} s; ${TXS_PER_ROLLUP} transfers per rollup`,
      });
      rows.push({
        figure: "validator: rollups replayed per second",
        value: Math.round(ROLLUPS / seconds),
        unit: "rollups/s",
        note: `producing them (admit, seal, build, addRollup) took ${producing.toFixed(1)} s`,
      });
    } finally {
      await chain.close();
    }
  } finally {
    await w.close();
  }
}

// --- report ----------------------------------------------------------------------------------

console.log("\nVeilnet L2 — in-process EDR L1 and L2, real Sequencer / rollup builder / Validator\n");
for (const line of formatRows(rows, { value: 8, unit: 10 })) console.log(line);
console.log("\nwhere the time goes, µs per transaction (RPC into the in-process EDR L2, fsync'd store appends, JS):");
for (const [name, p] of Object.entries(profiles)) {
  const us = (ms: number): string => ((ms * 1000) / p.txs).toFixed(0).padStart(6);
  console.log(`  ${name}: ${us(p.seconds * 1000)} µs/tx`);
  let small = 0;
  for (const [method, e] of Object.entries(p.rpc)) {
    if (e.ms < p.seconds * 10)
      small += e.ms; // under 1% of the step
    else console.log(`    ${method.padEnd(32)}${us(e.ms)}   (${e.calls} calls)`);
  }
  if (small > 0) console.log(`    ${"other RPC".padEnd(32)}${us(small)}`);
  console.log(`    ${"store appends + fsync".padEnd(32)}${us(p.journal.ms)}   (${p.journal.calls} appends)`);
  console.log(`    ${"JavaScript".padEnd(32)}${us(p.otherMs)}`);
}
const out = writeResults("l2", {
  measuredAt: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
  settings: {
    senders: SENDERS,
    fee: `${FEE} wei/gas (max fee = priority fee; L2 base fee 0)`,
    erc20GasLimit: Number(ERC20_GAS_LIMIT),
    blockGasLimit: 60_000_000,
    latency: latencySettings,
  },
  rows,
  bytes: { transfers: bytesTransfers!, mix: bytesMix!, oneBatchRollups: bigBatchBytes },
  latencySeconds: latencies.map((x) => round(x, 3)),
  profile: profiles,
});
console.log(`\nwritten ${out}`);
