/**
 * platform/p2p over real libp2p nodes on loopback: a message reaches every subscriber; a peer that keeps
 * publishing invalid envelopes falls below an honest peer's score at its neighbours (and is graylisted);
 * a node restarted with its persisted key keeps its PeerId and rejoins; a node that knows only the
 * bootstrap node still gets everyone's messages; kad-dht on changes none of this; publishing with no
 * peers does not throw.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { SigningKey, Wallet } from "ethers";

import {
  type Envelope,
  type P2PNode,
  consensusTopic,
  createEnvelopeValidator,
  loadOrCreatePeerKey,
  sealEnvelope,
  secp256k1EnvelopeSigner,
} from "../../../platform/p2p/index.js";
import { connectAll, startTestNode, until, waitForSubscribers } from "../../../testing/p2p.js";

const CHAIN = 31337n;
const TOPIC = consensusTopic(CHAIN, 1n);
const operators = [1n, 2n, 3n, 4n, 5n].map((id) => ({ id, wallet: Wallet.createRandom() }));
const addressOf = (id: bigint) => operators.find((o) => o.id === id)?.wallet.address;

function signed(id: bigint, payload: Uint8Array, committeeId = 1n): Uint8Array {
  const o = operators.find((x) => x.id === id)!;
  return sealEnvelope(
    secp256k1EnvelopeSigner(new SigningKey(o.wallet.privateKey), id),
    { chainId: CHAIN, topic: TOPIC, committeeId, height: 1n, sentAtMs: BigInt(Date.now()) },
    payload,
  );
}

function listen(node: P2PNode): Envelope[] {
  const got: Envelope[] = [];
  node.subscribe(TOPIC, createEnvelopeValidator({ chainId: CHAIN, topic: TOPIC, committeeId: 1n, addressOf }), (e) =>
    got.push(e),
  );
  return got;
}

describe("p2p network on loopback", function () {
  this.timeout(60_000);
  const nodes: P2PNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
  });

  async function start(options: Parameters<typeof startTestNode>[0] = { topics: [TOPIC] }): Promise<P2PNode> {
    const n = await startTestNode(options);
    nodes.push(n);
    return n;
  }

  it("a message published by one node reaches the other three", async () => {
    const four = [await start(), await start(), await start(), await start()];
    const inboxes = four.map(listen);
    await connectAll(four);
    await waitForSubscribers(four, TOPIC, 3);
    await four[0]!.publish(TOPIC, signed(1n, new Uint8Array([42])));
    await until("delivery to the three others", () => inboxes.slice(1).every((i) => i.length === 1));
    expect(inboxes[0]).to.have.length(0);
    expect(inboxes[2]![0]!.operatorId).to.equal(1n);
  });

  it("a peer publishing invalid envelopes loses score below an honest peer's, and is graylisted", async () => {
    const [a, honest, bad] = [await start(), await start(), await start()];
    const inbox = listen(a!);
    listen(honest!);
    listen(bad!);
    await connectAll([a!, honest!, bad!]);
    await waitForSubscribers([a!, honest!, bad!], TOPIC, 2);
    for (let i = 0; i < 3; i++) await honest!.publish(TOPIC, signed(2n, new Uint8Array([i])));
    for (let i = 0; i < 15; i++) await bad!.publish(TOPIC, signed(3n, new Uint8Array([100 + i]), 9n)); // wrong committee
    await until("the honest messages", () => inbox.length === 3);
    await until("the bad peer's score to fall", () => a!.score(bad!.peerId) < -80);
    expect(a!.score(honest!.peerId)).to.be.greaterThan(a!.score(bad!.peerId));
    expect(inbox.every((e) => e.operatorId === 2n)).to.equal(true);
  });

  it("a node restarted with its persisted key keeps its PeerId and rejoins", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "veilnet-p2p-"));
    try {
      const key = await loadOrCreatePeerKey(dir);
      const a = await start();
      const inbox = listen(a);
      const b1 = await startTestNode({ topics: [TOPIC], privateKey: key });
      listen(b1);
      await b1.dial(a.multiaddrs()[0]!);
      const id = b1.peerId;
      await b1.stop();
      const b2 = await start({ topics: [TOPIC], privateKey: await loadOrCreatePeerKey(dir) });
      expect(b2.peerId).to.equal(id);
      listen(b2);
      await b2.dial(a.multiaddrs()[0]!);
      await waitForSubscribers([a, b2], TOPIC, 1);
      await b2.publish(TOPIC, signed(4n, new Uint8Array([4])));
      await until("the restarted node's message", () => inbox.length === 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("through a bootstrap node (kad-dht on), a node that knows only it gets the others' messages", async () => {
    const boot = await start({ topics: [TOPIC], dht: true });
    listen(boot);
    const list = boot.multiaddrs().map((a) => (a.includes("/p2p/") ? a : `${a}/p2p/${boot.peerId}`));
    const b = await start({ topics: [TOPIC], bootstrap: list, dht: true });
    const c = await start({ topics: [TOPIC], bootstrap: list, dht: true });
    const inboxB = listen(b);
    listen(c);
    await waitForSubscribers([boot], TOPIC, 2);
    await until(
      "b and c to see the topic's subscribers",
      () => b.subscribers(TOPIC).length >= 1 && c.subscribers(TOPIC).length >= 1,
    );
    await c.publish(TOPIC, signed(5n, new Uint8Array([5])));
    await until("c's message at b", () => inboxB.length === 1);
  });

  it("publishing with no peers resolves with 0 recipients", async () => {
    const lonely = await start();
    listen(lonely);
    expect(await lonely.publish(TOPIC, signed(1n, new Uint8Array([1])))).to.equal(0);
  });
});
