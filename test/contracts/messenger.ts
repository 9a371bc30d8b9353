/**
 * CrossChainMessenger: relaying L2→L1 calls proven against the MessageBus's message roots, the
 * spent bitmap, `crossChainSender()`, failure and retry, and pausing.
 */
import { expect } from "chai";
import { AbiCoder, Wallet, ZeroHash, concat, hexlify, randomBytes, toBeHex, zeroPadValue } from "ethers";
import { network } from "hardhat";

import { type CrossChainMessage, Topic, encodeCallPayload } from "../../protocol/messages.js";
import { GasHungryTarget__factory, RelayTarget__factory } from "../../types/ethers-contracts/index.js";
import { messageLeaf } from "../../testing/bridge.js";
import {
  CHALLENGE_PERIOD,
  deployVeilnet,
  initializeGenesis,
  passChallengePeriod,
  submitRollup,
} from "../../testing/veilnet.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

const PAUSER_ROLE = ethers.id("PAUSER_ROLE");
const coder = AbiCoder.defaultAbiCoder();

async function fixture() {
  const v = await deployVeilnet(connection);
  const genesis = await initializeGenesis(v);
  const target = await new RelayTarget__factory(v.admin).deploy(await v.messenger.getAddress());
  const targetAddress = await target.getAddress();
  const l2App = Wallet.createRandom().address;
  const l2Other = Wallet.createRandom().address;
  return { v, genesis, target, targetAddress, l2App, l2Other };
}

type Fixture = Awaited<ReturnType<typeof fixture>>;

/** A TOPIC_CALL message from `sender` calling `RelayTarget.receiveCall(value)`. */
function callMessage(f: Fixture, sender: string, sequence: bigint, value: bigint): CrossChainMessage {
  const data = f.target.interface.encodeFunctionData("receiveCall", [value]);
  return {
    sender,
    sequence,
    nonce: sequence,
    topic: Topic.Call,
    payload: encodeCallPayload(f.targetAddress, data),
    consistencyLevel: 1,
  };
}

async function provenRollup(f: Fixture, messages: readonly CrossChainMessage[]) {
  const { tree, header } = await submitRollup(f.v, f.genesis, messages);
  await passChallengePeriod(f.v);
  return { tree: tree!, root: tree!.root, header };
}

describe("CrossChainMessenger", () => {
  describe("relaying", () => {
    it("calls the target with crossChainSender() = the L2 sender, once", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const { v, target, targetAddress, l2App, l2Other } = f;
      const msgs = [callMessage(f, l2App, 0n, 42n), callMessage(f, l2Other, 1n, 7n)] as const;
      const { tree, root } = await provenRollup(f, msgs);

      await expect(v.messenger.connect(v.stranger).relayMessageWithProof(msgs[0], tree.proof(0), root))
        .to.emit(v.messenger, "MessageRelayed")
        .withArgs(messageLeaf(msgs[0]), 0n, targetAddress);
      expect(await target.lastSender()).to.equal(l2App);
      expect(await target.lastValue()).to.equal(42n);
      expect(await target.calls()).to.equal(1n);

      await expect(v.messenger.relayMessageWithProof(msgs[1], tree.proof(1), root))
        .to.emit(v.messenger, "MessageRelayed")
        .withArgs(messageLeaf(msgs[1]), 1n, targetAddress);
      expect(await target.lastSender()).to.equal(l2Other);
      expect(await target.lastValue()).to.equal(7n);
      expect(await target.calls()).to.equal(2n);

      for (const [i, message] of msgs.entries()) {
        await expect(v.messenger.relayMessageWithProof(message, tree.proof(i), root))
          .to.be.revertedWithCustomError(v.messenger, "MessageAlreadyRelayed")
          .withArgs(BigInt(i));
      }
      expect(await target.calls()).to.equal(2n);
      // Outside a relayed call (including after one) there is no sender.
      await expect(v.messenger.crossChainSender()).to.be.revertedWithCustomError(v.messenger, "NotInRelayedCall");
    });

    it("crossChainSender() reverts outside a relayed call", async () => {
      const { v } = await networkHelpers.loadFixture(fixture);
      await expect(v.messenger.crossChainSender()).to.be.revertedWithCustomError(v.messenger, "NotInRelayedCall");
      await expect(v.messenger.connect(v.stranger).crossChainSender()).to.be.revertedWithCustomError(
        v.messenger,
        "NotInRelayedCall",
      );
    });

    it("consumes each L2 sequence number once, even if another root carries it again", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const { v, target, l2App } = f;
      const first = callMessage(f, l2App, 5n, 1n);
      const again = callMessage(f, l2App, 5n, 2n);
      const a = await provenRollup(f, [first]);
      const b = await provenRollup(f, [again]);

      expect(await v.messenger.isRelayed(5n)).to.equal(false);
      await (await v.messenger.relayMessageWithProof(first, a.tree.proof(0), a.root)).wait();
      expect(await v.messenger.isRelayed(5n)).to.equal(true);
      expect(await v.messenger.isRelayed(4n)).to.equal(false);
      expect(await v.messenger.isRelayed(6n)).to.equal(false);
      await expect(v.messenger.relayMessageWithProof(again, b.tree.proof(0), b.root))
        .to.be.revertedWithCustomError(v.messenger, "MessageAlreadyRelayed")
        .withArgs(5n);
      expect(await target.lastValue()).to.equal(1n);
      expect(await target.calls()).to.equal(1n);
    });
  });

  describe("proofs and roots", () => {
    it("rejects a wrong proof or a tampered message with InvalidMerkleProof", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const { v, target, l2App } = f;
      const msgs = [
        callMessage(f, l2App, 0n, 1n),
        callMessage(f, l2App, 1n, 2n),
        callMessage(f, l2App, 2n, 3n),
      ] as const;
      const { tree, root } = await provenRollup(f, msgs);

      await expect(v.messenger.relayMessageWithProof(msgs[0], tree.proof(1), root))
        .to.be.revertedWithCustomError(v.messageBus, "InvalidMerkleProof")
        .withArgs(root);
      await expect(v.messenger.relayMessageWithProof(msgs[0], [], root))
        .to.be.revertedWithCustomError(v.messageBus, "InvalidMerkleProof")
        .withArgs(root);
      const tampered = { ...msgs[0], payload: callMessage(f, l2App, 0n, 1_000n).payload };
      await expect(v.messenger.relayMessageWithProof(tampered, tree.proof(0), root))
        .to.be.revertedWithCustomError(v.messageBus, "InvalidMerkleProof")
        .withArgs(root);
      const otherSender = { ...msgs[0], sender: f.l2Other };
      await expect(v.messenger.relayMessageWithProof(otherSender, tree.proof(0), root))
        .to.be.revertedWithCustomError(v.messageBus, "InvalidMerkleProof")
        .withArgs(root);
      expect(await v.messenger.isRelayed(0n)).to.equal(false);
      expect(await target.calls()).to.equal(0n);

      // The genuine message with its own proof still goes through.
      await expect(v.messenger.relayMessageWithProof(msgs[0], tree.proof(0), root)).to.emit(
        v.messenger,
        "MessageRelayed",
      );
    });

    it("rejects a root before the end of its challenge period with MessageRootNotActive", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const { v, target, l2App } = f;
      const msgs = [callMessage(f, l2App, 0n, 9n)] as const;
      const { tree } = await submitRollup(v, f.genesis, msgs);
      const root = tree!.root;
      const { activatesAt } = await v.messageBus.messageRoot(root);
      const acceptedAt = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
      expect(activatesAt).to.equal(acceptedAt + CHALLENGE_PERIOD);

      await expect(v.messenger.relayMessageWithProof(msgs[0], tree!.proof(0), root))
        .to.be.revertedWithCustomError(v.messageBus, "MessageRootNotActive")
        .withArgs(root, activatesAt);
      await networkHelpers.time.setNextBlockTimestamp(activatesAt - 1n);
      await expect(v.messenger.relayMessageWithProof(msgs[0], tree!.proof(0), root))
        .to.be.revertedWithCustomError(v.messageBus, "MessageRootNotActive")
        .withArgs(root, activatesAt);
      expect(await v.messenger.isRelayed(0n)).to.equal(false);

      await networkHelpers.time.setNextBlockTimestamp(activatesAt);
      await expect(v.messenger.relayMessageWithProof(msgs[0], tree!.proof(0), root)).to.emit(
        v.messenger,
        "MessageRelayed",
      );
      expect(await target.lastValue()).to.equal(9n);
    });

    it("rejects a root the guardian rejected with MessageRootIsRejected", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const { v, target, l2App } = f;
      const msgs = [callMessage(f, l2App, 0n, 9n)] as const;
      const { tree, header } = await submitRollup(v, f.genesis, msgs);
      const root = tree!.root;
      await expect(v.rollupRegistry.rejectRollup(header)).to.emit(v.rollupRegistry, "RollupRejected");

      await expect(v.messenger.relayMessageWithProof(msgs[0], tree!.proof(0), root))
        .to.be.revertedWithCustomError(v.messageBus, "MessageRootIsRejected")
        .withArgs(root);
      await passChallengePeriod(v);
      await expect(v.messenger.relayMessageWithProof(msgs[0], tree!.proof(0), root))
        .to.be.revertedWithCustomError(v.messageBus, "MessageRootIsRejected")
        .withArgs(root);
      expect(await v.messenger.isRelayed(0n)).to.equal(false);
      expect(await target.calls()).to.equal(0n);
    });

    it("rejects an unknown root with UnknownMessageRoot", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const { v, l2App } = f;
      const msgs = [callMessage(f, l2App, 0n, 9n)] as const;
      const { tree, root } = await provenRollup(f, msgs);
      const unknown = hexlify(randomBytes(32));
      await expect(v.messenger.relayMessageWithProof(msgs[0], tree.proof(0), unknown))
        .to.be.revertedWithCustomError(v.messageBus, "UnknownMessageRoot")
        .withArgs(unknown);
      await expect(v.messenger.relayMessageWithProof(msgs[0], [], ZeroHash))
        .to.be.revertedWithCustomError(v.messageBus, "UnknownMessageRoot")
        .withArgs(ZeroHash);
      await expect(v.messenger.relayMessageWithProof(msgs[0], tree.proof(0), root)).to.emit(
        v.messenger,
        "MessageRelayed",
      );
    });
  });

  describe("message shape", () => {
    it("rejects a proven message whose topic is not a call with NotACallMessage", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const { v, l2App } = f;
      const call = callMessage(f, l2App, 0n, 1n);
      const msgs: CrossChainMessage[] = [
        { ...call, topic: Topic.Deposit },
        { ...call, sequence: 1n, topic: Topic.TokenRegistered },
        { ...call, sequence: 2n, topic: 0 },
      ];
      const { tree, root } = await provenRollup(f, msgs);
      for (const [i, message] of msgs.entries()) {
        await expect(v.messenger.relayMessageWithProof(message, tree.proof(i), root))
          .to.be.revertedWithCustomError(v.messenger, "NotACallMessage")
          .withArgs(message.topic);
        expect(await v.messenger.isRelayed(message.sequence)).to.equal(false);
      }
    });

    it("rejects a proven call message with a malformed payload with MalformedCallPayload", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const { v, target, targetAddress, l2App } = f;
      const data = target.interface.encodeFunctionData("receiveCall", [1n]);
      const good = encodeCallPayload(targetAddress, data);
      const word = (n: bigint) => zeroPadValue(toBeHex(n), 32);
      const payloads = [
        "0x",
        "0x1234",
        // Too short for (target, offset, length).
        coder.encode(["address", "uint256"], [targetAddress, 0x40n]),
        // Target word above 160 bits.
        concat([word(2n ** 160n), good.slice(0, 2) + good.slice(66)]),
        // Offset other than 0x40.
        concat([word(BigInt(targetAddress)), word(0x60n), word(0n), good.slice(0, 2) + good.slice(66)]),
        // Length beyond the payload.
        concat([word(BigInt(targetAddress)), word(0x40n), word(1000n), data]),
        // The data without the bytes encoding at all.
        concat([word(BigInt(targetAddress)), data]),
      ];
      const msgs: CrossChainMessage[] = payloads.map((payload, i) => ({
        sender: l2App,
        sequence: BigInt(i),
        nonce: BigInt(i),
        topic: Topic.Call,
        payload,
        consistencyLevel: 1,
      }));
      // A well-formed control, to show the malformed ones fail on their shape only.
      const control = callMessage(f, l2App, BigInt(payloads.length), 77n);
      const { tree, root } = await provenRollup(f, [...msgs, control]);
      for (const [i, message] of msgs.entries()) {
        await expect(
          v.messenger.relayMessageWithProof(message, tree.proof(i), root),
          `payload ${i}`,
        ).to.be.revertedWithCustomError(v.messenger, "MalformedCallPayload");
      }
      expect(await target.calls()).to.equal(0n);
      await expect(v.messenger.relayMessageWithProof(control, tree.proof(msgs.length), root)).to.emit(
        v.messenger,
        "MessageRelayed",
      );
      expect(await target.lastValue()).to.equal(77n);
    });
  });

  describe("failed calls", () => {
    it("records a failed call, keeps it retryable while it fails, and runs it once when it succeeds", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const { v, target, targetAddress, l2App } = f;
      const msgs = [callMessage(f, l2App, 0n, 42n)] as const;
      const { tree, root } = await provenRollup(f, msgs);
      const leaf = messageLeaf(msgs[0]);
      await (await target.setShouldFail(true)).wait();

      await expect(v.messenger.connect(v.stranger).relayMessageWithProof(msgs[0], tree.proof(0), root))
        .to.emit(v.messenger, "MessageRelayFailed")
        .withArgs(leaf, 0n, targetAddress, target.interface.encodeErrorResult("TargetFailure", [42n]))
        .and.not.to.emit(v.messenger, "MessageRelayed");
      expect(await v.messenger.failedMessages(leaf)).to.equal(true);
      expect(await v.messenger.isRelayed(0n)).to.equal(true);
      expect(await target.calls()).to.equal(0n);

      await expect(v.messenger.relayMessageWithProof(msgs[0], tree.proof(0), root))
        .to.be.revertedWithCustomError(v.messenger, "MessageAlreadyRelayed")
        .withArgs(0n);
      await expect(v.messenger.retryMessage(msgs[0]))
        .to.be.revertedWithCustomError(target, "TargetFailure")
        .withArgs(42n);
      expect(await v.messenger.failedMessages(leaf)).to.equal(true);

      await (await target.setShouldFail(false)).wait();
      await expect(v.messenger.connect(v.stranger).retryMessage(msgs[0]))
        .to.emit(v.messenger, "MessageRelayed")
        .withArgs(leaf, 0n, targetAddress);
      expect(await target.calls()).to.equal(1n);
      expect(await target.lastSender()).to.equal(l2App);
      expect(await target.lastValue()).to.equal(42n);
      expect(await v.messenger.failedMessages(leaf)).to.equal(false);

      await expect(v.messenger.retryMessage(msgs[0]))
        .to.be.revertedWithCustomError(v.messenger, "MessageNotRetryable")
        .withArgs(leaf);
      expect(await target.calls()).to.equal(1n);
    });

    it("reverts a relay whose call ran out of the relayer's gas, leaving the message unconsumed", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const { v, l2App } = f;
      const hungry = await new GasHungryTarget__factory(v.admin).deploy();
      const data = hungry.interface.encodeFunctionData("consume", [40n]);
      const msg: CrossChainMessage = {
        sender: l2App,
        sequence: 0n,
        nonce: 0n,
        topic: Topic.Call,
        payload: encodeCallPayload(await hungry.getAddress(), data),
        consistencyLevel: 1,
      };
      const { tree, root } = await provenRollup(f, [msg]);

      // 40 fresh storage writes need ~900k gas; 250k starves the call but not the relay itself.
      await expect(
        v.messenger.connect(v.stranger).relayMessageWithProof(msg, tree.proof(0), root, { gasLimit: 250_000n }),
      ).to.be.revertedWithCustomError(v.messenger, "InsufficientGasForCall");
      expect(await v.messenger.isRelayed(0n)).to.equal(false);
      expect(await v.messenger.failedMessages(messageLeaf(msg))).to.equal(false);

      await expect(v.messenger.connect(v.stranger).relayMessageWithProof(msg, tree.proof(0), root))
        .to.emit(v.messenger, "MessageRelayed")
        .withArgs(messageLeaf(msg), 0n, await hungry.getAddress());
      expect(await hungry.calls()).to.equal(1n);
    });

    it("retries only messages that failed: never-relayed, succeeded and altered messages are not retryable", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const { v, target, l2App } = f;
      const msgs = [callMessage(f, l2App, 0n, 1n), callMessage(f, l2App, 1n, 2n)] as const;
      const { tree, root } = await provenRollup(f, msgs);
      await expect(v.messenger.retryMessage(msgs[0]))
        .to.be.revertedWithCustomError(v.messenger, "MessageNotRetryable")
        .withArgs(messageLeaf(msgs[0]));

      await (await target.setShouldFail(true)).wait();
      await (await v.messenger.relayMessageWithProof(msgs[1], tree.proof(1), root)).wait();
      await (await target.setShouldFail(false)).wait();
      // Only the exact failed message can be retried, not a variant of it.
      const altered = callMessage(f, l2App, 1n, 2_000n);
      await expect(v.messenger.retryMessage(altered))
        .to.be.revertedWithCustomError(v.messenger, "MessageNotRetryable")
        .withArgs(messageLeaf(altered));
      const otherSender = { ...msgs[1], sender: f.l2Other };
      await expect(v.messenger.retryMessage(otherSender))
        .to.be.revertedWithCustomError(v.messenger, "MessageNotRetryable")
        .withArgs(messageLeaf(otherSender));
      expect(await target.calls()).to.equal(0n);
      await (await v.messenger.retryMessage(msgs[1])).wait();
      expect(await target.lastValue()).to.equal(2n);
    });
  });

  describe("pausing and access control", () => {
    it("only PAUSER_ROLE pauses and unpauses", async () => {
      const { v } = await networkHelpers.loadFixture(fixture);
      await expect(v.messenger.connect(v.stranger).pause())
        .to.be.revertedWithCustomError(v.messenger, "AccessControlUnauthorizedAccount")
        .withArgs(v.stranger.address, PAUSER_ROLE);
      await expect(v.messenger.pause()).to.emit(v.messenger, "Paused").withArgs(v.admin.address);
      await expect(v.messenger.connect(v.stranger).unpause())
        .to.be.revertedWithCustomError(v.messenger, "AccessControlUnauthorizedAccount")
        .withArgs(v.stranger.address, PAUSER_ROLE);
      expect(await v.messenger.paused()).to.equal(true);
      await expect(v.messenger.unpause()).to.emit(v.messenger, "Unpaused").withArgs(v.admin.address);
      expect(await v.messenger.paused()).to.equal(false);
    });

    it("pausing stops relayMessageWithProof and retryMessage until unpaused", async () => {
      const f = await networkHelpers.loadFixture(fixture);
      const { v, target, l2App } = f;
      const msgs = [callMessage(f, l2App, 0n, 1n), callMessage(f, l2App, 1n, 2n)] as const;
      const { tree, root } = await provenRollup(f, msgs);
      await (await target.setShouldFail(true)).wait();
      await (await v.messenger.relayMessageWithProof(msgs[1], tree.proof(1), root)).wait();
      await (await target.setShouldFail(false)).wait();

      await (await v.messenger.pause()).wait();
      await expect(v.messenger.relayMessageWithProof(msgs[0], tree.proof(0), root)).to.be.revertedWithCustomError(
        v.messenger,
        "EnforcedPause",
      );
      await expect(v.messenger.retryMessage(msgs[1])).to.be.revertedWithCustomError(v.messenger, "EnforcedPause");
      expect(await v.messenger.isRelayed(0n)).to.equal(false);
      expect(await v.messenger.failedMessages(messageLeaf(msgs[1]))).to.equal(true);

      await (await v.messenger.unpause()).wait();
      await expect(v.messenger.relayMessageWithProof(msgs[0], tree.proof(0), root)).to.emit(
        v.messenger,
        "MessageRelayed",
      );
      await expect(v.messenger.retryMessage(msgs[1])).to.emit(v.messenger, "MessageRelayed");
      expect(await target.calls()).to.equal(2n);
    });
  });
});
