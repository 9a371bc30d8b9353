/**
 * enclave/consensus/qbft: the QBFT core (issue 12, DESIGN §9.3). Unit tests of each rejection reason and of the
 * upon-rules, then fast-check properties over the simulated network of testing/qbft-sim.ts: safety (no two honest
 * members decide differently) and liveness (after the heal every honest member decides within a bounded time).
 */
import { expect } from "chai";
import fc from "fast-check";

import {
  type Action,
  Instance,
  type Message,
  type PrePrepare,
  type Prepare,
  type RoundChange,
  type Signed,
  type Vote,
  proposerOf,
  quorumSize,
  valueDigest,
} from "../../enclave/consensus/qbft/index.js";
import { defined } from "../../testing/defined.js";
import { type NetworkConfig, inputValue, signAs, simulate, testSigner, testVerifier } from "../../testing/qbft-sim.js";

const HEIGHT = 7;
const COMMITTEE = [10, 11, 12, 13];
const TIMER = { quickMs: 300, quickRounds: 6, slowMs: 2_000 };
const VALUE = inputValue(10, HEIGHT);
const DIGEST = valueDigest(VALUE);

function instance(self = 11, extra: { onVote?: (vote: Vote) => void; isValidValue?: (v: Uint8Array) => boolean } = {}) {
  return new Instance({
    height: HEIGHT,
    self,
    committee: COMMITTEE,
    signer: testSigner(self),
    verifier: testVerifier(COMMITTEE),
    timer: TIMER,
    maxRoundsAhead: 50,
    ...extra,
  });
}

function prepare(sender: number, round = 1, digest = DIGEST): Signed<Prepare> {
  return signAs(sender, { type: "prepare", height: HEIGHT, round, sender, digest });
}

function commit(sender: number, round = 1, digest = DIGEST): Signed {
  return signAs(sender, { type: "commit", height: HEIGHT, round, sender, digest });
}

function roundChange(
  sender: number,
  round: number,
  prepared?: { round: number; value: Uint8Array },
): Signed<RoundChange> {
  const certificate =
    prepared === undefined ? [] : [10, 11, 12].map((s) => prepare(s, prepared.round, valueDigest(prepared.value)));
  return signAs(sender, {
    type: "round-change",
    height: HEIGHT,
    round,
    sender,
    preparedRound: prepared?.round ?? null,
    digest: prepared === undefined ? null : valueDigest(prepared.value),
    preparedValue: prepared?.value ?? null,
    prepareJustification: certificate,
  });
}

function prePrepare(round: number, value: Uint8Array, overrides: Partial<PrePrepare> = {}): Signed<PrePrepare> {
  const sender = overrides.sender ?? proposerOf(COMMITTEE, HEIGHT, round);
  const message: PrePrepare = {
    type: "pre-prepare",
    height: HEIGHT,
    round,
    sender,
    digest: valueDigest(value),
    value,
    roundChangeJustification: [],
    prepareJustification: [],
    ...overrides,
  };
  return signAs(sender, message);
}

function broadcasts(actions: readonly Action[]): Message[] {
  return actions.flatMap((a) => (a.kind === "broadcast" ? [a.message.message] : []));
}

function expectRejected(node: Instance, signed: Signed, reason: string): void {
  const round = node.currentRound;
  const result = node.receive(signed);
  expect(result.accepted, `expected a rejection (${reason})`).to.equal(false);
  if (!result.accepted) expect(result.reason, result.detail).to.equal(reason);
  expect(node.currentRound).to.equal(round);
}

describe("enclave/consensus/qbft", function () {
  describe("committee arithmetic", function () {
    it("quorum is 2f+1 for n = 3f+1 and the proposer rotates by height and round", function () {
      expect([1, 4, 7, 10, 13].map(quorumSize)).to.deep.equal([1, 3, 5, 7, 9]);
      expect(proposerOf(COMMITTEE, HEIGHT, 1)).to.equal(10);
      expect(proposerOf(COMMITTEE, HEIGHT, 2)).to.equal(11);
      expect(proposerOf([13, 11, 12, 10], HEIGHT, 2)).to.equal(11);
    });
  });

  describe("rejections leave the state unchanged", function () {
    it("wrong height", function () {
      const node = instance();
      node.start();
      expectRejected(
        node,
        signAs(12, { type: "prepare", height: 8, round: 1, sender: 12, digest: DIGEST }),
        "wrong-height",
      );
    });

    it("a sender outside the committee", function () {
      const node = instance();
      node.start();
      expectRejected(
        node,
        signAs(99, { type: "prepare", height: HEIGHT, round: 1, sender: 99, digest: DIGEST }),
        "unknown-sender",
      );
    });

    it("a signature by another member than the sender", function () {
      const node = instance();
      node.start();
      const forged = { message: prepare(13).message, signature: prepare(12).signature };
      expectRejected(node, forged, "bad-signature");
    });

    it("a round below 1 and a round too far ahead", function () {
      const node = instance();
      node.start();
      expectRejected(node, prepare(12, 0), "bad-round");
      expectRejected(node, roundChange(12, 52), "round-too-far");
    });

    it("a duplicate is counted once, and a second different vote is equivocation", function () {
      const node = instance();
      node.start();
      expect(node.receive(prepare(12)).accepted).to.equal(true);
      expectRejected(node, prepare(12), "duplicate");
      expectRejected(node, prepare(12, 1, valueDigest(inputValue(99, HEIGHT))), "equivocation");
    });

    it("a PRE-PREPARE from the wrong proposer or with a wrong digest", function () {
      const node = instance();
      node.start();
      expectRejected(node, prePrepare(1, VALUE, { sender: 12 }), "wrong-proposer");
      expectRejected(node, prePrepare(1, VALUE, { digest: valueDigest(inputValue(1, 1)) }), "digest-mismatch");
    });

    it("a value failing the external check", function () {
      const node = instance(11, { isValidValue: () => false });
      node.start();
      expectRejected(node, prePrepare(1, VALUE), "invalid-value");
    });

    it("a round-1 PRE-PREPARE carrying justifications", function () {
      const node = instance();
      node.start();
      expectRejected(node, prePrepare(1, VALUE, { prepareJustification: [prepare(12)] }), "invalid-justification");
    });

    it("a later PRE-PREPARE without a ROUND-CHANGE quorum, or with one of another round", function () {
      const node = instance();
      node.start();
      const two = [10, 12].map((s) => roundChange(s, 2));
      expectRejected(node, prePrepare(2, VALUE, { roundChangeJustification: two }), "invalid-justification");
      const replayed = [10, 12, 13].map((s) => roundChange(s, 3));
      expectRejected(node, prePrepare(2, VALUE, { roundChangeJustification: replayed }), "invalid-justification");
      const twice = [10, 12, 12].map((s) => roundChange(s, 2));
      expectRejected(node, prePrepare(2, VALUE, { roundChangeJustification: twice }), "invalid-justification");
    });

    it("a later PRE-PREPARE ignoring the highest prepared value", function () {
      const node = instance();
      node.start();
      const prepared = inputValue(10, HEIGHT);
      const quorum = [roundChange(10, 2, { round: 1, value: prepared }), roundChange(12, 2), roundChange(13, 2)];
      const other = inputValue(11, HEIGHT);
      const certificate = defined(quorum[0], "rc").message.prepareJustification;
      expectRejected(
        node,
        prePrepare(2, other, { roundChangeJustification: quorum, prepareJustification: certificate }),
        "invalid-justification",
      );
      expectRejected(node, prePrepare(2, prepared, { roundChangeJustification: quorum }), "invalid-justification");
      const valid = prePrepare(2, prepared, { roundChangeJustification: quorum, prepareJustification: certificate });
      expect(node.receive(valid).accepted).to.equal(true);
      expect(node.currentRound).to.equal(2);
    });

    it("a ROUND-CHANGE with a forged or mismatched prepared certificate", function () {
      const node = instance();
      node.start();
      const good = roundChange(12, 2, { round: 1, value: VALUE });
      const short = signAs(12, {
        ...good.message,
        prepareJustification: good.message.prepareJustification.slice(0, 2),
      });
      expectRejected(node, short, "invalid-justification");
      const forgedVote = { message: prepare(13).message, signature: prepare(12).signature };
      const forged = signAs(12, { ...good.message, prepareJustification: [prepare(10), prepare(11), forgedVote] });
      expectRejected(node, forged, "invalid-justification");
      const wrongValue = signAs(12, { ...good.message, preparedValue: inputValue(5, HEIGHT) });
      expectRejected(node, wrongValue, "digest-mismatch");
      const notBelow = signAs(12, { ...good.message, preparedRound: 2 });
      expectRejected(node, notBelow, "invalid-justification");
      const unprepared = signAs(12, { ...roundChange(12, 2).message, preparedValue: VALUE });
      expectRejected(node, unprepared, "invalid-justification");
      expect(node.receive(good).accepted).to.equal(true);
    });
  });

  describe("upon-rules", function () {
    it("n = 1 decides its own value at once", function () {
      const node = new Instance({
        height: 1,
        self: 5,
        committee: [5],
        signer: testSigner(5),
        verifier: testVerifier([5]),
      });
      const decide = node.start(VALUE).find((a) => a.kind === "decide");
      expect(decide).to.deep.include({ kind: "decide", digest: DIGEST, round: 1 });
      expect(defined(node.decided, "decision").certificate).to.have.length(1);
    });

    it("n = 4: PRE-PREPARE → PREPARE, PREPARE quorum → COMMIT, COMMIT quorum → decide", function () {
      const votes: Vote[] = [];
      const node = instance(11, { onVote: (vote) => votes.push(vote) });
      node.start(inputValue(11, HEIGHT));
      const accepted = node.receive(prePrepare(1, VALUE));
      expect(accepted.accepted && broadcasts(accepted.actions)).to.deep.equal([prepare(11).message]);
      node.receive(prepare(10));
      const prepared = node.receive(prepare(12));
      expect(prepared.accepted && broadcasts(prepared.actions)).to.deep.equal([commit(11).message]);
      node.receive(commit(10));
      const decided = node.receive(commit(12));
      expect(decided.accepted && decided.actions.find((a) => a.kind === "decide")).to.deep.include({ digest: DIGEST });
      expect(votes.map((v) => v.type)).to.deep.equal(["prepare", "commit"]);
    });

    it("onVote runs before the vote leaves and can stop it", function () {
      const node = instance(11, {
        onVote: () => {
          throw new Error("disk full");
        },
      });
      node.start();
      expect(() => node.receive(prePrepare(1, VALUE))).to.throw("disk full");
    });

    it("f+1 ROUND-CHANGEs for higher rounds move a member to the smallest of them; f do not", function () {
      const node = instance();
      node.start();
      const one = node.receive(roundChange(12, 4));
      expect(one.accepted && broadcasts(one.actions)).to.deep.equal([]);
      const two = node.receive(roundChange(13, 3));
      expect(node.currentRound).to.equal(3);
      expect(two.accepted && broadcasts(two.actions).map((m) => [m.type, m.round])).to.deep.equal([
        ["round-change", 3],
      ]);
    });

    it("a member that lags jumps to the lowest round of the f+1 highest senders' rounds, each at its highest", function () {
      const node = instance();
      node.start();
      // One member moved from round 3 to 8: one sender, no jump yet.
      node.receive(roundChange(12, 3));
      node.receive(roundChange(12, 8));
      expect(node.currentRound).to.equal(1);
      // Another is at 9: f+1 = 2 senders above, at 8 and 9: to 8 (not to 12's stale 3).
      node.receive(roundChange(13, 9));
      expect(node.currentRound).to.equal(8);
    });

    it("a timeout moves to the next round with the prepared certificate; the new proposer re-proposes it", function () {
      const node = instance(11);
      node.start(inputValue(11, HEIGHT));
      node.receive(prePrepare(1, VALUE));
      node.receive(prepare(10));
      node.receive(prepare(12));
      expect(node.onTimeout(2)).to.deep.equal([]);
      const rc = broadcasts(node.onTimeout(1));
      expect(rc.map((m) => [m.type, m.round])).to.deep.equal([["round-change", 2]]);
      node.receive(roundChange(12, 2));
      const proposed = node.receive(roundChange(13, 2));
      const proposal = broadcasts(proposed.accepted ? proposed.actions : []).find((m) => m.type === "pre-prepare");
      expect(proposal).to.deep.include({ round: 2, digest: DIGEST });
    });

    it("a second, different COMMIT counts only once f+1 others committed its digest; a third never", function () {
      const node = instance(11);
      node.start();
      const other = valueDigest(inputValue(12, HEIGHT));
      expect(node.receive(commit(12, 1, other)).accepted).to.equal(true);
      expectRejected(node, commit(12), "equivocation");
      node.receive(commit(10));
      node.receive(commit(13));
      node.receive(prePrepare(1, VALUE));
      const decided = node.receive(commit(12));
      expect(decided.accepted && decided.actions.find((a) => a.kind === "decide")).to.deep.include({ digest: DIGEST });
      expectRejected(node, commit(12, 1, valueDigest(inputValue(99, HEIGHT))), "equivocation");
    });

    it("a decided member answers a ROUND-CHANGE with its COMMIT certificate and the proposal", function () {
      const node = instance(11);
      node.start();
      node.receive(prePrepare(1, VALUE));
      for (const sender of [10, 12]) node.receive(prepare(sender));
      for (const sender of [10, 12]) node.receive(commit(sender));
      expect(node.decided).to.not.equal(undefined);
      const answer = node.receive(roundChange(13, 2));
      const types = broadcasts(answer.accepted ? answer.actions : []).map((m) => m.type);
      expect(types).to.deep.equal(["commit", "commit", "commit", "pre-prepare"]);
      expect(node.onTimeout(1)).to.deep.equal([]);
    });

    it("a leader crash: the others change round and decide in round 2", function () {
      const leader = proposerOf([10, 11, 12, 13], 7, 1);
      const result = simulate({ seed: 1, n: 4, crashed: [leader], network: calm(), timer: TIMER, untilMs: 10_000 });
      expect(result.decisions.size).to.equal(3);
      for (const decision of result.decisions.values()) expect(decision.round).to.equal(2);
    });
  });

  describe("properties over the simulated network", function () {
    this.timeout(120_000);
    /** Summed over every run of a property: rejections by reason and decisions after round 1. */
    const seen = { rejections: new Map<string, number>(), laterRounds: 0, byzantineRuns: 0 };
    after(function () {
      for (const reason of ["equivocation", "bad-signature", "unknown-sender", "wrong-height", "round-too-far"]) {
        expect(seen.rejections.get(reason) ?? 0, `runs rejecting for ${reason}`).to.be.greaterThan(0);
      }
      expect(seen.rejections.get("invalid-justification") ?? 0).to.be.greaterThan(0);
      expect(seen.laterRounds, "decisions after a round change").to.be.greaterThan(0);
      expect(seen.byzantineRuns).to.be.greaterThan(0);
    });
    for (const [n, runs] of [
      [4, 400],
      [7, 200],
      [10, 100],
      [13, 50],
    ] as const) {
      it(`n = ${n}: safety and liveness under faults and up to f Byzantine members (${runs} seeds)`, function () {
        fc.assert(
          fc.property(
            fc.integer({ min: 1, max: 2 ** 31 }),
            faultyNetwork(),
            fc.integer({ min: 0, max: Math.floor((n - 1) / 3) }),
            (seed, network, byzantine) => {
              const result = simulate({
                seed,
                n,
                byzantine,
                network,
                timer: TIMER,
                untilMs: network.healAtMs + LIVENESS_BOUND_MS,
              });
              for (const [reason, count] of result.rejections) {
                seen.rejections.set(reason, (seen.rejections.get(reason) ?? 0) + count);
              }
              if ([...result.decisions.values()].some((d) => d.round > 1)) seen.laterRounds += 1;
              if (result.byzantine.length > 0) seen.byzantineRuns += 1;
              const digests = new Set(
                [...result.decisions.entries()].filter(([id]) => result.honest.includes(id)).map(([, d]) => d.digest),
              );
              expect(digests.size, "honest members decided different values").to.be.at.most(1);
              for (const id of result.honest) {
                const decision = defined(result.decisions.get(id), `decision of honest member ${id}`);
                expect(decision.atMs).to.be.at.most(network.healAtMs + LIVENESS_BOUND_MS);
              }
            },
          ),
          { numRuns: runs, seed: 42 },
        );
      });
    }
  });
});

const LIVENESS_BOUND_MS = 30_000;

function calm(): NetworkConfig {
  return { maxDelayMs: 20, dropRate: 0, duplicateRate: 0, partition: false, healAtMs: 0, healedMaxDelayMs: 20 };
}

function faultyNetwork(): fc.Arbitrary<NetworkConfig> {
  return fc.record({
    maxDelayMs: fc.integer({ min: 1, max: 400 }),
    dropRate: fc.double({ min: 0, max: 0.6, noNaN: true }),
    duplicateRate: fc.double({ min: 0, max: 0.3, noNaN: true }),
    partition: fc.boolean(),
    healAtMs: fc.integer({ min: 0, max: 20_000 }),
    healedMaxDelayMs: fc.integer({ min: 1, max: 50 }),
  });
}
