/**
 * The mempool on its own (state faked): replacement rules, per-sender cost accounting, selection order
 * and gas budget, pruning of dead transactions with queryable reasons; the store's crash tolerance;
 * the rollup payload's refusal of tampered or foreign ciphertext.
 */
import { mkdtempSync, appendFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { type BaseWallet, Wallet, hexlify, keccak256, randomBytes } from "ethers";

import { Mempool, MempoolError } from "../../enclave/sequencer/mempool.js";
import { SequencerStore } from "../../enclave/sequencer/store.js";
import { RollupPayloadError, openRollupPayload, sealRollupPayload } from "../../enclave/rollup/codec.js";
import { L2_CHAIN_ID } from "../../protocol/predeploys.js";
import { flipBit } from "../../testing/defined.js";

const GWEI = 10n ** 9n;

function fakeState(balances: Record<string, bigint> = {}) {
  const nonces = new Map<string, bigint>();
  return {
    nonces,
    state: {
      nonce: (a: string) => Promise.resolve(nonces.get(a) ?? 0n),
      balance: (a: string) => Promise.resolve(balances[a] ?? 10n ** 21n),
      l1BaseFee: () => GWEI,
    },
  };
}

function sign(w: BaseWallet, nonce: number, fee: bigint, extra: Record<string, unknown> = {}) {
  return w.signTransaction({
    type: 2,
    chainId: L2_CHAIN_ID,
    nonce,
    to: w.address,
    value: 0n,
    gasLimit: 21_000n,
    maxFeePerGas: fee,
    maxPriorityFeePerGas: fee,
    ...extra,
  });
}

async function refusal(p: Promise<unknown>): Promise<MempoolError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof MempoolError) return e;
    throw e;
  }
  throw new Error("accepted");
}

describe("mempool", () => {
  const a = Wallet.createRandom();
  const b = Wallet.createRandom();

  it("replaces a pending nonce only with a ≥10% higher fee, and says so", async () => {
    const pool = new Mempool(fakeState().state, { minPriorityFee: 1n, blockGasLimit: 30_000_000n });
    const first = await pool.add(await sign(a, 0, 10n * GWEI));
    const low = await refusal(pool.add(await sign(a, 0, 10n * GWEI + 1n)));
    expect(low.code).to.equal("replacement-underpriced");
    const second = await pool.add(await sign(a, 0, 11n * GWEI));
    expect(pool.status(first)).to.deep.equal({ status: "dropped", reason: `replaced by ${second}` });
    expect(pool.size).to.equal(1);
    expect((await refusal(pool.add(await sign(a, 0, 11n * GWEI)))).code).to.equal("already-known");
  });

  it("counts every pending transaction of a sender against its balance", async () => {
    const cost = 21_000n * GWEI;
    const { state } = fakeState({ [a.address]: cost * 2n + cost / 2n });
    const pool = new Mempool(state, { minPriorityFee: 1n, blockGasLimit: 30_000_000n, l1FeeMarginPercent: 0n });
    await pool.add(await sign(a, 0, GWEI));
    await pool.add(await sign(a, 1, GWEI));
    const third = await refusal(pool.add(await sign(a, 2, GWEI)));
    expect(third.message).to.match(/insufficient funds/);
  });

  it("selects by fee then arrival, each sender in nonce order, within the gas budget", async () => {
    const pool = new Mempool(fakeState().state, { minPriorityFee: 1n, blockGasLimit: 30_000_000n });
    const a0 = await pool.add(await sign(a, 0, 1n * GWEI));
    const a1 = await pool.add(await sign(a, 1, 9n * GWEI)); // rich, but behind a0
    const b0 = await pool.add(await sign(b, 0, 5n * GWEI));
    const order = (await pool.select(10_000_000n, 100)).map((t) => t.hash);
    expect(order).to.deep.equal([b0, a0, a1]);
    expect((await pool.select(42_000n, 100)).map((t) => t.hash)).to.deep.equal([b0, a0]);
    expect((await pool.select(10_000_000n, 1)).map((t) => t.hash)).to.deep.equal([b0]);
  });

  it("drops what can no longer execute, with the reason", async () => {
    const { state, nonces } = fakeState();
    const pool = new Mempool(state, { minPriorityFee: 1n, blockGasLimit: 30_000_000n });
    const a0 = await pool.add(await sign(a, 0, GWEI));
    const a1 = await pool.add(await sign(a, 1, GWEI));
    const gapped = await pool.add(await sign(b, 3, GWEI));
    // a's nonces 0 and 1 were used by transactions the pool never saw: executing a0 fails, the
    // sequencer drops it, and the pool reads a's nonce again.
    nonces.set(a.address, 2n);
    pool.drop(a0, "nonce too low");
    await pool.prune(0);
    expect(pool.status(a1)).to.deep.equal({
      status: "dropped",
      reason: `nonce 1 was used by another transaction of ${a.address}`,
    });
    expect(pool.status(gapped)?.status).to.equal("dropped");
    expect((pool.status(gapped) as { reason: string }).reason).to.match(/nonce gap/);
    expect(pool.size).to.equal(0);
  });

  it("reads a sender's nonce from the state once while it has pending transactions", async () => {
    const { state } = fakeState();
    let reads = 0;
    const counting = { ...state, nonce: (address: string) => (reads++, state.nonce(address)) };
    const pool = new Mempool(counting, { minPriorityFee: 1n, blockGasLimit: 30_000_000n });
    const a0 = await pool.add(await sign(a, 0, GWEI));
    await pool.add(await sign(a, 1, GWEI));
    await pool.add(await sign(a, 2, GWEI));
    for (let i = 0; i < 3; i++) await pool.select(10_000_000n, 100);
    await pool.prune(100);
    expect(reads).to.equal(1);
    pool.included([a0], 0n); // the state is not asked: the nonce follows what the pool included
    expect(pool.pendingNonce(a.address, 0n)).to.equal(3n);
    expect((await refusal(pool.add(await sign(a, 0, 2n * GWEI)))).code).to.equal("nonce-too-low");
    expect((await pool.select(10_000_000n, 100)).map((t) => t.nonce)).to.deep.equal([1n, 2n]);
    expect(reads).to.equal(1);
  });

  it("admits one sender's transactions arriving concurrently (several requests at once) without losing one", async () => {
    // The state answers a little later, so that admissions of one sender interleave.
    const { state } = fakeState();
    const slow = {
      ...state,
      nonce: async (address: string) => (await new Promise((r) => setTimeout(r, 5)), state.nonce(address)),
      balance: async (address: string) => (await new Promise((r) => setTimeout(r, 5)), state.balance(address)),
    };
    const pool = new Mempool(slow, { minPriorityFee: 1n, blockGasLimit: 30_000_000n });
    const raws = await Promise.all([0, 1, 2, 3, 4, 5].map((n) => sign(a, n, GWEI)));
    const hashes = await Promise.all(
      [raws.slice(3), raws.slice(0, 3)].map((rs) => Promise.all(rs.map((r) => pool.add(r)))),
    );
    expect(hashes.flat()).to.have.length(6);
    expect(pool.pendingNonce(a.address, 0n)).to.equal(6n);
    expect((await pool.select(10_000_000n, 100)).map((t) => t.nonce)).to.deep.equal([0n, 1n, 2n, 3n, 4n, 5n]);
  });

  it("does not remember a sender's nonce read before a batch included its transactions", async () => {
    const { state, nonces } = fakeState();
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    let hold = false;
    const gated = {
      ...state,
      balance: async (address: string) => {
        if (hold) await held;
        return state.balance(address);
      },
    };
    const pool = new Mempool(gated, { minPriorityFee: 1n, blockGasLimit: 30_000_000n });
    const a0 = await pool.add(await sign(a, 0, GWEI));
    hold = true;
    const late = pool.add(await sign(a, 1, GWEI)); // read the nonce (0), waits for the balance
    await new Promise((r) => setTimeout(r, 5));
    // Meanwhile a batch includes a0: the account is at nonce 1 now.
    nonces.set(a.address, 1n);
    pool.included([a0], 0n);
    release();
    await late;
    expect((await pool.select(10_000_000n, 100)).map((t) => t.nonce)).to.deep.equal([1n]);
  });

  it("keeps a batch within its byte budget", async () => {
    const pool = new Mempool(fakeState().state, { minPriorityFee: 1n, blockGasLimit: 30_000_000n });
    const small = await sign(a, 0, GWEI);
    const big = await sign(b, 0, 2n * GWEI, { data: hexlify(randomBytes(1000)), gasLimit: 100_000n });
    const smallHash = await pool.add(small);
    await pool.add(big);
    const size = (raw: string) => (raw.length - 2) / 2;
    // The richer, bigger one does not fit what is left; the smaller one still does.
    expect((await pool.select(10_000_000n, 100, size(small) + 10)).map((t) => t.hash)).to.deep.equal([smallHash]);
    expect(await pool.select(10_000_000n, 100, size(small) + size(big))).to.have.length(2);
  });

  it("refuses EIP-7702 transactions, unprotected legacy ones and oversized ones", async () => {
    const pool = new Mempool(fakeState().state, { minPriorityFee: 1n, blockGasLimit: 30_000_000n, maxTxBytes: 200 });
    const big = await sign(a, 0, GWEI, { data: hexlify(randomBytes(300)), gasLimit: 100_000n });
    expect((await refusal(pool.add(big))).code).to.equal("oversized");
    const legacyNoChain = await a.signTransaction({
      type: 0,
      nonce: 0,
      to: a.address,
      gasLimit: 21_000n,
      gasPrice: GWEI,
    });
    expect((await refusal(pool.add(legacyNoChain))).message).to.match(/replay protection/);
    const auth = await a.authorize({ address: b.address, nonce: 1n, chainId: L2_CHAIN_ID });
    const setCode = await sign(a, 0, GWEI, { type: 4, authorizationList: [auth], gasLimit: 60_000n });
    const roomy = new Mempool(fakeState().state, { minPriorityFee: 1n, blockGasLimit: 30_000_000n });
    const refused = await refusal(roomy.add(setCode));
    expect(refused.code).to.equal("unsupported-type");
    expect(refused.message).to.equal("transaction type 4 is not supported on Veilnet L2");
  });
});

describe("sequencer store", () => {
  it("ignores a torn last line (crash mid-write) and keeps everything before it", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "veilnet-store-"));
    try {
      const store = new SequencerStore(dir);
      store.accepted("0x01");
      store.accepted("0x02");
      store.removed(keccak256("0x01"), "test");
      store.close();
      appendFileSync(path.join(dir, "mempool.jsonl"), '{"a":"0x0');
      const reopened = new SequencerStore(dir);
      const { pending, dropped } = reopened.recoverMempool(keccak256);
      expect(pending).to.deep.equal(["0x02"]);
      expect(dropped.get(keccak256("0x01"))).to.equal("test");
      reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("journals admissions as group commits: every one resolves once on disk, in order, and close settles those in flight", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "veilnet-store-"));
    try {
      const store = new SequencerStore(dir);
      const raws = Array.from({ length: 200 }, (_, i) => `0x${(i + 1).toString(16).padStart(4, "0")}`);
      const settled: string[] = [];
      await Promise.all(raws.slice(0, 150).map((raw) => store.accepted(raw).then(() => settled.push(raw))));
      expect(settled).to.have.length(150);
      // Some still waiting for their fsync when the store closes: close fsyncs and resolves them.
      const late = raws.slice(150).map((raw) => store.accepted(raw));
      store.close();
      await Promise.all(late);
      let refused: unknown;
      await store.accepted("0xff").catch((e: unknown) => (refused = e));
      expect((refused as Error).message).to.match(/closed/);
      const reopened = new SequencerStore(dir);
      expect(reopened.recoverMempool(keccak256).pending).to.deep.equal(raws);
      reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("recovers as pending only what no sealed batch holds (inclusions are not journaled)", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "veilnet-store-"));
    try {
      const store = new SequencerStore(dir);
      for (const raw of ["0x01", "0x02", "0x03"]) store.accepted(raw);
      store.appendBatch({
        seq: 0n,
        hash: keccak256("0xb0"),
        timestamp: 1n,
        l1BaseFee: 0n,
        l1MessagesTo: 0n,
        txs: ["0x02"],
        l1Block: 0n,
        messages: [],
      });
      store.close();
      const reopened = new SequencerStore(dir);
      expect(reopened.recoverMempool(keccak256).pending).to.deep.equal(["0x01", "0x03"]);
      reopened.close();
      // The journal was compacted to those two.
      const again = new SequencerStore(dir);
      expect(again.recoverMempool(keccak256).pending).to.deep.equal(["0x01", "0x03"]);
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("rollup payload", () => {
  const key = hexlify(randomBytes(32));
  const content = { firstSeq: 7n, batches: [{ timestamp: 1n, l1BaseFee: 2n, l1MessagesTo: 0n, txs: ["0xaabb"] }] };

  it("round-trips and refuses a flipped bit or another epoch's key", async () => {
    const payload = await sealRollupPayload(content, key);
    expect(openRollupPayload(payload, key)).to.deep.equal(content);
    const bytes = Buffer.from(payload.slice(2), "hex");
    flipBit(bytes, 20);
    expect(() => openRollupPayload("0x" + bytes.toString("hex"), key)).to.throw(RollupPayloadError, /does not decrypt/);
    expect(() => openRollupPayload(payload, hexlify(randomBytes(32)))).to.throw(RollupPayloadError, /does not decrypt/);
    expect(() => openRollupPayload("0x01", key)).to.throw(RollupPayloadError, /too short/);
  });
});
