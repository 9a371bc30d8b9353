import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { ZeroAddress } from "ethers";
import { network } from "hardhat";

import { Topic } from "../../protocol/messages.js";
import { FeeVault__factory } from "../../types/ethers-contracts/index.js";
import {
  BASE_REWARD,
  PER_BATCH_REWARD,
  TREASURY_BPS,
  type Veilnet,
  deployVeilnet,
  feeVaultInvariant,
  initializeGenesis,
  nextRollupHeader,
  passChallengePeriod,
  signRollup,
  submitRollup,
  withdrawalMessages,
  rollupArgs,
} from "../../testing/veilnet.js";
import { govern } from "../../testing/governance.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

const ONE_ETH = 10n ** 18n;
const BPS = 10_000n;
const UINT64_MAX = 2n ** 64n - 1n;
const MESSAGE_FEE = 10n ** 15n;
/** Rewards are accounted in whole gwei (FeeVault.REWARD_UNIT). */
const GWEI = 10n ** 9n;

type Genesis = Awaited<ReturnType<typeof initializeGenesis>>;

interface Fixture {
  v: Veilnet;
  genesis: Genesis;
  /**
   * Where rollup rewards accrue: the OperatorRegistry (it claims them for the committee). Impersonated,
   * so that the tests claim as it does.
   */
  operator: HardhatEthersSigner;
}

async function setUp(v: Veilnet): Promise<Omit<Fixture, "operator">> {
  const genesis = await initializeGenesis(v);
  return { v, genesis };
}

async function fixture(): Promise<Omit<Fixture, "operator">> {
  return setUp(await deployVeilnet(connection));
}

async function messageFeeFixture(): Promise<Omit<Fixture, "operator">> {
  return setUp(await deployVeilnet(connection, { messageFee: MESSAGE_FEE }));
}

/** The fixture of the running test, checked by the FeeVault invariant after each test. */
let current: Veilnet | undefined;

async function load(f: () => Promise<Omit<Fixture, "operator">> = fixture): Promise<Fixture> {
  const loaded = await networkHelpers.loadFixture(f);
  current = loaded.v;
  const address = await loaded.v.rollupRegistry.operatorRegistry();
  await networkHelpers.impersonateAccount(address);
  await networkHelpers.setBalance(address, 10n ** 18n);
  return { ...loaded, operator: await ethers.getSigner(address) };
}

async function vaultAddress(v: Veilnet): Promise<string> {
  return v.feeVault.getAddress();
}

/** Sends `amount` to the vault from `from` (admin by default). */
async function fund(v: Veilnet, amount: bigint, from: HardhatEthersSigner = v.admin): Promise<void> {
  await (await from.sendTransaction({ to: await vaultAddress(v), value: amount })).wait();
}

function rollupReward(batches: bigint, base = BASE_REWARD, perBatch = PER_BATCH_REWARD): bigint {
  return base + perBatch * batches;
}

/** Everything credited to `operator` and not claimed: vested (claimable) plus not yet vested. */
async function accrued(v: Veilnet, operator: string): Promise<bigint> {
  const [unvested] = await v.feeVault.unvestedRewardsOf(operator);
  return (await v.feeVault.rewardsOf(operator)) + unvested;
}

describe("FeeVault", () => {
  afterEach(async () => {
    if (current !== undefined) await feeVaultInvariant(current);
    current = undefined;
  });

  describe("deployment", () => {
    it("is configured with the reward schedule, the treasury share and the registry as rewarder", async () => {
      const { v } = await load();
      expect(await v.feeVault.baseReward()).to.equal(BASE_REWARD);
      expect(await v.feeVault.perBatchReward()).to.equal(PER_BATCH_REWARD);
      expect(await v.feeVault.treasuryShareBps()).to.equal(TREASURY_BPS);
      expect(await v.feeVault.rewarder()).to.equal(await v.rollupRegistry.getAddress());
      expect(await v.feeVault.unallocated()).to.equal(0n);
      expect(await v.feeVault.totalUnclaimed()).to.equal(0n);
      expect(await v.feeVault.treasuryBalance()).to.equal(0n);
      expect(await v.feeVault.REWARD_UNIT()).to.equal(GWEI);
    });

    it("gives the admin the power roles and the guardian the pause (AccessControlDefaultAdminRules)", async () => {
      const { v } = await load();
      const timelock = await v.timelock.getAddress();
      expect(await v.feeVault.defaultAdmin()).to.equal(timelock);
      expect(await v.feeVault.hasRole(await v.feeVault.FEE_ADMIN_ROLE(), timelock)).to.equal(true);
      expect(await v.feeVault.hasRole(await v.feeVault.TREASURER_ROLE(), timelock)).to.equal(true);
      expect(await v.feeVault.hasRole(await v.feeVault.FEE_ADMIN_ROLE(), v.admin.address)).to.equal(false);
      expect(await v.feeVault.hasRole(await v.feeVault.PAUSER_ROLE(), v.guardian.address)).to.equal(true);
      await expect(
        govern(v, v.feeVault, "grantRole", [await v.feeVault.DEFAULT_ADMIN_ROLE(), v.stranger.address]),
      ).to.be.revertedWithCustomError(v.feeVault, "AccessControlEnforcedDefaultAdminRules");
    });

    it("validates the constructor arguments", async () => {
      const { v } = await load();
      const factory = new FeeVault__factory(v.admin);
      const admin = v.admin.address;
      await expect(factory.deploy(ZeroAddress, 0, admin, 0n, 0n, 0)).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
      await expect(factory.deploy(admin, 0, ZeroAddress, 0n, 0n, 0)).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
      await expect(factory.deploy(admin, 0, admin, UINT64_MAX + 1n, 0n, 0))
        .to.be.revertedWithCustomError(factory, "RewardTooLarge")
        .withArgs(UINT64_MAX + 1n);
      await expect(factory.deploy(admin, 0, admin, 0n, UINT64_MAX + 1n, 0))
        .to.be.revertedWithCustomError(factory, "RewardTooLarge")
        .withArgs(UINT64_MAX + 1n);
      await expect(factory.deploy(admin, 0, admin, 0n, 0n, 10_001))
        .to.be.revertedWithCustomError(factory, "InvalidBps")
        .withArgs(10_001n);
    });
  });

  describe("the rewarder (F1)", () => {
    it("is bound once, by the deployer; no fee admin can make itself the rewarder and take the budget", async () => {
      const { v } = await load();
      await fund(v, ONE_ETH);
      const budget = await v.feeVault.unallocated();
      // The review's attack: a fee admin sets itself as rewarder and credits itself everything.
      expect(v.feeVault.interface.format().some((f) => f.includes("setRewarder"))).to.equal(false);
      await expect(govern(v, v.feeVault, "bindRewarder", [v.admin.address]))
        .to.be.revertedWithCustomError(v.feeVault, "NotDeployer")
        .withArgs(await v.timelock.getAddress());
      await expect(v.feeVault.connect(v.deployer).bindRewarder(v.deployer.address))
        .to.be.revertedWithCustomError(v.feeVault, "RewarderAlreadyBound")
        .withArgs(await v.rollupRegistry.getAddress());
      await expect(v.feeVault.connect(v.stranger).bindRewarder(v.stranger.address))
        .to.be.revertedWithCustomError(v.feeVault, "NotDeployer")
        .withArgs(v.stranger.address);
      await expect(v.feeVault.rewardSequencer(v.admin.address, 2n ** 40n, 0n))
        .to.be.revertedWithCustomError(v.feeVault, "NotRewarder")
        .withArgs(v.admin.address);
      expect(await v.feeVault.unallocated()).to.equal(budget);
    });

    it("a fresh vault: only its deployer binds, only a non-zero address, only once", async () => {
      const { v } = await load();
      const vault = await new FeeVault__factory(v.users[4]).deploy(v.admin.address, 0, v.admin.address, 0n, 0n, 0);
      await expect(vault.connect(v.admin).bindRewarder(v.admin.address))
        .to.be.revertedWithCustomError(vault, "NotDeployer")
        .withArgs(v.admin.address);
      await expect(vault.connect(v.users[4]).bindRewarder(ZeroAddress)).to.be.revertedWithCustomError(
        vault,
        "ZeroAddress",
      );
      await expect(vault.connect(v.users[4]).bindRewarder(v.users[5].address))
        .to.emit(vault, "RewarderSet")
        .withArgs(v.users[5].address);
      await expect(vault.connect(v.users[4]).bindRewarder(v.users[4].address))
        .to.be.revertedWithCustomError(vault, "RewarderAlreadyBound")
        .withArgs(v.users[5].address);
    });
  });

  describe("incoming fees", () => {
    it("splits treasuryShareBps of every payment to the treasury", async () => {
      const { v } = await load();
      const [payer] = v.users;
      const toTreasury = (ONE_ETH * TREASURY_BPS) / BPS;
      const tx = await payer.sendTransaction({ to: await vaultAddress(v), value: ONE_ETH });
      await expect(tx).to.emit(v.feeVault, "FeesReceived").withArgs(payer.address, ONE_ETH, toTreasury);
      await expect(tx).to.changeEtherBalances(ethers, [payer, await vaultAddress(v)], [-ONE_ETH, ONE_ETH]);
      expect(await v.feeVault.treasuryBalance()).to.equal(toTreasury);
      expect(await v.feeVault.unallocated()).to.equal(ONE_ETH - toTreasury);
    });

    it("rounds the treasury's share down, leaving the remainder unallocated", async () => {
      const { v } = await load();
      await fund(v, 9_999n);
      expect(await v.feeVault.treasuryBalance()).to.equal(999n);
      expect(await v.feeVault.unallocated()).to.equal(9_000n);
      await fund(v, 9n); // 0.9 wei for the treasury: rounds to zero
      expect(await v.feeVault.treasuryBalance()).to.equal(999n);
      expect(await v.feeVault.unallocated()).to.equal(9_009n);
    });

    it("follows the treasury share as it changes (0 % and 100 %)", async () => {
      const { v } = await load();
      await (await govern(v, v.feeVault, "setTreasuryShare", [0])).wait();
      await fund(v, 1_000n);
      expect(await v.feeVault.treasuryBalance()).to.equal(0n);
      await (await govern(v, v.feeVault, "setTreasuryShare", [10_000])).wait();
      await fund(v, 1_000n);
      expect(await v.feeVault.treasuryBalance()).to.equal(1_000n);
      expect(await v.feeVault.unallocated()).to.equal(1_000n);
    });

    it("receives message fees from the MessageBus and pays rewards out of them", async () => {
      const { v, genesis, operator } = await load(messageFeeFixture);
      for (let i = 0; i < 10; i++) {
        await (
          await v.messageBus.connect(v.users[1]).publishMessage(Topic.Call, "0x", 0, { value: MESSAGE_FEE })
        ).wait();
      }
      const total = 10n * MESSAGE_FEE;
      const treasury = (MESSAGE_FEE * TREASURY_BPS) / BPS;
      expect(await v.feeVault.treasuryBalance()).to.equal(10n * treasury);
      expect(await v.feeVault.unallocated()).to.equal(total - 10n * treasury);

      await submitRollup(v, genesis, [], { lastBatchSeq: 2n });
      expect(await accrued(v, operator.address)).to.equal(rollupReward(3n));
      expect(await v.feeVault.unallocated()).to.equal(total - 10n * treasury - rollupReward(3n));
    });
  });

  describe("rewards", () => {
    it("accrue baseReward + perBatchReward × batches per accepted rollup", async () => {
      const { v, genesis, operator } = await load();
      await fund(v, ONE_ETH);
      const before = await v.feeVault.unallocated();
      const { header, payload } = await nextRollupHeader(v, { lastBatchSeq: 9n });
      const signature = await signRollup(v, genesis, header);
      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature)))
        .to.emit(v.feeVault, "RewardAccrued")
        .withArgs(operator.address, rollupReward(10n), 10n);
      await submitRollup(v, genesis); // one batch
      const expected = rollupReward(10n) + rollupReward(1n);
      expect(await accrued(v, operator.address)).to.equal(expected);
      expect(await v.feeVault.totalUnclaimed()).to.equal(expected);
      expect(await v.feeVault.unallocated()).to.equal(before - expected);
    });

    it("are capped by what is unallocated (rounded down to a gwei), never touching the treasury's share", async () => {
      const { v, genesis, operator } = await load();
      await fund(v, 10_000n * GWEI + 7n); // 1,000 gwei to the treasury, 9,000 gwei + 7 wei unallocated
      const { header, payload } = await nextRollupHeader(v);
      const signature = await signRollup(v, genesis, header);
      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature)))
        .to.emit(v.feeVault, "RewardAccrued")
        .withArgs(operator.address, 9_000n * GWEI, 1n);
      expect(await v.feeVault.unallocated()).to.equal(7n);
      expect(await v.feeVault.treasuryBalance()).to.equal(1_000n * GWEI);

      // Less than a gwei left: the next rollup is accepted and earns nothing.
      const next = await nextRollupHeader(v);
      await expect(
        v.rollupRegistry.addRollup(...rollupArgs(next.header, next.payload, await signRollup(v, genesis, next.header))),
      ).not.to.emit(v.feeVault, "RewardAccrued");
      expect(await accrued(v, operator.address)).to.equal(9_000n * GWEI);
      expect(await v.feeVault.totalUnclaimed()).to.equal(9_000n * GWEI);
    });

    it("are zero while the vault is empty", async () => {
      const { v, genesis, operator } = await load();
      const { header, payload } = await nextRollupHeader(v, { lastBatchSeq: 4n });
      const signature = await signRollup(v, genesis, header);
      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature))).not.to.emit(
        v.feeVault,
        "RewardAccrued",
      );
      expect(await accrued(v, operator.address)).to.equal(0n);
      await expect(v.feeVault.connect(operator).claimRewards()).to.be.revertedWithCustomError(
        v.feeVault,
        "NothingToClaim",
      );
    });

    it("can be credited and forfeited only by the rewarder", async () => {
      const { v, operator } = await load();
      await fund(v, ONE_ETH);
      for (const caller of [v.stranger, v.admin, operator]) {
        await expect(v.feeVault.connect(caller).rewardSequencer(caller.address, 1n, 0n))
          .to.be.revertedWithCustomError(v.feeVault, "NotRewarder")
          .withArgs(caller.address);
        await expect(v.feeVault.connect(caller).forfeitUnvestedRewards())
          .to.be.revertedWithCustomError(v.feeVault, "NotRewarder")
          .withArgs(caller.address);
      }
      expect(await v.feeVault.totalUnclaimed()).to.equal(0n);
    });

    it("use the new schedule for rollups accepted after setRewards", async () => {
      const { v, genesis, operator } = await load();
      await fund(v, ONE_ETH);
      await (await govern(v, v.feeVault, "setRewards", [1_000n * GWEI, 10n * GWEI])).wait();
      await submitRollup(v, genesis, [], { lastBatchSeq: 2n });
      expect(await accrued(v, operator.address)).to.equal(1_030n * GWEI);
      await (await govern(v, v.feeVault, "setRewards", [0n, 0n])).wait();
      await submitRollup(v, genesis);
      expect(await accrued(v, operator.address)).to.equal(1_030n * GWEI);
    });
  });

  describe("vesting and forfeiture (F4)", () => {
    it("a reward vests when its rollup's challenge period ends, not before", async () => {
      const { v, genesis, operator } = await load();
      await fund(v, ONE_ETH);
      await submitRollup(v, genesis);
      const [unvested, vestsAt] = await v.feeVault.unvestedRewardsOf(operator.address);
      expect(unvested).to.equal(rollupReward(1n));
      expect(await v.feeVault.rewardsOf(operator.address)).to.equal(0n);
      await expect(v.feeVault.connect(operator).claimRewards()).to.be.revertedWithCustomError(
        v.feeVault,
        "NothingToClaim",
      );
      await networkHelpers.time.setNextBlockTimestamp(vestsAt);
      await networkHelpers.mine();
      expect(await v.feeVault.rewardsOf(operator.address)).to.equal(rollupReward(1n));
      await expect(v.feeVault.connect(operator).claimRewards()).to.changeEtherBalance(
        ethers,
        operator,
        rollupReward(1n),
      );
    });

    it("a steady stream of rollups still vests (two buckets: between one and two challenge periods late)", async () => {
      const { v, genesis, operator } = await load();
      await fund(v, ONE_ETH);
      let claimed = 0n;
      for (let i = 0; i < 6; i++) {
        await submitRollup(v, genesis);
        await networkHelpers.time.increase(1000n); // a rollup every 1,000 s, challenge period 3,600 s
        claimed += await v.feeVault.rewardsOf(operator.address);
        if ((await v.feeVault.rewardsOf(operator.address)) > 0n) {
          await (await v.feeVault.connect(operator).claimRewards()).wait();
        }
      }
      expect(claimed).to.be.greaterThan(0n); // the first rollups vested while more kept coming
      expect(claimed + (await accrued(v, operator.address))).to.equal(6n * rollupReward(1n));
    });

    it("a rejection forfeits every unvested reward, back to the budget; a rollup claiming 2^40 batches is refused", async () => {
      const { v, genesis, operator } = await load();
      await fund(v, ONE_ETH);
      const budget = await v.feeVault.unallocated();
      // The review's attack: a rollup claiming 2^40 batches took the whole budget (now refused outright).
      const huge = await nextRollupHeader(v, { lastBatchSeq: 2n ** 40n - 1n });
      await expect(
        v.rollupRegistry.addRollup(...rollupArgs(huge.header, huge.payload, await signRollup(v, genesis, huge.header))),
      ).to.be.revertedWithCustomError(v.rollupRegistry, "TooManyBatches");
      // An honest rollup that vests, then a bad one with messages, rejected by the guardian.
      await submitRollup(v, genesis);
      await passChallengePeriod(v);
      const msgs = await withdrawalMessages(v, [{ to: v.stranger.address, amount: 1n }]);
      const bad = await submitRollup(v, genesis, msgs, { lastBatchSeq: (await v.rollupRegistry.nextBatchSeq()) + 9n });
      expect(await accrued(v, operator.address)).to.equal(rollupReward(1n) + rollupReward(10n));
      await expect(v.rollupRegistry.rejectRollup(bad.header)).to.emit(v.feeVault, "UnvestedRewardsForfeited");
      // Nothing unvested survives the rejection; the vested reward stays claimable.
      await expect(v.feeVault.settleRewards(operator.address))
        .to.emit(v.feeVault, "RewardsForfeited")
        .withArgs(operator.address, rollupReward(10n));
      expect(await v.feeVault.rewardsOf(operator.address)).to.equal(rollupReward(1n));
      expect((await v.feeVault.unvestedRewardsOf(operator.address))[0]).to.equal(0n);
      expect(await v.feeVault.unallocated()).to.equal(budget - rollupReward(1n));
      await passChallengePeriod(v);
      await expect(v.feeVault.connect(operator).claimRewards()).to.changeEtherBalance(
        ethers,
        operator,
        rollupReward(1n),
      );
    });

    it("forfeiture is lazy: a credit after a rejection first settles the account against the epoch that ended", async () => {
      const { v, genesis, operator } = await load();
      await fund(v, ONE_ETH);
      const msgs = await withdrawalMessages(v, [{ to: v.stranger.address, amount: 1n }]);
      const a = await submitRollup(v, genesis, msgs);
      await (await v.rollupRegistry.rejectRollup(a.header)).wait();
      // The same root again, in the reopened sequence: crediting it first forfeits the first reward.
      const b = await submitRollup(v, genesis, msgs);
      expect(await accrued(v, operator.address)).to.equal(rollupReward(1n));
      await (await v.rollupRegistry.rejectRollup(b.header)).wait();
      // The second reward was unvested at the second rejection: the next credit settles it first.
      const next = await nextRollupHeader(v);
      await expect(
        v.rollupRegistry.addRollup(...rollupArgs(next.header, next.payload, await signRollup(v, genesis, next.header))),
      )
        .to.emit(v.feeVault, "RewardsForfeited")
        .withArgs(operator.address, rollupReward(1n));
      expect(await accrued(v, operator.address)).to.equal(rollupReward(1n));
      expect(await v.feeVault.totalUnclaimed()).to.equal(rollupReward(1n));
    });
  });

  describe("claimRewards", () => {
    it("pays exactly the vested amount once", async () => {
      const { v, genesis, operator } = await load();
      await fund(v, ONE_ETH);
      await submitRollup(v, genesis, [], { lastBatchSeq: 1n });
      await submitRollup(v, genesis);
      await passChallengePeriod(v);
      const vested = rollupReward(2n) + rollupReward(1n);
      const vault = await vaultAddress(v);
      const treasury = await v.feeVault.treasuryBalance();
      const unallocated = await v.feeVault.unallocated();

      expect(await v.feeVault.connect(operator).claimRewards.staticCall()).to.equal(vested);
      const tx = await v.feeVault.connect(operator).claimRewards();
      await expect(tx).to.changeEtherBalances(ethers, [operator, vault], [vested, -vested]);
      await expect(tx).to.emit(v.feeVault, "RewardsClaimed").withArgs(operator.address, vested);
      expect(await v.feeVault.rewardsOf(operator.address)).to.equal(0n);
      expect(await v.feeVault.totalUnclaimed()).to.equal(0n);
      expect(await v.feeVault.treasuryBalance()).to.equal(treasury);
      expect(await v.feeVault.unallocated()).to.equal(unallocated);

      await expect(v.feeVault.connect(operator).claimRewards()).to.be.revertedWithCustomError(
        v.feeVault,
        "NothingToClaim",
      );
    });

    it("pays each operator only its own rewards", async () => {
      // A vault of its own whose rewarder is an account, crediting two operators directly.
      const { v } = await load();
      const [rewarder, first, second] = [v.users[5], v.users[6], v.users[7]];
      const vault = await new FeeVault__factory(v.admin).deploy(
        v.admin.address,
        0,
        v.admin.address,
        BASE_REWARD,
        PER_BATCH_REWARD,
        TREASURY_BPS,
      );
      await (await vault.bindRewarder(rewarder.address)).wait();
      await (await v.admin.sendTransaction({ to: await vault.getAddress(), value: ONE_ETH })).wait();
      const vestsAt = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + 10n;
      await (await vault.connect(rewarder).rewardSequencer(first.address, 1n, vestsAt)).wait();
      await (await vault.connect(rewarder).rewardSequencer(second.address, 3n, vestsAt)).wait();
      await networkHelpers.time.increase(11n);
      await expect(vault.connect(v.stranger).claimRewards()).to.be.revertedWithCustomError(vault, "NothingToClaim");
      await expect(vault.connect(second).claimRewards()).to.changeEtherBalance(ethers, second, rollupReward(3n));
      expect(await vault.rewardsOf(first.address)).to.equal(rollupReward(1n));
      expect(await vault.totalUnclaimed()).to.equal(rollupReward(1n));
      await expect(vault.connect(first).claimRewards()).to.changeEtherBalance(ethers, first, rollupReward(1n));
    });
  });

  describe("treasury", () => {
    it("withdrawTreasury pays out of the treasury's share, capped by it", async () => {
      const { v } = await load();
      await fund(v, ONE_ETH);
      const share = (ONE_ETH * TREASURY_BPS) / BPS;
      const to = v.users[5];
      const vault = await vaultAddress(v);
      const part = share / 4n;

      const tx = await govern(v, v.feeVault, "withdrawTreasury", [to.address, part]);
      await expect(tx).to.changeEtherBalances(ethers, [to, vault], [part, -part]);
      await expect(tx).to.emit(v.feeVault, "TreasuryWithdrawn").withArgs(to.address, part);
      expect(await v.feeVault.treasuryBalance()).to.equal(share - part);

      await expect(govern(v, v.feeVault, "withdrawTreasury", [to.address, share - part + 1n]))
        .to.be.revertedWithCustomError(v.feeVault, "InsufficientTreasury")
        .withArgs(share - part + 1n, share - part);
      await expect(govern(v, v.feeVault, "withdrawTreasury", [to.address, share - part])).to.changeEtherBalance(
        ethers,
        to,
        share - part,
      );
      expect(await v.feeVault.treasuryBalance()).to.equal(0n);
      await expect(govern(v, v.feeVault, "withdrawTreasury", [to.address, 1n]))
        .to.be.revertedWithCustomError(v.feeVault, "InsufficientTreasury")
        .withArgs(1n, 0n);
      // The reward budget is untouched.
      expect(await v.feeVault.unallocated()).to.equal(ONE_ETH - share);
    });

    it("withdrawTreasury cannot reach unclaimed rewards", async () => {
      const { v, genesis, operator } = await load();
      await fund(v, 10_000n * GWEI); // treasury 1,000 gwei; the rollup takes the other 9,000
      await submitRollup(v, genesis);
      expect(await accrued(v, operator.address)).to.equal(9_000n * GWEI);
      await expect(govern(v, v.feeVault, "withdrawTreasury", [v.admin.address, 1_000n * GWEI + 1n]))
        .to.be.revertedWithCustomError(v.feeVault, "InsufficientTreasury")
        .withArgs(1_000n * GWEI + 1n, 1_000n * GWEI);
      await (await govern(v, v.feeVault, "withdrawTreasury", [v.admin.address, 1_000n * GWEI])).wait();
      await passChallengePeriod(v);
      await expect(v.feeVault.connect(operator).claimRewards()).to.changeEtherBalance(ethers, operator, 9_000n * GWEI);
      expect(await ethers.provider.getBalance(await vaultAddress(v))).to.equal(0n);
    });

    it("withdrawTreasury refuses the zero address and callers without TREASURER_ROLE", async () => {
      const { v } = await load();
      await fund(v, ONE_ETH);
      await expect(govern(v, v.feeVault, "withdrawTreasury", [ZeroAddress, 1n])).to.be.revertedWithCustomError(
        v.feeVault,
        "ZeroAddress",
      );
      await expect(v.feeVault.connect(v.stranger).withdrawTreasury(v.stranger.address, 1n))
        .to.be.revertedWithCustomError(v.feeVault, "AccessControlUnauthorizedAccount")
        .withArgs(v.stranger.address, await v.feeVault.TREASURER_ROLE());
      const treasurer = v.users[6];
      await (await govern(v, v.feeVault, "grantRole", [await v.feeVault.TREASURER_ROLE(), treasurer.address])).wait();
      await expect(v.feeVault.connect(treasurer).withdrawTreasury(treasurer.address, 1n)).to.changeEtherBalance(
        ethers,
        treasurer,
        1n,
      );
    });
  });

  describe("pause", () => {
    it("stops claims and treasury withdrawals, not fees or reward accrual", async () => {
      const { v, genesis, operator } = await load();
      await fund(v, ONE_ETH);
      await submitRollup(v, genesis);
      await passChallengePeriod(v);
      await expect(v.feeVault.pause()).to.emit(v.feeVault, "Paused").withArgs(v.admin.address);

      await expect(v.feeVault.connect(operator).claimRewards()).to.be.revertedWithCustomError(
        v.feeVault,
        "EnforcedPause",
      );
      await expect(govern(v, v.feeVault, "withdrawTreasury", [v.admin.address, 1n])).to.be.revertedWithCustomError(
        v.feeVault,
        "EnforcedPause",
      );
      await fund(v, 1_000n);
      await submitRollup(v, genesis);
      expect(await accrued(v, operator.address)).to.equal(2n * rollupReward(1n));

      await expect(v.feeVault.unpause()).to.emit(v.feeVault, "Unpaused").withArgs(v.admin.address);
      await passChallengePeriod(v);
      await expect(v.feeVault.connect(operator).claimRewards()).to.changeEtherBalance(
        ethers,
        operator,
        2n * rollupReward(1n),
      );
      await expect(govern(v, v.feeVault, "withdrawTreasury", [v.admin.address, 1n])).to.emit(
        v.feeVault,
        "TreasuryWithdrawn",
      );
    });
  });

  describe("administration", () => {
    it("setRewards validates both amounts", async () => {
      const { v } = await load();
      await expect(govern(v, v.feeVault, "setRewards", [UINT64_MAX + 1n, 0n]))
        .to.be.revertedWithCustomError(v.feeVault, "RewardTooLarge")
        .withArgs(UINT64_MAX + 1n);
      await expect(govern(v, v.feeVault, "setRewards", [0n, UINT64_MAX + 1n]))
        .to.be.revertedWithCustomError(v.feeVault, "RewardTooLarge")
        .withArgs(UINT64_MAX + 1n);
      await expect(govern(v, v.feeVault, "setRewards", [UINT64_MAX, UINT64_MAX]))
        .to.emit(v.feeVault, "RewardsSet")
        .withArgs(UINT64_MAX, UINT64_MAX);
      expect(await v.feeVault.baseReward()).to.equal(UINT64_MAX);
      expect(await v.feeVault.perBatchReward()).to.equal(UINT64_MAX);
    });

    it("setTreasuryShare accepts up to 10,000 bps", async () => {
      const { v } = await load();
      await expect(govern(v, v.feeVault, "setTreasuryShare", [10_001]))
        .to.be.revertedWithCustomError(v.feeVault, "InvalidBps")
        .withArgs(10_001n);
      await expect(govern(v, v.feeVault, "setTreasuryShare", [65_535]))
        .to.be.revertedWithCustomError(v.feeVault, "InvalidBps")
        .withArgs(65_535n);
      await expect(govern(v, v.feeVault, "setTreasuryShare", [10_000]))
        .to.emit(v.feeVault, "TreasuryShareSet")
        .withArgs(10_000n);
      expect(await v.feeVault.treasuryShareBps()).to.equal(10_000n);
      await expect(govern(v, v.feeVault, "setTreasuryShare", [2_500]))
        .to.emit(v.feeVault, "TreasuryShareSet")
        .withArgs(2_500n);
      expect(await v.feeVault.treasuryShareBps()).to.equal(2_500n);
    });

    it("rejects every admin function from callers without the role", async () => {
      const { v } = await load();
      const vault = v.feeVault.connect(v.stranger);
      const [admin, feeAdmin, treasurer, pauser] = await Promise.all([
        v.feeVault.DEFAULT_ADMIN_ROLE(),
        v.feeVault.FEE_ADMIN_ROLE(),
        v.feeVault.TREASURER_ROLE(),
        v.feeVault.PAUSER_ROLE(),
      ]);
      const cases: [string, () => Promise<unknown>, string][] = [
        ["setRewards", () => vault.setRewards(0n, 0n), feeAdmin],
        ["setTreasuryShare", () => vault.setTreasuryShare(0), feeAdmin],
        ["withdrawTreasury", () => vault.withdrawTreasury(v.stranger.address, 0n), treasurer],
        ["pause", () => vault.pause(), pauser],
        ["unpause", () => vault.unpause(), pauser],
        ["grantRole", () => vault.grantRole(treasurer, v.stranger.address), admin],
        ["revokeRole", () => vault.revokeRole(treasurer, v.admin.address), admin],
      ];
      for (const [name, call, role] of cases) {
        await expect(call(), name)
          .to.be.revertedWithCustomError(v.feeVault, "AccessControlUnauthorizedAccount")
          .withArgs(v.stranger.address, role);
      }
      // Roles do not imply each other.
      const treasurerOnly = v.users[7];
      await (await govern(v, v.feeVault, "grantRole", [treasurer, treasurerOnly.address])).wait();
      await expect(v.feeVault.connect(treasurerOnly).setRewards(0n, 0n))
        .to.be.revertedWithCustomError(v.feeVault, "AccessControlUnauthorizedAccount")
        .withArgs(treasurerOnly.address, feeAdmin);
      await expect(v.feeVault.connect(treasurerOnly).pause())
        .to.be.revertedWithCustomError(v.feeVault, "AccessControlUnauthorizedAccount")
        .withArgs(treasurerOnly.address, pauser);
      expect(await v.feeVault.baseReward()).to.equal(BASE_REWARD);
      expect(await v.feeVault.rewarder()).to.equal(await v.rollupRegistry.getAddress());
    });
  });
});
