/**
 * Governance (issue 10 §4): the attacks of the audit, each written as the attacker would try it, now
 * failing. On the code before the TimelockController (commit 4f9ed23) every one of them succeeded: the
 * admin drained the bridge through ROOT_REGISTRAR_ROLE, acted at once, redirected attestation with one
 * key, handed DEFAULT_ADMIN_ROLE over in one step; the deployer held every power and the holder of the
 * guardian role could also make admin changes.
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { type BaseContract, type Interface, Wallet, ZeroHash, id, parseEther } from "ethers";
import { network } from "hardhat";

import { CONTRACT_NAMES, type ContractName } from "../../deploy/deployment-file.js";
import { DEFAULT_PARAMETERS } from "../../deploy/parameters.js";
import { roleHolders } from "../../deploy/roles.js";
import { MessageTree } from "../../protocol/messages.js";
import { executeCall, govern, scheduleCall } from "../../testing/governance.js";
import {
  type Veilnet,
  deployVeilnet,
  initializeGenesis,
  makeEnclave,
  submitRollup,
  withdrawalMessages,
} from "../../testing/veilnet.js";

const connection = await network.create();
const { networkHelpers, ethers } = connection;
const { time } = networkHelpers;

const TIMELOCK_DELAY = DEFAULT_PARAMETERS.timelockDelay;
const ADMIN_DELAY = DEFAULT_PARAMETERS.adminDelay;

/** The production delays, and governor, guardian and initializer each a different account, none the deployer. */
async function separated(): Promise<Veilnet> {
  const [, , , governor, guardian, initializer] = await ethers.getSigners();
  return deployVeilnet(connection, {
    timelockDelay: TIMELOCK_DELAY,
    adminDelay: ADMIN_DELAY,
    governor,
    guardian,
    initializer,
  });
}

function contractsOf(v: Veilnet): Record<ContractName, BaseContract> {
  return {
    Timelock: v.timelock,
    SignedReportVerifier: v.verifier,
    EnclaveRegistry: v.enclaveRegistry,
    FeeVault: v.feeVault,
    MessageBus: v.messageBus,
    OperatorRegistry: v.operatorRegistry,
    RollupRegistry: v.rollupRegistry,
    CrossChainMessenger: v.messenger,
    Bridge: v.bridge,
    NetworkConfig: v.networkConfig,
  };
}

/** Calls `method(...args)` on `contract` directly from `signer` (not through the timelock). */
function direct(contract: BaseContract, signer: HardhatEthersSigner, method: string, args: unknown[]) {
  return contract
    .connect(signer)
    .getFunction(method)
    .send(...args);
}

describe("Governance", () => {
  describe("every admin power waits the timelock delay", () => {
    it("the governor cannot act directly, nor execute before the delay; after it the change applies", async () => {
      const v = await networkHelpers.loadFixture(separated);
      const role = await v.rollupRegistry.DEFAULT_ADMIN_ROLE();
      // The attack of the old code: the admin key changes a parameter at once.
      await expect(v.rollupRegistry.connect(v.admin).setChallengePeriod(120))
        .to.be.revertedWithCustomError(v.rollupRegistry, "AccessControlUnauthorizedAccount")
        .withArgs(v.admin.address, role);
      // Through the timelock, a shorter delay than its minimum is refused...
      await expect(scheduleCall(v, v.rollupRegistry, "setChallengePeriod", [120], 60n))
        .to.be.revertedWithCustomError(v.timelock, "TimelockInsufficientDelay")
        .withArgs(60n, TIMELOCK_DELAY);
      // ...and a scheduled call is public (CallScheduled) and not executable before the delay.
      const op = await scheduleCall(v, v.rollupRegistry, "setChallengePeriod", [120]);
      expect(await v.timelock.isOperationPending(op.id)).to.equal(true);
      await expect(executeCall(v, op)).to.be.revertedWithCustomError(v.timelock, "TimelockUnexpectedOperationState");
      await time.increase(TIMELOCK_DELAY - 10n);
      await expect(executeCall(v, op)).to.be.revertedWithCustomError(v.timelock, "TimelockUnexpectedOperationState");
      expect(await v.rollupRegistry.challengePeriod()).to.not.equal(120n);
      await time.increase(10n);
      await expect(executeCall(v, op)).to.emit(v.rollupRegistry, "ChallengePeriodSet").withArgs(120);
      expect(await v.rollupRegistry.challengePeriod()).to.equal(120n);
    });

    it("a scheduled operation can be cancelled during the delay and then never runs", async () => {
      const v = await networkHelpers.loadFixture(separated);
      const op = await scheduleCall(v, v.messageBus, "setMessageFee", [parseEther("1")]);
      await (await v.timelock.connect(v.admin).cancel(op.id)).wait();
      await time.increase(TIMELOCK_DELAY);
      await expect(executeCall(v, op)).to.be.revertedWithCustomError(v.timelock, "TimelockUnexpectedOperationState");
      expect(await v.messageBus.messageFee()).to.equal(0n);
    });

    it("the timelock's own delay can only be changed through the timelock", async () => {
      const v = await networkHelpers.loadFixture(separated);
      await expect(v.timelock.connect(v.admin).updateDelay(0))
        .to.be.revertedWithCustomError(v.timelock, "TimelockUnauthorizedCaller")
        .withArgs(v.admin.address);
      await (await govern(v, v.timelock, "updateDelay", [3n * 86_400n])).wait();
      expect(await v.timelock.getMinDelay()).to.equal(3n * 86_400n);
    });
  });

  describe("F1: message roots come from the bound RollupRegistry alone", () => {
    it("a DEFAULT_ADMIN_ROLE holder cannot grant ROOT_REGISTRAR_ROLE nor register a root: the bridge keeps its funds", async () => {
      const v = await networkHelpers.loadFixture(separated);
      const [victim] = v.users;
      await (await v.bridge.connect(victim).depositNative(victim.address, { value: parseEther("10") })).wait();
      const thief = Wallet.createRandom().address;
      const messages = await withdrawalMessages(v, [{ to: thief, amount: parseEther("10") }], 1000n);
      const tree = new MessageTree(messages);
      const timelock = await v.timelock.getAddress();

      // There is no such role any more: granting its id (through the timelock, after the delay) gives nothing.
      expect((v.messageBus.interface as Interface).getFunction("ROOT_REGISTRAR_ROLE")).to.equal(null);
      await (await govern(v, v.messageBus, "grantRole", [id("ROOT_REGISTRAR_ROLE"), timelock])).wait();
      await expect(govern(v, v.messageBus, "addMessageRoot", [tree.root, id("forged rollup"), 1n, 0n])).to.revert(
        ethers,
      );
      // Nor directly, from the governor or the deployer.
      for (const signer of [v.admin, v.deployer]) {
        await expect(direct(v.messageBus, signer, "addMessageRoot", [tree.root, id("forged"), 1n, 0n])).to.revert(
          ethers,
        );
      }
      // The binding is fixed: neither the deployer nor the admin can re-point it.
      expect(await v.messageBus.rollupRegistry()).to.equal(await v.rollupRegistry.getAddress());
      await expect(direct(v.messageBus, v.deployer, "bindRollupRegistry", [v.deployer.address])).to.revert(ethers);
      await expect(govern(v, v.messageBus, "bindRollupRegistry", [timelock])).to.revert(ethers);

      await expect(v.messenger.relayMessageWithProof(messages[0], tree.proof(0), tree.root))
        .to.be.revertedWithCustomError(v.messageBus, "UnknownMessageRoot")
        .withArgs(tree.root);
      expect(await ethers.provider.getBalance(thief)).to.equal(0n);
      expect(await ethers.provider.getBalance(await v.bridge.getAddress())).to.equal(parseEther("10"));
    });

    it("the FeeVault's rewarder is bound once, to the RollupRegistry, and nobody can re-point it", async () => {
      const v = await networkHelpers.loadFixture(separated);
      expect(await v.feeVault.rewarder()).to.equal(await v.rollupRegistry.getAddress());
      expect((v.feeVault.interface as Interface).getFunction("setRewarder")).to.equal(null);
      await expect(direct(v.feeVault, v.deployer, "bindRewarder", [v.deployer.address])).to.revert(ethers);
      await expect(govern(v, v.feeVault, "bindRewarder", [await v.timelock.getAddress()])).to.revert(ethers);
    });

    it("roots still come in through rollups: the bound registry registers them", async () => {
      const v = await networkHelpers.loadFixture(separated);
      const genesis = await initializeGenesis(v);
      const messages = await withdrawalMessages(v, [{ to: v.stranger.address, amount: 1n }]);
      const { tree } = await submitRollup(v, genesis, messages);
      expect((await v.messageBus.messageRoot(tree!.root)).activatesAt).to.not.equal(0n);
    });
  });

  describe("attestation can only be redirected through the delayed timelock", () => {
    it("setAttestationService: refused from any key directly; a scheduled one acts only after the delay", async () => {
      const v = await networkHelpers.loadFixture(separated);
      await initializeGenesis(v);
      const rogue = v.stranger;
      const role = await v.verifier.ATTESTATION_ADMIN_ROLE();
      for (const signer of [v.admin, v.deployer, v.guardian]) {
        await expect(direct(v.verifier, signer, "setAttestationService", [rogue.address, true]))
          .to.be.revertedWithCustomError(v.verifier, "AccessControlUnauthorizedAccount")
          .withArgs(signer.address, role);
      }
      const op = await scheduleCall(v, v.verifier, "setAttestationService", [rogue.address, true]);
      await expect(executeCall(v, op)).to.be.revertedWithCustomError(v.timelock, "TimelockUnexpectedOperationState");
      // Meanwhile the rogue key's reports are refused (the verifier's verdict, as a response checks it).
      const forged = await makeEnclave(v, { signer: rogue });
      await expect(v.verifier.verify(forged.report))
        .to.be.revertedWithCustomError(v.verifier, "UnknownAttestationService")
        .withArgs(rogue.address);
      await time.increase(TIMELOCK_DELAY);
      await (await executeCall(v, op)).wait();
      expect(await v.verifier.isAttestationService(rogue.address)).to.equal(true);
    });

    it("setMeasurement: only through the timelock", async () => {
      const v = await networkHelpers.loadFixture(separated);
      const role = await v.verifier.ATTESTATION_ADMIN_ROLE();
      await expect(direct(v.verifier, v.admin, "setMeasurement", [id("evil"), true]))
        .to.be.revertedWithCustomError(v.verifier, "AccessControlUnauthorizedAccount")
        .withArgs(v.admin.address, role);
      const op = await scheduleCall(v, v.verifier, "setMeasurement", [id("evil"), true]);
      await expect(executeCall(v, op)).to.be.revertedWithCustomError(v.timelock, "TimelockUnexpectedOperationState");
    });

    it("setAttestationVerifier: refused from any key directly; a scheduled one acts only after the delay", async () => {
      const v = await networkHelpers.loadFixture(separated);
      const role = await v.enclaveRegistry.DEFAULT_ADMIN_ROLE();
      const evil = Wallet.createRandom().address;
      for (const signer of [v.admin, v.deployer, v.guardian, v.initializer]) {
        await expect(direct(v.enclaveRegistry, signer, "setAttestationVerifier", [evil]))
          .to.be.revertedWithCustomError(v.enclaveRegistry, "AccessControlUnauthorizedAccount")
          .withArgs(signer.address, role);
      }
      const op = await scheduleCall(v, v.enclaveRegistry, "setAttestationVerifier", [evil]);
      await expect(executeCall(v, op)).to.be.revertedWithCustomError(v.timelock, "TimelockUnexpectedOperationState");
      expect(await v.enclaveRegistry.attestationVerifier()).to.equal(await v.verifier.getAddress());
      await time.increase(TIMELOCK_DELAY);
      await (await executeCall(v, op)).wait();
      expect(await v.enclaveRegistry.attestationVerifier()).to.equal(evil);
    });
  });

  describe("DEFAULT_ADMIN_ROLE moves in two delayed steps", () => {
    it("every contract refuses grantRole(DEFAULT_ADMIN_ROLE) and has the adminDelay", async () => {
      const v = await networkHelpers.loadFixture(separated);
      const all = contractsOf(v);
      for (const name of CONTRACT_NAMES) {
        if (name === "Timelock") continue;
        const c = all[name];
        expect(await c.getFunction("defaultAdminDelay").staticCall(), name).to.equal(ADMIN_DELAY);
        expect(await c.getFunction("defaultAdmin").staticCall(), name).to.equal(await v.timelock.getAddress());
        await expect(govern(v, c, "grantRole", [ZeroHash, v.stranger.address]), name).to.be.revertedWithCustomError(
          c,
          "AccessControlEnforcedDefaultAdminRules",
        );
      }
    });

    it("beginDefaultAdminTransfer through the timelock, accept only after adminDelay", async () => {
      const v = await networkHelpers.loadFixture(separated);
      const next = v.stranger;
      await (await govern(v, v.bridge, "beginDefaultAdminTransfer", [next.address])).wait();
      const [pending, schedule] = await v.bridge.pendingDefaultAdmin();
      expect(pending).to.equal(next.address);
      const now = BigInt(await time.latest());
      expect(schedule).to.equal(now + ADMIN_DELAY);
      await expect(v.bridge.connect(next).acceptDefaultAdminTransfer())
        .to.be.revertedWithCustomError(v.bridge, "AccessControlEnforcedDefaultAdminDelay")
        .withArgs(schedule);
      // Anyone else cannot accept it.
      await time.increaseTo(schedule + 1n);
      await expect(v.bridge.connect(v.admin).acceptDefaultAdminTransfer())
        .to.be.revertedWithCustomError(v.bridge, "AccessControlInvalidDefaultAdmin")
        .withArgs(v.admin.address);
      await (await v.bridge.connect(next).acceptDefaultAdminTransfer()).wait();
      expect(await v.bridge.defaultAdmin()).to.equal(next.address);
      expect(await v.bridge.hasRole(ZeroHash, await v.timelock.getAddress())).to.equal(false);
    });

    it("a pending transfer can be cancelled by the admin before it is accepted", async () => {
      const v = await networkHelpers.loadFixture(separated);
      await (await govern(v, v.rollupRegistry, "beginDefaultAdminTransfer", [v.stranger.address])).wait();
      await (await govern(v, v.rollupRegistry, "cancelDefaultAdminTransfer", [])).wait();
      await time.increase(ADMIN_DELAY + 1n);
      await expect(v.rollupRegistry.connect(v.stranger).acceptDefaultAdminTransfer()).to.be.revertedWithCustomError(
        v.rollupRegistry,
        "AccessControlInvalidDefaultAdmin",
      );
    });
  });

  describe("who holds what after deployment", () => {
    it("the deployer holds no role anywhere; power roles are the timelock's alone", async () => {
      const v = await networkHelpers.loadFixture(separated);
      const from = 0; // a fresh chain: every event of the suite
      const timelock = await v.timelock.getAddress();
      const all = contractsOf(v);
      const emergency = new Set(["PAUSER_ROLE", "GUARDIAN_ROLE"]);
      const timelockOperators = new Set(["PROPOSER_ROLE", "EXECUTOR_ROLE", "CANCELLER_ROLE"]);
      let checked = 0;
      for (const name of CONTRACT_NAMES) {
        for (const r of await roleHolders(all[name], from)) {
          const where = `${name}.${r.role}`;
          expect(r.holders, where).to.not.include(v.deployer.address);
          let expected: string[];
          if (name === "Timelock" && timelockOperators.has(r.role)) expected = [v.admin.address];
          else if (emergency.has(r.role)) expected = [v.guardian.address];
          else if (r.role === "GENESIS_ROLE") expected = [v.initializer.address];
          else expected = [timelock];
          expect(r.holders, where).to.deep.equal(expected);
          checked++;
        }
        // Also by hasRole on every named role (in case a grant emitted no event).
        for (const role of await roleHolders(all[name], from)) {
          expect(await all[name].getFunction("hasRole").staticCall(role.roleId, v.deployer.address)).to.equal(false);
        }
      }
      expect(checked).to.be.greaterThanOrEqual(24);
    });

    it("the initializer's GENESIS_ROLE is used up by initializing the network secret", async () => {
      const v = await networkHelpers.loadFixture(separated);
      const role = await v.enclaveRegistry.GENESIS_ROLE();
      expect(await v.enclaveRegistry.hasRole(role, v.initializer.address)).to.equal(true);
      await initializeGenesis(v);
      expect(await v.enclaveRegistry.hasRole(role, v.initializer.address)).to.equal(false);
    });
  });

  describe("the guardian stops things at once and can do nothing else", () => {
    it("pauses every pausable contract at once, and rejects a rollup inside its challenge period", async () => {
      const v = await networkHelpers.loadFixture(separated);
      const genesis = await initializeGenesis(v);
      const messages = await withdrawalMessages(v, [{ to: v.stranger.address, amount: 1n }]);
      const { header } = await submitRollup(v, genesis, messages);
      await expect(v.rollupRegistry.connect(v.guardian).rejectRollup(header)).to.emit(
        v.rollupRegistry,
        "RollupRejected",
      );
      for (const c of [v.enclaveRegistry, v.feeVault, v.messageBus, v.rollupRegistry, v.messenger, v.bridge]) {
        await (await c.connect(v.guardian).pause()).wait();
        expect(await c.paused()).to.equal(true);
      }
    });

    it("every admin action from the guardian is refused", async () => {
      const v = await networkHelpers.loadFixture(separated);
      const g = v.guardian;
      const x = Wallet.createRandom().address;
      const pauser = id("PAUSER_ROLE");
      const attempts: Array<[BaseContract, string, unknown[]]> = [
        [v.rollupRegistry, "setChallengePeriod", [120]],
        [v.rollupRegistry, "setRevelationPeriod", [1000]],
        [v.enclaveRegistry, "setAttestationVerifier", [x]],
        [v.enclaveRegistry, "setSecretRequestTimeout", [1]],
        [v.enclaveRegistry, "grantSequencer", [x]],
        [v.enclaveRegistry, "revokeEnclave", [x]],
        [v.enclaveRegistry, "setEnclaveOperator", [x, g.address]],
        [v.verifier, "setAttestationService", [g.address, true]],
        [v.verifier, "setMeasurement", [id("m"), true]],
        [v.feeVault, "setRewards", [1, 1]],
        [v.feeVault, "setTreasuryShare", [1]],
        [v.feeVault, "withdrawTreasury", [g.address, 0]],
        [v.messageBus, "setMessageFee", [1]],
        [v.messageBus, "setFeeVault", [g.address]],
        [v.bridge, "setPermissionlessRegistration", [false]],
        [v.bridge, "pauseToken", [x]],
        [v.networkConfig, "setAddress", ["Bridge", g.address]],
        [v.networkConfig, "upgradeFeature", ["f", "0x"]],
        [v.timelock, "schedule", [x, 0, "0x", ZeroHash, ZeroHash, TIMELOCK_DELAY]],
      ];
      for (const c of [
        v.verifier,
        v.enclaveRegistry,
        v.feeVault,
        v.messageBus,
        v.rollupRegistry,
        v.messenger,
        v.bridge,
        v.networkConfig,
      ]) {
        attempts.push([c, "grantRole", [pauser, x]], [c, "beginDefaultAdminTransfer", [g.address]]);
      }
      for (const [c, method, args] of attempts) {
        await expect(direct(c, g, method, args), method).to.be.revertedWithCustomError(
          c,
          "AccessControlUnauthorizedAccount",
        );
      }
    });
  });
});
