import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { type ContractTransactionResponse, Wallet, ZeroAddress, ZeroHash, keccak256, solidityPacked } from "ethers";
import { network } from "hardhat";

import {
  type FeeVault,
  FeeVault__factory,
  type MockEnclaveRegistry,
  MockEnclaveRegistry__factory,
  type OperatorRegistry,
  OperatorRegistry__factory,
  ReentrantLiquidator__factory,
} from "../../types/ethers-contracts/index.js";
import { at } from "../../testing/defined.js";
import { govern } from "../../testing/governance.js";
import { type Veilnet, deployVeilnet } from "../../testing/veilnet.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

const GWEI = 10n ** 9n;
const ONE_ETH = 10n ** 18n;
/** The constructor's maximum operator fee, wei per block. */
const MAX_FEE = 10n * GWEI;
const DAY = 86_400n;
const DEFAULT_MIN_BLOCKS = 214_800n;

interface Fixture {
  v: Veilnet;
  registry: OperatorRegistry;
  enclaves: MockEnclaveRegistry;
  vault: FeeVault;
  /** May credit FeeVault rewards (bound as its rewarder). */
  rewarder: HardhatEthersSigner;
  /** Holds GENESIS_ROLE. */
  initializer: HardhatEthersSigner;
  /** Owns the operators the helpers register. */
  owner: HardhatEthersSigner;
  /** Owns the committees the helpers create. */
  creator: HardhatEthersSigner;
}

/**
 * The suite (for its timelock, the admin of everything) plus, deployed directly, a FeeVault whose rewarder is a
 * test account, a mock EnclaveRegistry and the OperatorRegistry under test (admin: the timelock).
 */
async function fixture(): Promise<Fixture> {
  const v = await deployVeilnet(connection);
  const [rewarder, initializer, owner, creator] = [v.users[6], v.users[7], v.users[8], v.users[9]];
  const enclaves = await new MockEnclaveRegistry__factory(v.deployer).deploy();
  const vault = await new FeeVault__factory(v.deployer).deploy(v.admin.address, 0n, v.guardian.address, GWEI, GWEI, 0);
  await (await vault.bindRewarder(rewarder.address)).wait();
  const registry = await new OperatorRegistry__factory(v.deployer).deploy(
    await v.timelock.getAddress(),
    0n,
    v.guardian.address,
    initializer.address,
    await enclaves.getAddress(),
    await vault.getAddress(),
    MAX_FEE,
  );
  return { v, registry, enclaves, vault, rewarder, initializer, owner, creator };
}

/** The fixture of the running test, checked by the accounting invariant after each test. */
let current: Fixture | undefined;

async function load(): Promise<Fixture> {
  current = await networkHelpers.loadFixture(fixture);
  return current;
}

/**
 * The accounting invariant, as of the latest block: the registry's ETH balance equals every committee's
 * balance plus every operator's earnings plus the network's earnings, computed both from the per-entity views
 * and from `accounting()`'s totals.
 */
async function registryInvariant(f: Fixture): Promise<void> {
  const { registry } = f;
  const [held, committeeTotal, operatorTotal, network] = await registry.accounting();
  expect(await ethers.provider.getBalance(await registry.getAddress())).to.equal(held);
  let committees = 0n;
  for (let id = 1n; id <= (await registry.committeeCount()); id++) committees += await registry.committeeBalance(id);
  let operators = 0n;
  for (let id = 1n; id <= (await registry.operatorCount()); id++) operators += await registry.operatorEarnings(id);
  expect(committees, "sum of committee balances").to.equal(committeeTotal);
  expect(operators, "sum of operator earnings").to.equal(operatorTotal);
  expect(held, "held == committees + operators + network").to.equal(committeeTotal + operatorTotal + network);
}

function compressedKey(): string {
  return Wallet.createRandom().signingKey.compressedPublicKey;
}

async function mined(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  const receipt = await (await tx).wait();
  if (receipt === null) throw new Error("no receipt");
  return BigInt(receipt.blockNumber);
}

/** Registers an operator of `owner` with `fee` and binds a fresh sequencer enclave to it. */
async function addOperator(
  f: Fixture,
  fee = 0n,
  owner: HardhatEthersSigner = f.owner,
): Promise<{ id: bigint; enclave: string; key: string }> {
  const key = compressedKey();
  const registry = f.registry.connect(owner);
  await (await registry.registerOperator(key, fee)).wait();
  const id = await f.registry.operatorCount();
  const enclave = Wallet.createRandom().address;
  await (await f.enclaves.grantSequencer(enclave, owner.address)).wait();
  await (await registry.setOperatorEnclave(id, enclave)).wait();
  return { id, enclave, key };
}

/** `n` operators with `fee` each. */
async function addOperators(f: Fixture, n: number, fee = 0n): Promise<{ id: bigint; enclave: string }[]> {
  const out: { id: bigint; enclave: string }[] = [];
  for (let i = 0; i < n; i++) out.push(await addOperator(f, fee));
  return out;
}

/** Creates a committee of `ids` owned by `f.creator` with `value`; returns its id. */
async function addCommittee(f: Fixture, ids: bigint[], value = 0n): Promise<bigint> {
  await (await f.registry.connect(f.creator).createCommittee(ids, { value })).wait();
  return f.registry.committeeCount();
}

/** keccak256(abi.encodePacked(address[] signers)): Solidity pads each element of a packed array to 32 bytes. */
/** The latest block's number (views are evaluated there). */
async function latest(): Promise<bigint> {
  return BigInt(await ethers.provider.getBlockNumber());
}

/** An active committee of operators with `fees`, funded with `value`, activated by the genesis initializer. */
async function activeCommitteeOf(
  f: Fixture,
  fees: bigint[],
  value: bigint,
): Promise<{ id: bigint; ops: { id: bigint; enclave: string }[]; activatedAt: bigint }> {
  const ops: { id: bigint; enclave: string }[] = [];
  for (const fee of fees) ops.push(await addOperator(f, fee));
  const id = await addCommittee(
    f,
    ops.map((o) => o.id),
    value,
  );
  const activatedAt = await mined(f.registry.connect(f.initializer).initializeActiveCommittee(id));
  return { id, ops, activatedAt };
}

function signersHash(signers: string[]): string {
  return keccak256(solidityPacked(["address[]"], [signers]));
}

describe("OperatorRegistry", () => {
  afterEach(async () => {
    if (current !== undefined) await registryInvariant(current);
    current = undefined;
  });

  describe("deployment", () => {
    it("gives the timelock the admin role, the guardian the pause and the initializer GENESIS_ROLE", async () => {
      const { v, registry, initializer, enclaves, vault } = await load();
      const timelock = await v.timelock.getAddress();
      expect(await registry.defaultAdmin()).to.equal(timelock);
      expect(await registry.hasRole(await registry.PAUSER_ROLE(), v.guardian.address)).to.equal(true);
      expect(await registry.hasRole(await registry.GENESIS_ROLE(), initializer.address)).to.equal(true);
      expect(await registry.getRoleAdmin(await registry.GENESIS_ROLE())).to.equal(await registry.GENESIS_ROLE());
      expect(await registry.enclaveRegistry()).to.equal(await enclaves.getAddress());
      expect(await registry.feeVault()).to.equal(await vault.getAddress());
    });

    it("starts with ssv-network's defaults and no active committee", async () => {
      const { registry } = await load();
      const p = await registry.parameters();
      expect(p.maxOperatorFee).to.equal(MAX_FEE);
      expect(p.declarePeriod).to.equal(3n * DAY);
      expect(p.executePeriod).to.equal(4n * DAY);
      expect(p.maxFeeIncreaseBps).to.equal(1000n);
      expect(p.minimumBlocksBeforeLiquidation).to.equal(DEFAULT_MIN_BLOCKS);
      expect(p.minimumLiquidationCollateral).to.equal(0n);
      expect(p.whitelistEnabled).to.equal(false);
      expect(p.paused).to.equal(false);
      expect(await registry.networkFee()).to.equal(0n);
      expect(await registry.activeCommittee()).to.deep.equal([0n, ZeroHash, 0n, 0n, 0n, false]);
    });

    it("rejects zero addresses", async () => {
      const { v, registry, enclaves, vault } = await load();
      const factory = new OperatorRegistry__factory(v.deployer);
      const [e, fv, g] = [await enclaves.getAddress(), await vault.getAddress(), v.guardian.address];
      for (const args of [
        [ZeroAddress, g, g, e, fv],
        [g, ZeroAddress, g, e, fv],
        [g, g, ZeroAddress, e, fv],
        [g, g, g, ZeroAddress, fv],
        [g, g, g, e, ZeroAddress],
      ] as const) {
        await expect(
          factory.deploy(args[0], 0n, args[1], args[2], args[3], args[4], MAX_FEE),
        ).to.be.revertedWithCustomError(registry, "ZeroValue");
      }
    });
  });

  describe("registerOperator", () => {
    it("numbers operators from 1, owned by the caller, and maps each key to its id", async () => {
      const { registry, owner, v } = await load();
      const key = compressedKey();
      await expect(registry.connect(owner).registerOperator(key, GWEI))
        .to.emit(registry, "OperatorRegistered")
        .withArgs(1n, owner.address, key, GWEI);
      const uncompressed = Wallet.createRandom().signingKey.publicKey;
      await expect(registry.connect(v.stranger).registerOperator(uncompressed, 0n))
        .to.emit(registry, "OperatorRegistered")
        .withArgs(2n, v.stranger.address, uncompressed, 0n);
      expect(await registry.operatorCount()).to.equal(2n);
      expect(await registry.operatorIdOf(key)).to.equal(1n);
      expect(await registry.operatorIdOf(uncompressed)).to.equal(2n);
      expect(await registry.operatorIdOf(compressedKey())).to.equal(0n);
      const op = await registry.operators(1n);
      expect(op.owner).to.equal(owner.address);
      expect(op.fee).to.equal(GWEI);
      expect(op.removed).to.equal(false);
      expect(op.enclave).to.equal(ZeroAddress);
    });

    it("rejects keys that are not 33-byte compressed or 65-byte uncompressed secp256k1 keys", async () => {
      const { registry } = await load();
      const compressed = compressedKey();
      const uncompressed = Wallet.createRandom().signingKey.publicKey;
      const bad: [string, number][] = [
        ["0x", 0],
        [compressed.slice(0, -2), 32],
        [compressed + "00", 34],
        [uncompressed.slice(0, -2), 64],
        [uncompressed + "00", 66],
        ["0x04" + compressed.slice(4), 33],
        ["0x02" + uncompressed.slice(4), 65],
      ];
      for (const [key, length] of bad) {
        await expect(registry.registerOperator(key, 0n))
          .to.be.revertedWithCustomError(registry, "InvalidPublicKey")
          .withArgs(length);
      }
    });

    it("rejects a key registered before and a fee above the maximum", async () => {
      const { registry, owner, v } = await load();
      const key = compressedKey();
      await (await registry.connect(owner).registerOperator(key, 0n)).wait();
      await expect(registry.connect(v.stranger).registerOperator(key, 0n))
        .to.be.revertedWithCustomError(registry, "PublicKeyAlreadyRegistered")
        .withArgs(1n);
      await expect(registry.registerOperator(compressedKey(), MAX_FEE + 1n))
        .to.be.revertedWithCustomError(registry, "FeeTooHigh")
        .withArgs(MAX_FEE + 1n, MAX_FEE);
      await (await registry.registerOperator(compressedKey(), MAX_FEE)).wait();
    });

    it("admits only whitelisted accounts while the whitelist is enabled", async () => {
      const { registry, owner, v } = await load();
      await expect(govern(v, registry, "setWhitelistEnabled", [true]))
        .to.emit(registry, "WhitelistEnabledSet")
        .withArgs(true);
      await expect(registry.connect(owner).registerOperator(compressedKey(), 0n))
        .to.be.revertedWithCustomError(registry, "NotWhitelisted")
        .withArgs(owner.address);
      await expect(govern(v, registry, "setOperatorWhitelist", [owner.address, true]))
        .to.emit(registry, "OperatorWhitelistUpdated")
        .withArgs(owner.address, true);
      expect(await registry.isWhitelisted(owner.address)).to.equal(true);
      await (await registry.connect(owner).registerOperator(compressedKey(), 0n)).wait();
      await (await govern(v, registry, "setOperatorWhitelist", [owner.address, false])).wait();
      await expect(registry.connect(owner).registerOperator(compressedKey(), 0n)).to.be.revertedWithCustomError(
        registry,
        "NotWhitelisted",
      );
      await (await govern(v, registry, "setWhitelistEnabled", [false])).wait();
      await (await registry.connect(v.stranger).registerOperator(compressedKey(), 0n)).wait();
      await expect(govern(v, registry, "setOperatorWhitelist", [ZeroAddress, true])).to.be.revertedWithCustomError(
        registry,
        "ZeroValue",
      );
    });

    it("lets only the admin set the whitelist and the fee parameters", async () => {
      const { registry, v } = await load();
      for (const call of [
        registry.connect(v.stranger).setWhitelistEnabled(true),
        registry.connect(v.stranger).setOperatorWhitelist(v.stranger.address, true),
        registry.connect(v.admin).setFeeParameters(1n, 1n, 1n, 1),
        registry.connect(v.admin).setNetworkFee(1n),
        registry.connect(v.admin).setLiquidationThresholds(1n, 1n),
        registry.connect(v.admin).withdrawNetworkEarnings(v.admin.address, 1n),
        registry.connect(v.admin).setActiveCommittee(1n),
      ]) {
        await expect(call).to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount");
      }
    });

    it("stops while paused (guardian only), and resumes", async () => {
      const { registry, v, owner } = await load();
      await expect(registry.connect(v.stranger).setPaused(true)).to.be.revertedWithCustomError(
        registry,
        "AccessControlUnauthorizedAccount",
      );
      await expect(registry.connect(v.guardian).setPaused(true)).to.emit(registry, "PausedSet").withArgs(true);
      await expect(registry.connect(owner).registerOperator(compressedKey(), 0n)).to.be.revertedWithCustomError(
        registry,
        "EnforcedPause",
      );
      await (await registry.connect(v.guardian).setPaused(false)).wait();
      await (await registry.connect(owner).registerOperator(compressedKey(), 0n)).wait();
    });
  });

  describe("setOperatorEnclave", () => {
    it("binds an attested sequencer enclave, one operator per enclave, by the operator's owner", async () => {
      const f = await load();
      const { registry, enclaves, owner, v } = f;
      await (await registry.connect(owner).registerOperator(compressedKey(), 0n)).wait();
      const enclave = Wallet.createRandom().address;
      await expect(registry.connect(v.stranger).setOperatorEnclave(1n, enclave))
        .to.be.revertedWithCustomError(registry, "NotOperatorOwner")
        .withArgs(1n, v.stranger.address);
      await expect(registry.connect(owner).setOperatorEnclave(9n, enclave))
        .to.be.revertedWithCustomError(registry, "UnknownOperator")
        .withArgs(9n);
      await expect(registry.connect(owner).setOperatorEnclave(1n, enclave))
        .to.be.revertedWithCustomError(registry, "NotSequencer")
        .withArgs(enclave);
      await expect(registry.connect(owner).setOperatorEnclave(1n, ZeroAddress)).to.be.revertedWithCustomError(
        registry,
        "ZeroValue",
      );
      await (await enclaves.grantSequencer(enclave, owner.address)).wait();
      await expect(registry.connect(owner).setOperatorEnclave(1n, enclave))
        .to.emit(registry, "OperatorEnclaveSet")
        .withArgs(1n, enclave);
      expect((await registry.operators(1n)).enclave).to.equal(enclave);
      expect(await registry.operatorIdOfEnclave(enclave)).to.equal(1n);

      // Another operator cannot take it; moving operator 1 to a new enclave frees the old one.
      const other = await addOperator(f);
      await expect(registry.connect(owner).setOperatorEnclave(other.id, enclave))
        .to.be.revertedWithCustomError(registry, "EnclaveInUse")
        .withArgs(enclave, 1n);
      const next = Wallet.createRandom().address;
      await (await enclaves.grantSequencer(next, owner.address)).wait();
      await (await registry.connect(owner).setOperatorEnclave(1n, next)).wait();
      expect(await registry.operatorIdOfEnclave(enclave)).to.equal(0n);
      await (await registry.connect(owner).setOperatorEnclave(other.id, enclave)).wait();
      expect(await registry.operatorIdOfEnclave(enclave)).to.equal(other.id);
    });
  });

  describe("committees", () => {
    it("creates a committee of 1, 4, 7, 10 or 13 with quorum 2f+1, its signers recorded", async () => {
      const f = await load();
      const { registry, enclaves, creator } = f;
      const ops = await addOperators(f, 13);
      const generation = 0n;
      let expectedId = 0n;
      for (const [n, quorum] of [
        [1, 1n],
        [4, 3n],
        [7, 5n],
        [10, 7n],
        [13, 9n],
      ] as const) {
        const members = ops.slice(0, n);
        const ids = members.map((o) => o.id);
        const signers = members.map((o) => o.enclave);
        expectedId++;
        const tx = registry.connect(creator).createCommittee(ids, { value: 5n });
        await expect(tx).to.emit(registry, "CommitteeCreated").withArgs(expectedId, creator.address, ids, quorum, 5n);
        await expect(tx)
          .to.emit(registry, "CommitteeSignersUpdated")
          .withArgs(expectedId, signers, generation + (await enclaves.revocationGeneration()));
        const c = await registry.committee(expectedId);
        expect(c.owner).to.equal(creator.address);
        expect(c.size).to.equal(BigInt(n));
        expect(c.quorum).to.equal(quorum);
        expect(c.liquidated).to.equal(false);
        expect(c.signersHash).to.equal(signersHash(signers));
        expect(c.operatorIds).to.deep.equal(ids);
        expect(c.balance).to.equal(5n);
        expect(await registry.committeeBalance(expectedId)).to.equal(5n);
      }
      expect(await registry.committeeCount()).to.equal(5n);
    });

    it("rejects other sizes, unsorted or duplicated ids, unknown or removed operators and repeated sets", async () => {
      const f = await load();
      const { registry, owner } = await Promise.resolve(f);
      const ops = await addOperators(f, 14);
      const ids = ops.map((o) => o.id);
      for (const n of [0, 2, 3, 5, 6, 8, 9, 11, 12, 14]) {
        await expect(registry.createCommittee(ids.slice(0, n)))
          .to.be.revertedWithCustomError(registry, "InvalidCommitteeSize")
          .withArgs(n);
      }
      const [a, b, c, d] = [at(ids, 0, "id"), at(ids, 1, "id"), at(ids, 2, "id"), at(ids, 3, "id")];
      await expect(registry.createCommittee([b, a, c, d]))
        .to.be.revertedWithCustomError(registry, "OperatorIdsNotAscending")
        .withArgs(1n);
      await expect(registry.createCommittee([a, b, b, d]))
        .to.be.revertedWithCustomError(registry, "OperatorIdsNotAscending")
        .withArgs(2n);
      await expect(registry.createCommittee([0n]))
        .to.be.revertedWithCustomError(registry, "UnknownOperator")
        .withArgs(0n);
      await expect(registry.createCommittee([a, b, c, 99n]))
        .to.be.revertedWithCustomError(registry, "UnknownOperator")
        .withArgs(99n);
      await (await registry.connect(owner).removeOperator(d)).wait();
      await expect(registry.createCommittee([a, b, c, d]))
        .to.be.revertedWithCustomError(registry, "OperatorIsRemoved")
        .withArgs(d);
      await addCommittee(f, [a, b, c, at(ids, 4, "id")]);
      await expect(registry.createCommittee([a, b, c, at(ids, 4, "id")]))
        .to.be.revertedWithCustomError(registry, "CommitteeExists")
        .withArgs(1n);
    });

    it("needs every member to have a sequencer enclave", async () => {
      const f = await load();
      const { registry, owner, enclaves } = f;
      const bound = await addOperator(f);
      await (await registry.connect(owner).registerOperator(compressedKey(), 0n)).wait();
      await expect(registry.createCommittee([2n]))
        .to.be.revertedWithCustomError(registry, "MissingEnclave")
        .withArgs(2n);
      await (await enclaves.revokeSequencer(bound.enclave)).wait();
      await expect(registry.createCommittee([bound.id]))
        .to.be.revertedWithCustomError(registry, "NotSequencer")
        .withArgs(bound.enclave);
    });

    it("stops creation while paused", async () => {
      const f = await load();
      const op = await addOperator(f);
      await (await f.registry.connect(f.v.guardian).setPaused(true)).wait();
      await expect(f.registry.createCommittee([op.id])).to.be.revertedWithCustomError(f.registry, "EnforcedPause");
    });
  });

  describe("the active committee", () => {
    it("is set once by the genesis initializer, which loses its role", async () => {
      const f = await load();
      const { registry, initializer, v } = f;
      const ops = await addOperators(f, 4);
      const id = await addCommittee(
        f,
        ops.map((o) => o.id),
      );
      await expect(registry.connect(v.stranger).initializeActiveCommittee(id)).to.be.revertedWithCustomError(
        registry,
        "AccessControlUnauthorizedAccount",
      );
      await expect(registry.connect(initializer).initializeActiveCommittee(id))
        .to.emit(registry, "ActiveCommitteeChanged")
        .withArgs(0n, id);
      expect(await registry.hasRole(await registry.GENESIS_ROLE(), initializer.address)).to.equal(false);
      await expect(registry.connect(initializer).initializeActiveCommittee(id)).to.be.revertedWithCustomError(
        registry,
        "AccessControlUnauthorizedAccount",
      );
      const signers = ops.map((o) => o.enclave);
      expect(await registry.activeCommittee()).to.deep.equal([id, signersHash(signers), 0n, 4n, 3n, false]);
    });

    it("cannot be initialized after the admin set one, nor to an unknown committee", async () => {
      const f = await load();
      const { registry, initializer, v } = f;
      const op = await addOperator(f);
      await expect(registry.connect(initializer).initializeActiveCommittee(1n))
        .to.be.revertedWithCustomError(registry, "UnknownCommittee")
        .withArgs(1n);
      const id = await addCommittee(f, [op.id]);
      await (await govern(v, registry, "setActiveCommittee", [id])).wait();
      await expect(registry.connect(initializer).initializeActiveCommittee(id)).to.be.revertedWithCustomError(
        registry,
        "ActiveCommitteeAlreadyInitialized",
      );
    });

    it("changes afterwards only through the admin (the timelock)", async () => {
      const f = await load();
      const { registry, initializer, v } = f;
      const ops = await addOperators(f, 2);
      const first = await addCommittee(f, [at(ops, 0, "op").id]);
      const second = await addCommittee(f, [at(ops, 1, "op").id]);
      await (await registry.connect(initializer).initializeActiveCommittee(first)).wait();
      await expect(registry.connect(initializer).setActiveCommittee(second)).to.be.revertedWithCustomError(
        registry,
        "AccessControlUnauthorizedAccount",
      );
      await expect(govern(v, registry, "setActiveCommittee", [first]))
        .to.be.revertedWithCustomError(registry, "AlreadyActive")
        .withArgs(first);
      await expect(govern(v, registry, "setActiveCommittee", [7n]))
        .to.be.revertedWithCustomError(registry, "UnknownCommittee")
        .withArgs(7n);
      await expect(govern(v, registry, "setActiveCommittee", [second]))
        .to.emit(registry, "ActiveCommitteeChanged")
        .withArgs(first, second);
      const [id, hash, , size, quorum, liquidated] = await registry.activeCommittee();
      expect([id, hash, size, quorum, liquidated]).to.deep.equal([
        second,
        signersHash([at(ops, 1, "op").enclave]),
        1n,
        1n,
        false,
      ]);
    });

    it("goes stale on a revocation until its signers are refreshed; a revoked or removed member blocks that", async () => {
      const f = await load();
      const { registry, enclaves, initializer, owner, v } = f;
      const ops = await addOperators(f, 4);
      const id = await addCommittee(
        f,
        ops.map((o) => o.id),
      );
      await (await registry.connect(initializer).initializeActiveCommittee(id)).wait();
      const unrelated = Wallet.createRandom().address;
      await (await enclaves.grantSequencer(unrelated, owner.address)).wait();
      await (await enclaves.revokeSequencer(unrelated)).wait();
      expect(await enclaves.revocationGeneration()).to.equal(1n);
      expect((await registry.activeCommittee()).signersGeneration).to.equal(0n);

      // Members unaffected: anyone refreshes to the current generation.
      await expect(registry.connect(v.stranger).refreshCommitteeSigners(id))
        .to.emit(registry, "CommitteeSignersUpdated")
        .withArgs(
          id,
          ops.map((o) => o.enclave),
          1n,
        );
      expect((await registry.activeCommittee()).signersGeneration).to.equal(1n);
      expect((await registry.committee(id)).signersGeneration).to.equal(1n);

      // A member's enclave revoked: refresh fails until the operator binds a new one.
      const victim = at(ops, 2, "op");
      await (await enclaves.revokeSequencer(victim.enclave)).wait();
      await expect(registry.refreshCommitteeSigners(id))
        .to.be.revertedWithCustomError(registry, "NotSequencer")
        .withArgs(victim.enclave);
      const replacement = Wallet.createRandom().address;
      await (await enclaves.grantSequencer(replacement, owner.address)).wait();
      await (await registry.connect(owner).setOperatorEnclave(victim.id, replacement)).wait();
      await (await registry.refreshCommitteeSigners(id)).wait();
      const signers = ops.map((o) => (o.id === victim.id ? replacement : o.enclave));
      expect(await registry.activeCommittee()).to.deep.equal([id, signersHash(signers), 2n, 4n, 3n, false]);

      // A removed member has no enclave: the committee keeps it listed but cannot be refreshed.
      await expect(registry.connect(owner).removeOperator(victim.id))
        .to.emit(registry, "OperatorRemoved")
        .withArgs(victim.id);
      expect((await registry.committee(id)).operatorIds).to.deep.equal(ops.map((o) => o.id));
      await expect(registry.refreshCommitteeSigners(id))
        .to.be.revertedWithCustomError(registry, "MissingEnclave")
        .withArgs(victim.id);
      await expect(registry.refreshCommitteeSigners(9n))
        .to.be.revertedWithCustomError(registry, "UnknownCommittee")
        .withArgs(9n);
    });

    it("reads in two storage slots (the rollup hot path)", async () => {
      const f = await load();
      const op = await addOperator(f);
      const id = await addCommittee(f, [op.id]);
      await (await f.registry.connect(f.initializer).initializeActiveCommittee(id)).wait();
      const gas = await f.registry.activeCommittee.estimateGas();
      // 21000 intrinsic + two cold SLOADs (2 × 2100) + calldata, dispatch and encoding: a third cold SLOAD
      // would take it past 21000 + 3 × 2100.
      expect(gas).to.be.greaterThan(21_000n + 2n * 2_100n);
      expect(gas).to.be.lessThan(21_000n + 3n * 2_100n);
    });
  });

  describe("removeOperator", () => {
    it("only by its owner, once; frees its enclave and drops its declared fee", async () => {
      const f = await load();
      const { registry, owner, v } = f;
      const op = await addOperator(f, GWEI);
      await (await registry.connect(owner).declareOperatorFee(op.id, GWEI + 1n)).wait();
      await expect(registry.connect(v.stranger).removeOperator(op.id)).to.be.revertedWithCustomError(
        registry,
        "NotOperatorOwner",
      );
      await expect(registry.connect(owner).removeOperator(op.id)).to.emit(registry, "OperatorRemoved").withArgs(op.id);
      const stored = await registry.operators(op.id);
      expect(stored.removed).to.equal(true);
      expect(stored.fee).to.equal(0n);
      expect(stored.enclave).to.equal(ZeroAddress);
      expect(await registry.operatorIdOfEnclave(op.enclave)).to.equal(0n);
      expect((await registry.declaredFees(op.id)).fee).to.equal(0n);
      await expect(registry.connect(owner).removeOperator(op.id))
        .to.be.revertedWithCustomError(registry, "OperatorIsRemoved")
        .withArgs(op.id);
      await expect(registry.connect(owner).setOperatorEnclave(op.id, op.enclave))
        .to.be.revertedWithCustomError(registry, "OperatorIsRemoved")
        .withArgs(op.id);
      await expect(registry.connect(owner).declareOperatorFee(op.id, 1n)).to.be.revertedWithCustomError(
        registry,
        "OperatorIsRemoved",
      );
      await expect(registry.connect(owner).executeOperatorFee(op.id))
        .to.be.revertedWithCustomError(registry, "NoFeeDeclared")
        .withArgs(op.id);
    });
  });

  describe("fees", () => {
    it("declares an increase of at most maxFeeIncreaseBps and executes it inside the window only", async () => {
      const f = await load();
      const { registry, owner, v } = f;
      const op = await addOperator(f, GWEI);
      await expect(registry.connect(v.stranger).declareOperatorFee(op.id, GWEI + 1n)).to.be.revertedWithCustomError(
        registry,
        "NotOperatorOwner",
      );
      await expect(registry.connect(owner).declareOperatorFee(op.id, GWEI))
        .to.be.revertedWithCustomError(registry, "FeeNotChanged")
        .withArgs(GWEI, GWEI);
      const limit = (GWEI * 11_000n) / 10_000n;
      await expect(registry.connect(owner).declareOperatorFee(op.id, limit + 1n))
        .to.be.revertedWithCustomError(registry, "FeeExceedsIncreaseLimit")
        .withArgs(limit + 1n, limit);
      await expect(registry.connect(owner).executeOperatorFee(op.id))
        .to.be.revertedWithCustomError(registry, "NoFeeDeclared")
        .withArgs(op.id);

      const tx = await registry.connect(owner).declareOperatorFee(op.id, limit);
      const declaredAt = BigInt((await ethers.provider.getBlock(await mined(Promise.resolve(tx))))!.timestamp);
      const from = declaredAt + 3n * DAY;
      const until = from + 4n * DAY;
      await expect(tx).to.emit(registry, "OperatorFeeDeclared").withArgs(op.id, limit, from, until);
      expect(await registry.declaredFees(op.id)).to.deep.equal([limit, from, until]);

      await networkHelpers.time.setNextBlockTimestamp(from - 1n);
      await expect(registry.connect(owner).executeOperatorFee(op.id))
        .to.be.revertedWithCustomError(registry, "OutsideExecutionWindow")
        .withArgs(from, until);
      await expect(registry.connect(v.stranger).executeOperatorFee(op.id)).to.be.revertedWithCustomError(
        registry,
        "NotOperatorOwner",
      );
      await networkHelpers.time.setNextBlockTimestamp(from);
      await expect(registry.connect(owner).executeOperatorFee(op.id))
        .to.emit(registry, "OperatorFeeExecuted")
        .withArgs(op.id, limit);
      expect((await registry.operators(op.id)).fee).to.equal(limit);
      expect((await registry.declaredFees(op.id)).fee).to.equal(0n);
    });

    it("refuses a declared fee after the window, and one above a lowered maximum", async () => {
      const f = await load();
      const { registry, owner, v } = f;
      const op = await addOperator(f, GWEI);
      await (await registry.connect(owner).declareOperatorFee(op.id, GWEI + 5n)).wait();
      const { executableUntil } = await registry.declaredFees(op.id);
      await networkHelpers.time.setNextBlockTimestamp(executableUntil + 1n);
      await expect(registry.connect(owner).executeOperatorFee(op.id)).to.be.revertedWithCustomError(
        registry,
        "OutsideExecutionWindow",
      );

      await (await registry.connect(owner).declareOperatorFee(op.id, GWEI + 5n)).wait();
      await expect(govern(v, registry, "setFeeParameters", [GWEI, DAY, DAY, 500]))
        .to.emit(registry, "FeeParametersSet")
        .withArgs(GWEI, DAY, DAY, 500);
      await networkHelpers.time.increase(3n * DAY);
      await expect(registry.connect(owner).executeOperatorFee(op.id))
        .to.be.revertedWithCustomError(registry, "FeeTooHigh")
        .withArgs(GWEI + 5n, GWEI);
    });

    it("cancels a declaration, and reduces a fee at once", async () => {
      const f = await load();
      const { registry, owner, v } = f;
      const op = await addOperator(f, GWEI);
      await expect(registry.connect(owner).cancelDeclaredOperatorFee(op.id))
        .to.be.revertedWithCustomError(registry, "NoFeeDeclared")
        .withArgs(op.id);
      await (await registry.connect(owner).declareOperatorFee(op.id, GWEI + 1n)).wait();
      await expect(registry.connect(v.stranger).cancelDeclaredOperatorFee(op.id)).to.be.revertedWithCustomError(
        registry,
        "NotOperatorOwner",
      );
      await expect(registry.connect(owner).cancelDeclaredOperatorFee(op.id))
        .to.emit(registry, "OperatorFeeDeclarationCancelled")
        .withArgs(op.id);
      expect((await registry.declaredFees(op.id)).fee).to.equal(0n);

      await expect(registry.connect(owner).reduceOperatorFee(op.id, GWEI))
        .to.be.revertedWithCustomError(registry, "FeeNotChanged")
        .withArgs(GWEI, GWEI);
      await expect(registry.connect(v.stranger).reduceOperatorFee(op.id, 1n)).to.be.revertedWithCustomError(
        registry,
        "NotOperatorOwner",
      );
      await (await registry.connect(owner).declareOperatorFee(op.id, GWEI + 1n)).wait();
      const tx = registry.connect(owner).reduceOperatorFee(op.id, GWEI / 2n);
      await expect(tx)
        .to.emit(registry, "OperatorFeeExecuted")
        .withArgs(op.id, GWEI / 2n);
      await expect(tx).to.emit(registry, "OperatorFeeDeclarationCancelled").withArgs(op.id);
      expect((await registry.operators(op.id)).fee).to.equal(GWEI / 2n);
      expect((await registry.declaredFees(op.id)).fee).to.equal(0n);
    });

    it("validates the fee parameters", async () => {
      const { registry, v } = await load();
      await expect(govern(v, registry, "setFeeParameters", [GWEI, DAY, 0n, 100])).to.be.revertedWithCustomError(
        registry,
        "ZeroValue",
      );
      await expect(govern(v, registry, "setFeeParameters", [GWEI, DAY, DAY, 10_001]))
        .to.be.revertedWithCustomError(registry, "InvalidBps")
        .withArgs(10_001n);
      await expect(govern(v, registry, "setFeeParameters", [2n ** 64n, DAY, DAY, 100])).to.be.revertedWithCustomError(
        registry,
        "SafeCastOverflowedUintDowncast",
      );
    });
  });

  describe("balances and earnings", () => {
    it("charges only the active committee, per block, and pays its members their fees", async () => {
      const f = await load();
      const { registry, v } = f;
      await (await govern(v, registry, "setNetworkFee", [GWEI])).wait();
      const fees = [GWEI, 2n * GWEI, 3n * GWEI, 4n * GWEI];
      const standbyOp = await addOperator(f, 5n * GWEI);
      const standby = await addCommittee(f, [standbyOp.id], ONE_ETH);
      const a = await activeCommitteeOf(f, fees, ONE_ETH);
      expect(await registry.burnRate(a.id)).to.equal(11n * GWEI);
      await networkHelpers.mine(10);
      let blocks = (await latest()) - a.activatedAt;
      expect(await registry.committeeBalance(a.id)).to.equal(ONE_ETH - blocks * 11n * GWEI);
      for (const [i, op] of a.ops.entries()) {
        expect(await registry.operatorEarnings(op.id)).to.equal(at(fees, i, "fee") * blocks);
      }
      expect(await registry.committeeBalance(standby)).to.equal(ONE_ETH);
      expect(await registry.operatorEarnings(standbyOp.id)).to.equal(0n);
      expect((await registry.accounting()).network).to.equal(blocks * GWEI);

      // The admin switches to the standby committee: A stops paying, its members stop earning.
      const switchedAt = await mined(govern(v, registry, "setActiveCommittee", [standby]));
      blocks = switchedAt - a.activatedAt;
      await networkHelpers.mine(5);
      expect(await registry.committeeBalance(a.id)).to.equal(ONE_ETH - blocks * 11n * GWEI);
      for (const [i, op] of a.ops.entries()) {
        expect(await registry.operatorEarnings(op.id)).to.equal(at(fees, i, "fee") * blocks);
      }
      const since = (await latest()) - switchedAt;
      expect(await registry.committeeBalance(standby)).to.equal(ONE_ETH - since * 6n * GWEI);
      expect(await registry.operatorEarnings(standbyOp.id)).to.equal(since * 5n * GWEI);
      expect((await registry.accounting()).network).to.equal((blocks + since) * GWEI);
    });

    it("stops charging when the balance runs out, and resumes from a deposit on", async () => {
      const f = await load();
      const { registry, v } = f;
      await (await govern(v, registry, "setLiquidationThresholds", [0n, 0n])).wait();
      const a = await activeCommitteeOf(f, [2n * GWEI], 11n * GWEI);
      const op = at(a.ops, 0, "op");
      await networkHelpers.mine(20);
      // Five whole blocks were covered; the odd gwei stays in the balance, nothing is owed beyond it.
      expect(await registry.operatorEarnings(op.id)).to.equal(10n * GWEI);
      expect(await registry.committeeBalance(a.id)).to.equal(GWEI);
      const depositedAt = await mined(registry.connect(v.stranger).deposit(a.id, { value: 9n * GWEI }));
      await networkHelpers.mine(2);
      const blocks = (await latest()) - depositedAt;
      expect(await registry.operatorEarnings(op.id)).to.equal(10n * GWEI + blocks * 2n * GWEI);
      expect(await registry.committeeBalance(a.id)).to.equal(10n * GWEI - blocks * 2n * GWEI);
    });

    it("keeps earnings exact across fee changes and removals of active members", async () => {
      const f = await load();
      const { registry, owner } = f;
      const a = await activeCommitteeOf(f, [GWEI, GWEI, GWEI, 2n * GWEI], ONE_ETH);
      const [op0, , , op3] = a.ops;
      if (op0 === undefined || op3 === undefined) throw new Error("members");
      const reducedAt = await mined(registry.connect(owner).reduceOperatorFee(op0.id, GWEI / 2n));
      expect(await registry.burnRate(a.id)).to.equal(GWEI / 2n + 4n * GWEI);
      const removedAt = await mined(registry.connect(owner).removeOperator(op3.id));
      expect(await registry.burnRate(a.id)).to.equal(GWEI / 2n + 2n * GWEI);
      await networkHelpers.mine(3);
      const now = await latest();
      expect(await registry.operatorEarnings(op0.id)).to.equal(
        (reducedAt - a.activatedAt) * GWEI + ((now - reducedAt) * GWEI) / 2n,
      );
      expect(await registry.operatorEarnings(op3.id)).to.equal((removedAt - a.activatedAt) * 2n * GWEI);
      const spent =
        (reducedAt - a.activatedAt) * 5n * GWEI +
        ((removedAt - reducedAt) * 9n * GWEI) / 2n +
        ((now - removedAt) * 5n * GWEI) / 2n;
      expect(await registry.committeeBalance(a.id)).to.equal(ONE_ETH - spent);
    });

    it("takes deposits from anyone, and not while paused", async () => {
      const f = await load();
      const { registry, v } = f;
      const op = await addOperator(f);
      const id = await addCommittee(f, [op.id], 1n);
      await expect(registry.connect(v.stranger).deposit(id, { value: 2n }))
        .to.emit(registry, "CommitteeDeposited")
        .withArgs(id, v.stranger.address, 2n, 3n);
      await expect(registry.deposit(id)).to.be.revertedWithCustomError(registry, "ZeroValue");
      await expect(registry.deposit(5n, { value: 1n }))
        .to.be.revertedWithCustomError(registry, "UnknownCommittee")
        .withArgs(5n);
      await (await registry.connect(v.guardian).setPaused(true)).wait();
      await expect(registry.deposit(id, { value: 1n })).to.be.revertedWithCustomError(registry, "EnforcedPause");
    });

    it("pays withdrawals to the committee's owner, never below the liquidation threshold", async () => {
      const f = await load();
      const { registry, creator, v } = f;
      await (await govern(v, registry, "setLiquidationThresholds", [100n, GWEI])).wait();
      const a = await activeCommitteeOf(f, [GWEI], ONE_ETH);
      await expect(registry.connect(v.stranger).withdraw(a.id, 1n))
        .to.be.revertedWithCustomError(registry, "NotCommitteeOwner")
        .withArgs(a.id, v.stranger.address);
      await expect(registry.connect(creator).withdraw(9n, 1n))
        .to.be.revertedWithCustomError(registry, "UnknownCommittee")
        .withArgs(9n);
      await expect(registry.connect(creator).withdraw(a.id, 0n)).to.be.revertedWithCustomError(registry, "ZeroValue");
      await expect(registry.connect(creator).withdraw(a.id, ONE_ETH)).to.be.revertedWithCustomError(
        registry,
        "InsufficientFunds",
      );
      // 100 blocks of 1 gwei must stay (one more block is charged by the withdrawal itself).
      const keep = 100n * GWEI;
      const charged = ((await latest()) + 1n - a.activatedAt) * GWEI;
      const max = ONE_ETH - charged - keep;
      await expect(registry.connect(creator).withdraw(a.id, max + 1n))
        .to.be.revertedWithCustomError(registry, "CommitteeBalanceTooLow")
        .withArgs(a.id, keep - 1n);
      const charged2 = ((await latest()) + 1n - a.activatedAt) * GWEI;
      const tx = registry.connect(creator).withdraw(a.id, ONE_ETH - charged2 - keep);
      await expect(tx)
        .to.emit(registry, "CommitteeWithdrawn")
        .withArgs(a.id, creator.address, ONE_ETH - charged2 - keep, keep);
      await expect(tx).to.changeEtherBalances(
        ethers,
        [creator, await registry.getAddress()],
        [ONE_ETH - charged2 - keep, -(ONE_ETH - charged2 - keep)],
      );
      // The minimum collateral applies too.
      await (await govern(v, registry, "setLiquidationThresholds", [0n, GWEI])).wait();
      const balance = await registry.committeeBalance(a.id);
      await expect(registry.connect(creator).withdraw(a.id, balance - GWEI)).to.be.revertedWithCustomError(
        registry,
        "CommitteeBalanceTooLow",
      );
    });
  });

  describe("liquidation", () => {
    it("refuses a healthy committee; anyone liquidates a liquidatable one and collects its balance", async () => {
      const f = await load();
      const { registry, owner, creator, v } = f;
      const a = await activeCommitteeOf(f, [GWEI, GWEI, GWEI, GWEI], ONE_ETH);
      expect(await registry.isLiquidatable(a.id)).to.equal(false);
      await expect(registry.connect(v.stranger).liquidate(a.id))
        .to.be.revertedWithCustomError(registry, "CommitteeNotLiquidatable")
        .withArgs(a.id);
      await expect(registry.liquidate(8n)).to.be.revertedWithCustomError(registry, "UnknownCommittee").withArgs(8n);

      // The threshold rises above the balance: 10^9 blocks of 4 gwei.
      await (await govern(v, registry, "setLiquidationThresholds", [10n ** 9n, 0n])).wait();
      expect(await registry.isLiquidatable(a.id)).to.equal(true);
      const balance = ONE_ETH - ((await latest()) + 1n - a.activatedAt) * 4n * GWEI;
      const tx = registry.connect(v.stranger).liquidate(a.id);
      await expect(tx).to.emit(registry, "CommitteeLiquidated").withArgs(a.id, v.stranger.address, balance);
      await expect(tx).to.changeEtherBalances(ethers, [v.stranger, await registry.getAddress()], [balance, -balance]);
      const liquidatedAt = await latest();
      expect((await registry.activeCommittee()).liquidated).to.equal(true);
      expect((await registry.committee(a.id)).liquidated).to.equal(true);
      expect(await registry.committeeBalance(a.id)).to.equal(0n);
      expect(await registry.isLiquidatable(a.id)).to.equal(false);

      // Members stop earning.
      const op = at(a.ops, 0, "op");
      const earned = await registry.operatorEarnings(op.id);
      expect(earned).to.equal((liquidatedAt - a.activatedAt) * GWEI);
      await networkHelpers.mine(5);
      expect(await registry.operatorEarnings(op.id)).to.equal(earned);

      await expect(registry.liquidate(a.id)).to.be.revertedWithCustomError(registry, "CommitteeIsLiquidated");
      await expect(registry.connect(creator).withdraw(a.id, 1n)).to.be.revertedWithCustomError(
        registry,
        "CommitteeIsLiquidated",
      );
      await expect(govern(v, registry, "setActiveCommittee", [a.id])).to.be.revertedWithCustomError(
        registry,
        "CommitteeIsLiquidated",
      );
      // Operators keep what they earned.
      await expect(registry.connect(owner).operatorWithdraw(op.id, earned)).to.changeEtherBalance(
        ethers,
        owner,
        earned,
      );
    });

    it("refuses a liquidator that re-enters from the payment", async () => {
      const f = await load();
      const { registry, v } = f;
      const [a, b] = await addOperators(f, 2);
      if (a === undefined || b === undefined) throw new Error("operators");
      const first = await addCommittee(f, [a.id], GWEI);
      const second = await addCommittee(f, [b.id], GWEI);
      await (await govern(v, registry, "setLiquidationThresholds", [0n, 2n * GWEI])).wait();
      const attacker = await new ReentrantLiquidator__factory(v.stranger).deploy(await registry.getAddress());
      await expect(attacker.liquidate(first, second)).to.be.revertedWithCustomError(
        registry,
        "ReentrancyGuardReentrantCall",
      );
      expect(await registry.isLiquidatable(first)).to.equal(true);
      expect(await registry.isLiquidatable(second)).to.equal(true);
    });

    it("liquidates below the minimum collateral, and a liquidated committee cannot become active", async () => {
      const f = await load();
      const { registry, v } = f;
      const op = await addOperator(f);
      const id = await addCommittee(f, [op.id], GWEI);
      await (await govern(v, registry, "setLiquidationThresholds", [0n, GWEI + 1n])).wait();
      await expect(registry.liquidate(id)).to.emit(registry, "CommitteeLiquidated").withArgs(id, v.admin.address, GWEI);
      await expect(govern(v, registry, "setActiveCommittee", [id]))
        .to.be.revertedWithCustomError(registry, "CommitteeIsLiquidated")
        .withArgs(id);
      await expect(registry.createCommittee([op.id], { value: GWEI })).to.be.revertedWithCustomError(
        registry,
        "CommitteeExists",
      );
      const other = await addOperator(f);
      await expect(registry.createCommittee([other.id], { value: GWEI }))
        .to.be.revertedWithCustomError(registry, "CommitteeBalanceTooLow")
        .withArgs(2n, GWEI);
    });

    it("reactivates by its owner with a balance that is not liquidatable", async () => {
      const f = await load();
      const { registry, creator, v } = f;
      await (await govern(v, registry, "setLiquidationThresholds", [100n, 0n])).wait();
      const a = await activeCommitteeOf(f, [GWEI], 200n * GWEI);
      await expect(registry.connect(creator).reactivate(a.id))
        .to.be.revertedWithCustomError(registry, "CommitteeNotLiquidated")
        .withArgs(a.id);
      await networkHelpers.mine(150);
      await (await registry.liquidate(a.id)).wait();
      await expect(registry.connect(v.stranger).reactivate(a.id, { value: ONE_ETH }))
        .to.be.revertedWithCustomError(registry, "NotCommitteeOwner")
        .withArgs(a.id, v.stranger.address);
      await expect(registry.connect(creator).reactivate(a.id, { value: 99n * GWEI }))
        .to.be.revertedWithCustomError(registry, "CommitteeBalanceTooLow")
        .withArgs(a.id, 99n * GWEI);
      await (await registry.connect(v.guardian).setPaused(true)).wait();
      await expect(registry.connect(creator).reactivate(a.id, { value: ONE_ETH })).to.be.revertedWithCustomError(
        registry,
        "EnforcedPause",
      );
      await (await registry.connect(v.guardian).setPaused(false)).wait();
      const op = at(a.ops, 0, "op");
      const earned = await registry.operatorEarnings(op.id);
      const reactivation = registry.connect(creator).reactivate(a.id, { value: 100n * GWEI });
      await expect(reactivation)
        .to.emit(registry, "CommitteeReactivated")
        .withArgs(a.id, 100n * GWEI, 100n * GWEI);
      const reactivatedAt = await latest();
      expect((await registry.activeCommittee()).liquidated).to.equal(false);
      expect((await registry.committee(a.id)).liquidated).to.equal(false);
      await networkHelpers.mine(3);
      const blocks = (await latest()) - reactivatedAt;
      expect(await registry.operatorEarnings(op.id)).to.equal(earned + blocks * GWEI);
      expect(await registry.committeeBalance(a.id)).to.equal(100n * GWEI - blocks * GWEI);
    });
  });

  describe("withdrawals of earnings", () => {
    it("pays an operator's owner, removed or not, at most what it earned", async () => {
      const f = await load();
      const { registry, owner, v } = f;
      const a = await activeCommitteeOf(f, [GWEI], ONE_ETH);
      const op = at(a.ops, 0, "op");
      await networkHelpers.mine(9);
      await expect(registry.connect(v.stranger).operatorWithdraw(op.id, 1n))
        .to.be.revertedWithCustomError(registry, "NotOperatorOwner")
        .withArgs(op.id, v.stranger.address);
      await expect(registry.connect(owner).operatorWithdraw(op.id, 0n)).to.be.revertedWithCustomError(
        registry,
        "ZeroValue",
      );
      const removedAt = await mined(registry.connect(owner).removeOperator(op.id));
      const earned = (removedAt - a.activatedAt) * GWEI;
      await expect(registry.connect(owner).operatorWithdraw(op.id, earned + 1n))
        .to.be.revertedWithCustomError(registry, "InsufficientFunds")
        .withArgs(earned + 1n, earned);
      const tx = registry.connect(owner).operatorWithdraw(op.id, earned);
      await expect(tx).to.emit(registry, "OperatorWithdrawn").withArgs(op.id, owner.address, earned);
      await expect(tx).to.changeEtherBalances(ethers, [owner, await registry.getAddress()], [earned, -earned]);
      expect(await registry.operatorEarnings(op.id)).to.equal(0n);
    });

    it("pays the network's earnings to the admin's treasury", async () => {
      const f = await load();
      const { registry, v } = f;
      await expect(govern(v, registry, "setNetworkFee", [3n * GWEI]))
        .to.emit(registry, "NetworkFeeSet")
        .withArgs(3n * GWEI);
      expect(await registry.networkFee()).to.equal(3n * GWEI);
      const a = await activeCommitteeOf(f, [0n], ONE_ETH);
      await networkHelpers.mine(4);
      const treasury = v.users[5].address;
      await expect(govern(v, registry, "withdrawNetworkEarnings", [ZeroAddress, 1n])).to.be.revertedWithCustomError(
        registry,
        "ZeroValue",
      );
      // `govern` schedules in one block and executes in the next.
      const available = ((await latest()) + 2n - a.activatedAt) * 3n * GWEI;
      await expect(govern(v, registry, "withdrawNetworkEarnings", [treasury, available + 1n]))
        .to.be.revertedWithCustomError(registry, "InsufficientFunds")
        .withArgs(available + 1n, available);
      const tx = govern(v, registry, "withdrawNetworkEarnings", [treasury, 3n * GWEI]);
      await expect(tx)
        .to.emit(registry, "NetworkEarningsWithdrawn")
        .withArgs(treasury, 3n * GWEI);
      await expect(tx).to.changeEtherBalance(ethers, treasury, 3n * GWEI);
      await expect(govern(v, registry, "setNetworkFee", [2n ** 64n])).to.be.revertedWithCustomError(
        registry,
        "SafeCastOverflowedUintDowncast",
      );
    });
  });

  describe("pause", () => {
    it("never stops withdrawals of what is owed, liquidations, removals or reward collection", async () => {
      const f = await load();
      const { registry, vault, rewarder, owner, creator, v } = f;
      await (await v.admin.sendTransaction({ to: await vault.getAddress(), value: ONE_ETH })).wait();
      const spare = await addOperator(f);
      const standby = await addCommittee(f, [spare.id], GWEI);
      await (await govern(v, registry, "setNetworkFee", [GWEI])).wait();
      const a = await activeCommitteeOf(f, [GWEI, GWEI, GWEI, GWEI], ONE_ETH);
      await networkHelpers.mine(3);
      await (await registry.connect(v.guardian).setPaused(true)).wait();
      expect((await registry.parameters()).paused).to.equal(true);

      await (await registry.connect(creator).withdraw(a.id, GWEI)).wait();
      const op = at(a.ops, 0, "op");
      await (await registry.connect(owner).operatorWithdraw(op.id, GWEI)).wait();
      await (await govern(v, registry, "withdrawNetworkEarnings", [v.users[5].address, GWEI])).wait();
      const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
      await (await vault.connect(rewarder).rewardSequencer(await registry.getAddress(), 0n, now)).wait();
      await (await registry.collectRewards()).wait();
      await (await registry.connect(owner).removeOperator(at(a.ops, 1, "op").id)).wait();
      await (await govern(v, registry, "setLiquidationThresholds", [0n, 2n * GWEI])).wait();
      await (await registry.connect(v.stranger).liquidate(standby)).wait();
      await expect(registry.connect(creator).reactivate(standby, { value: ONE_ETH })).to.be.revertedWithCustomError(
        registry,
        "EnforcedPause",
      );
    });
  });

  describe("sequencing rewards", () => {
    it("collects the registry's FeeVault rewards into the active committee's balance", async () => {
      const f = await load();
      const { registry, vault, rewarder, v } = f;
      const registryAddress = await registry.getAddress();
      await (await v.admin.sendTransaction({ to: await vault.getAddress(), value: ONE_ETH })).wait();
      await expect(registry.collectRewards()).to.be.revertedWithCustomError(registry, "NoActiveCommittee");
      const a = await activeCommitteeOf(f, [0n], 0n);
      await expect(registry.collectRewards()).to.be.revertedWithCustomError(vault, "NothingToClaim");
      const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
      await (await vault.connect(rewarder).rewardSequencer(registryAddress, 3n, now)).wait();
      const reward = GWEI + 3n * GWEI;
      expect(await vault.rewardsOf(registryAddress)).to.equal(reward);
      const tx = registry.connect(v.stranger).collectRewards();
      await expect(tx).to.emit(registry, "RewardsCollected").withArgs(a.id, reward);
      await expect(tx).to.emit(vault, "RewardsClaimed").withArgs(registryAddress, reward);
      await expect(tx).to.changeEtherBalances(ethers, [vault, registryAddress], [-reward, reward]);
      expect(await registry.committeeBalance(a.id)).to.equal(reward);
    });

    it("accepts ETH from the FeeVault only", async () => {
      const { registry, v } = await load();
      await expect(v.stranger.sendTransaction({ to: await registry.getAddress(), value: 1n }))
        .to.be.revertedWithCustomError(registry, "UnexpectedSender")
        .withArgs(v.stranger.address);
    });
  });

  describe("liquidation thresholds", () => {
    it("are set by the admin, with an event", async () => {
      const { registry, v } = await load();
      await expect(govern(v, registry, "setLiquidationThresholds", [7n, 9n]))
        .to.emit(registry, "LiquidationThresholdsSet")
        .withArgs(7n, 9n);
      const p = await registry.parameters();
      expect([p.minimumBlocksBeforeLiquidation, p.minimumLiquidationCollateral]).to.deep.equal([7n, 9n]);
    });
  });
});
