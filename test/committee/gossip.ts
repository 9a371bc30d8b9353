/**
 * The committee's gossip (enclave/committee/gossip.ts) over real libp2p nodes on loopback: four
 * consensus drivers decide the same values through it; a member that stops is replaced by a round
 * change and catches up when it returns; forwarded transactions reach every member sealed (the raw
 * gossip holds none of their bytes); envelopes from outside the committee, with a QBFT sender other
 * than their signer, or malformed, never reach a driver.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { SigningKey, Wallet, hexlify, randomBytes } from "ethers";
import pino from "pino";

import { CommitteeGossip, OPEN_SENDER } from "../../enclave/committee/gossip.js";
import { CommitteeDriver } from "../../enclave/consensus/driver.js";
import { ecdsaSigner, ecdsaVerifier } from "../../enclave/consensus/keys.js";
import { ConsensusStore } from "../../enclave/consensus/store.js";
import { type WireMessage, encodeWire } from "../../enclave/consensus/wire.js";
import { type P2PNode, consensusTopic, sealEnvelope, secp256k1EnvelopeSigner } from "../../platform/p2p/index.js";
import { type LogApp, logApp } from "../../testing/consensus-net.js";
import { connectAll, startTestNode, until, waitForSubscribers } from "../../testing/p2p.js";

const CHAIN = 31337n;
const COMMITTEE_ID = 1n;
const IDS = [1, 2, 3, 4];
const TIMER = { quickMs: 400, quickRounds: 4, slowMs: 2000 };

interface Member {
  id: number;
  key: SigningKey;
  dir: string;
  app: LogApp;
  p2p?: P2PNode;
  gossip?: CommitteeGossip;
  driver?: CommitteeDriver;
  store?: ConsensusStore;
  received: WireMessage[];
  txs: string[];
}

describe("committee gossip over libp2p", function () {
  this.timeout(90_000);
  const logger = pino({ level: process.env.CONSENSUS_TEST_LOG ?? "silent" });
  const members = new Map<number, Member>();
  const addresses = new Map<number, string>();
  const txKey = randomBytes(32);
  const raw: Uint8Array[] = [];

  before(() => {
    for (const id of IDS) {
      const key = new SigningKey(Wallet.createRandom().privateKey);
      addresses.set(id, new Wallet(key.privateKey).address);
      members.set(id, {
        id,
        key,
        dir: mkdtempSync(path.join(tmpdir(), `veilnet-gossip-${id}-`)),
        app: logApp(id, IDS),
        received: [],
        txs: [],
      });
    }
  });

  after(async () => {
    for (const m of members.values()) {
      await stop(m);
      rmSync(m.dir, { recursive: true, force: true });
    }
  });

  const member = (id: number): Member => members.get(id)!;

  async function start(m: Member, bootstrap: readonly string[] = []): Promise<void> {
    const p2p = await startTestNode({ topics: CommitteeGossip.topics(CHAIN, COMMITTEE_ID), bootstrap });
    p2p.onRaw((_topic, data) => raw.push(data));
    const store = new ConsensusStore(path.join(m.dir, "consensus"));
    const ref: { driver?: CommitteeDriver } = {};
    const gossip = new CommitteeGossip({
      p2p,
      chainId: CHAIN,
      committeeId: COMMITTEE_ID,
      members: addresses,
      signer: secp256k1EnvelopeSigner(m.key, BigInt(m.id)),
      txKey,
      currentHeight: () => ref.driver?.status().height ?? 0,
      logger,
      peerRecordIntervalMs: 300,
    });
    const driver = new CommitteeDriver({
      self: m.id,
      committee: IDS,
      signer: ecdsaSigner(m.key),
      verifier: ecdsaVerifier((id) => addresses.get(id)),
      store,
      app: m.app,
      transport: gossip,
      logger,
      batchIntervalMs: 100,
      timer: TIMER,
    });
    ref.driver = driver;
    const d = driver;
    gossip.onConsensus((message) => {
      m.received.push(message);
      d.deliver(message);
    });
    gossip.onTransaction((tx) => m.txs.push(tx));
    gossip.start();
    Object.assign(m, { p2p, gossip, driver, store });
    await d.start();
  }

  async function stop(m: Member): Promise<void> {
    m.gossip?.stop();
    await m.driver?.stop();
    m.store?.close();
    await m.p2p?.stop();
    Object.assign(m, { p2p: undefined, gossip: undefined, driver: undefined, store: undefined });
  }

  const running = () => [...members.values()].filter((m) => m.driver !== undefined);

  async function waitForHeight(height: number, ms = 30_000): Promise<void> {
    await until(
      `height ${height} at ${running()
        .map((m) => `${m.id}:${m.app.nextHeight()}`)
        .join(" ")}`,
      () => running().every((m) => m.app.nextHeight() >= height),
      ms,
    );
  }

  function checkSafety(): void {
    const longest = Math.max(...[...members.values()].map((m) => m.app.values.length));
    for (let h = 0; h < longest; h++) {
      const seen = new Set([...members.values()].map((m) => m.app.values[h]).filter((v) => v !== undefined));
      expect(seen.size, `height ${h}`).to.be.at.most(1);
    }
  }

  it("four members decide the same values through gossip", async () => {
    for (const m of members.values()) await start(m);
    const nodes = running().map((m) => m.p2p!);
    await connectAll(nodes);
    await waitForSubscribers(nodes, consensusTopic(CHAIN, COMMITTEE_ID), 3);
    await waitForHeight(5);
    checkSafety();
  });

  it("forwards transactions sealed: every other member gets them, the wire holds none of their bytes", async () => {
    const tx = hexlify(randomBytes(120));
    member(1).gossip!.forwardTransaction(tx);
    await until("the transaction at members 2-4", () => [2, 3, 4].every((id) => member(id).txs.includes(tx)));
    expect(member(1).txs).to.not.include(tx);
    const needle = Buffer.from(tx.slice(2), "hex").subarray(0, 24);
    expect(raw.some((data) => Buffer.from(data).includes(needle))).to.equal(false);
  });

  it("takes a transaction a non-member (a validator) forwards under the open sender id, sealed; refuses one that does not open", async () => {
    const validatorKey = new SigningKey(Wallet.createRandom().privateKey);
    const p2p = await startTestNode({
      topics: CommitteeGossip.topics(CHAIN, COMMITTEE_ID),
      bootstrap: [member(2).p2p!.multiaddrs()[0]!],
    });
    try {
      const follower = new CommitteeGossip({
        p2p,
        chainId: CHAIN,
        committeeId: COMMITTEE_ID,
        members: addresses,
        signer: secp256k1EnvelopeSigner(validatorKey, OPEN_SENDER),
        txKey,
        currentHeight: () => 0,
        logger,
      });
      follower.start();
      const outsider = new CommitteeGossip({
        p2p,
        chainId: CHAIN,
        committeeId: COMMITTEE_ID,
        members: addresses,
        signer: secp256k1EnvelopeSigner(validatorKey, OPEN_SENDER),
        txKey: randomBytes(32), // not the network's: its payload does not open
        currentHeight: () => 0,
        logger,
      });
      await waitForSubscribers([p2p], follower.txTopic, 1);
      const good = hexlify(randomBytes(100));
      const bad = hexlify(randomBytes(100));
      outsider.forwardTransaction(bad);
      follower.forwardTransaction(good);
      await until("the validator's transaction at every member", () =>
        [1, 2, 3, 4].every((id) => member(id).txs.includes(good)),
      );
      expect([1, 2, 3, 4].some((id) => member(id).txs.includes(bad))).to.equal(false);
      follower.stop();
    } finally {
      await p2p.stop();
    }
  });

  it("drops envelopes from outsiders, with a forged QBFT sender, or malformed, before any driver", async () => {
    const before = member(2).received.length;
    const outsider = secp256k1EnvelopeSigner(new SigningKey(Wallet.createRandom().privateKey), 3n);
    const topic = consensusTopic(CHAIN, COMMITTEE_ID);
    const height = BigInt(member(1).app.nextHeight());
    const forged: WireMessage = { kind: "sync-request", sender: 3, fromHeight: Number(height) };
    const header = { chainId: CHAIN, topic, committeeId: COMMITTEE_ID, height, sentAtMs: BigInt(Date.now()) };
    const p2p = member(1).p2p!;
    // Signed by a key that is not operator 3's.
    await p2p.publish(topic, sealEnvelope(outsider, header, encodeWire(forged)));
    // Signed by member 1, but the message says operator 3 sent it.
    await p2p.publish(topic, sealEnvelope(secp256k1EnvelopeSigner(member(1).key, 1n), header, encodeWire(forged)));
    // Signed by member 1, not a consensus message.
    await p2p.publish(topic, sealEnvelope(secp256k1EnvelopeSigner(member(1).key, 1n), header, new Uint8Array([1, 2])));
    await new Promise((r) => setTimeout(r, 500));
    const got = member(2).received.slice(before);
    expect(got.some((m) => m.kind === "sync-request" && m.sender === 3)).to.equal(false);
  });

  it("a stopped member is replaced by round changes; restarted from its data, it catches up", async () => {
    const leader = member(1).driver!.status().leader;
    await stop(member(leader));
    const at = Math.max(...running().map((m) => m.app.nextHeight()));
    await waitForHeight(at + 4);
    checkSafety();
    const others = running().map((m) => m.p2p!.multiaddrs()[0]!);
    await start(member(leader), others);
    await waitForHeight(at + 8);
    checkSafety();
  });
});
