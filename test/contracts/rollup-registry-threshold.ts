/**
 * RollupRegistry with a committee's threshold BLS12-381 key (DESIGN §9.4, issue 13): the key is
 * registered only with every member enclave's approval and a proof of possession, and a rollup signed
 * with the signature recovered from 2f+1 shares is accepted; one from 2f shares, another key, or a
 * committee without a key is refused by name. Issue 8's ECDSA quorum still works beside it.
 */
import { expect } from "chai";
import { Wallet, ZeroHash, keccak256 } from "ethers";
import { network } from "hardhat";

import {
  generateSecretKey,
  hexOf,
  proofOfPossession,
  sign,
  splitSecret,
  thresholdFor,
} from "../../platform/bls/index.js";
import { packThresholdSignature, rollupHash, rollupRegistryDomain, signCommitteeKey } from "../../protocol/rollup.js";
import {
  type CommitteeRig,
  RIG_COMMITTEE_ID,
  RIG_OWNER,
  type RigKey,
  dealRigKey,
  deployCommitteeRig,
  nextRigHeader,
  rigDigest,
  rigKeyRegistration,
  signRigBits,
  thresholdSignRigBits,
} from "../../testing/committee.js";
import { type Veilnet, deployVeilnet, rollupArgs } from "../../testing/veilnet.js";

const connection = await network.create();
const { networkHelpers } = connection;

async function fixture(): Promise<Veilnet> {
  return deployVeilnet(connection);
}

/** A committee of `size` with quorum 2f+1 and a dealt threshold key, registered when `registered`. */
async function keyed(v: Veilnet, size: number, registered = true): Promise<{ r: CommitteeRig; key: RigKey }> {
  const r = await deployCommitteeRig(v, size, thresholdFor(size));
  const key = await dealRigKey(r);
  if (registered) await (await r.registry.registerCommitteeKey(...(await rigKeyRegistration(v, r, key)))).wait();
  return { r, key };
}

const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

describe("RollupRegistry: a committee's threshold key", () => {
  describe("registerCommitteeKey", () => {
    it("registers the key with every member's approval and a proof of possession; the nonce moves", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const { r, key } = await keyed(v, 4, false);
      const args = await rigKeyRegistration(v, r, key);
      await expect(r.registry.registerCommitteeKey(...args))
        .to.emit(r.registry, "CommitteeKeyRegistered")
        .withArgs(RIG_COMMITTEE_ID, keccak256(key.publicKey), key.publicKey, 0n);
      expect(await r.registry.committeeKeyHash(RIG_COMMITTEE_ID)).to.equal(keccak256(key.publicKey));
      expect(await r.registry.committeeKeyNonce(RIG_COMMITTEE_ID)).to.equal(1n);
      // The same approvals cannot be replayed: they were for nonce 0 (they recover to other addresses).
      await expect(r.registry.registerCommitteeKey(...args)).to.be.revertedWithCustomError(
        r.registry,
        "SignerMismatch",
      );
      // Registered again (a resharing keeps the key) with approvals and a proof for nonce 1.
      await expect(r.registry.registerCommitteeKey(...(await rigKeyRegistration(v, r, key))))
        .to.emit(r.registry, "CommitteeKeyRegistered")
        .withArgs(RIG_COMMITTEE_ID, keccak256(key.publicKey), key.publicKey, 1n);
    });

    it("refuses without every member's approval, with an outsider's, a stale signer set or a bad proof", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const { r, key } = await keyed(v, 4, false);
      const registry = r.registry;
      const [id, publicKey, pop, members, approvals] = await rigKeyRegistration(v, r, key);
      const each = (joined: string) => range(0, 4).map((i) => `0x${joined.slice(2 + 130 * i, 2 + 130 * (i + 1))}`);
      const join = (list: readonly string[]) => `0x${list.map((s) => s.slice(2)).join("")}`;
      // Three of four approvals: every member vouches for the key its share belongs to.
      await expect(registry.registerCommitteeKey(id, publicKey, pop, members, join(each(approvals).slice(0, 3))))
        .to.be.revertedWithCustomError(registry, "SignaturesLengthMismatch")
        .withArgs(65 * 3, 65 * 4);
      // An outsider's approval in member 2's place.
      const stranger = Wallet.createRandom();
      const outsider = await signCommitteeKey(stranger, rollupRegistryDomain(v.chainId, await registry.getAddress()), {
        committeeId: id,
        publicKeyHash: keccak256(publicKey),
        nonce: 0n,
      });
      const withOutsider = each(approvals);
      withOutsider[2] = outsider;
      await expect(registry.registerCommitteeKey(id, publicKey, pop, members, join(withOutsider)))
        .to.be.revertedWithCustomError(registry, "SignerMismatch")
        .withArgs(2, members[2], stranger.address);
      // Another key than the one approved.
      const other = hexOf(splitSecret(generateSecretKey(), 4, 3).publicKey.eip2537);
      await expect(registry.registerCommitteeKey(id, other, pop, members, approvals)).to.be.revertedWithCustomError(
        registry,
        "SignerMismatch",
      );
      // A proof of possession for another owner, or by another key.
      const wrongOwner = hexOf(
        proofOfPossession(key.secretKey, "0x000000000000000000000000000000000000dEaD", 0n).eip2537,
      );
      await expect(registry.registerCommitteeKey(id, publicKey, wrongOwner, members, approvals))
        .to.be.revertedWithCustomError(registry, "InvalidProofOfPossession")
        .withArgs(id);
      const otherKeyPop = hexOf(proofOfPossession(generateSecretKey(), RIG_OWNER, 0n).eip2537);
      await expect(registry.registerCommitteeKey(id, publicKey, otherKeyPop, members, approvals))
        .to.be.revertedWithCustomError(registry, "InvalidProofOfPossession")
        .withArgs(id);
      // Signers recorded before a revocation: their approvals no longer count.
      await (await r.operators.setSignersGeneration(1234n)).wait();
      await expect(registry.registerCommitteeKey(id, publicKey, pop, members, approvals)).to.be.revertedWithCustomError(
        registry,
        "StaleCommitteeSigners",
      );
      expect(await registry.committeeKeyHash(id)).to.equal(ZeroHash);
    });
  });

  for (const size of [4, 7, 13]) {
    const quorum = thresholdFor(size);
    describe(`addRollup, a committee of ${size} (threshold ${quorum})`, () => {
      it("accepts the signature recovered from any 2f+1 shares, names the signers, within 230,000 gas", async () => {
        const v = await networkHelpers.loadFixture(fixture);
        const { r, key } = await keyed(v, size);
        // The first rollup of a registry pays for the first writes of lastBatchHash and the epoch's
        // commitment; the budget is for the ones after it (as bench:gas measures).
        for (const [n, bits] of [range(0, quorum), range(size - quorum, quorum), range(1, quorum)].entries()) {
          const { header, payload } = await nextRigHeader(v, r);
          const signed = await thresholdSignRigBits(v, r, key, header, bits);
          const tx = await r.registry.addRollup(...rollupArgs(header, payload, signed));
          await expect(tx)
            .to.emit(r.registry, "RollupAdded")
            .withArgs(
              rollupHash(header),
              header.firstBatchSeq,
              header.lastBatchSeq,
              ZeroHash,
              RIG_COMMITTEE_ID,
              signed.signerBitmap,
            );
          const receipt = await tx.wait();
          if (n > 0) expect(receipt!.gasUsed).to.be.at.most(230_000n);
        }
      });

      it("refuses 2f shares' signature, another key, a bitmap below the quorum; the ECDSA quorum still works", async () => {
        const v = await networkHelpers.loadFixture(fixture);
        const { r, key } = await keyed(v, size);
        const registry = r.registry;
        const { header, payload } = await nextRigHeader(v, r);
        // Interpolating 2f shares gives a point, but not the key's signature.
        const tooFew = await thresholdSignRigBits(v, r, key, header, range(0, quorum - 1));
        const claimed = { ...tooFew, signerBitmap: (1n << BigInt(quorum)) - 1n };
        await expect(registry.addRollup(...rollupArgs(header, payload, claimed))).to.be.revertedWithCustomError(
          registry,
          "InvalidSignature",
        );
        // A bitmap naming fewer than the quorum is refused before any pairing.
        await expect(registry.addRollup(...rollupArgs(header, payload, tooFew)))
          .to.be.revertedWithCustomError(registry, "QuorumNotReached")
          .withArgs(RIG_COMMITTEE_ID, quorum - 1, quorum);
        // A key of the submitter's own, with a valid signature under it.
        const rogue = generateSecretKey();
        const rogueKey = hexOf(splitSecret(rogue, size, quorum).publicKey.eip2537);
        const forged = packThresholdSignature(
          r.addresses,
          (1n << BigInt(quorum)) - 1n,
          hexOf(sign(rogue, await rigDigest(v, r, header)).eip2537),
          rogueKey,
        );
        await expect(registry.addRollup(...rollupArgs(header, payload, forged)))
          .to.be.revertedWithCustomError(registry, "WrongCommitteeKey")
          .withArgs(RIG_COMMITTEE_ID, keccak256(key.publicKey), keccak256(rogueKey));
        // The members' ECDSA quorum still works beside the threshold key.
        const ecdsa = await signRigBits(v, r, header, range(0, quorum));
        await expect(registry.addRollup(...rollupArgs(header, payload, ecdsa))).to.emit(registry, "RollupAdded");
      });
    });
  }

  it("refuses a threshold signature from a committee that registered no key", async () => {
    const v = await networkHelpers.loadFixture(fixture);
    const { r, key } = await keyed(v, 4, false);
    const { header, payload } = await nextRigHeader(v, r);
    const signed = await thresholdSignRigBits(v, r, key, header, [0, 1, 2]);
    await expect(r.registry.addRollup(...rollupArgs(header, payload, signed)))
      .to.be.revertedWithCustomError(r.registry, "NoCommitteeKey")
      .withArgs(RIG_COMMITTEE_ID);
  });
});
