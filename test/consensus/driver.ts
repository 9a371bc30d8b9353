/**
 * enclave/consensus/driver.ts over an in-process network (testing/consensus-net.ts) with real secp256k1
 * signatures, durable logs in temporary directories and real timers at test speed: a committee of one
 * decides alone; four decide the same values; a killed leader is replaced by a round change; f+1 killed
 * members halt the committee without a conflicting decision and it resumes when they return; a restarted
 * member replays its log and sends no conflicting vote; a lagging member syncs from certificates; a forged
 * certificate and an invalid proposal are refused.
 */
import { expect } from "chai";

import { certificateProblem } from "../../enclave/consensus/certificate.js";
import { ecdsaVerifier } from "../../enclave/consensus/keys.js";
import { proposerOf } from "../../enclave/consensus/qbft/index.js";
import { type DecidedRecord, WireFormatError, decodeWire, encodeWire } from "../../enclave/consensus/wire.js";
import { TestCommittee } from "../../testing/consensus-net.js";
import { defined } from "../../testing/defined.js";

const TIMER = { quickMs: 200, quickRounds: 6, slowMs: 1_000 };
const FAST = { batchIntervalMs: 20, timer: TIMER };

describe("consensus driver", function () {
  this.timeout(60_000);
  let net: TestCommittee | undefined;

  afterEach(async () => {
    const committee = net;
    net = undefined;
    if (committee === undefined) return;
    await committee.stopAll();
    try {
      committee.checkSafety();
    } finally {
      await committee.dispose();
    }
  });

  it("a committee of one decides every height alone, through the same path", async () => {
    net = new TestCommittee([1], FAST);
    await net.startAll();
    await net.waitForHeight(10, 5_000);
    const decided = net.traffic.filter((t) => t.message.kind === "decided");
    expect(decided.length).to.be.greaterThanOrEqual(10);
  });

  it("four members decide the same value at every height, proposers in turn", async () => {
    net = new TestCommittee([1, 2, 3, 4], FAST);
    await net.startAll();
    await net.waitForHeight(12, 10_000);
    const proposers = new Set(
      net
        .member(1)
        .app.values.slice(0, 12)
        .map((v) => (JSON.parse(v) as { proposer: number }).proposer),
    );
    expect([...proposers].sort()).to.deep.equal([1, 2, 3, 4]);
  });

  it("a killed leader is replaced by a round change and the committee goes on", async () => {
    const committee = [1, 2, 3, 4];
    net = new TestCommittee(committee, FAST);
    await net.startAll();
    await net.waitForHeight(3, 5_000);
    const height = net.member(1).app.values.length;
    // Kill the round-1 proposer of the next height that has not started yet.
    const leader = proposerOf(committee, height + 1, 1);
    await net.kill(leader);
    const alive = committee.filter((id) => id !== leader);
    await net.waitForHeight(height + 6, 10_000, alive);
    const roundChanges = net.traffic.filter(
      (t) => t.message.kind === "qbft" && t.message.signed.message.type === "round-change",
    );
    expect(roundChanges.length).to.be.greaterThan(0);
  });

  it("f+1 killed members halt the committee without deciding anything; it resumes when they return", async () => {
    const committee = [1, 2, 3, 4];
    net = new TestCommittee(committee, FAST);
    await net.startAll();
    await net.waitForHeight(3, 5_000);
    await net.kill(3);
    await net.kill(4);
    await new Promise((r) => setTimeout(r, 300));
    const halted = net.member(1).app.values.length;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(net.member(1).app.values.length).to.equal(halted);
    expect(net.member(2).app.values.length).to.be.at.most(halted + 1);
    await net.start(3);
    await net.start(4);
    await net.waitForHeight(halted + 5, 20_000);
  });

  it("a member restarted from its data replays its log, sends no conflicting vote and catches up", async () => {
    const committee = [1, 2, 3, 4];
    net = new TestCommittee(committee, FAST);
    await net.startAll();
    for (let i = 0; i < 4; i++) {
      await net.waitForHeight(3 + i * 3, 10_000);
      await net.kill(2);
      await new Promise((r) => setTimeout(r, 30 + i * 20));
      await net.start(2);
    }
    await net.waitForHeight(20, 20_000);
  });

  it("a leader killed after its proposal and vote, before the decision, restarts without contradicting itself", async () => {
    const committee = [1, 2, 3, 4];
    net = new TestCommittee(committee, FAST);
    await net.startAll();
    await net.kill(4); // every decision now needs all of 1, 2 and 3
    await net.waitForHeight(2, 5_000, [1, 2, 3]);
    const target = net.member(1).app.values.length + 2;
    const leader = proposerOf(committee, target, 1);
    const victim = leader === 4 ? undefined : leader;
    let killed = false;
    net.taps.push((from, message) => {
      if (killed || from !== victim || message.kind !== "qbft") return;
      const m = message.signed.message;
      if (m.type === "prepare" && m.height === target && m.round === 1) {
        killed = true;
        defined(net, "the committee").isolate(from);
      }
    });
    if (victim === undefined) return; // operator 4 leads that height: nothing to kill (never with this committee's order)
    await net.waitForHeight(target + 1, 2_000, [1, 2, 3]).catch(() => undefined);
    expect(killed, "the leader was cut off after its PREPARE").to.equal(true);
    await net.kill(victim);
    const stuck = net.member(committee.find((id) => id !== victim && id !== 4) ?? 1).app.values.length;
    expect(stuck, "no decision without the killed leader").to.equal(target);
    await net.start(victim);
    await net.waitForHeight(target + 4, 15_000, [1, 2, 3]);
  });

  it("a member that was away syncs the decided heights from its peers' certificates", async () => {
    net = new TestCommittee([1, 2, 3, 4], FAST);
    await net.startAll();
    await net.kill(4);
    await net.waitForHeight(15, 10_000, [1, 2, 3]);
    await net.start(4);
    await net.waitForHeight(20, 20_000);
    expect(net.traffic.some((t) => t.from === 4 && t.message.kind === "sync-request")).to.equal(true);
  });

  it("an invalid proposal is refused and the next round decides a valid one", async () => {
    const committee = [1, 2, 3, 4];
    net = new TestCommittee(committee, FAST);
    net.member(1).app.proposeInvalid = true;
    await net.startAll();
    await net.waitForHeight(10, 15_000);
    for (const v of net.member(2).app.values) expect((JSON.parse(v) as { proposer: number }).proposer).to.not.equal(1);
  });

  it("a certificate is refused when forged, short, from outside the committee or for another value", async () => {
    net = new TestCommittee([1, 2, 3, 4], FAST);
    await net.startAll();
    await net.waitForHeight(2, 5_000);
    const record = defined(
      net.traffic.map((t) => t.message).find((m) => m.kind === "decided" && m.decided.height === 1),
      "a decided record of height 1",
    ) as { kind: "decided"; decided: DecidedRecord };
    const verifier = ecdsaVerifier((op) => net?.addresses.get(op));
    const good = record.decided;
    expect(certificateProblem(good, [1, 2, 3, 4], verifier)).to.equal(undefined);
    expect(certificateProblem({ ...good, certificate: good.certificate.slice(0, 2) }, [1, 2, 3, 4], verifier)).to.match(
      /quorum is 3/,
    );
    expect(certificateProblem({ ...good, value: new Uint8Array([1]) }, [1, 2, 3, 4], verifier)).to.match(
      /another value/,
    );
    const c0 = defined(good.certificate[0], "a commit");
    const forged = { ...c0, signature: new Uint8Array(65).fill(7) };
    expect(
      certificateProblem({ ...good, certificate: [forged, ...good.certificate.slice(1)] }, [1, 2, 3, 4], verifier),
    ).to.match(/signature is not valid/);
    expect(certificateProblem(good, [1, 2, 5, 6], verifier)).to.match(/not a committee member/);
    expect(certificateProblem({ ...good, certificate: [c0, c0, c0] }, [1, 2, 3, 4], verifier)).to.match(
      /commits twice/,
    );
  });
});

describe("consensus wire format", () => {
  it("round-trips and refuses malformed messages with the field at fault", () => {
    const sync = { kind: "sync-request", sender: 3, fromHeight: 10 } as const;
    expect(decodeWire(encodeWire(sync))).to.deep.equal(sync);
    const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    expect(() => decodeWire(new Uint8Array([0xff, 0xfe]))).to.throw(WireFormatError, /not UTF-8 JSON/);
    expect(() => decodeWire(enc({ kind: "qbft", signed: { message: { type: "prepare" }, signature: "0x" } }))).to.throw(
      WireFormatError,
      /signed\.message\.height/,
    );
    expect(() => decodeWire(enc({ ...sync, extra: 1 }))).to.throw(WireFormatError, /Unrecognized key/);
    expect(() =>
      decodeWire(
        enc({
          kind: "qbft",
          signed: { message: { type: "commit", height: 1, round: 1, sender: 1, digest: "zz" }, signature: "0x00" },
        }),
      ),
    ).to.throw(WireFormatError, /digest/);
  });
});
