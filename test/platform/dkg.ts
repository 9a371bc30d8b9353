/**
 * platform/dkg, the Joint-Feldman DKG with verifiable complaints, run among simulated operators on a
 * seeded network that delays, reorders and duplicates messages (testing/dkg-network.ts): honest runs at
 * n = 4, 7, 10, 13 make one key whose t shares sign for it (and t − 1 do not) with a threshold proof of
 * possession; a cheating dealer (a bad share, inconsistent commitments, two deals), a silent one and a
 * false accuser are named in the abort by every honest operator and no key is made; forged, replayed,
 * other-ceremony and malformed messages are refused and counted while the ceremony still completes; a
 * participant restarted mid-ceremony never produces a key.
 */
import { expect } from "chai";
import { getBytes, keccak256, toUtf8Bytes } from "ethers";
import fc from "fast-check";

import {
  type PublicKey,
  publicKeyOf,
  recoverSignature,
  secretKeyOf,
  sign,
  splitSecret,
  verify,
  verifyProofOfPossession,
} from "../../platform/bls/index.js";
import {
  type DkgCompleted,
  type DkgMessage,
  type DkgResult,
  DkgConfigError,
  DkgParticipant,
  ceremonyOf,
  ephemeralSecret,
  payloadHash,
  randomScalar,
  resumeCeremony,
  sealShare,
  shareAad,
} from "../../platform/dkg/index.js";
import {
  type Behaviour,
  type SimOperator,
  type SimRun,
  resigned,
  seededRandom,
  simCeremonyId,
  simOperators,
  simulateCeremony,
} from "../../testing/dkg-network.js";

const OWNER = "0x00000000000000000000000000000000000000a1";
const NONCE = 7n;
const DIGEST = getBytes(keccak256(toUtf8Bytes("a rollup header")));
const hex = (k: PublicKey): string => Buffer.from(k.bytes).toString("hex");

/** Every listed operator's result. */
function resultsOf(run: SimRun, indices: readonly number[]): DkgResult[] {
  return indices.map((j) => {
    const r = run.results.get(j);
    expect(r, `operator ${j} has a result`).to.not.equal(undefined);
    return r!;
  });
}

/** Operators 1..n except `faulty`. */
const honest = (n: number, ...faulty: number[]): number[] =>
  Array.from({ length: n }, (_, i) => i + 1).filter((j) => !faulty.includes(j));

/** Every honest operator aborted naming exactly `culprits`. */
function expectAbortNaming(run: SimRun, n: number, faulty: readonly number[], culprits: readonly number[]): void {
  for (const r of resultsOf(run, honest(n, ...faulty))) {
    expect(r.kind, JSON.stringify(r)).to.equal("aborted");
    if (r.kind === "aborted") expect(r.culprits).to.deep.equal(culprits);
  }
}

/**
 * A dealer that changes its deal with `tamper` and keeps to it: its echo of its own deal and its
 * justification carry the changed deal, with `answers` (accuser → ephemeral secret) where given.
 */
function cheatingDealer(
  tamper: (
    deal: Extract<DkgMessage, { round: 1 }>,
    ops: readonly SimOperator[],
  ) => {
    deal: Extract<DkgMessage, { round: 1 }>;
    answers?: Map<number, Uint8Array>;
  },
): Behaviour {
  let changed: ReturnType<typeof tamper> | undefined;
  return (message, _to, ops) => {
    const signer = ops[message.sender - 1]!.signer;
    if (message.round === 1) {
      changed ??= tamper(message, ops);
      return changed.deal;
    }
    if (changed === undefined) return message;
    const deal = changed.deal;
    if (message.round === 2) {
      const echoes = message.echoes.map((e) =>
        e.dealer === message.sender ? { ...e, payloadHash: payloadHash(deal), signature: deal.signature } : e,
      );
      return resigned({ ...message, echoes }, signer);
    }
    const answers = message.answers.map((a) => ({
      ...a,
      ephemeralSecret: changed?.answers?.get(a.accuser) ?? a.ephemeralSecret,
    }));
    return resigned({ ...message, deal, answers }, signer);
  };
}

/** A dealer that sends `victim` a share of another polynomial (a well-formed ciphertext). */
function badShareTo(victim: number, seed: string): Behaviour {
  return cheatingDealer((deal, ops) => {
    const random = seededRandom(seed, "cheat");
    const eph = ephemeralSecret(random);
    const bad = secretKeyOf(randomScalar(random));
    const ciphertexts = [...deal.ciphertexts];
    ciphertexts[victim - 1] = sealShare(
      ops[victim - 1]!.encryptionKey,
      bad,
      eph,
      shareAad(deal.ceremonyId, deal.sender, victim),
    );
    return {
      deal: resigned({ ...deal, ciphertexts }, ops[deal.sender - 1]!.signer),
      answers: new Map([[victim, eph]]),
    };
  });
}

/** A dealer whose commitments are another polynomial's (every share fails against them). */
function inconsistentCommitments(seed: string): Behaviour {
  return cheatingDealer((deal, ops) => {
    const random = seededRandom(seed, "commitments");
    const other = splitSecret(secretKeyOf(randomScalar(random)), ops.length, deal.commitments.length, {
      randomScalar: () => randomScalar(random),
    });
    const commitments = other.commitments.map((c) => c.bytes);
    return { deal: resigned({ ...deal, commitments }, ops[deal.sender - 1]!.signer) };
  });
}

/** An operator that complains of `dealer`'s (valid) share. */
function falseAccuser(dealer: number): Behaviour {
  return (message, _to, ops) => {
    if (message.round !== 2) return message;
    const complaints = [...message.complaints, { dealer, reason: "bad-share" as const }];
    return resigned({ ...message, complaints }, ops[message.sender - 1]!.signer);
  };
}

describe("platform/dkg", function () {
  this.timeout(600_000);

  describe("honest ceremonies", () => {
    for (const n of [4, 7, 10, 13]) {
      it(`n = ${n}: one key for all, t shares sign for it and t − 1 do not, a threshold proof of possession`, () => {
        const run = simulateCeremony({ n, seed: `honest-${n}`, pop: { owner: OWNER, nonce: NONCE } });
        const results = resultsOf(run, honest(n)) as DkgCompleted[];
        for (const r of results) expect(r.kind).to.equal("completed");
        const pk = results[0]!.publicKey;
        const t = results[0]!.threshold;
        for (const r of results) {
          expect(hex(r.publicKey)).to.equal(hex(pk));
          expect(r.commitments.map(hex)).to.deep.equal(results[0]!.commitments.map(hex));
          expect(hex(publicKeyOf(r.share.secretKey))).to.equal(hex(r.sharePublicKeys[r.share.index - 1]!));
        }
        const partials = results.map((r) => ({ index: r.share.index, signature: sign(r.share.secretKey, DIGEST) }));
        const shuffled = [...partials].reverse();
        expect(verify(pk, DIGEST, recoverSignature(shuffled.slice(0, t)))).to.equal(true);
        expect(verify(pk, DIGEST, recoverSignature(partials.slice(0, t)))).to.equal(true);
        if (t > 1) expect(verify(pk, DIGEST, recoverSignature(partials.slice(0, t - 1)))).to.equal(false);
        expect(run.proofOfPossession).to.not.equal(undefined);
        expect(verifyProofOfPossession(pk, OWNER, NONCE, run.proofOfPossession!)).to.equal(true);
        expect(verifyProofOfPossession(pk, OWNER, NONCE + 1n, run.proofOfPossession!)).to.equal(false);
      });
    }

    it("is reproducible: the same seed makes the same key, another seed another", () => {
      const key = (seed: string): string => {
        const r = simulateCeremony({ n: 4, seed }).results.get(1);
        return r?.kind === "completed" ? hex(r.publicKey) : "none";
      };
      expect(key("again")).to.equal(key("again"));
      expect(key("again")).to.not.equal(key("other"));
    });
  });

  describe("faults", () => {
    it("a dealer that sends one operator a bad share is named by every honest operator; no key", () => {
      const run = simulateCeremony({ n: 4, seed: "bad-share", behaviours: new Map([[2, badShareTo(3, "bad-share")]]) });
      expectAbortNaming(run, 4, [2], [2]);
      expect((run.results.get(3) as { reason: string }).reason).to.match(/dealer 2 dealt 3 a share/);
    });

    it("a dealer whose commitments do not match its shares is named; no key", () => {
      const run = simulateCeremony({
        n: 7,
        seed: "commitments",
        behaviours: new Map([[5, inconsistentCommitments("c")]]),
      });
      expectAbortNaming(run, 7, [5], [5]);
    });

    it("a dealer that signs two different deals is named for equivocating", () => {
      const twoDeals: Behaviour = (message, to, ops) => {
        if (message.round !== 1 || to % 2 === 0) return message;
        const ciphertexts = [...message.ciphertexts];
        ciphertexts[0] = new Uint8Array(ciphertexts[0]!.length).fill(7);
        return resigned({ ...message, ciphertexts }, ops[message.sender - 1]!.signer);
      };
      const run = simulateCeremony({ n: 4, seed: "equivocate", behaviours: new Map([[4, twoDeals]]) });
      expectAbortNaming(run, 4, [4], [4]);
      expect((run.results.get(1) as { reason: string }).reason).to.match(/two different signed deals from 4/);
    });

    it("a silent dealer is named after the deadlines", () => {
      const run = simulateCeremony({ n: 4, seed: "silent", behaviours: new Map([[1, () => undefined]]) });
      expectAbortNaming(run, 4, [1], [1]);
    });

    it("a dealer that goes silent after dealing, leaving complaints unanswered, is named", () => {
      const quitter: Behaviour = (message) => (message.round === 1 ? message : undefined);
      // operator 3 also never receives 2's deal, so it complains "missing" and 2 must answer.
      const dropTo3: Behaviour = (message, to) => (message.round === 1 && to === 3 ? undefined : message);
      const run = simulateCeremony({
        n: 4,
        seed: "quitter",
        behaviours: new Map([
          [2, (m, to, ops) => (quitter(m, to, ops) === undefined ? undefined : dropTo3(m, to, ops))],
        ]),
      });
      expectAbortNaming(run, 4, [2], [2]);
    });

    it("a lost deal is recovered through the justification: the ceremony completes", () => {
      const dropTo3: Behaviour = (message, to) => (message.round === 1 && to === 3 ? undefined : message);
      const run = simulateCeremony({ n: 4, seed: "lost", behaviours: new Map([[2, dropTo3]]) });
      const results = resultsOf(run, honest(4)) as DkgCompleted[];
      for (const r of results) expect(r.kind, JSON.stringify(r)).to.equal("completed");
      expect(new Set(results.map((r) => hex(r.publicKey))).size).to.equal(1);
    });

    it("a false complaint names the accuser, not the dealer", () => {
      const run = simulateCeremony({ n: 4, seed: "false", behaviours: new Map([[3, falseAccuser(1)]]) });
      expectAbortNaming(run, 4, [3], [3]);
      expect((run.results.get(1) as { reason: string }).reason).to.match(
        /operator 3 complained of dealer 1's valid share/,
      );
    });

    it("forged, replayed, other-ceremony, unknown-sender and malformed messages are refused and counted; it completes", () => {
      const outsider = simOperators(5, "outsider")[4]!;
      const adversary = (message: DkgMessage, to: number): unknown[] => {
        const ops = simOperators(4, "refusals");
        const sender = ops[message.sender - 1]!;
        const other = { ...message, ceremonyId: simCeremonyId("another ceremony") };
        const extras: unknown[] = [
          message, // a replay (before the original: the original is then the duplicate)
          resigned(message, outsider.signer), // forged: signed by someone else
          resigned(other as DkgMessage, sender.signer), // another ceremony's, properly signed
          { ...message, sender: 9 }, // an unknown sender
          { ...message, round: 7 }, // no such round
          { round: 1, commitments: "not bytes" }, // malformed
          null,
        ];
        if (message.round === 1 && to === 2) {
          const junk = [...message.commitments];
          junk[0] = new Uint8Array(96).fill(0xff);
          extras.push(resigned({ ...message, commitments: junk }, sender.signer)); // not a point
        }
        return extras;
      };
      const run = simulateCeremony({ n: 4, seed: "refusals", adversary });
      const results = resultsOf(run, honest(4)) as DkgCompleted[];
      for (const r of results) expect(r.kind, JSON.stringify(r)).to.equal("completed");
      expect(new Set(results.map((r) => hex(r.publicKey))).size).to.equal(1);
      for (const reason of [
        "duplicate",
        "bad signature",
        "wrong ceremony",
        "unknown sender",
        "wrong round",
        "malformed",
      ]) {
        expect(run.refusals.get(reason as never) ?? 0, reason).to.be.greaterThan(0);
      }
      expect(run.refusals.get("invalid content") ?? 0).to.be.greaterThan(0);
    });
  });

  describe("restarts", () => {
    it("a participant rebuilt from a snapshot taken mid-ceremony aborts, naming no one, and says why", () => {
      const ops = simOperators(4, "restart");
      const terms = { ceremonyId: simCeremonyId("restart"), operators: ops };
      const p = new DkgParticipant({ terms, index: 1, signer: ops[0]!.signer, decryptionKey: ops[0]!.decryptionKey });
      p.start();
      const saved = JSON.parse(JSON.stringify(p.snapshot())) as ReturnType<DkgParticipant["snapshot"]>;
      expect(saved.phase).to.equal("dealt");
      expect(JSON.stringify(saved)).to.not.match(/secret/i);
      const resumed = resumeCeremony(saved);
      expect(resumed.kind).to.equal("aborted");
      if (resumed.kind === "aborted") {
        expect(resumed.culprits).to.deep.equal([]);
        expect(resumed.reason).to.match(/restarted in phase "dealt".*never resumed/);
      }
    });

    it("a finished ceremony's snapshot stays finished, with its key", () => {
      const run = simulateCeremony({ n: 4, seed: "finished" });
      const p = run.participants[0]!;
      const resumed = resumeCeremony(p.snapshot());
      const result = run.results.get(1) as DkgCompleted;
      expect(resumed).to.deep.equal({
        kind: "finished",
        outcome: { kind: "completed", publicKey: `0x${hex(result.publicKey)}` },
      });
      expect(p.receive({}).refused?.reason).to.equal("finished");
    });
  });

  describe("terms", () => {
    it("refuses a ceremony id that is not 32 bytes, operators out of order, a threshold outside [1, n]", () => {
      const operators = simOperators(4, "terms");
      const id = simCeremonyId("terms");
      expect(() => ceremonyOf({ ceremonyId: id.subarray(1), operators })).to.throw(DkgConfigError, /32 bytes/);
      expect(() => ceremonyOf({ ceremonyId: id, operators: [...operators].reverse() })).to.throw(
        DkgConfigError,
        /1..n/,
      );
      expect(() => ceremonyOf({ ceremonyId: id, operators, threshold: 5 })).to.throw(DkgConfigError, /threshold/);
      expect(ceremonyOf({ ceremonyId: id, operators }).threshold).to.equal(3);
    });
  });

  describe("properties (n = 4)", () => {
    it("with no faults it always completes with one key; with one cheating dealer it always aborts naming exactly it", () => {
      fc.assert(
        fc.property(
          fc.string({ minLength: 1, maxLength: 8 }),
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 1, max: 3 }),
          (seed, dealer, offset) => {
            const clean = simulateCeremony({ n: 4, seed, maxDelay: 50 });
            const keys = resultsOf(clean, honest(4)).map((r) => (r.kind === "completed" ? hex(r.publicKey) : r.kind));
            expect(new Set(keys).size).to.equal(1);
            expect(keys[0]).to.not.equal("aborted");
            const victim = ((dealer - 1 + offset) % 4) + 1;
            const cheat = simulateCeremony({
              n: 4,
              seed,
              maxDelay: 50,
              behaviours: new Map([[dealer, badShareTo(victim, seed)]]),
            });
            expectAbortNaming(cheat, 4, [dealer], [dealer]);
          },
        ),
        { numRuns: 4 },
      );
    });
  });
});
