import { expect } from "chai";
import { ZeroAddress, ZeroHash, hexlify, id, randomBytes } from "ethers";
import { network } from "hardhat";

import { type CrossChainMessage, MessageTree, Topic } from "../../protocol/messages.js";
import { rollupHash } from "../../protocol/rollup.js";
import { MessageBus__factory, RejectingReceiver__factory } from "../../types/ethers-contracts/index.js";
import {
  CHALLENGE_PERIOD,
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

const MESSAGE_FEE = 10n ** 15n;
const UINT128_MAX = 2n ** 128n - 1n;

type Genesis = Awaited<ReturnType<typeof initializeGenesis>>;

interface Fixture {
  v: Veilnet;
  genesis: Genesis;
}

/** The suite with a non-zero message fee and the network secret initialized. */
async function fixture(): Promise<Fixture> {
  const v = await deployVeilnet(connection, { messageFee: MESSAGE_FEE });
  const genesis = await initializeGenesis(v);
  return { v, genesis };
}

let current: Veilnet | undefined;

async function load(): Promise<Fixture> {
  const f = await networkHelpers.loadFixture(fixture);
  current = f.v;
  return f;
}

/** A MessageBus of its own, deployed by the admin, with `registry` bound as its RollupRegistry. */
async function standaloneBus(v: Veilnet, registry: string) {
  const bus = await new MessageBus__factory(v.admin).deploy(
    v.admin.address,
    0,
    v.admin.address,
    await v.feeVault.getAddress(),
    0n,
  );
  await (await bus.bindRollupRegistry(registry)).wait();
  return bus;
}

/** The leaf the bus computes for `m` (StandardMerkleTree leaf over the CrossChain encoding). */
function leafOf(tree: MessageTree, m: CrossChainMessage): string {
  return tree.tree.leafHash([m.sender, m.sequence, m.nonce, m.topic, m.payload, m.consistencyLevel]);
}

describe("MessageBus", () => {
  afterEach(async () => {
    if (current !== undefined) await feeVaultInvariant(current);
    current = undefined;
  });

  describe("deployment", () => {
    it("starts with the configured fee and vault, the bound registry and the admin roles", async () => {
      const { v } = await load();
      expect(await v.messageBus.messageFee()).to.equal(MESSAGE_FEE);
      expect(await v.messageBus.feeVault()).to.equal(await v.feeVault.getAddress());
      expect(await v.messageBus.nextSequence()).to.equal(0n);
      expect(await v.messageBus.rollupRegistry()).to.equal(await v.rollupRegistry.getAddress());
      expect(await v.messageBus.generation()).to.equal(0n);
      const timelock = await v.timelock.getAddress();
      expect(await v.messageBus.defaultAdmin()).to.equal(timelock);
      expect(await v.messageBus.hasRole(await v.messageBus.FEE_ADMIN_ROLE(), timelock)).to.equal(true);
      expect(await v.messageBus.hasRole(await v.messageBus.FEE_ADMIN_ROLE(), v.admin.address)).to.equal(false);
      expect(await v.messageBus.hasRole(await v.messageBus.PAUSER_ROLE(), v.guardian.address)).to.equal(true);
    });

    it("refuses zero addresses and a fee above 128 bits in the constructor", async () => {
      const { v } = await load();
      const factory = new MessageBus__factory(v.admin);
      const vault = await v.feeVault.getAddress();
      const a = v.admin.address;
      for (const [admin, guardian, feeVault] of [
        [ZeroAddress, a, vault],
        [a, ZeroAddress, vault],
        [a, a, ZeroAddress],
      ] satisfies [string, string, string][]) {
        await expect(factory.deploy(admin, 0, guardian, feeVault, 0n)).to.be.revertedWithCustomError(
          factory,
          "ZeroAddress",
        );
      }
      await expect(factory.deploy(v.admin.address, 0, v.admin.address, vault, UINT128_MAX + 1n))
        .to.be.revertedWithCustomError(factory, "FeeTooLarge")
        .withArgs(UINT128_MAX + 1n);
    });
  });

  describe("publishMessage", () => {
    it("numbers messages with one global sequence (no per-sender nonce on L1: L2 assigns it)", async () => {
      const { v } = await load();
      const [alice, bob] = v.users;
      const sends: [typeof alice, bigint][] = [
        [alice, 0n],
        [alice, 1n],
        [bob, 2n],
        [alice, 3n],
        [bob, 4n],
      ];
      for (const [sender, sequence] of sends) {
        const payload = hexlify(randomBytes(40));
        const topic = 7 + Number(sequence);
        const bus = v.messageBus.connect(sender);
        expect(await bus.publishMessage.staticCall(topic, payload, 2, { value: MESSAGE_FEE })).to.equal(sequence);
        await expect(bus.publishMessage(topic, payload, 2, { value: MESSAGE_FEE }))
          .to.emit(v.messageBus, "MessagePublished")
          .withArgs(sender.address, sequence, topic, payload, 2);
      }
      expect(await v.messageBus.nextSequence()).to.equal(5n);
    });

    it("forwards exactly the fee to the FeeVault, which splits it", async () => {
      const { v } = await load();
      const [alice] = v.users;
      const vault = await v.feeVault.getAddress();
      const bus = await v.messageBus.getAddress();
      const toTreasury = (MESSAGE_FEE * TREASURY_BPS) / 10_000n;
      const tx = await v.messageBus.connect(alice).publishMessage(Topic.Call, "0x1234", 1, { value: MESSAGE_FEE });
      await expect(tx).to.changeEtherBalances(ethers, [alice, vault, bus], [-MESSAGE_FEE, MESSAGE_FEE, 0n]);
      await expect(tx).to.emit(v.feeVault, "FeesReceived").withArgs(bus, MESSAGE_FEE, toTreasury);
      expect(await v.feeVault.treasuryBalance()).to.equal(toTreasury);
      expect(await v.feeVault.unallocated()).to.equal(MESSAGE_FEE - toTreasury);
    });

    it("requires msg.value to equal the message fee", async () => {
      const { v } = await load();
      const bus = v.messageBus.connect(v.users[0]);
      for (const value of [0n, MESSAGE_FEE - 1n, MESSAGE_FEE + 1n, 2n * MESSAGE_FEE]) {
        await expect(bus.publishMessage(Topic.Call, "0x", 0, { value }))
          .to.be.revertedWithCustomError(v.messageBus, "IncorrectMessageFee")
          .withArgs(value, MESSAGE_FEE);
      }
      expect(await v.messageBus.nextSequence()).to.equal(0n);
    });

    it("with a zero fee, takes no value and sends nothing to the vault", async () => {
      const { v } = await load();
      await (await govern(v, v.messageBus, "setMessageFee", [0n])).wait();
      const bus = v.messageBus.connect(v.users[0]);
      await expect(bus.publishMessage(Topic.Call, "0x", 0, { value: 1n }))
        .to.be.revertedWithCustomError(v.messageBus, "IncorrectMessageFee")
        .withArgs(1n, 0n);
      const tx = await bus.publishMessage(Topic.Call, "0x", 0);
      await expect(tx).to.changeEtherBalances(ethers, [v.users[0], await v.feeVault.getAddress()], [0n, 0n]);
      await expect(tx).not.to.emit(v.feeVault, "FeesReceived");
      await expect(tx).to.emit(v.messageBus, "MessagePublished");
    });

    it("reverts (keeping the fee with the sender) when the fee vault refuses the value", async () => {
      const { v } = await load();
      const refuser = await new RejectingReceiver__factory(v.admin).deploy();
      await (await govern(v, v.messageBus, "setFeeVault", [await refuser.getAddress()])).wait();
      await expect(
        v.messageBus.connect(v.users[0]).publishMessage(Topic.Call, "0x", 0, { value: MESSAGE_FEE }),
      ).to.be.revertedWith("RejectingReceiver: refused");
      expect(await v.messageBus.nextSequence()).to.equal(0n);
      await (await refuser.setAccept(true)).wait();
      await expect(
        v.messageBus.connect(v.users[0]).publishMessage(Topic.Call, "0x", 0, { value: MESSAGE_FEE }),
      ).to.changeEtherBalances(ethers, [v.users[0], refuser], [-MESSAGE_FEE, MESSAGE_FEE]);
    });

    it("is stopped by pause (EnforcedPause) and resumes on unpause", async () => {
      const { v } = await load();
      const bus = v.messageBus.connect(v.users[0]);
      await expect(v.messageBus.pause()).to.emit(v.messageBus, "Paused").withArgs(v.admin.address);
      await expect(bus.publishMessage(Topic.Call, "0x", 0, { value: MESSAGE_FEE })).to.be.revertedWithCustomError(
        v.messageBus,
        "EnforcedPause",
      );
      await (await v.messageBus.unpause()).wait();
      await expect(bus.publishMessage(Topic.Call, "0x", 0, { value: MESSAGE_FEE }))
        .to.emit(v.messageBus, "MessagePublished")
        .withArgs(v.users[0].address, 0n, Topic.Call, "0x", 0);
    });
  });

  describe("fee administration", () => {
    it("setMessageFee changes the required fee and emits MessageFeeSet", async () => {
      const { v } = await load();
      const fee = 123_456n;
      await expect(govern(v, v.messageBus, "setMessageFee", [fee]))
        .to.emit(v.messageBus, "MessageFeeSet")
        .withArgs(fee);
      expect(await v.messageBus.messageFee()).to.equal(fee);
      await expect(v.messageBus.connect(v.users[0]).publishMessage(Topic.Call, "0x", 0, { value: MESSAGE_FEE }))
        .to.be.revertedWithCustomError(v.messageBus, "IncorrectMessageFee")
        .withArgs(MESSAGE_FEE, fee);
      await expect(
        v.messageBus.connect(v.users[0]).publishMessage(Topic.Call, "0x", 0, { value: fee }),
      ).to.changeEtherBalance(ethers, await v.feeVault.getAddress(), fee);
    });

    it("setMessageFee refuses fees above 128 bits", async () => {
      const { v } = await load();
      await expect(govern(v, v.messageBus, "setMessageFee", [UINT128_MAX + 1n]))
        .to.be.revertedWithCustomError(v.messageBus, "FeeTooLarge")
        .withArgs(UINT128_MAX + 1n);
      await expect(govern(v, v.messageBus, "setMessageFee", [UINT128_MAX]))
        .to.emit(v.messageBus, "MessageFeeSet")
        .withArgs(UINT128_MAX);
      expect(await v.messageBus.messageFee()).to.equal(UINT128_MAX);
    });

    it("setFeeVault redirects fees and refuses the zero address", async () => {
      const { v } = await load();
      const newVault = v.users[6];
      await expect(govern(v, v.messageBus, "setFeeVault", [ZeroAddress])).to.be.revertedWithCustomError(
        v.messageBus,
        "ZeroAddress",
      );
      await expect(govern(v, v.messageBus, "setFeeVault", [newVault.address]))
        .to.emit(v.messageBus, "FeeVaultSet")
        .withArgs(newVault.address);
      expect(await v.messageBus.feeVault()).to.equal(newVault.address);
      await expect(
        v.messageBus.connect(v.users[0]).publishMessage(Topic.Call, "0x", 0, { value: MESSAGE_FEE }),
      ).to.changeEtherBalances(ethers, [newVault, await v.feeVault.getAddress()], [MESSAGE_FEE, 0n]);
    });
  });

  describe("message roots (L2 → L1)", () => {
    it("become usable only after the challenge period", async () => {
      const { v, genesis } = await load();
      const msgs = await withdrawalMessages(v, [
        { to: v.users[0].address, amount: 1n },
        { to: v.users[1].address, amount: 2n },
        { to: v.users[2].address, amount: 3n },
      ]);
      const { tree } = await submitRollup(v, genesis, msgs);
      const root = tree!.root;
      const { activatesAt } = await v.messageBus.messageRoot(root);
      await expect(v.messageBus.verifyMessageInclusion(msgs[0], tree!.proof(0), root))
        .to.be.revertedWithCustomError(v.messageBus, "MessageRootNotActive")
        .withArgs(root, activatesAt);

      // One second before activation: still not active.
      await networkHelpers.time.increaseTo(activatesAt - 2n);
      await expect(v.messageBus.verifyMessageInclusion(msgs[1], tree!.proof(1), root))
        .to.be.revertedWithCustomError(v.messageBus, "MessageRootNotActive")
        .withArgs(root, activatesAt);

      await passChallengePeriod(v);
      for (const [i, message] of msgs.entries()) {
        expect(await v.messageBus.verifyMessageInclusion(message, tree!.proof(i), root)).to.equal(
          leafOf(tree!, message),
        );
      }
    });

    it("reverts UnknownMessageRoot for a root never registered", async () => {
      const { v } = await load();
      const msgs = await withdrawalMessages(v, [{ to: v.users[0].address, amount: 1n }]);
      const tree = new MessageTree(msgs);
      await expect(v.messageBus.verifyMessageInclusion(msgs[0], tree.proof(0), tree.root))
        .to.be.revertedWithCustomError(v.messageBus, "UnknownMessageRoot")
        .withArgs(tree.root);
      await expect(v.messageBus.verifyMessageInclusion(msgs[0], [], ZeroHash))
        .to.be.revertedWithCustomError(v.messageBus, "UnknownMessageRoot")
        .withArgs(ZeroHash);
    });

    it("reverts InvalidMerkleProof for a wrong proof or an altered message", async () => {
      const { v, genesis } = await load();
      const msgs = await withdrawalMessages(v, [
        { to: v.users[0].address, amount: 100n },
        { to: v.users[1].address, amount: 200n },
      ]);
      const { tree } = await submitRollup(v, genesis, msgs);
      const root = tree!.root;
      await passChallengePeriod(v);
      const altered: CrossChainMessage = {
        ...msgs[0],
        payload: (await withdrawalMessages(v, [{ to: v.users[0].address, amount: 10_000n }]))[0].payload,
      };
      const cases: [CrossChainMessage, string[]][] = [
        [msgs[0], tree!.proof(1)],
        [msgs[0], []],
        [msgs[0], [hexlify(randomBytes(32))]],
        [altered, tree!.proof(0)],
        [{ ...msgs[0], nonce: msgs[0].nonce + 1n }, tree!.proof(0)],
        [{ ...msgs[0], sender: v.users[0].address }, tree!.proof(0)],
      ];
      for (const [message, proof] of cases) {
        await expect(v.messageBus.verifyMessageInclusion(message, proof, root))
          .to.be.revertedWithCustomError(v.messageBus, "InvalidMerkleProof")
          .withArgs(root);
      }
    });

    it("does not accept a message proven against another rollup's root", async () => {
      const { v, genesis } = await load();
      const first = await withdrawalMessages(v, [
        { to: v.users[0].address, amount: 1n },
        { to: v.users[0].address, amount: 2n },
      ]);
      const second = await withdrawalMessages(
        v,
        [
          { to: v.users[1].address, amount: 3n },
          { to: v.users[1].address, amount: 4n },
        ],
        2n,
      );
      const a = await submitRollup(v, genesis, first);
      const b = await submitRollup(v, genesis, second);
      await passChallengePeriod(v);
      await expect(v.messageBus.verifyMessageInclusion(first[0], a.tree!.proof(0), b.tree!.root))
        .to.be.revertedWithCustomError(v.messageBus, "InvalidMerkleProof")
        .withArgs(b.tree!.root);
      expect(await v.messageBus.verifyMessageInclusion(second[1], b.tree!.proof(1), b.tree!.root)).to.equal(
        leafOf(b.tree!, second[1]),
      );
    });

    it("a rollup without messages registers no root", async () => {
      const { v, genesis } = await load();
      const { header, payload } = await nextRollupHeader(v);
      const signature = await signRollup(v, genesis, header);
      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature))).not.to.emit(
        v.messageBus,
        "MessageRootAdded",
      );
      expect((await v.messageBus.messageRoot(ZeroHash)).activatesAt).to.equal(0n);
    });

    it("F1: no role registers roots: the admin cannot grant itself one and relay a forged withdrawal", async () => {
      const { v } = await load();
      await (await v.bridge.connect(v.users[0]).depositNative(v.users[0].address, { value: 10n ** 18n })).wait();
      const held = await ethers.provider.getBalance(await v.bridge.getAddress());
      const [forged] = await withdrawalMessages(v, [{ to: v.stranger.address, amount: held }]);
      const tree = new MessageTree([forged]);
      // The review's attack: grantRole(ROOT_REGISTRAR_ROLE, admin), addMessageRoot(root, …, 1), relay at once.
      expect(v.messageBus.interface.format().some((f) => f.includes("ROOT_REGISTRAR_ROLE"))).to.equal(false);
      const timelock = await v.timelock.getAddress();
      await expect(govern(v, v.messageBus, "addMessageRoot", [tree.root, id("forged"), 1n, 0n]))
        .to.be.revertedWithCustomError(v.messageBus, "NotRollupRegistry")
        .withArgs(timelock);
      await expect(v.messageBus.connect(v.admin).addMessageRoot(tree.root, id("forged"), 1n, 0n))
        .to.be.revertedWithCustomError(v.messageBus, "NotRollupRegistry")
        .withArgs(v.admin.address);
      await expect(govern(v, v.messageBus, "bindRollupRegistry", [v.admin.address]))
        .to.be.revertedWithCustomError(v.messageBus, "NotDeployer")
        .withArgs(timelock);
      await expect(v.messageBus.connect(v.deployer).bindRollupRegistry(v.deployer.address))
        .to.be.revertedWithCustomError(v.messageBus, "RollupRegistryAlreadyBound")
        .withArgs(await v.rollupRegistry.getAddress());
      await expect(v.messenger.relayMessageWithProof(forged, tree.proof(0), tree.root))
        .to.be.revertedWithCustomError(v.messageBus, "UnknownMessageRoot")
        .withArgs(tree.root);
      expect(await ethers.provider.getBalance(await v.bridge.getAddress())).to.equal(held);
    });

    it("bindRollupRegistry: only the deployer, only once, not to zero", async () => {
      const { v } = await load();
      const deployer = v.users[6];
      const bus = await new MessageBus__factory(deployer).deploy(
        v.admin.address,
        0,
        v.admin.address,
        await v.feeVault.getAddress(),
        0n,
      );
      await expect(bus.connect(v.admin).bindRollupRegistry(v.admin.address))
        .to.be.revertedWithCustomError(bus, "NotDeployer")
        .withArgs(v.admin.address);
      await expect(bus.bindRollupRegistry(ZeroAddress)).to.be.revertedWithCustomError(bus, "ZeroAddress");
      await expect(bus.bindRollupRegistry(v.users[7].address))
        .to.emit(bus, "RollupRegistryBound")
        .withArgs(v.users[7].address);
      await expect(bus.bindRollupRegistry(deployer.address))
        .to.be.revertedWithCustomError(bus, "RollupRegistryAlreadyBound")
        .withArgs(v.users[7].address);
    });

    it("addMessageRoot registers a root once (while valid), for the bound registry only", async () => {
      const { v } = await load();
      const registrar = v.users[7];
      const bus = await standaloneBus(v, registrar.address);
      const root = id("root");
      const rollup = id("rollup");
      for (const caller of [v.stranger, v.admin]) {
        await expect(bus.connect(caller).addMessageRoot(root, rollup, 1_000n, 0n))
          .to.be.revertedWithCustomError(bus, "NotRollupRegistry")
          .withArgs(caller.address);
      }
      const asRegistry = bus.connect(registrar);
      await expect(asRegistry.addMessageRoot(root, rollup, 1_000n, 5n))
        .to.emit(bus, "MessageRootAdded")
        .withArgs(root, rollup, 1_000n);
      const stored = await bus.messageRoot(root);
      expect(stored.activatesAt).to.equal(1_000n);
      expect(stored.rejected).to.equal(false);
      expect(stored.rollupTag).to.equal(rollup.slice(0, 2 + 24));
      expect(stored.firstBatchSeq).to.equal(5n);
      expect(stored.generation).to.equal(0n);

      await expect(asRegistry.addMessageRoot(root, id("other rollup"), 2_000n, 6n))
        .to.be.revertedWithCustomError(bus, "InvalidMessageRoot")
        .withArgs(root);
      await expect(asRegistry.addMessageRoot(ZeroHash, rollup, 1_000n, 6n))
        .to.be.revertedWithCustomError(bus, "InvalidMessageRoot")
        .withArgs(ZeroHash);
      expect((await bus.messageRoot(root)).activatesAt).to.equal(1_000n);
      // Once rejected, the same root may come again (a corrected rollup with the same withdrawals).
      await (await asRegistry.rejectMessageRoot(root)).wait();
      await expect(asRegistry.addMessageRoot(root, id("corrected"), 3_000n, 5n))
        .to.emit(bus, "MessageRootAdded")
        .withArgs(root, id("corrected"), 3_000n);
      const again = await bus.messageRoot(root);
      expect([again.rejected, again.generation, again.activatesAt]).to.deep.equal([false, 1n, 3_000n]);
    });

    it("a rollup whose message root is already registered is refused", async () => {
      const { v, genesis } = await load();
      const msgs = await withdrawalMessages(v, [{ to: v.users[0].address, amount: 1n }]);
      const first = await submitRollup(v, genesis, msgs);
      const { header, payload } = await nextRollupHeader(v, { messageRoot: first.tree!.root });
      const signature = await signRollup(v, genesis, header);
      await expect(v.rollupRegistry.addRollup(...rollupArgs(header, payload, signature)))
        .to.be.revertedWithCustomError(v.messageBus, "InvalidMessageRoot")
        .withArgs(first.tree!.root);
      // The root still belongs to the first rollup.
      expect((await v.messageBus.messageRoot(first.tree!.root)).rollupTag).to.equal(
        rollupHash(first.header).slice(0, 2 + 24),
      );
    });

    it("rejectMessageRoot disables a root and every later one, for the bound registry only", async () => {
      const { v } = await load();
      const registrar = v.users[7];
      const bus = await standaloneBus(v, registrar.address);
      const asRegistry = bus.connect(registrar);
      const msgs = await withdrawalMessages(v, [
        { to: v.users[0].address, amount: 1n },
        { to: v.users[1].address, amount: 1n },
      ]);
      const tree = new MessageTree(msgs);
      const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
      await (await asRegistry.addMessageRoot(id("before"), id("r0"), now + CHALLENGE_PERIOD, 0n)).wait();
      await (await asRegistry.addMessageRoot(tree.root, id("r1"), now + CHALLENGE_PERIOD, 3n)).wait();
      await (await asRegistry.addMessageRoot(id("after"), id("r2"), now + CHALLENGE_PERIOD, 7n)).wait();

      for (const caller of [v.stranger, v.admin]) {
        await expect(bus.connect(caller).rejectMessageRoot(tree.root))
          .to.be.revertedWithCustomError(bus, "NotRollupRegistry")
          .withArgs(caller.address);
      }
      await expect(asRegistry.rejectMessageRoot(id("unknown")))
        .to.be.revertedWithCustomError(bus, "UnknownMessageRoot")
        .withArgs(id("unknown"));
      await expect(asRegistry.rejectMessageRoot(tree.root))
        .to.emit(bus, "MessageRootRejected")
        .withArgs(tree.root)
        .and.to.emit(bus, "MessageRootsInvalidated")
        .withArgs(0n, 3n, 1n);
      expect((await bus.messageRoot(tree.root)).rejected).to.equal(true);
      expect((await bus.messageRoot(id("after"))).rejected).to.equal(true);
      expect((await bus.messageRoot(id("before"))).rejected).to.equal(false);
      await expect(asRegistry.rejectMessageRoot(id("after")))
        .to.be.revertedWithCustomError(bus, "MessageRootAlreadyRejected")
        .withArgs(id("after"));
      await networkHelpers.time.increase(CHALLENGE_PERIOD + 1n);
      await expect(bus.verifyMessageInclusion(msgs[0], tree.proof(0), tree.root))
        .to.be.revertedWithCustomError(bus, "MessageRootIsRejected")
        .withArgs(tree.root);
    });
  });

  describe("access control", () => {
    it("rejects every admin function from callers without the role", async () => {
      const { v } = await load();
      const bus = v.messageBus.connect(v.stranger);
      const [admin, feeAdmin, pauser] = await Promise.all([
        v.messageBus.DEFAULT_ADMIN_ROLE(),
        v.messageBus.FEE_ADMIN_ROLE(),
        v.messageBus.PAUSER_ROLE(),
      ]);
      const cases: [string, () => Promise<unknown>, string][] = [
        ["setMessageFee", () => bus.setMessageFee(0n), feeAdmin],
        ["setFeeVault", () => bus.setFeeVault(v.stranger.address), feeAdmin],
        ["pause", () => bus.pause(), pauser],
        ["unpause", () => bus.unpause(), pauser],
        ["grantRole", () => bus.grantRole(pauser, v.stranger.address), admin],
        ["revokeRole", () => bus.revokeRole(pauser, v.admin.address), admin],
      ];
      for (const [name, call, role] of cases) {
        await expect(call(), name)
          .to.be.revertedWithCustomError(v.messageBus, "AccessControlUnauthorizedAccount")
          .withArgs(v.stranger.address, role);
      }
      // A pauser cannot change fees; a fee admin cannot pause.
      const [pauserOnly, feeAdminOnly] = [v.users[8], v.users[9]];
      await (await govern(v, v.messageBus, "grantRole", [pauser, pauserOnly.address])).wait();
      await (await govern(v, v.messageBus, "grantRole", [feeAdmin, feeAdminOnly.address])).wait();
      await expect(v.messageBus.connect(pauserOnly).setMessageFee(0n))
        .to.be.revertedWithCustomError(v.messageBus, "AccessControlUnauthorizedAccount")
        .withArgs(pauserOnly.address, feeAdmin);
      await expect(v.messageBus.connect(feeAdminOnly).pause())
        .to.be.revertedWithCustomError(v.messageBus, "AccessControlUnauthorizedAccount")
        .withArgs(feeAdminOnly.address, pauser);
      await expect(v.messageBus.connect(pauserOnly).pause()).to.emit(v.messageBus, "Paused");
      await expect(v.messageBus.connect(feeAdminOnly).setMessageFee(5n)).to.emit(v.messageBus, "MessageFeeSet");
    });
  });
});
