/**
 * The exporter's duty tracker (enclave/exporter/duties.ts) fed with the gossip of a live in-process
 * committee: per height the proposer, the round and the signers; a member that is down is counted as
 * missing its duties; a forged certificate is refused and counted; the metrics carry the same figures.
 */
import { expect } from "chai";
import { Registry } from "prom-client";

import { ecdsaVerifier } from "../../enclave/consensus/keys.js";
import { proposerOf } from "../../enclave/consensus/qbft/index.js";
import { DutyTracker } from "../../enclave/exporter/duties.js";
import { TestCommittee } from "../../testing/consensus-net.js";

const COMMITTEE = [1, 2, 3, 4];

describe("exporter: duties from gossip", function () {
  this.timeout(30_000);

  it("records proposer, round and signers per height, and the missed duties of a member that is down", async () => {
    const net = new TestCommittee(COMMITTEE, {
      batchIntervalMs: 20,
      timer: { quickMs: 200, quickRounds: 6, slowMs: 1_000 },
    });
    const registry = new Registry();
    const tracker = new DutyTracker({
      committee: COMMITTEE,
      verifier: ecdsaVerifier((id) => net.addresses.get(id)),
      registry,
    });
    net.taps.push((_from, message) => {
      if (message.kind === "qbft") tracker.observeMessage(message.signed);
      if (message.kind === "decided") tracker.observeDecided(message.decided);
    });
    try {
      await net.startAll();
      await net.waitForHeight(5, 10_000);
      await net.kill(3);
      const from = net.member(1).app.nextHeight() + 1;
      await net.waitForHeight(from + 8, 15_000, [1, 2, 4]);
    } finally {
      await net.dispose();
    }
    const early = tracker.range(0, 3);
    expect(early.map((d) => d.height)).to.deep.equal([0, 1, 2]);
    for (const d of early) {
      expect(d.proposer).to.equal(proposerOf(COMMITTEE, d.height, d.round));
      expect(d.signers.length).to.be.greaterThanOrEqual(3);
    }
    const late = tracker.range(net.member(1).app.nextHeight() - 6, 6);
    expect(late.length).to.be.greaterThan(0);
    for (const d of late) {
      expect(d.signers).to.not.include(3);
      expect(d.missed).to.deep.equal([3]);
    }
    expect(
      late.some((d) => d.round > 1),
      "operator 3's heights need a round change",
    ).to.equal(true);
    const op3 = tracker.operatorDuties().find((o) => o.operatorId === 3);
    expect(op3?.missed).to.be.greaterThanOrEqual(late.length);
    const text = await registry.metrics();
    expect(text).to.match(/veilnet_exporter_duties_total\{operator="3",result="missed"\} [1-9]/);
    expect(text).to.match(/veilnet_exporter_height [1-9]/);

    const record = { height: 10_000, round: 1, value: new Uint8Array([1]), certificate: [] };
    expect(tracker.observeDecided(record)).to.match(/quorum/);
    expect(await registry.metrics()).to.match(/veilnet_exporter_refused_total\{reason=/);
  });
});
