/**
 * Four sequencers on four L2 chains, one L1, driven by the committee driver (enclave/consensus) through
 * sequencerApp: a deposit and users' transactions sent to any one member (forwarded to the others as the
 * tx topic does) land once, every member seals the same blocks, a killed leader is replaced, and a
 * member restarted from its data directory replays its sealed batches and catches up by sync.
 */
import path from "node:path";

import { expect } from "chai";
import { type BaseWallet, Wallet, parseEther } from "ethers";
import hre from "hardhat";

import { DerivationLabels, derive, deriveBytes } from "../../enclave/crypto/derive.js";
import type { L2Chain } from "../../enclave/execution/l2-chain.js";
import { proposerOf } from "../../enclave/consensus/qbft/index.js";
import { sequencerApp } from "../../enclave/consensus/sequencer-app.js";
import { encodeWire } from "../../enclave/consensus/wire.js";
import type { ConsensusApp } from "../../enclave/consensus/driver.js";
import type { Sequencer } from "../../enclave/sequencer/sequencer.js";
import type { SequencerStore } from "../../enclave/sequencer/store.js";
import { L2_CHAIN_ID } from "../../protocol/predeploys.js";
import { TestCommittee } from "../../testing/consensus-net.js";
import { openTestSequencer } from "../../testing/l2-sequencer.js";
import { type Veilnet, deployVeilnet, initializeGenesis } from "../../testing/veilnet.js";

const GWEI = 10n ** 9n;
const COMMITTEE = [1, 2, 3, 4];

interface Node {
  chain: L2Chain;
  store: SequencerStore;
  sequencer: Sequencer;
}

interface SeqApp extends ConsensusApp {
  node: Node | undefined;
}

function transfer(wallet: BaseWallet, nonce: number, to: string, value: bigint): Promise<string> {
  return wallet.signTransaction({
    type: 2,
    chainId: L2_CHAIN_ID,
    nonce,
    to,
    value,
    gasLimit: 21_000n,
    maxFeePerGas: GWEI,
    maxPriorityFeePerGas: GWEI,
  });
}

describe("a committee of four sequencers", function () {
  this.timeout(120_000);
  let v: Veilnet;
  let secret: string;
  let net: TestCommittee<SeqApp>;
  const nodes = new Map<number, Node>();
  const clock = { now: BigInt(Math.floor(Date.now() / 1000)) };
  const alice = Wallet.createRandom();

  /** Opens member `id`'s sequencer from its data directory and wires the in-process tx forwarding. */
  async function open(id: number): Promise<Node> {
    const dir = net.member(id).dir;
    const opened = await openTestSequencer(v, {
      dataDir: path.join(dir, "sequencer"),
      entropy: (seq) => derive(secret, DerivationLabels.batchEntropy(seq)),
      minPriorityFee: GWEI / 1000n,
      batchIntervalMs: 50,
      clock: () => clock.now,
    });
    opened.sequencer.mempool.onAdmitted((raw) => {
      for (const [other, node] of nodes) if (other !== id) void node.sequencer.mempool.add(raw).catch(() => undefined);
    });
    nodes.set(id, opened);
    net.member(id).app.node = opened;
    return opened;
  }

  function appOf(): SeqApp {
    const app: SeqApp = {
      node: undefined,
      nextHeight: () => (app.node === undefined ? 0 : app.node.sequencer.batchCount),
      propose: (h) => inner().propose(h),
      check: (h, value) => inner().check(h, value),
      apply: (d) => inner().apply(d),
    };
    const inner = () => {
      if (app.node === undefined) throw new Error("member has no sequencer");
      return sequencerApp(app.node.sequencer, { valueKey: deriveBytes(secret, DerivationLabels.consensusValue) });
    };
    return app;
  }

  async function kill(id: number): Promise<void> {
    await net.kill(id);
    const node = nodes.get(id);
    nodes.delete(id);
    if (node !== undefined) {
      await node.chain.close();
      node.store.close();
    }
  }

  before(async () => {
    const connection = await hre.network.create();
    v = await deployVeilnet(connection);
    secret = (await initializeGenesis(v)).secret;
    net = new TestCommittee<SeqApp>(COMMITTEE, {
      batchIntervalMs: 50,
      timer: { quickMs: 500, quickRounds: 6, slowMs: 2_000 },
      app: () => appOf(),
    });
    for (const id of COMMITTEE) await open(id);
    await net.startAll();
  });

  after(async () => {
    for (const id of COMMITTEE) await kill(id);
    try {
      net.checkSafety();
    } finally {
      await net.dispose();
    }
  });

  async function sameHead(ids: readonly number[], height: number): Promise<void> {
    await net.waitForHeight(height, 30_000, ids);
    const heads = await Promise.all(ids.map((id) => nodes.get(id)!.sequencer.sealedBatches(BigInt(height - 1), 1)));
    const hashes = new Set(heads.map((b) => b[0]?.hash));
    expect(hashes.size, `members sealed batch ${height - 1} alike`).to.equal(1);
  }

  it("delivers an L1 deposit and transactions sent to one member, once, with the same blocks on every member", async () => {
    clock.now += 1n;
    await (await v.bridge.connect(v.users[0]).depositNative(alice.address, { value: parseEther("10") })).wait();
    const deadline = Date.now() + 20_000;
    while ((await nodes.get(1)!.chain.balance(alice.address)) === 0n) {
      if (Date.now() > deadline) throw new Error("the deposit did not land");
      await new Promise((r) => setTimeout(r, 50));
    }
    const bob = Wallet.createRandom().address;
    for (let n = 0; n < 5; n++) await nodes.get((n % 4) + 1)!.sequencer.mempool.add(await transfer(alice, n, bob, 1n));
    const deadline2 = Date.now() + 20_000;
    while ((await nodes.get(3)!.chain.balance(bob)) !== 5n) {
      if (Date.now() > deadline2) throw new Error("the transfers did not land");
      await new Promise((r) => setTimeout(r, 50));
    }
    const height = nodes.get(3)!.sequencer.batchCount;
    await sameHead(COMMITTEE, height);
    for (const id of COMMITTEE) expect(await nodes.get(id)!.chain.balance(bob)).to.equal(5n);
    expect(nodes.get(2)!.sequencer.mempool.size).to.equal(0);
    // No L2 plaintext in the consensus traffic: neither party's address nor any transaction's bytes.
    const wire = net.traffic.map((t) => Buffer.from(encodeWire(t.message)).toString("utf8")).join("\n");
    expect(wire.length).to.be.greaterThan(10_000);
    for (const secretText of [alice.address, bob, await transfer(alice, 0, bob, 1n)]) {
      expect(wire.includes(secretText.slice(2).toLowerCase()), `${secretText.slice(0, 12)}… on the wire`).to.equal(
        false,
      );
    }
  });

  it("a killed leader is replaced by a round change; restarted from its data, it replays and catches up", async () => {
    const height = nodes.get(1)!.sequencer.batchCount;
    const leader = proposerOf(COMMITTEE, height + 1, 1);
    await kill(leader);
    const alive = COMMITTEE.filter((id) => id !== leader);
    await sameHead(alive, height + 5);
    await open(leader);
    await net.start(leader);
    await sameHead(COMMITTEE, nodes.get(alive[0]!)!.sequencer.batchCount + 3);
  });
});
