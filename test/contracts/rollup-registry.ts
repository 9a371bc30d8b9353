import { expect } from "chai";
import {
  Signature,
  TypedDataEncoder,
  ZeroHash,
  concat,
  dataSlice,
  hexlify,
  id,
  keccak256,
  randomBytes,
  toBeHex,
} from "ethers";
import { network } from "hardhat";

import { enclaveIdentity } from "../../protocol/attestation.js";
import { type CrossChainMessage, MessageTree } from "../../protocol/messages.js";
import {
  EPOCH_LENGTH,
  ROLLUP_HEADER_TYPES,
  committeeSignersHash,
  type RollupHeader,
  revealableAt,
  rollupHash,
  rollupRegistryDomain,
  signRollupHeader,
} from "../../protocol/rollup.js";
import { GENESIS_COMMITTEE_ID } from "../../platform/committee.js";
import { RollupRegistry__factory } from "../../types/ethers-contracts/index.js";
import {
  BASE_REWARD,
  CHALLENGE_PERIOD,
  PER_BATCH_REWARD,
  REVELATION_PERIOD,
  type Veilnet,
  deployVeilnet,
  feeVaultInvariant,
  initializeGenesis,
  nextRollupHeader,
  passChallengePeriod,
  signRollup,
  submitRollup,
  testEpochKey,
  withdrawalMessages,
  rollupArgs,
  signRollupByCommittee,
} from "../../testing/veilnet.js";
import {
  RIG_COMMITTEE_ID,
  deployCommitteeRig,
  nextRigHeader,
  signForRig,
  signRigBits,
} from "../../testing/committee.js";
import { govern } from "../../testing/governance.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

type Genesis = Awaited<ReturnType<typeof initializeGenesis>>;

interface Fixture {
  v: Veilnet;
  genesis: Genesis;
}

async function fixture(): Promise<Fixture> {
  const v = await deployVeilnet(connection);
  const genesis = await initializeGenesis(v);
  return { v, genesis };
}

/** secp256k1 group order, to build a malleable (high-s) twin of a valid signature. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const ONE_ETH = 10n ** 18n;

/** The fixture of the running test, checked by the FeeVault invariant after each test. */
let current: Veilnet | undefined;

async function load(): Promise<Fixture> {
  const f = await networkHelpers.loadFixture(fixture);
  current = f.v;
  return f;
}

async function latestBlock(): Promise<{ number: bigint; hash: string; timestamp: bigint }> {
  const block = (await ethers.provider.getBlock("latest"))!;
  return { number: BigInt(block.number), hash: block.hash!, timestamp: BigInt(block.timestamp) };
}

/** Everything credited to `operator` and not claimed: vested (claimable) plus not yet vested. */
async function accrued(v: Veilnet, operator: string): Promise<bigint> {
  const [unvested] = await v.feeVault.unvestedRewardsOf(operator);
  return (await v.feeVault.rewardsOf(operator)) + unvested;
}

/** Sends ETH to the FeeVault (its receive() splits it between the treasury and the reward budget). */
async function fundVault(v: Veilnet, amount: bigint): Promise<void> {
  await (await v.admin.sendTransaction({ to: await v.feeVault.getAddress(), value: amount })).wait();
}

describe("RollupRegistry", () => {
  afterEach(async () => {
    if (current !== undefined) await feeVaultInvariant(current);
    current = undefined;
  });

  describe("deployment", () => {
    it("wires the registry to the enclave, operator registries, message bus and fee vault; genesis committee", async () => {
      const { v, genesis } = await load();
      expect(await v.rollupRegistry.enclaveRegistry()).to.equal(await v.enclaveRegistry.getAddress());
      expect(await v.rollupRegistry.operatorRegistry()).to.equal(await v.operatorRegistry.getAddress());
      const [active, signersHash, , size, quorum, liquidated] = await v.operatorRegistry.activeCommittee();
      expect([active, size, quorum, liquidated]).to.deep.equal([GENESIS_COMMITTEE_ID, 1n, 1n, false]);
      expect(signersHash).to.equal(committeeSignersHash([genesis.address]));
      expect(await v.rollupRegistry.lastBatchHash()).to.equal(ZeroHash);
      expect(await v.rollupRegistry.messageBus()).to.equal(await v.messageBus.getAddress());
      expect(await v.rollupRegistry.feeVault()).to.equal(await v.feeVault.getAddress());
      expect(await v.rollupRegistry.challengePeriod()).to.equal(CHALLENGE_PERIOD);
      expect(await v.rollupRegistry.revelationPeriod()).to.equal(REVELATION_PERIOD);
      expect(await v.rollupRegistry.nextBatchSeq()).to.equal(0n);
      expect(await v.rollupRegistry.rollupCount()).to.equal(0n);
    });

    it("has the epoch length the off-chain code uses (protocol/rollup.ts)", async () => {
      const { v } = await load();
      expect(await v.rollupRegistry.EPOCH_LENGTH()).to.equal(EPOCH_LENGTH);
      expect(await v.rollupRegistry.MIN_REVELATION_PERIOD()).to.equal(await v.rollupRegistry.MAX_BINDING_AGE());
    });

    it("emits ChallengePeriodSet and RevelationPeriodSet and refuses a revelation period below the minimum", async () => {
      const { v } = await load();
      const factory = new RollupRegistry__factory(v.admin);
      const args = [
        v.admin.address,
        0,
        v.admin.address,
        await v.enclaveRegistry.getAddress(),
        await v.rollupRegistry.operatorRegistry(),
        await v.messageBus.getAddress(),
        await v.feeVault.getAddress(),
        60,
        60,
      ] as const;
      const registry = await factory.deploy(...args, 300);
      await expect(registry.deploymentTransaction())
        .to.emit(registry, "ChallengePeriodSet")
        .withArgs(60n)
        .and.to.emit(registry, "RevelationPeriodSet")
        .withArgs(300n);
      expect(await registry.revelationPeriod()).to.equal(300n);
      await expect(factory.deploy(...args, 255))
        .to.be.revertedWithCustomError(factory, "RevelationPeriodTooShort")
        .withArgs(255n, 256n);
      await (await factory.deploy(...args, 256)).waitForDeployment();
    });

    it("refuses zero addresses in the constructor", async () => {
      const { v } = await load();
      const factory = new RollupRegistry__factory(v.admin);
      const [enclaves, operators, bus, vault] = await Promise.all([
        v.enclaveRegistry.getAddress(),
        v.rollupRegistry.operatorRegistry(),
        v.messageBus.getAddress(),
        v.feeVault.getAddress(),
      ]);
      const zero = ethers.ZeroAddress;
      const a = v.admin.address;
      for (const args of [
        [zero, a, enclaves, operators, bus, vault],
        [a, zero, enclaves, operators, bus, vault],
        [a, a, zero, operators, bus, vault],
        [a, a, enclaves, zero, bus, vault],
        [a, a, enclaves, operators, zero, vault],
        [a, a, enclaves, operators, bus, zero],
      ] as const) {
        await expect(
          factory.deploy(args[0], 0, args[1], args[2], args[3], args[4], args[5], 60, 60, 256),
        ).to.be.revertedWithCustomError(factory, "ZeroValue");
      }
    });
  });

  describe("addRollup: accepted rollups", () => {
    it("emits RollupAdded keyed by the EIP-712 struct hash and advances the sequence and count", async () => {
      const { v, genesis } = await load();
      const { header, payload } = await nextRollupHeader(v, { lastBatchSeq: 2n });
      const signature = await signRollup(v, genesis, header);
      const hash = rollupHash(header);
      expect(await v.rollupRegistry.hashRollupHeader(header)).to.equal(hash);
      expect(await v.rollupRegistry.rollupDigest(header)).to.equal(
        TypedDataEncoder.hash(
          rollupRegistryDomain(v.chainId, await v.rollupRegistry.getAddress()),
          ROLLUP_HEADER_TYPES,
          header,
        ),
      );
      // eth_call runs in the context of the latest block, where the binding block is not yet in the past.
      await networkHelpers.mine(1);
      expect(await v.rollupRegistry.addRollup.staticCall(...rollupArgs(header, payload, signature))).to.equal(hash);

      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature)))
        .to.emit(v.rollupRegistry, "RollupAdded")
        .withArgs(hash, 0n, 2n, ZeroHash, GENESIS_COMMITTEE_ID, 1n);
      expect(await v.rollupRegistry.nextBatchSeq()).to.equal(3n);
      expect(await v.rollupRegistry.rollupCount()).to.equal(1n);
      expect(await v.rollupRegistry.lastBatchHash()).to.equal(header.lastBatchHash);

      const second = await submitRollup(v, genesis, [], { lastBatchSeq: 3n });
      expect(second.header.firstBatchSeq).to.equal(3n);
      expect(second.header.previousBatchHash).to.equal(header.lastBatchHash);
      expect(await v.rollupRegistry.nextBatchSeq()).to.equal(4n);
      expect(await v.rollupRegistry.rollupCount()).to.equal(2n);
    });

    it("credits the reward to the OperatorRegistry (for the committee), not to the enclave's operator", async () => {
      const { v, genesis } = await load();
      await fundVault(v, ONE_ETH);
      const operators = await v.rollupRegistry.operatorRegistry();
      const { header, payload } = await nextRollupHeader(v);
      const signature = await signRollup(v, genesis, header);
      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature)))
        .to.emit(v.rollupRegistry, "RollupAdded")
        .withArgs(rollupHash(header), 0n, 0n, ZeroHash, GENESIS_COMMITTEE_ID, 1n)
        .and.to.emit(v.feeVault, "RewardAccrued")
        .withArgs(operators, BASE_REWARD + PER_BATCH_REWARD, 1n);
      expect(await accrued(v, operators)).to.equal(BASE_REWARD + PER_BATCH_REWARD);
      expect(await accrued(v, v.initializer.address)).to.equal(0n);
    });

    it("registers the message root with activation at the end of the challenge period", async () => {
      const { v, genesis } = await load();
      const msgs = await withdrawalMessages(v, [
        { to: v.users[0].address, amount: 5n },
        { to: v.users[1].address, amount: 7n },
      ]);
      const { header, hash, tree } = await submitRollup(v, genesis, msgs);
      const { timestamp } = await latestBlock();
      const registered = await v.messageBus.messageRoot(tree!.root);
      expect(header.messageRoot).to.equal(tree!.root);
      expect(registered.activatesAt).to.equal(timestamp + CHALLENGE_PERIOD);
      expect(registered.rejected).to.equal(false);
      expect(registered.rollupTag).to.equal(hash.slice(0, 2 + 24));
      expect(registered.firstBatchSeq).to.equal(header.firstBatchSeq);
      expect(registered.generation).to.equal(0n);
    });

    it("emits MessageRootAdded on the bus for a rollup with messages", async () => {
      const { v, genesis } = await load();
      const msgs = await withdrawalMessages(v, [{ to: v.users[0].address, amount: 1n }]);
      const tree = new MessageTree(msgs);
      const { header, payload } = await nextRollupHeader(v, { messageRoot: tree.root });
      const signature = await signRollup(v, genesis, header);
      const at = (await latestBlock()).timestamp + 10n;
      await networkHelpers.time.setNextBlockTimestamp(at);
      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature)))
        .to.emit(v.messageBus, "MessageRootAdded")
        .withArgs(tree.root, rollupHash(header), at + CHALLENGE_PERIOD);
    });

    it("registers no message root for a rollup without messages", async () => {
      const { v, genesis } = await load();
      const { header, payload } = await nextRollupHeader(v);
      expect(header.messageRoot).to.equal(ZeroHash);
      const signature = await signRollup(v, genesis, header);
      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature))).not.to.emit(
        v.messageBus,
        "MessageRootAdded",
      );
      expect((await v.messageBus.messageRoot(ZeroHash)).activatesAt).to.equal(0n);
      await expect(v.rollupRegistry.rejectRollup(header))
        .to.be.revertedWithCustomError(v.rollupRegistry, "UnknownRollup")
        .withArgs(rollupHash(header));
    });
  });

  describe("addRollup: committee signatures", () => {
    const COMMITTEE_ID = RIG_COMMITTEE_ID;
    const rig = (v: Veilnet, size: number, quorum: number) => deployCommitteeRig(v, size, quorum);
    const header = nextRigHeader;
    const sign = signForRig;
    const signBits = signRigBits;

    /** The last `count` member indices of a committee of `size` (spread away from bit 0). */
    const lastBits = (size: number, count: number) => Array.from({ length: count }, (_, k) => size - count + k);

    for (const [size, quorum] of [
      [1, 1],
      [4, 3],
      [7, 5],
      [13, 9],
    ] as const) {
      describe(`a committee of ${size} (quorum ${quorum})`, () => {
        it("accepts exactly a quorum of members' signatures and names the committee and signers", async () => {
          const { v } = await load();
          const r = await rig(v, size, quorum);
          const { header: h, payload } = await header(v, r);
          const signed = await signBits(v, r, h, lastBits(size, quorum));
          await expect(r.registry.addRollup(...rollupArgs(h, payload, signed)))
            .to.emit(r.registry, "RollupAdded")
            .withArgs(rollupHash(h), h.firstBatchSeq, h.lastBatchSeq, ZeroHash, COMMITTEE_ID, signed.signerBitmap);
          expect(await r.registry.rollupCount()).to.equal(1n);
          expect(await r.registry.lastBatchHash()).to.equal(h.lastBatchHash);
          // Every member signing is more than enough.
          const next = await header(v, r);
          const all = await signBits(v, r, next.header, lastBits(size, size));
          await expect(r.registry.addRollup(...rollupArgs(next.header, next.payload, all))).to.emit(
            r.registry,
            "RollupAdded",
          );
        });

        it("refuses quorum − 1 signatures with QuorumNotReached", async () => {
          const { v } = await load();
          const r = await rig(v, size, quorum);
          const { header: h, payload } = await header(v, r);
          const signed = await signBits(v, r, h, lastBits(size, quorum - 1));
          await expect(r.registry.addRollup(...rollupArgs(h, payload, signed)))
            .to.be.revertedWithCustomError(r.registry, "QuorumNotReached")
            .withArgs(COMMITTEE_ID, BigInt(quorum - 1), BigInt(quorum));
        });

        it("refuses a non-member's signature at a member's bit with SignerMismatch", async () => {
          const { v } = await load();
          const r = await rig(v, size, quorum);
          const { header: h, payload } = await header(v, r);
          const bits = lastBits(size, quorum);
          const outsider = enclaveIdentity();
          const target = bits[0]!;
          const signed = await signBits(v, r, h, bits, (i) => (i === target ? outsider : r.members[i]!));
          await expect(r.registry.addRollup(...rollupArgs(h, payload, signed)))
            .to.be.revertedWithCustomError(r.registry, "SignerMismatch")
            .withArgs(BigInt(target), r.addresses[target]!, outsider.address);
        });

        it("refuses a bitmap bit at or beyond the committee's size (no signer twice, no one outside)", async () => {
          const { v } = await load();
          const r = await rig(v, size, quorum);
          const { header: h, payload } = await header(v, r);
          const signed = await signBits(v, r, h, lastBits(size, quorum));
          // The extra bit would let a member's signature count twice: refused before any signature is read.
          const bitmap = signed.signerBitmap | (1n << BigInt(size));
          const sigs = concat([signed.signatures, dataSlice(signed.signatures, 0, 65)]);
          await expect(r.registry.addRollup(h, payload, r.addresses, bitmap, sigs))
            .to.be.revertedWithCustomError(r.registry, "SignerBitmapOutOfRange")
            .withArgs(bitmap, BigInt(size));
        });

        if (quorum >= 2) {
          it("refuses a member's signature at another member's bit (swapped or repeated) with SignerMismatch", async () => {
            const { v } = await load();
            const r = await rig(v, size, quorum);
            const { header: h, payload } = await header(v, r);
            const bits = lastBits(size, quorum);
            const [a, b] = [bits[0]!, bits[1]!];
            const swapped = await signBits(v, r, h, bits, (i) => r.members[i === a ? b : i === b ? a : i]!);
            await expect(r.registry.addRollup(...rollupArgs(h, payload, swapped)))
              .to.be.revertedWithCustomError(r.registry, "SignerMismatch")
              .withArgs(BigInt(a), r.addresses[a]!, r.addresses[b]!);
            const repeated = await signBits(v, r, h, bits, (i) => r.members[i === a ? b : i]!);
            await expect(r.registry.addRollup(...rollupArgs(h, payload, repeated)))
              .to.be.revertedWithCustomError(r.registry, "SignerMismatch")
              .withArgs(BigInt(a), r.addresses[a]!, r.addresses[b]!);
          });
        }
      });
    }

    it("refuses every rollup while there is no active committee (id 0)", async () => {
      const { v } = await load();
      const r = await rig(v, 1, 1);
      const { header: h, payload } = await header(v, r);
      const signed = await signBits(v, r, h, [0]);
      await (await r.operators.setRaw(0, ZeroHash, 0, 0, 0, false)).wait();
      await expect(r.registry.addRollup(...rollupArgs(h, payload, signed))).to.be.revertedWithCustomError(
        r.registry,
        "NoActiveCommittee",
      );
    });

    it("refuses rollups of a liquidated committee until it is reactivated", async () => {
      const { v } = await load();
      const r = await rig(v, 4, 3);
      const { header: h, payload } = await header(v, r);
      const signed = await signBits(v, r, h, [0, 1, 2]);
      await (await r.operators.setLiquidated(true)).wait();
      await expect(r.registry.addRollup(...rollupArgs(h, payload, signed)))
        .to.be.revertedWithCustomError(r.registry, "CommitteeLiquidated")
        .withArgs(COMMITTEE_ID);
      await (await r.operators.setLiquidated(false)).wait();
      await expect(r.registry.addRollup(...rollupArgs(h, payload, signed))).to.emit(r.registry, "RollupAdded");
    });

    it("refuses a member list of the wrong size, order or content", async () => {
      const { v } = await load();
      const r = await rig(v, 4, 3);
      const { header: h, payload } = await header(v, r);
      const signed = await signBits(v, r, h, [0, 1, 2]);
      const send = (members: string[]) =>
        r.registry.addRollup(h, payload, members, signed.signerBitmap, signed.signatures);
      await expect(send(r.addresses.slice(0, 3)))
        .to.be.revertedWithCustomError(r.registry, "CommitteeSizeMismatch")
        .withArgs(COMMITTEE_ID, 4n, 3n);
      await expect(send([...r.addresses, enclaveIdentity().address]))
        .to.be.revertedWithCustomError(r.registry, "CommitteeSizeMismatch")
        .withArgs(COMMITTEE_ID, 4n, 5n);
      const signersHash = committeeSignersHash(r.addresses);
      for (const members of [
        [r.addresses[1]!, r.addresses[0]!, r.addresses[2]!, r.addresses[3]!],
        [...r.addresses.slice(0, 3), enclaveIdentity().address],
      ]) {
        await expect(send(members))
          .to.be.revertedWithCustomError(r.registry, "WrongCommitteeMembers")
          .withArgs(COMMITTEE_ID, signersHash, committeeSignersHash(members));
      }
      await expect(send(r.addresses)).to.emit(r.registry, "RollupAdded");
    });

    it("refuses stale signers after a revocation until the signer set is refreshed", async () => {
      const { v, genesis } = await load();
      const r = await rig(v, 4, 3);
      const before = await v.enclaveRegistry.revocationGeneration();
      await (await govern(v, v.enclaveRegistry, "revokeSequencer", [genesis.address])).wait();
      const now = await v.enclaveRegistry.revocationGeneration();
      expect(now).to.equal(before + 1n);
      const { header: h, payload } = await header(v, r);
      const signed = await signBits(v, r, h, [1, 2, 3]);
      await expect(r.registry.addRollup(...rollupArgs(h, payload, signed)))
        .to.be.revertedWithCustomError(r.registry, "StaleCommitteeSigners")
        .withArgs(COMMITTEE_ID, before, now);
      // What refreshCommitteeSigners does once it has checked the set again.
      await (await r.operators.setSignersGeneration(now)).wait();
      await expect(r.registry.addRollup(...rollupArgs(h, payload, signed))).to.emit(r.registry, "RollupAdded");
    });

    it("refuses signatures whose length is not 65 bytes per set bit", async () => {
      const { v } = await load();
      const r = await rig(v, 4, 3);
      const { header: h, payload } = await header(v, r);
      const signed = await signBits(v, r, h, [0, 1, 2]);
      for (const sigs of ["0x", dataSlice(signed.signatures, 0, 130), concat([signed.signatures, "0x00"])]) {
        await expect(r.registry.addRollup(h, payload, r.addresses, signed.signerBitmap, sigs))
          .to.be.revertedWithCustomError(r.registry, "SignaturesLengthMismatch")
          .withArgs(BigInt((sigs.length - 2) / 2), 195n);
      }
    });

    it("refuses malformed signatures (high s, bad v, zero r and s) with InvalidSignature", async () => {
      const { v } = await load();
      const r = await rig(v, 1, 1);
      const { header: h, payload } = await header(v, r);
      const valid = await sign(v, r, h, r.members[0]!);
      const sig = Signature.from(valid);
      const highS = concat([sig.r, toBeHex(SECP256K1_N - BigInt(sig.s), 32), sig.v === 27 ? "0x1c" : "0x1b"]);
      const badV = concat([sig.r, sig.s, "0x00"]);
      const zeroRS = concat([ZeroHash, ZeroHash, "0x1b"]);
      for (const bad of [highS, badV, zeroRS]) {
        await expect(r.registry.addRollup(h, payload, r.addresses, 1n, bad)).to.be.revertedWithCustomError(
          r.registry,
          "InvalidSignature",
        );
      }
      await expect(r.registry.addRollup(h, payload, r.addresses, 1n, valid)).to.emit(r.registry, "RollupAdded");
    });

    it("refuses a header altered after signing and a signature for another domain (another signer recovers)", async () => {
      const { v } = await load();
      const r = await rig(v, 1, 1);
      const { header: h, payload } = await header(v, r);
      const signed = await signBits(v, r, h, [0]);
      const altered: RollupHeader = { ...h, lastBatchHash: hexlify(randomBytes(32)) };
      await expect(r.registry.addRollup(...rollupArgs(altered, payload, signed))).to.be.revertedWithCustomError(
        r.registry,
        "SignerMismatch",
      );
      const registry = await r.registry.getAddress();
      for (const domain of [
        rollupRegistryDomain(v.chainId + 1n, registry),
        rollupRegistryDomain(v.chainId, await v.rollupRegistry.getAddress()),
      ]) {
        const other = await signRollupHeader(r.members[0]!.wallet, domain, h);
        await expect(r.registry.addRollup(h, payload, r.addresses, 1n, other)).to.be.revertedWithCustomError(
          r.registry,
          "SignerMismatch",
        );
      }
    });

    it("rollups of the deployment's genesis committee of one are accepted; a stranger's are not", async () => {
      const { v, genesis } = await load();
      const { header: h, payload } = await nextRollupHeader(v);
      const stranger = enclaveIdentity();
      const forged = await signRollupByCommittee(v, h, new Map([[0, stranger]]), [genesis.address]);
      await expect(v.rollupRegistry.addRollup(...rollupArgs(h, payload, forged)))
        .to.be.revertedWithCustomError(v.rollupRegistry, "SignerMismatch")
        .withArgs(0n, genesis.address, stranger.address);
      const own = await signRollupByCommittee(v, h, new Map([[0, stranger]]));
      await expect(v.rollupRegistry.addRollup(...rollupArgs(h, payload, own))).to.be.revertedWithCustomError(
        v.rollupRegistry,
        "WrongCommitteeMembers",
      );
      await expect(v.rollupRegistry.addRollup(...rollupArgs(h, payload, await signRollup(v, genesis, h)))).to.emit(
        v.rollupRegistry,
        "RollupAdded",
      );
    });
  });

  describe("addRollup: chain of batch hashes", () => {
    it("requires the first rollup to chain to ZeroHash and every next one to the last accepted", async () => {
      const { v, genesis } = await load();
      const wrong = hexlify(randomBytes(32));
      const first = await nextRollupHeader(v, { previousBatchHash: wrong });
      await expect(
        v.rollupRegistry.addRollup(
          ...rollupArgs(first.header, first.payload, await signRollup(v, genesis, first.header)),
        ),
      )
        .to.be.revertedWithCustomError(v.rollupRegistry, "PreviousBatchHashMismatch")
        .withArgs(ZeroHash, wrong);
      const accepted = await submitRollup(v, genesis);
      expect(accepted.header.previousBatchHash).to.equal(ZeroHash);
      const next = await nextRollupHeader(v, { previousBatchHash: ZeroHash });
      await expect(
        v.rollupRegistry.addRollup(...rollupArgs(next.header, next.payload, await signRollup(v, genesis, next.header))),
      )
        .to.be.revertedWithCustomError(v.rollupRegistry, "PreviousBatchHashMismatch")
        .withArgs(accepted.header.lastBatchHash, ZeroHash);
      const chained = await submitRollup(v, genesis);
      expect(chained.header.previousBatchHash).to.equal(accepted.header.lastBatchHash);
      expect(await v.rollupRegistry.lastBatchHash()).to.equal(chained.header.lastBatchHash);
    });

    it("a rejection resets lastBatchHash to the rejected rollup's parent, where a corrected rollup chains", async () => {
      const { v, genesis } = await load();
      const parent = await submitRollup(v, genesis);
      const msgs = await withdrawalMessages(v, [{ to: v.users[0].address, amount: 1n }]);
      const rejected = await submitRollup(v, genesis, msgs);
      await submitRollup(v, genesis); // built on the rejected one
      await (await v.rollupRegistry.rejectRollup(rejected.header)).wait();
      expect(await v.rollupRegistry.lastBatchHash()).to.equal(parent.header.lastBatchHash);
      expect(await v.rollupRegistry.nextBatchSeq()).to.equal(rejected.header.firstBatchSeq);
      const corrected = await submitRollup(v, genesis, msgs);
      expect(corrected.header.previousBatchHash).to.equal(parent.header.lastBatchHash);
      expect(corrected.header.firstBatchSeq).to.equal(rejected.header.firstBatchSeq);
    });
  });

  describe("addRollup: binding block", () => {
    it("rejects a binding block hash that does not match the chain", async () => {
      const { v, genesis } = await load();
      const block = await latestBlock();
      const wrong = hexlify(randomBytes(32));
      const { header, payload } = await nextRollupHeader(v, { l1BlockHash: wrong });
      const signature = await signRollup(v, genesis, header);
      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature)))
        .to.be.revertedWithCustomError(v.rollupRegistry, "BindingBlockHashMismatch")
        .withArgs(block.number, wrong, block.hash);
    });

    it("rejects the hash of another block", async () => {
      const { v, genesis } = await load();
      const block = await latestBlock();
      const parent = (await ethers.provider.getBlock(Number(block.number) - 1))!;
      const { header, payload } = await nextRollupHeader(v, { l1BlockHash: parent.hash! });
      const signature = await signRollup(v, genesis, header);
      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature)))
        .to.be.revertedWithCustomError(v.rollupRegistry, "BindingBlockHashMismatch")
        .withArgs(block.number, parent.hash!, block.hash);
    });

    it("rejects a binding block more than 256 blocks old", async () => {
      const { v, genesis } = await load();
      const { header, payload } = await nextRollupHeader(v);
      const signature = await signRollup(v, genesis, header);
      await networkHelpers.mine(300);
      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature)))
        .to.be.revertedWithCustomError(v.rollupRegistry, "BindingBlockTooOld")
        .withArgs(header.l1BlockNumber);
    });

    it("accepts a binding block exactly 256 blocks old and refuses one 257 blocks old", async () => {
      const { v, genesis } = await load();
      const maxAge = await v.rollupRegistry.MAX_BINDING_AGE();
      expect(maxAge).to.equal(256n);

      const first = await nextRollupHeader(v);
      const firstSig = await signRollup(v, genesis, first.header);
      // The transaction executes in the block after the latest: age = mined + 1.
      await networkHelpers.mine(maxAge - 1n);
      await expect(v.rollupRegistry.addRollup(...rollupArgs(first.header, first.payload, firstSig))).to.emit(
        v.rollupRegistry,
        "RollupAdded",
      );

      const second = await nextRollupHeader(v);
      const secondSig = await signRollup(v, genesis, second.header);
      await networkHelpers.mine(maxAge);
      await expect(v.rollupRegistry.addRollup(...rollupArgs(second.header, second.payload, secondSig)))
        .to.be.revertedWithCustomError(v.rollupRegistry, "BindingBlockTooOld")
        .withArgs(second.header.l1BlockNumber);
    });

    it("rejects a binding block that is not yet mined (the current block or later)", async () => {
      const { v, genesis } = await load();
      const latest = await latestBlock();
      for (const number of [latest.number + 1n, latest.number + 10n]) {
        const { header, payload } = await nextRollupHeader(v, { l1BlockNumber: number, l1BlockHash: ZeroHash });
        const signature = await signRollup(v, genesis, header);
        await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature)))
          .to.be.revertedWithCustomError(v.rollupRegistry, "BindingBlockNotMined")
          .withArgs(number);
      }
    });
  });

  describe("addRollup: batch sequence", () => {
    it("rejects a gap in the batch sequence", async () => {
      const { v, genesis } = await load();
      const { header, payload } = await nextRollupHeader(v, { firstBatchSeq: 1n, lastBatchSeq: 1n });
      const signature = await signRollup(v, genesis, header);
      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature)))
        .to.be.revertedWithCustomError(v.rollupRegistry, "BatchSequenceGap")
        .withArgs(0n, 1n);
    });

    it("rejects a rollup that goes back in the sequence", async () => {
      const { v, genesis } = await load();
      await submitRollup(v, genesis, [], { lastBatchSeq: 4n });
      const { header, payload } = await nextRollupHeader(v, { firstBatchSeq: 3n, lastBatchSeq: 6n });
      const signature = await signRollup(v, genesis, header);
      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature)))
        .to.be.revertedWithCustomError(v.rollupRegistry, "BatchSequenceGap")
        .withArgs(5n, 3n);
    });

    it("rejects a replayed rollup (the same header submitted twice)", async () => {
      const { v, genesis } = await load();
      const { header, payload } = await nextRollupHeader(v, { lastBatchSeq: 1n });
      const signature = await signRollup(v, genesis, header);
      await (await v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature))).wait();
      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature)))
        .to.be.revertedWithCustomError(v.rollupRegistry, "BatchSequenceGap")
        .withArgs(2n, 0n);
      expect(await v.rollupRegistry.rollupCount()).to.equal(1n);
    });

    it("F6: bounds the batch range, so that no signed value can brick the registry", async () => {
      const { v, genesis } = await load();
      // The review's attack: lastBatchSeq = 2^64 - 2 made every later addRollup overflow.
      const brick = await nextRollupHeader(v, { lastBatchSeq: 2n ** 64n - 2n });
      await expect(
        v.rollupRegistry.addRollup(
          ...rollupArgs(brick.header, brick.payload, await signRollup(v, genesis, brick.header)),
        ),
      )
        .to.be.revertedWithCustomError(v.rollupRegistry, "TooManyBatches")
        .withArgs(2n ** 64n - 1n, 64n);
      // At most one batch per calldata byte, and never more than MAX_BATCHES_PER_ROLLUP.
      expect(await v.rollupRegistry.MAX_BATCHES_PER_ROLLUP()).to.equal(1024n);
      const thin = await nextRollupHeader(v, { payload: "0x0102", lastBatchSeq: 2n });
      await expect(
        v.rollupRegistry.addRollup(...rollupArgs(thin.header, thin.payload, await signRollup(v, genesis, thin.header))),
      )
        .to.be.revertedWithCustomError(v.rollupRegistry, "TooManyBatches")
        .withArgs(3n, 2n);
      const big = await nextRollupHeader(v, { payload: hexlify(randomBytes(2000)), lastBatchSeq: 1024n });
      await expect(
        v.rollupRegistry.addRollup(...rollupArgs(big.header, big.payload, await signRollup(v, genesis, big.header))),
      )
        .to.be.revertedWithCustomError(v.rollupRegistry, "TooManyBatches")
        .withArgs(1025n, 1024n);
      const max = await nextRollupHeader(v, { payload: hexlify(randomBytes(2000)), lastBatchSeq: 1023n });
      await (
        await v.rollupRegistry.addRollup(
          ...rollupArgs(max.header, max.payload, await signRollup(v, genesis, max.header)),
        )
      ).wait();
      // The registry keeps working.
      await submitRollup(v, genesis);
      expect(await v.rollupRegistry.nextBatchSeq()).to.equal(1025n);
    });

    it("rejects lastBatchSeq below firstBatchSeq", async () => {
      const { v, genesis } = await load();
      await submitRollup(v, genesis, [], { lastBatchSeq: 1n });
      const { header, payload } = await nextRollupHeader(v, { firstBatchSeq: 2n, lastBatchSeq: 1n });
      const signature = await signRollup(v, genesis, header);
      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature)))
        .to.be.revertedWithCustomError(v.rollupRegistry, "InvalidBatchRange")
        .withArgs(2n, 1n);
    });
  });

  describe("addRollup: payload", () => {
    it("rejects a payload that does not hash to payloadHash", async () => {
      const { v, genesis } = await load();
      const { header } = await nextRollupHeader(v);
      const other = hexlify(randomBytes(64));
      const signature = await signRollup(v, genesis, header);
      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, other, signature)))
        .to.be.revertedWithCustomError(v.rollupRegistry, "PayloadHashMismatch")
        .withArgs(header.payloadHash, keccak256(other));
    });

    it("rejects a rollup that carries neither a calldata payload nor a blob", async () => {
      const { v, genesis } = await load();
      for (const payloadHash of [ZeroHash, keccak256("0x")]) {
        const { header } = await nextRollupHeader(v, { payload: "0x", payloadHash });
        const signature = await signRollup(v, genesis, header);
        await expect(v.rollupRegistry.addRollup(...rollupArgs(header, "0x", signature))).to.be.revertedWithCustomError(
          v.rollupRegistry,
          "MissingPayload",
        );
      }
    });
  });

  describe("addRollup: revelation epochs", () => {
    it("commits each epoch's key once and lets the epoch only grow", async () => {
      const { v, genesis } = await load();
      const k0 = keccak256(testEpochKey(0n));
      const k2 = keccak256(testEpochKey(2n));

      let next = await nextRollupHeader(v);
      expect(next.header.revelationEpoch).to.equal(0n);
      await expect(
        v.rollupRegistry.addRollup(...rollupArgs(next.header, next.payload, await signRollup(v, genesis, next.header))),
      )
        .to.emit(v.rollupRegistry, "EpochKeyCommitted")
        .withArgs(0n, k0);

      // The same epoch with the same key: accepted, nothing newly committed.
      next = await nextRollupHeader(v);
      await expect(
        v.rollupRegistry.addRollup(...rollupArgs(next.header, next.payload, await signRollup(v, genesis, next.header))),
      ).not.to.emit(v.rollupRegistry, "EpochKeyCommitted");

      // Epoch 1 passes without a rollup.
      await networkHelpers.mineUpTo(2n * EPOCH_LENGTH + 3n);
      next = await nextRollupHeader(v);
      expect(next.header.revelationEpoch).to.equal(2n);
      await expect(
        v.rollupRegistry.addRollup(...rollupArgs(next.header, next.payload, await signRollup(v, genesis, next.header))),
      )
        .to.emit(v.rollupRegistry, "EpochKeyCommitted")
        .withArgs(2n, k2);
      expect(await v.rollupRegistry.currentEpoch()).to.equal(2n);
      expect(await v.rollupRegistry.epochKeyCommitment(0n)).to.equal(k0);
      expect(await v.rollupRegistry.epochKeyCommitment(1n)).to.equal(ZeroHash);
      expect(await v.rollupRegistry.epochKeyCommitment(2n)).to.equal(k2);
    });

    it("rejects a revelation epoch other than the binding block's (a later one would delay the reveal)", async () => {
      const { v, genesis } = await load();
      await networkHelpers.mineUpTo(EPOCH_LENGTH + 10n);
      const latest = await latestBlock();
      for (const epoch of [2n, 0n, 100n]) {
        const { header, payload } = await nextRollupHeader(v, {
          revelationEpoch: epoch,
          keyCommitment: keccak256(testEpochKey(epoch)),
        });
        const signature = await signRollup(v, genesis, header);
        await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature)))
          .to.be.revertedWithCustomError(v.rollupRegistry, "RevelationEpochMismatch")
          .withArgs(latest.number, 1n, epoch);
      }
      expect(await v.rollupRegistry.rollupCount()).to.equal(0n);
      // The binding block's own epoch is accepted.
      const { header } = await submitRollup(v, genesis);
      expect(header.revelationEpoch).to.equal(1n);
    });

    it("puts the epoch boundary between blocks EPOCH_LENGTH - 1 and EPOCH_LENGTH", async () => {
      const { v, genesis } = await load();
      await networkHelpers.mineUpTo(EPOCH_LENGTH + 5n);
      const lastOf0 = (await ethers.provider.getBlock(Number(EPOCH_LENGTH - 1n)))!;
      const firstOf1 = (await ethers.provider.getBlock(Number(EPOCH_LENGTH)))!;
      const bind = (block: typeof lastOf0, epoch: bigint) =>
        nextRollupHeader(v, {
          l1BlockNumber: BigInt(block.number),
          l1BlockHash: block.hash!,
          revelationEpoch: epoch,
          keyCommitment: keccak256(testEpochKey(epoch)),
        });

      let next = await bind(lastOf0, 1n);
      await expect(
        v.rollupRegistry.addRollup(...rollupArgs(next.header, next.payload, await signRollup(v, genesis, next.header))),
      )
        .to.be.revertedWithCustomError(v.rollupRegistry, "RevelationEpochMismatch")
        .withArgs(EPOCH_LENGTH - 1n, 0n, 1n);
      next = await bind(firstOf1, 0n);
      await expect(
        v.rollupRegistry.addRollup(...rollupArgs(next.header, next.payload, await signRollup(v, genesis, next.header))),
      )
        .to.be.revertedWithCustomError(v.rollupRegistry, "RevelationEpochMismatch")
        .withArgs(EPOCH_LENGTH, 1n, 0n);

      next = await bind(lastOf0, 0n);
      await expect(
        v.rollupRegistry.addRollup(...rollupArgs(next.header, next.payload, await signRollup(v, genesis, next.header))),
      )
        .to.emit(v.rollupRegistry, "EpochKeyCommitted")
        .withArgs(0n, keccak256(testEpochKey(0n)));
      next = await bind(firstOf1, 1n);
      await expect(
        v.rollupRegistry.addRollup(...rollupArgs(next.header, next.payload, await signRollup(v, genesis, next.header))),
      )
        .to.emit(v.rollupRegistry, "EpochKeyCommitted")
        .withArgs(1n, keccak256(testEpochKey(1n)));
    });

    it("rejects a revelation epoch going back", async () => {
      const { v, genesis } = await load();
      // A rollup bound in epoch 2, then one bound to a (recent) block of epoch 1.
      await networkHelpers.mineUpTo(2n * EPOCH_LENGTH + 5n);
      const { header: first } = await submitRollup(v, genesis);
      expect(first.revelationEpoch).to.equal(2n);
      const old = (await ethers.provider.getBlock(Number(2n * EPOCH_LENGTH - 1n)))!;
      const { header, payload } = await nextRollupHeader(v, {
        l1BlockNumber: BigInt(old.number),
        l1BlockHash: old.hash!,
      });
      expect(header.revelationEpoch).to.equal(1n);
      const signature = await signRollup(v, genesis, header);
      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature)))
        .to.be.revertedWithCustomError(v.rollupRegistry, "RevelationEpochDecreased")
        .withArgs(2n, 1n);
    });

    it("rejects a different key commitment for an epoch already committed", async () => {
      const { v, genesis } = await load();
      const committed = keccak256(testEpochKey(0n));
      const other = keccak256(id("epoch-0-other-key"));
      await submitRollup(v, genesis);
      const { header, payload } = await nextRollupHeader(v, { keyCommitment: other });
      const signature = await signRollup(v, genesis, header);
      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature)))
        .to.be.revertedWithCustomError(v.rollupRegistry, "KeyCommitmentMismatch")
        .withArgs(0n, committed, other);
    });

    it("rejects a zero key commitment for a new epoch", async () => {
      const { v, genesis } = await load();
      const { header, payload } = await nextRollupHeader(v, { revelationEpoch: 0n, keyCommitment: ZeroHash });
      const signature = await signRollup(v, genesis, header);
      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature))).to.be.revertedWithCustomError(
        v.rollupRegistry,
        "ZeroValue",
      );
    });
  });

  describe("revealEpochKey", () => {
    /** A rollup in epoch 0 committing testEpochKey(0); returns the key and when it becomes revealable. */
    async function epochZero(v: Veilnet, genesis: Genesis): Promise<{ key: string; at: bigint }> {
      await submitRollup(v, genesis);
      const at = await v.rollupRegistry.revealableAt(0n);
      expect(at).to.equal(revealableAt(0n, REVELATION_PERIOD));
      expect(at).to.equal(EPOCH_LENGTH + REVELATION_PERIOD);
      return { key: testEpochKey(0n), at };
    }

    it("lets anyone publish the committed key from revealableAt on, once", async () => {
      const { v, genesis } = await load();
      const { key, at } = await epochZero(v, genesis);
      expect(await v.rollupRegistry.epochKey(0n)).to.equal(ZeroHash);
      // The transaction runs in the block after the latest: exactly at `at`.
      await networkHelpers.mineUpTo(at - 1n);
      await expect(v.rollupRegistry.connect(v.stranger).revealEpochKey(0n, key))
        .to.emit(v.rollupRegistry, "EpochKeyRevealed")
        .withArgs(0n, key);
      expect((await latestBlock()).number).to.equal(at);
      expect(await v.rollupRegistry.epochKey(0n)).to.equal(key);

      await expect(v.rollupRegistry.revealEpochKey(0n, key))
        .to.be.revertedWithCustomError(v.rollupRegistry, "EpochKeyAlreadyRevealed")
        .withArgs(0n);
    });

    it("refuses before revealableAt, naming the block it becomes possible at", async () => {
      const { v, genesis } = await load();
      const { key, at } = await epochZero(v, genesis);
      await expect(v.rollupRegistry.revealEpochKey(0n, key))
        .to.be.revertedWithCustomError(v.rollupRegistry, "EpochKeyNotRevealable")
        .withArgs(0n, at);
      await networkHelpers.mineUpTo(at - 2n); // the call runs in block at - 1
      await expect(v.rollupRegistry.revealEpochKey(0n, key))
        .to.be.revertedWithCustomError(v.rollupRegistry, "EpochKeyNotRevealable")
        .withArgs(0n, at);
      expect(await v.rollupRegistry.epochKey(0n)).to.equal(ZeroHash);
    });

    it("refuses an epoch no rollup committed", async () => {
      const { v, genesis } = await load();
      await networkHelpers.mineUpTo(2n * EPOCH_LENGTH + 5n);
      await submitRollup(v, genesis); // epoch 2; epochs 0 and 1 have no rollup
      await networkHelpers.mine(4n * EPOCH_LENGTH);
      for (const epoch of [0n, 1n, 3n, 2n ** 64n - 1n]) {
        await expect(v.rollupRegistry.revealEpochKey(epoch, testEpochKey(epoch)))
          .to.be.revertedWithCustomError(v.rollupRegistry, "EpochNotCommitted")
          .withArgs(epoch);
      }
      await expect(v.rollupRegistry.revealEpochKey(2n, testEpochKey(2n))).to.emit(v.rollupRegistry, "EpochKeyRevealed");
    });

    it("refuses a key that does not hash to the commitment, and the zero key", async () => {
      const { v, genesis } = await load();
      const { key, at } = await epochZero(v, genesis);
      await networkHelpers.mineUpTo(at);
      const committed = keccak256(key);
      for (const wrong of [testEpochKey(1n), committed, hexlify(randomBytes(32))]) {
        await expect(v.rollupRegistry.revealEpochKey(0n, wrong))
          .to.be.revertedWithCustomError(v.rollupRegistry, "EpochKeyMismatch")
          .withArgs(0n, committed, keccak256(wrong));
      }
      await expect(v.rollupRegistry.revealEpochKey(0n, ZeroHash)).to.be.revertedWithCustomError(
        v.rollupRegistry,
        "ZeroValue",
      );
      expect(await v.rollupRegistry.epochKey(0n)).to.equal(ZeroHash);
      await expect(v.rollupRegistry.revealEpochKey(0n, key)).to.emit(v.rollupRegistry, "EpochKeyRevealed");
    });

    it("follows the current revelation period; the admin sets it, never below the minimum", async () => {
      const { v, genesis } = await load();
      const { key, at } = await epochZero(v, genesis);
      await expect(govern(v, v.rollupRegistry, "setRevelationPeriod", [1000n]))
        .to.emit(v.rollupRegistry, "RevelationPeriodSet")
        .withArgs(1000n);
      expect(await v.rollupRegistry.revelationPeriod()).to.equal(1000n);
      const later = EPOCH_LENGTH + 1000n;
      expect(await v.rollupRegistry.revealableAt(0n)).to.equal(later);
      await networkHelpers.mineUpTo(at);
      await expect(v.rollupRegistry.revealEpochKey(0n, key))
        .to.be.revertedWithCustomError(v.rollupRegistry, "EpochKeyNotRevealable")
        .withArgs(0n, later);

      await expect(govern(v, v.rollupRegistry, "setRevelationPeriod", [255n]))
        .to.be.revertedWithCustomError(v.rollupRegistry, "RevelationPeriodTooShort")
        .withArgs(255n, 256n);
      await (await govern(v, v.rollupRegistry, "setRevelationPeriod", [256n])).wait();
      await expect(v.rollupRegistry.revealEpochKey(0n, key)).to.emit(v.rollupRegistry, "EpochKeyRevealed");
    });

    it("works while rollup submission is paused", async () => {
      const { v, genesis } = await load();
      const { key, at } = await epochZero(v, genesis);
      await (await v.rollupRegistry.pause()).wait();
      await networkHelpers.mineUpTo(at);
      await expect(v.rollupRegistry.revealEpochKey(0n, key)).to.emit(v.rollupRegistry, "EpochKeyRevealed");
    });

    it("leaves no way to add a rollup to an epoch whose key is revealable (its binding block is too old)", async () => {
      const { v, genesis } = await load();
      const { at } = await epochZero(v, genesis);
      await networkHelpers.mineUpTo(at - 1n); // the next transaction runs in block `at`
      const lastOf0 = (await ethers.provider.getBlock(Number(EPOCH_LENGTH - 1n)))!;
      const { header, payload } = await nextRollupHeader(v, {
        l1BlockNumber: BigInt(lastOf0.number),
        l1BlockHash: lastOf0.hash!,
      });
      expect(header.revelationEpoch).to.equal(0n);
      const signature = await signRollup(v, genesis, header);
      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature)))
        .to.be.revertedWithCustomError(v.rollupRegistry, "BindingBlockTooOld")
        .withArgs(EPOCH_LENGTH - 1n);
    });
  });

  describe("addRollup: committee rewards", () => {
    it("credits baseReward + perBatchReward × batches to the OperatorRegistry (for the committee)", async () => {
      const { v, genesis } = await load();
      await fundVault(v, ONE_ETH);
      const operators = await v.rollupRegistry.operatorRegistry();
      const unallocated = await v.feeVault.unallocated();
      const { header, payload } = await nextRollupHeader(v, { lastBatchSeq: 4n });
      const signature = await signRollup(v, genesis, header);
      const reward = BASE_REWARD + 5n * PER_BATCH_REWARD;
      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature)))
        .to.emit(v.feeVault, "RewardAccrued")
        .withArgs(operators, reward, 5n);
      expect(await accrued(v, operators)).to.equal(reward);
      expect(await v.feeVault.unallocated()).to.equal(unallocated - reward);
    });

    it("accepts rollups while the vault has nothing to pay", async () => {
      const { v, genesis } = await load();
      const { header, payload } = await nextRollupHeader(v);
      const signature = await signRollup(v, genesis, header);
      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature))).not.to.emit(
        v.feeVault,
        "RewardAccrued",
      );
      expect(await v.rollupRegistry.rollupCount()).to.equal(1n);
      expect(await accrued(v, await v.rollupRegistry.operatorRegistry())).to.equal(0n);
    });
  });

  describe("rejectRollup", () => {
    async function rollupWithMessages(
      v: Veilnet,
      genesis: Genesis,
    ): Promise<Awaited<ReturnType<typeof submitRollup>> & { msgs: [CrossChainMessage, CrossChainMessage] }> {
      const msgs = await withdrawalMessages(v, [
        { to: v.users[0].address, amount: 10n },
        { to: v.users[1].address, amount: 20n },
      ]);
      return { ...(await submitRollup(v, genesis, msgs)), msgs };
    }

    it("disables the rollup's message root for good", async () => {
      const { v, genesis } = await load();
      const { header, hash, tree, msgs } = await rollupWithMessages(v, genesis);
      const root = tree!.root;
      await expect(v.rollupRegistry.rejectRollup(header))
        .to.emit(v.rollupRegistry, "RollupRejected")
        .withArgs(hash, root, v.admin.address)
        .and.to.emit(v.messageBus, "MessageRootRejected")
        .withArgs(root);
      expect((await v.messageBus.messageRoot(root)).rejected).to.equal(true);

      await expect(v.messageBus.verifyMessageInclusion(msgs[0], tree!.proof(0), root))
        .to.be.revertedWithCustomError(v.messageBus, "MessageRootIsRejected")
        .withArgs(root);
      await passChallengePeriod(v);
      for (const [i, message] of msgs.entries()) {
        await expect(v.messageBus.verifyMessageInclusion(message, tree!.proof(i), root))
          .to.be.revertedWithCustomError(v.messageBus, "MessageRootIsRejected")
          .withArgs(root);
      }
    });

    it("reopens the batch sequence at the rejected rollup's first batch (F5; it used to stay consumed)", async () => {
      const { v, genesis } = await load();
      await submitRollup(v, genesis, [], { lastBatchSeq: 2n });
      const { header } = await rollupWithMessages(v, genesis);
      expect(await v.rollupRegistry.nextBatchSeq()).to.equal(4n);
      await expect(v.rollupRegistry.rejectRollup(header))
        .to.emit(v.rollupRegistry, "BatchSequenceReopened")
        .withArgs(3n)
        .and.to.emit(v.messageBus, "MessageRootsInvalidated")
        .withArgs(0n, 3n, 1n);
      expect(await v.rollupRegistry.nextBatchSeq()).to.equal(3n);
      expect(await v.rollupRegistry.rollupCount()).to.equal(2n);
      expect(await v.messageBus.generation()).to.equal(1n);
    });

    it("F5: a corrected rollup takes the reopened sequence, may carry the same root, and its withdrawals are relayed", async () => {
      const { v, genesis } = await load();
      const l1Bridge = await v.bridge.getAddress();
      await (await v.bridge.connect(v.users[0]).depositNative(v.users[0].address, { value: ONE_ETH })).wait();
      const msgs = await withdrawalMessages(v, [{ to: v.users[1].address, amount: ONE_ETH / 4n }]);
      const rejected = await submitRollup(v, genesis, msgs);
      await (await v.rollupRegistry.rejectRollup(rejected.header)).wait();
      // Before the fix: BatchSequenceGap (the sequence was consumed), then InvalidMessageRoot (the root was burnt).
      const again = await submitRollup(v, genesis, msgs, {
        firstBatchSeq: rejected.header.firstBatchSeq,
        lastBatchSeq: rejected.header.lastBatchSeq,
      });
      expect(again.tree!.root).to.equal(rejected.tree!.root);
      const registration = await v.messageBus.messageRoot(again.tree!.root);
      expect(registration.rejected).to.equal(false);
      expect(registration.generation).to.equal(1n);
      await passChallengePeriod(v);
      await expect(
        v.messenger.connect(v.stranger).relayMessageWithProof(msgs[0], again.tree!.proof(0), again.tree!.root),
      ).to.changeEtherBalances(ethers, [v.users[1].address, l1Bridge], [ONE_ETH / 4n, -ONE_ETH / 4n]);
    });

    it("invalidates every rollup after the rejected one (built on its state), in O(1); earlier ones stay valid", async () => {
      const { v, genesis } = await load();
      const w = (seq: bigint) => withdrawalMessages(v, [{ to: v.users[0].address, amount: 1n + seq }], seq);
      const a = await submitRollup(v, genesis, await w(0n));
      const b = await submitRollup(v, genesis, await w(1n));
      const c = await submitRollup(v, genesis, await w(2n));
      await submitRollup(v, genesis); // no messages
      const d = await submitRollup(v, genesis, await w(3n));
      await (await v.rollupRegistry.rejectRollup(b.header)).wait();
      expect((await v.messageBus.messageRoot(a.tree!.root)).rejected).to.equal(false);
      for (const later of [b, c, d]) {
        expect((await v.messageBus.messageRoot(later.tree!.root)).rejected).to.equal(true);
        await expect(v.rollupRegistry.rejectRollup(later.header))
          .to.be.revertedWithCustomError(v.rollupRegistry, "RollupAlreadyRejected")
          .withArgs(later.hash);
      }
      // The sequence continues at b's first batch: c's and d's batches come again, with new roots.
      expect(await v.rollupRegistry.nextBatchSeq()).to.equal(b.header.firstBatchSeq);
      const c2 = await submitRollup(v, genesis, await w(2n));
      expect(c2.tree!.root).to.equal(c.tree!.root);
      expect((await v.messageBus.messageRoot(c.tree!.root)).rejected).to.equal(false);
      await passChallengePeriod(v);
      const [aMsg] = await w(0n);
      const [dMsg] = await w(3n);
      await v.messageBus.verifyMessageInclusion(aMsg, a.tree!.proof(0), a.tree!.root);
      await expect(v.messageBus.verifyMessageInclusion(dMsg, d.tree!.proof(0), d.tree!.root))
        .to.be.revertedWithCustomError(v.messageBus, "MessageRootIsRejected")
        .withArgs(d.tree!.root);
    });

    it("a rejection of an older rollup also invalidates the generations after it", async () => {
      const { v, genesis } = await load();
      const w = (seq: bigint) => withdrawalMessages(v, [{ to: v.users[0].address, amount: 1n + seq }], seq);
      const a = await submitRollup(v, genesis, await w(0n));
      const b = await submitRollup(v, genesis, await w(1n));
      await (await v.rollupRegistry.rejectRollup(b.header)).wait(); // generation 1 starts at b's batch
      const b2 = await submitRollup(v, genesis, await w(10n));
      const c2 = await submitRollup(v, genesis, await w(11n));
      // The guardian finds `a` bad too (still in its challenge period): a, b2 and c2 all fall.
      await expect(v.rollupRegistry.rejectRollup(a.header))
        .to.emit(v.messageBus, "MessageRootsInvalidated")
        .withArgs(0n, 0n, 2n);
      for (const r of [a, b2, c2]) expect((await v.messageBus.messageRoot(r.tree!.root)).rejected).to.equal(true);
      expect(await v.rollupRegistry.nextBatchSeq()).to.equal(0n);
      const a2 = await submitRollup(v, genesis, await w(0n));
      expect((await v.messageBus.messageRoot(a2.tree!.root)).rejected).to.equal(false);
    });

    it("works while submission is paused (the guardian pauses first, then rejects)", async () => {
      const { v, genesis } = await load();
      const { header } = await rollupWithMessages(v, genesis);
      await (await v.rollupRegistry.pause()).wait();
      await expect(v.rollupRegistry.rejectRollup(header)).to.emit(v.rollupRegistry, "RollupRejected");
    });

    it("can be done until the last second of the challenge period, not after", async () => {
      const { v, genesis } = await load();
      const a = await rollupWithMessages(v, genesis);
      const activatesAt = (await v.messageBus.messageRoot(a.tree!.root)).activatesAt;
      await networkHelpers.time.setNextBlockTimestamp(activatesAt);
      await expect(v.rollupRegistry.rejectRollup(a.header))
        .to.be.revertedWithCustomError(v.rollupRegistry, "ChallengePeriodOver")
        .withArgs(a.hash, activatesAt);

      const msgs = await withdrawalMessages(v, [{ to: v.users[2].address, amount: 1n }], 2n);
      const b = await submitRollup(v, genesis, msgs);
      const bActivatesAt = (await v.messageBus.messageRoot(b.tree!.root)).activatesAt;
      await networkHelpers.time.setNextBlockTimestamp(bActivatesAt - 1n);
      await expect(v.rollupRegistry.rejectRollup(b.header)).to.emit(v.rollupRegistry, "RollupRejected");
    });

    it("reverts ChallengePeriodOver once the root is active", async () => {
      const { v, genesis } = await load();
      const { header, hash, tree, msgs } = await rollupWithMessages(v, genesis);
      const activatesAt = (await v.messageBus.messageRoot(tree!.root)).activatesAt;
      await passChallengePeriod(v);
      await expect(v.rollupRegistry.rejectRollup(header))
        .to.be.revertedWithCustomError(v.rollupRegistry, "ChallengePeriodOver")
        .withArgs(hash, activatesAt);
      // The messages stay usable.
      expect(await v.messageBus.verifyMessageInclusion(msgs[0], tree!.proof(0), tree!.root)).to.equal(
        tree!.tree.leafHash([
          msgs[0].sender,
          msgs[0].sequence,
          msgs[0].nonce,
          msgs[0].topic,
          msgs[0].payload,
          msgs[0].consistencyLevel,
        ]),
      );
    });

    it("reverts RollupAlreadyRejected the second time", async () => {
      const { v, genesis } = await load();
      const { header, hash } = await rollupWithMessages(v, genesis);
      await (await v.rollupRegistry.rejectRollup(header)).wait();
      await expect(v.rollupRegistry.rejectRollup(header))
        .to.be.revertedWithCustomError(v.rollupRegistry, "RollupAlreadyRejected")
        .withArgs(hash);
    });

    it("reverts UnknownRollup for a header never submitted", async () => {
      const { v, genesis } = await load();
      await rollupWithMessages(v, genesis);
      const msgs = await withdrawalMessages(v, [{ to: v.users[0].address, amount: 3n }], 9n);
      const { header } = await nextRollupHeader(v, { messageRoot: new MessageTree(msgs).root });
      await expect(v.rollupRegistry.rejectRollup(header))
        .to.be.revertedWithCustomError(v.rollupRegistry, "UnknownRollup")
        .withArgs(rollupHash(header));
    });

    it("reverts UnknownRollup for a header whose message root belongs to another rollup", async () => {
      const { v, genesis } = await load();
      const { header, tree } = await rollupWithMessages(v, genesis);
      const forged: RollupHeader = { ...header, lastBatchHash: hexlify(randomBytes(32)) };
      await expect(v.rollupRegistry.rejectRollup(forged))
        .to.be.revertedWithCustomError(v.rollupRegistry, "UnknownRollup")
        .withArgs(rollupHash(forged));
      expect((await v.messageBus.messageRoot(tree!.root)).rejected).to.equal(false);
    });

    it("is reserved to the guardian", async () => {
      const { v, genesis } = await load();
      const { header, hash } = await rollupWithMessages(v, genesis);
      const role = await v.rollupRegistry.GUARDIAN_ROLE();
      await expect(v.rollupRegistry.connect(v.stranger).rejectRollup(header))
        .to.be.revertedWithCustomError(v.rollupRegistry, "AccessControlUnauthorizedAccount")
        .withArgs(v.stranger.address, role);

      const guardian = v.users[4];
      await (await govern(v, v.rollupRegistry, "grantRole", [role, guardian.address])).wait();
      await expect(v.rollupRegistry.connect(guardian).rejectRollup(header))
        .to.emit(v.rollupRegistry, "RollupRejected")
        .withArgs(hash, header.messageRoot, guardian.address);
    });
  });

  describe("administration", () => {
    it("setChallengePeriod applies to rollups accepted from then on; none activates before its predecessor", async () => {
      const { v, genesis } = await load();
      const first = await submitRollup(
        v,
        genesis,
        await withdrawalMessages(v, [{ to: v.users[0].address, amount: 1n }]),
      );
      const firstAt = (await latestBlock()).timestamp;
      await expect(govern(v, v.rollupRegistry, "setChallengePeriod", [60]))
        .to.emit(v.rollupRegistry, "ChallengePeriodSet")
        .withArgs(60n);
      expect(await v.rollupRegistry.challengePeriod()).to.equal(60n);
      const second = await submitRollup(
        v,
        genesis,
        await withdrawalMessages(v, [{ to: v.users[0].address, amount: 2n }], 1n),
      );
      // The first rollup keeps its period: the guardian can still reject it, and the second (built on it)
      // does not activate before it (it used to activate at secondAt + 60).
      expect((await v.messageBus.messageRoot(first.tree!.root)).activatesAt).to.equal(firstAt + CHALLENGE_PERIOD);
      expect((await v.messageBus.messageRoot(second.tree!.root)).activatesAt).to.equal(firstAt + CHALLENGE_PERIOD);
      await networkHelpers.time.increase(600n);
      await expect(v.rollupRegistry.rejectRollup(first.header)).to.emit(v.rollupRegistry, "RollupRejected");
      // Once the backlog is past, the shorter period applies.
      await networkHelpers.time.increase(CHALLENGE_PERIOD);
      const third = await submitRollup(
        v,
        genesis,
        await withdrawalMessages(v, [{ to: v.users[0].address, amount: 3n }], 2n),
      );
      const thirdAt = (await latestBlock()).timestamp;
      expect((await v.messageBus.messageRoot(third.tree!.root)).activatesAt).to.equal(thirdAt + 60n);
    });

    it("F2: the challenge period has a floor (and a ceiling); setChallengePeriod(0) is refused", async () => {
      const { v, genesis } = await load();
      expect(await v.rollupRegistry.MIN_CHALLENGE_PERIOD()).to.equal(60n);
      expect(await v.rollupRegistry.MAX_CHALLENGE_PERIOD()).to.equal(30n * 86_400n);
      expect(await v.rollupRegistry.minChallengePeriod()).to.equal(60n);
      // The review's attack: setChallengePeriod(0), then nothing can be rejected.
      for (const period of [0, 59, 30 * 86_400 + 1]) {
        await expect(govern(v, v.rollupRegistry, "setChallengePeriod", [period]))
          .to.be.revertedWithCustomError(v.rollupRegistry, "ChallengePeriodOutOfRange")
          .withArgs(BigInt(period), 60n, 30n * 86_400n);
      }
      const { header } = await submitRollup(
        v,
        genesis,
        await withdrawalMessages(v, [{ to: v.users[0].address, amount: 1n }]),
      );
      await expect(v.rollupRegistry.rejectRollup(header)).to.emit(v.rollupRegistry, "RollupRejected");
    });

    it("F2: a deployment's own floor (immutable) is at least MIN_CHALLENGE_PERIOD and bounds the period", async () => {
      const { v } = await load();
      const factory = new RollupRegistry__factory(v.admin);
      const args = async (period: number, floor: number) =>
        [
          v.admin.address,
          0,
          v.admin.address,
          await v.enclaveRegistry.getAddress(),
          await v.rollupRegistry.operatorRegistry(),
          await v.messageBus.getAddress(),
          await v.feeVault.getAddress(),
          period,
          floor,
          256,
        ] as const;
      await expect(factory.deploy(...(await args(3600, 59))))
        .to.be.revertedWithCustomError(factory, "ChallengePeriodOutOfRange")
        .withArgs(59n, 60n, 30n * 86_400n);
      await expect(factory.deploy(...(await args(3599, 3600))))
        .to.be.revertedWithCustomError(factory, "ChallengePeriodOutOfRange")
        .withArgs(3599n, 3600n, 30n * 86_400n);
      const registry = await factory.deploy(...(await args(7200, 3600)));
      expect(await registry.minChallengePeriod()).to.equal(3600n);
      await expect(registry.setChallengePeriod(3599)).to.be.revertedWithCustomError(
        registry,
        "ChallengePeriodOutOfRange",
      );
      await expect(registry.setChallengePeriod(3600)).to.emit(registry, "ChallengePeriodSet").withArgs(3600n);
    });

    it("pause stops rollup submission until unpause", async () => {
      const { v, genesis } = await load();
      await (await v.rollupRegistry.pause()).wait();
      const { header, payload } = await nextRollupHeader(v);
      const signature = await signRollup(v, genesis, header);
      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature))).to.be.revertedWithCustomError(
        v.rollupRegistry,
        "EnforcedPause",
      );
      await (await v.rollupRegistry.unpause()).wait();
      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature))).to.emit(
        v.rollupRegistry,
        "RollupAdded",
      );
    });

    it("rejects every admin function from callers without the role", async () => {
      const { v, genesis } = await load();
      const { header } = await submitRollup(
        v,
        genesis,
        await withdrawalMessages(v, [{ to: v.users[0].address, amount: 1n }]),
      );
      const r = v.rollupRegistry.connect(v.stranger);
      const [admin, guardian, pauser] = await Promise.all([
        v.rollupRegistry.DEFAULT_ADMIN_ROLE(),
        v.rollupRegistry.GUARDIAN_ROLE(),
        v.rollupRegistry.PAUSER_ROLE(),
      ]);
      const cases: [string, () => Promise<unknown>, string][] = [
        ["setChallengePeriod", () => r.setChallengePeriod(60), admin],
        ["setRevelationPeriod", () => r.setRevelationPeriod(1000), admin],
        ["rejectRollup", () => r.rejectRollup(header), guardian],
        ["pause", () => r.pause(), pauser],
        ["unpause", () => r.unpause(), pauser],
        ["grantRole", () => r.grantRole(guardian, v.stranger.address), admin],
        ["revokeRole", () => r.revokeRole(guardian, v.admin.address), admin],
      ];
      for (const [name, call, role] of cases) {
        await expect(call(), name)
          .to.be.revertedWithCustomError(v.rollupRegistry, "AccessControlUnauthorizedAccount")
          .withArgs(v.stranger.address, role);
      }
      // Holding one role does not grant the others.
      const onlyPauser = v.users[5];
      await (await govern(v, v.rollupRegistry, "grantRole", [pauser, onlyPauser.address])).wait();
      await expect(v.rollupRegistry.connect(onlyPauser).setChallengePeriod(60))
        .to.be.revertedWithCustomError(v.rollupRegistry, "AccessControlUnauthorizedAccount")
        .withArgs(onlyPauser.address, admin);
      await expect(v.rollupRegistry.connect(onlyPauser).setRevelationPeriod(1000))
        .to.be.revertedWithCustomError(v.rollupRegistry, "AccessControlUnauthorizedAccount")
        .withArgs(onlyPauser.address, admin);
      await expect(v.rollupRegistry.connect(onlyPauser).rejectRollup(header))
        .to.be.revertedWithCustomError(v.rollupRegistry, "AccessControlUnauthorizedAccount")
        .withArgs(onlyPauser.address, guardian);
    });
  });
});
