/**
 * A committee's threshold key held by its members' enclaves (enclave/committee/key-dealing.ts, the
 * enclave's share methods): a dealing opens only in the enclave it was sealed to and only as what it
 * says; a bad dealer is caught by the commitments; partials of 2f+1 enclaves recover the key's
 * signature and 2f do not; an enclave never signs two headers from one batch with its share; and the
 * enclaves' approvals register the key on L1, where the partials' recovered signature lands a rollup.
 */
import { expect } from "chai";
import { TypedDataEncoder, getBytes, hexlify } from "ethers";
import { network } from "hardhat";

import {
  type DealingMember,
  KeyDealingError,
  dealCommitteeKey,
  parseKeyDealing,
  dealtShareKeys,
} from "../../enclave/committee/key-dealing.js";
import { Enclave } from "../../enclave/secret/enclave.js";
import { hexOf, proofOfPossession, recoverSignature, thresholdFor, verify } from "../../platform/bls/index.js";
import { ROLLUP_HEADER_TYPES, packThresholdSignature, rollupRegistryDomain } from "../../protocol/rollup.js";
import { RIG_COMMITTEE_ID, RIG_OWNER, deployCommitteeRig, nextRigHeader } from "../../testing/committee.js";
import { MEASUREMENT, type Veilnet, deployVeilnet, rollupArgs } from "../../testing/veilnet.js";

const connection = await network.create();

function enclaves(n: number): Enclave[] {
  return Array.from({ length: n }, () => {
    const e = Enclave.create({ measurement: MEASUREMENT });
    e.initializeSecret();
    return e;
  });
}

const membersOf = (list: readonly Enclave[]): DealingMember[] =>
  list.map((e, i) => ({ operatorId: i + 1, enclave: e.address, enclavePublicKey: e.publicKey }));

const DOMAIN = rollupRegistryDomain(31337n, "0x00000000000000000000000000000000000000aa");
const header = (firstBatchSeq: bigint, salt = 0) => ({
  firstBatchSeq,
  lastBatchSeq: firstBatchSeq,
  lastBatchHash: hexlify(new Uint8Array(32).fill(1 + salt)),
  previousBatchHash: hexlify(new Uint8Array(32)),
  l1BlockNumber: 10n,
  l1BlockHash: hexlify(new Uint8Array(32).fill(3)),
  messageRoot: hexlify(new Uint8Array(32)),
  payloadHash: hexlify(new Uint8Array(32).fill(4)),
  revelationEpoch: 0n,
  keyCommitment: hexlify(new Uint8Array(32).fill(5)),
});

describe("a committee's threshold key in its enclaves", () => {
  it("each share opens only in its enclave, as itself; a bad dealer or a tampered dealing is named", () => {
    const list = enclaves(4);
    const { dealing } = dealCommitteeKey(7n, membersOf(list));
    const parsed = parseKeyDealing(JSON.stringify(dealing));
    for (const [i, e] of list.entries()) expect(e.loadCommitteeShare(parsed, i + 1).index).to.equal(i + 1);
    // Operator 2's share is sealed to enclave 2: enclave 1 cannot open it.
    expect(() => list[0]!.loadCommitteeShare(parsed, 2)).to.throw(KeyDealingError, /does not open/);
    // A share from another dealing (the commitments of another key) is caught: a bad dealer.
    const other = dealCommitteeKey(7n, membersOf(list)).dealing;
    const mixed = { ...parsed, shares: parsed.shares.map((s, i) => (i === 0 ? other.shares[0]! : s)) };
    expect(() => list[0]!.loadCommitteeShare(mixed, 1)).to.throw(KeyDealingError, /bad dealer/);
    // A share sealed for another committee id does not open as this one's.
    const elsewhere = dealCommitteeKey(8n, membersOf(list)).dealing;
    expect(() => list[0]!.loadCommitteeShare({ ...elsewhere, committeeId: "7" }, 1)).to.throw(
      KeyDealingError,
      /not a share of committee 7/,
    );
    // Malformed dealings are refused by field.
    expect(() => parseKeyDealing("{")).to.throw(KeyDealingError, /not JSON/);
    expect(() => parseKeyDealing({ ...parsed, threshold: 2 })).to.throw(KeyDealingError, /commitments|threshold/);
    expect(() => parseKeyDealing({ ...parsed, publicKey: parsed.commitments[1] })).to.throw(
      KeyDealingError,
      /first commitment/,
    );
  });

  it("2f+1 enclaves' partials recover the key's signature, 2f do not; one enclave never signs two headers from one batch", () => {
    for (const n of [4, 7]) {
      const list = enclaves(n);
      const { dealing } = dealCommitteeKey(7n, membersOf(list));
      list.forEach((e, i) => e.loadCommitteeShare(dealing, i + 1));
      const h = header(5n);
      const digest = getBytes(TypedDataEncoder.hash(DOMAIN, ROLLUP_HEADER_TYPES, h));
      const partials = list.map((e, i) => ({ index: i + 1, signature: e.signRollupShare(DOMAIN, h) }));
      const keys = dealtShareKeys(dealing);
      partials.forEach((p, i) => expect(verify(keys.get(i + 1)!.publicKey, digest, p.signature)).to.equal(true));
      const t = thresholdFor(n);
      expect(verify(dealing.publicKey, digest, recoverSignature(partials.slice(n - t)))).to.equal(true);
      expect(verify(dealing.publicKey, digest, recoverSignature(partials.slice(0, t - 1)))).to.equal(false);
      // The same header again: the same signature (BLS is deterministic); another from batch 5: refused.
      expect(list[0]!.signRollupShare(DOMAIN, h)).to.equal(partials[0]!.signature);
      expect(() => list[0]!.signRollupShare(DOMAIN, header(5n, 1))).to.throw(
        /already signed another rollup from batch 5/,
      );
      expect(() => enclaves(1)[0]!.signRollupShare(DOMAIN, h)).to.throw(/holds no committee key share/);
    }
  });

  it("the enclaves' approvals register the key on L1, and their partials land a rollup", async () => {
    const v: Veilnet = await deployVeilnet(connection);
    const r = await deployCommitteeRig(v, 4, 3);
    const list = enclaves(4);
    const generation = await v.enclaveRegistry.revocationGeneration();
    await (
      await r.operators.setCommittee(
        RIG_COMMITTEE_ID,
        list.map((e) => e.address),
        3,
        generation,
      )
    ).wait();
    await (await r.operators.setOwner(RIG_OWNER)).wait();
    const { dealing, secretKey } = dealCommitteeKey(RIG_COMMITTEE_ID, membersOf(list));
    list.forEach((e, i) => e.loadCommitteeShare(dealing, i + 1));
    const domain = rollupRegistryDomain(v.chainId, await r.registry.getAddress());
    const approvals = await Promise.all(list.map((e) => e.approveCommitteeKey(domain, 0n)));
    await expect(
      r.registry.registerCommitteeKey(
        RIG_COMMITTEE_ID,
        dealing.publicKey,
        hexOf(proofOfPossession(secretKey, RIG_OWNER, 0n).eip2537),
        list.map((e) => e.address),
        `0x${approvals.map((a) => a.slice(2)).join("")}`,
      ),
    ).to.emit(r.registry, "CommitteeKeyRegistered");
    const { header: h, payload } = await nextRigHeader(v, r);
    const partials = [1, 2, 3].map((i) => ({ index: i + 1, signature: list[i]!.signRollupShare(domain, h) }));
    const signed = packThresholdSignature(
      list.map((e) => e.address),
      0b1110n,
      hexOf(recoverSignature(partials).eip2537),
      dealing.publicKey,
    );
    await expect(r.registry.addRollup(...rollupArgs(h, payload, signed))).to.emit(r.registry, "RollupAdded");
  });
});
