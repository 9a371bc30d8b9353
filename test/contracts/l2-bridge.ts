/**
 * L2 system contracts (L2MessageBus, L2Bridge, WrappedERC20), unit-tested on the Hardhat network, and
 * an L1 → L2 → L1 round trip through the real L1 suite with the L2 bridge at its predeploy address.
 */
import { expect } from "chai";
import {
  AbiCoder,
  Wallet,
  ZeroAddress,
  concat,
  getAddress,
  getCreate2Address,
  keccak256,
  parseEther,
  zeroPadValue,
} from "ethers";
import { network } from "hardhat";

import { type CrossChainMessage, Topic, withdrawalMessage } from "../../protocol/messages.js";
import {
  L2Bridge__factory,
  L2MessageBus__factory,
  RejectingReceiver__factory,
  TestToken__factory,
  WrappedERC20__factory,
} from "../../types/ethers-contracts/index.js";
import {
  depositPayload,
  errorString,
  l1MessageHash,
  messageLeaf,
  publishedMessages,
  registrationPayload,
} from "../../testing/bridge.js";
import { take } from "../../testing/defined.js";
import {
  deployVeilnet,
  initializeGenesis,
  passChallengePeriod,
  submitRollup,
  withdrawalMessages,
} from "../../testing/veilnet.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

const SYSTEM_ROLE = ethers.id("SYSTEM_ROLE");
const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;
const GENESIS_SUPPLY = parseEther("100");

async function l2Fixture() {
  const [admin, system, stranger, alice, bob] = take(await ethers.getSigners(), 5, "signers");
  const l1Bridge = Wallet.createRandom().address;
  const l1Token = Wallet.createRandom().address;
  const bus = await new L2MessageBus__factory(admin).deploy(admin.address, system.address);
  const busAddress = await bus.getAddress();
  const bridge = await new L2Bridge__factory(admin).deploy(busAddress, l1Bridge, { value: GENESIS_SUPPLY });
  const bridgeAddress = await bridge.getAddress();
  await (await bus.setReceiver(l1Bridge, bridgeAddress)).wait();
  return { admin, system, stranger, alice, bob, l1Bridge, l1Token, bus, busAddress, bridge, bridgeAddress };
}

type L2 = Awaited<ReturnType<typeof l2Fixture>>;

function l1Message(
  f: L2,
  sequence: bigint,
  topic: number,
  payload: string,
  sender: string = f.l1Bridge,
): CrossChainMessage {
  return { sender, sequence, nonce: sequence, topic, payload, consistencyLevel: 1 };
}

function registration(f: L2, sequence: bigint, name = "Test Token", symbol = "TT", decimals = 6): CrossChainMessage {
  return l1Message(f, sequence, Topic.TokenRegistered, registrationPayload(f.l1Token, name, symbol, decimals));
}

function deposit(f: L2, sequence: bigint, token: string, to: string, amount: bigint): CrossChainMessage {
  return l1Message(f, sequence, Topic.Deposit, depositPayload(token, f.alice.address, to, amount));
}

/** The address L2Bridge's CREATE2 gives the wrapped token of `l1Token`. */
function predictWrapped(f: L2, name: string, symbol: string, decimals: number): string {
  const args = AbiCoder.defaultAbiCoder().encode(
    ["string", "string", "uint8", "address"],
    [name, symbol, decimals, f.l1Token],
  );
  return getCreate2Address(
    f.bridgeAddress,
    zeroPadValue(f.l1Token, 32),
    keccak256(concat([WrappedERC20__factory.bytecode, args])),
  );
}

/** l2Fixture with the token registered (L1 sequence 0) and 1,000 wrapped minted to alice (sequence 1). */
async function l2WithTokenFixture() {
  const f = await l2Fixture();
  await (await f.bus.connect(f.system).deliverMessage(registration(f, 0n))).wait();
  await (await f.bus.connect(f.system).deliverMessage(deposit(f, 1n, f.l1Token, f.alice.address, 1_000n))).wait();
  const wrapped = WrappedERC20__factory.connect(await f.bridge.wrappedOf(f.l1Token), f.admin);
  return { ...f, wrapped, wrappedAddress: await wrapped.getAddress() };
}

describe("L2 system contracts", () => {
  describe("L2MessageBus: delivery of L1 messages", () => {
    it("rejects zero addresses at construction", async () => {
      const { admin, busAddress } = await networkHelpers.loadFixture(l2Fixture);
      const busFactory = new L2MessageBus__factory(admin);
      await expect(busFactory.deploy(ZeroAddress, admin.address)).to.be.revertedWithCustomError(
        busFactory,
        "ZeroAddress",
      );
      await expect(busFactory.deploy(admin.address, ZeroAddress)).to.be.revertedWithCustomError(
        busFactory,
        "ZeroAddress",
      );
      const bridgeFactory = new L2Bridge__factory(admin);
      await expect(bridgeFactory.deploy(ZeroAddress, admin.address)).to.be.revertedWithCustomError(
        bridgeFactory,
        "ZeroAddress",
      );
      await expect(bridgeFactory.deploy(busAddress, ZeroAddress)).to.be.revertedWithCustomError(
        bridgeFactory,
        "ZeroAddress",
      );
    });

    it("accepts L1 messages only from SYSTEM_ROLE", async () => {
      const f = await networkHelpers.loadFixture(l2Fixture);
      const { bus, admin, stranger, system } = f;
      for (const caller of [stranger, admin]) {
        await expect(bus.connect(caller).deliverMessage(registration(f, 0n)))
          .to.be.revertedWithCustomError(bus, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, SYSTEM_ROLE);
      }
      expect(await bus.nextL1Sequence()).to.equal(0n);
      await expect(bus.connect(system).deliverMessage(registration(f, 0n)))
        .to.emit(bus, "L1MessageDelivered")
        .withArgs(0n, f.l1Bridge, f.bridgeAddress, 0n);
      expect(await bus.nextL1Sequence()).to.equal(1n);
    });

    it("delivers strictly in L1 sequence order, each message once", async () => {
      const f = await networkHelpers.loadFixture(l2Fixture);
      const { bus, system } = f;
      await expect(bus.connect(system).deliverMessage(registration(f, 1n)))
        .to.be.revertedWithCustomError(bus, "L1MessageOutOfOrder")
        .withArgs(0n, 1n);
      await (await bus.connect(system).deliverMessage(registration(f, 0n))).wait();
      await expect(bus.connect(system).deliverMessage(deposit(f, 0n, ZeroAddress, f.bob.address, 1n)))
        .to.be.revertedWithCustomError(bus, "L1MessageOutOfOrder")
        .withArgs(1n, 0n);
      await expect(bus.connect(system).deliverMessage(deposit(f, 2n, ZeroAddress, f.bob.address, 1n)))
        .to.be.revertedWithCustomError(bus, "L1MessageOutOfOrder")
        .withArgs(1n, 2n);
      await expect(bus.connect(system).deliverMessage(deposit(f, 1n, ZeroAddress, f.bob.address, 1n)))
        .to.emit(bus, "L1MessageDelivered")
        .withArgs(1n, f.l1Bridge, f.bridgeAddress, 1n);
      expect(await bus.nextL1Sequence()).to.equal(2n);
    });

    it("routes by L1 sender to the receiver set by the admin; no receiver means delivered to nobody", async () => {
      const f = await networkHelpers.loadFixture(l2Fixture);
      const { bus, system, stranger, bridge, bridgeAddress } = f;
      const otherL1 = Wallet.createRandom().address;
      await expect(bus.connect(stranger).setReceiver(otherL1, bridgeAddress))
        .to.be.revertedWithCustomError(bus, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, DEFAULT_ADMIN_ROLE);
      await expect(bus.setReceiver(ZeroAddress, bridgeAddress)).to.be.revertedWithCustomError(bus, "ZeroAddress");
      expect(await bus.receivers(f.l1Bridge)).to.equal(bridgeAddress);
      expect(await bus.receivers(otherL1)).to.equal(ZeroAddress);

      // A message from an L1 sender without receiver is consumed and goes nowhere.
      const unrouted = { ...registration(f, 0n), sender: otherL1 };
      await expect(bus.connect(system).deliverMessage(unrouted))
        .to.emit(bus, "L1MessageDelivered")
        .withArgs(0n, otherL1, ZeroAddress, 0n)
        .and.not.to.emit(bus, "L1MessageFailed")
        .and.not.to.emit(bridge, "WrappedTokenCreated");
      expect(await bus.nextL1Sequence()).to.equal(1n);
      expect(await bus.failedL1Messages(l1MessageHash(unrouted))).to.equal(false);
    });

    it("records a message from an L1 sender other than the L1 bridge as failed (NotFromL1Bridge)", async () => {
      const f = await networkHelpers.loadFixture(l2Fixture);
      const { bus, system, bridge, bridgeAddress, bob } = f;
      const impostor = Wallet.createRandom().address;
      await expect(bus.setReceiver(impostor, bridgeAddress))
        .to.emit(bus, "ReceiverSet")
        .withArgs(impostor, bridgeAddress);
      const forged = { ...deposit(f, 0n, ZeroAddress, bob.address, parseEther("1")), sender: impostor };
      const hash = l1MessageHash(forged);

      const tx = bus.connect(system).deliverMessage(forged);
      await expect(tx).to.changeEtherBalances(ethers, [bridgeAddress, bob], [0n, 0n]);
      await expect(tx)
        .to.emit(bus, "L1MessageFailed")
        .withArgs(0n, hash, bridge.interface.encodeErrorResult("NotFromL1Bridge", [impostor]))
        .and.not.to.emit(bridge, "DepositFinalized");
      expect(await bus.failedL1Messages(hash)).to.equal(true);
      await expect(bus.retryL1Message(forged))
        .to.be.revertedWithCustomError(bridge, "NotFromL1Bridge")
        .withArgs(impostor);
    });
    it("numbers each L1 sender's messages at delivery and hands receivers that nonce", async () => {
      const f = await networkHelpers.loadFixture(l2Fixture);
      const { bus, system, bridgeAddress, bob } = f;
      const impostor = Wallet.createRandom().address;
      await (await bus.setReceiver(impostor, bridgeAddress)).wait();
      // L1 publishes no nonce: sequence 0 and 2 come from the impostor, 1 from the L1 bridge.
      const first = { ...deposit(f, 0n, ZeroAddress, bob.address, 1n), sender: impostor };
      const second = { ...deposit(f, 2n, ZeroAddress, bob.address, 2n), sender: impostor };
      await expect(bus.connect(system).deliverMessage(first))
        .to.emit(bus, "L1MessageDelivered")
        .withArgs(0n, impostor, bridgeAddress, 0n);
      await expect(bus.connect(system).deliverMessage(registration(f, 1n)))
        .to.emit(bus, "L1MessageDelivered")
        .withArgs(1n, f.l1Bridge, bridgeAddress, 0n);
      await expect(bus.connect(system).deliverMessage(second))
        .to.emit(bus, "L1MessageDelivered")
        .withArgs(2n, impostor, bridgeAddress, 1n);
      expect(await bus.l1NonceOf(impostor)).to.equal(2n);
      expect(await bus.l1NonceOf(f.l1Bridge)).to.equal(1n);
      expect(await bus.l1NonceOf(bob.address)).to.equal(0n);

      // The receiver got the message with the nonce the bus assigned: the failure is recorded under it.
      const delivered = { ...second, nonce: 1n };
      expect(await bus.failedL1Messages(l1MessageHash(delivered))).to.equal(true);
      expect(await bus.failedL1Messages(l1MessageHash({ ...second, nonce: 2n }))).to.equal(false);
      await expect(bus.retryL1Message({ ...second, nonce: 2n })).to.be.revertedWithCustomError(
        bus,
        "L1MessageNotRetryable",
      );
    });
  });

  describe("L2Bridge: L1 messages", () => {
    it("creates the wrapped token of a registered L1 token", async () => {
      const f = await networkHelpers.loadFixture(l2Fixture);
      const { bus, system, bridge, bridgeAddress } = f;
      const expected = predictWrapped(f, "Test Token", "TT", 6);
      await expect(bus.connect(system).deliverMessage(registration(f, 0n)))
        .to.emit(bridge, "WrappedTokenCreated")
        .withArgs(f.l1Token, expected, "Test Token", "TT")
        .and.not.to.emit(bus, "L1MessageFailed");

      expect(await bridge.wrappedOf(f.l1Token)).to.equal(expected);
      expect(await bridge.l1TokenOf(expected)).to.equal(f.l1Token);
      const wrapped = WrappedERC20__factory.connect(expected, f.admin);
      expect(await wrapped.name()).to.equal("Test Token");
      expect(await wrapped.symbol()).to.equal("TT");
      expect(await wrapped.decimals()).to.equal(6n);
      expect(await wrapped.l1Token()).to.equal(f.l1Token);
      expect(await wrapped.bridge()).to.equal(bridgeAddress);
      expect(await wrapped.totalSupply()).to.equal(0n);

      // A second registration of the same L1 token fails at the bridge and changes nothing.
      const again = registration(f, 1n, "Other", "OTH", 18);
      await expect(bus.connect(system).deliverMessage(again))
        .to.emit(bus, "L1MessageFailed")
        .withArgs(1n, l1MessageHash(again), bridge.interface.encodeErrorResult("TokenAlreadyCreated", [f.l1Token]));
      expect(await bridge.wrappedOf(f.l1Token)).to.equal(expected);
      expect(await wrapped.name()).to.equal("Test Token");
    });

    it("mints the wrapped token on an ERC-20 deposit", async () => {
      const f = await networkHelpers.loadFixture(l2WithTokenFixture);
      const { bus, system, bridge, wrapped, alice, bob } = f;
      expect(await wrapped.balanceOf(alice.address)).to.equal(1_000n);
      const tx = bus.connect(system).deliverMessage(deposit(f, 2n, f.l1Token, bob.address, 250n));
      await expect(tx).to.changeTokenBalances(ethers, wrapped, [bob, alice], [250n, 0n]);
      await expect(tx)
        .to.emit(bridge, "DepositFinalized")
        .withArgs(f.l1Token, alice.address, bob.address, 250n)
        .and.to.emit(wrapped, "Transfer")
        .withArgs(ZeroAddress, bob.address, 250n);
      expect(await wrapped.totalSupply()).to.equal(1_250n);
    });

    it("pays ETH out of the genesis supply on a native deposit", async () => {
      const f = await networkHelpers.loadFixture(l2Fixture);
      const { bus, system, bridge, bridgeAddress, alice, bob } = f;
      const amount = parseEther("2.5");
      const tx = bus.connect(system).deliverMessage(deposit(f, 0n, ZeroAddress, bob.address, amount));
      await expect(tx).to.changeEtherBalances(ethers, [bridgeAddress, bob], [-amount, amount]);
      await expect(tx).to.emit(bridge, "DepositFinalized").withArgs(ZeroAddress, alice.address, bob.address, amount);
      expect(await ethers.provider.getBalance(bridgeAddress)).to.equal(GENESIS_SUPPLY - amount);
    });

    it("keeps a deposit of an unknown token retryable until the token is registered", async () => {
      const f = await networkHelpers.loadFixture(l2Fixture);
      const { bus, system, stranger, bridge, bob } = f;
      const early = deposit(f, 0n, f.l1Token, bob.address, 500n);
      const hash = l1MessageHash(early);

      await expect(bus.connect(system).deliverMessage(early))
        .to.emit(bus, "L1MessageFailed")
        .withArgs(0n, hash, bridge.interface.encodeErrorResult("UnknownL1Token", [f.l1Token]))
        .and.to.emit(bus, "L1MessageDelivered")
        .withArgs(0n, f.l1Bridge, f.bridgeAddress, 0n);
      expect(await bus.failedL1Messages(hash)).to.equal(true);
      expect(await bus.nextL1Sequence()).to.equal(1n); // the failure does not block the queue

      await expect(bus.connect(stranger).retryL1Message(early))
        .to.be.revertedWithCustomError(bridge, "UnknownL1Token")
        .withArgs(f.l1Token);
      expect(await bus.failedL1Messages(hash)).to.equal(true);

      await (await bus.connect(system).deliverMessage(registration(f, 1n))).wait();
      const wrapped = WrappedERC20__factory.connect(await bridge.wrappedOf(f.l1Token), f.admin);
      const retry = bus.connect(stranger).retryL1Message(early);
      await expect(retry).to.changeTokenBalance(ethers, wrapped, bob, 500n);
      await expect(retry).to.emit(bridge, "DepositFinalized").withArgs(f.l1Token, f.alice.address, bob.address, 500n);
      expect(await bus.failedL1Messages(hash)).to.equal(false);

      await expect(bus.retryL1Message(early))
        .to.be.revertedWithCustomError(bus, "L1MessageNotRetryable")
        .withArgs(hash);
      expect(await wrapped.totalSupply()).to.equal(500n);
    });

    it("keeps an ETH deposit the L2 recipient refuses retryable", async () => {
      const f = await networkHelpers.loadFixture(l2Fixture);
      const { bus, system, bridgeAddress } = f;
      const receiver = await new RejectingReceiver__factory(f.admin).deploy();
      const receiverAddress = await receiver.getAddress();
      const msg = deposit(f, 0n, ZeroAddress, receiverAddress, 3n);
      const hash = l1MessageHash(msg);
      await expect(bus.connect(system).deliverMessage(msg))
        .to.emit(bus, "L1MessageFailed")
        .withArgs(0n, hash, errorString("RejectingReceiver: refused"));
      await expect(bus.retryL1Message(msg)).to.be.revertedWith("RejectingReceiver: refused");

      await (await receiver.setAccept(true)).wait();
      const retry = bus.retryL1Message(msg);
      await expect(retry).to.changeEtherBalances(ethers, [bridgeAddress, receiverAddress], [-3n, 3n]);
      // issue 10: a successful retry is an event (it used to change state silently)
      await expect(retry).to.emit(bus, "L1MessageRetried").withArgs(0n, hash, bridgeAddress);
      await expect(bus.retryL1Message(msg)).to.be.revertedWithCustomError(bus, "L1MessageNotRetryable").withArgs(hash);
    });

    it("accepts L1 messages only from the bus, and only known topics", async () => {
      const f = await networkHelpers.loadFixture(l2Fixture);
      const { bus, system, bridge, stranger } = f;
      await expect(bridge.connect(stranger).onL1Message(registration(f, 0n)))
        .to.be.revertedWithCustomError(bridge, "NotMessageBus")
        .withArgs(stranger.address);
      await expect(bridge.connect(system).onL1Message(registration(f, 0n)))
        .to.be.revertedWithCustomError(bridge, "NotMessageBus")
        .withArgs(system.address);

      const call = l1Message(f, 0n, Topic.Call, registrationPayload(f.l1Token, "X", "X", 1));
      await expect(bus.connect(system).deliverMessage(call))
        .to.emit(bus, "L1MessageFailed")
        .withArgs(0n, l1MessageHash(call), bridge.interface.encodeErrorResult("UnknownTopic", [Topic.Call]));
      expect(await bridge.wrappedOf(f.l1Token)).to.equal(ZeroAddress);
    });
  });

  describe("L2Bridge: withdrawals", () => {
    it("withdrawNative locks the ETH and publishes the L1 bridge's finalizeWithdrawal call", async () => {
      const f = await networkHelpers.loadFixture(l2Fixture);
      const { bus, bridge, bridgeAddress, alice, bob, busAddress } = f;
      const amount = parseEther("0.75");
      const expected = withdrawalMessage({
        l2Bridge: bridgeAddress,
        l1Bridge: f.l1Bridge,
        l1Token: ZeroAddress,
        to: bob.address,
        amount,
        sequence: 0n,
      });

      const tx = bridge.connect(alice).withdrawNative(bob.address, { value: amount });
      await expect(tx).to.changeEtherBalances(ethers, [alice, bridgeAddress, bob], [-amount, amount, 0n]);
      await expect(tx)
        .to.emit(bus, "MessagePublished")
        .withArgs(bridgeAddress, 0n, 0n, Topic.Call, expected.payload, 1n)
        .and.to.emit(bridge, "WithdrawalInitiated")
        .withArgs(ZeroAddress, alice.address, bob.address, amount, 0n);
      expect(publishedMessages(await (await tx).wait(), bus, busAddress)).to.deep.equal([expected]);
      expect(await bus.nextSequence()).to.equal(1n);

      await expect(bridge.connect(alice).withdrawNative(bob.address)).to.be.revertedWithCustomError(
        bridge,
        "ZeroAmount",
      );
      await expect(bridge.connect(alice).withdrawNative(ZeroAddress, { value: 1n })).to.be.revertedWithCustomError(
        bridge,
        "ZeroAddress",
      );
    });

    it("withdrawERC20 burns the wrapped token and publishes the call for the L1 token", async () => {
      const f = await networkHelpers.loadFixture(l2WithTokenFixture);
      const { bus, busAddress, bridge, bridgeAddress, wrapped, wrappedAddress, alice, bob, stranger } = f;
      // Another L2 contract publishes first: the bridge's nonce (0) and the bus sequence (1) differ.
      await (await bus.connect(stranger).publishMessage(7, "0x", 0)).wait();
      const expected = withdrawalMessage({
        l2Bridge: bridgeAddress,
        l1Bridge: f.l1Bridge,
        l1Token: f.l1Token,
        to: bob.address,
        amount: 400n,
        sequence: 1n,
        nonce: 0n,
      });

      const tx = bridge.connect(alice).withdrawERC20(wrappedAddress, 400n, bob.address);
      await expect(tx).to.changeTokenBalances(ethers, wrapped, [alice, bob, bridgeAddress], [-400n, 0n, 0n]);
      await expect(tx)
        .to.emit(bus, "MessagePublished")
        .withArgs(bridgeAddress, 1n, 0n, Topic.Call, expected.payload, 1n)
        .and.to.emit(bridge, "WithdrawalInitiated")
        .withArgs(f.l1Token, alice.address, bob.address, 400n, 1n)
        .and.to.emit(wrapped, "Transfer")
        .withArgs(alice.address, ZeroAddress, 400n);
      expect(publishedMessages(await (await tx).wait(), bus, busAddress)).to.deep.equal([expected]);
      expect(await wrapped.totalSupply()).to.equal(600n);
    });

    it("withdrawERC20 rejects unknown tokens, zero amounts, zero recipients and overdrafts", async () => {
      const f = await networkHelpers.loadFixture(l2WithTokenFixture);
      const { bridge, wrapped, wrappedAddress, alice, bob } = f;
      await expect(bridge.connect(alice).withdrawERC20(f.l1Token, 1n, bob.address))
        .to.be.revertedWithCustomError(bridge, "UnknownWrappedToken")
        .withArgs(f.l1Token);
      await expect(bridge.connect(alice).withdrawERC20(wrappedAddress, 0n, bob.address)).to.be.revertedWithCustomError(
        bridge,
        "ZeroAmount",
      );
      await expect(bridge.connect(alice).withdrawERC20(wrappedAddress, 1n, ZeroAddress)).to.be.revertedWithCustomError(
        bridge,
        "ZeroAddress",
      );
      await expect(bridge.connect(alice).withdrawERC20(wrappedAddress, 1_001n, bob.address))
        .to.be.revertedWithCustomError(wrapped, "ERC20InsufficientBalance")
        .withArgs(alice.address, 1_000n, 1_001n);
      // Bob holds nothing: he cannot withdraw (burn) alice's tokens.
      await expect(bridge.connect(bob).withdrawERC20(wrappedAddress, 1n, bob.address))
        .to.be.revertedWithCustomError(wrapped, "ERC20InsufficientBalance")
        .withArgs(bob.address, 0n, 1n);
      expect(await wrapped.totalSupply()).to.equal(1_000n);
    });
  });

  describe("WrappedERC20", () => {
    it("mints and burns only for the bridge", async () => {
      const f = await networkHelpers.loadFixture(l2WithTokenFixture);
      const { wrapped, admin, system, alice } = f;
      for (const caller of [admin, system, alice]) {
        await expect(wrapped.connect(caller).mint(caller.address, 1n))
          .to.be.revertedWithCustomError(wrapped, "OnlyBridge")
          .withArgs(caller.address);
        await expect(wrapped.connect(caller).burn(alice.address, 1n))
          .to.be.revertedWithCustomError(wrapped, "OnlyBridge")
          .withArgs(caller.address);
      }
      expect(await wrapped.totalSupply()).to.equal(1_000n);
      // Otherwise a plain ERC-20.
      await expect(wrapped.connect(alice).transfer(f.bob.address, 10n)).to.changeTokenBalances(
        ethers,
        wrapped,
        [alice, f.bob],
        [-10n, 10n],
      );
    });
  });

  describe("round trip with the L1 suite", () => {
    /**
     * The L1 suite trusts the L2 bridge predeploy address (v.l2Bridge). We place an L2Bridge's
     * runtime code there, as the L2 genesis does, so its withdrawal messages carry that sender.
     */
    async function roundTripFixture() {
      const v = await deployVeilnet(connection);
      const genesis = await initializeGenesis(v);
      const [alice, bob, , , , system] = v.users;
      const l1BridgeAddress = await v.bridge.getAddress();
      const l2Bus = await new L2MessageBus__factory(v.admin).deploy(v.admin.address, system.address);
      const template = await new L2Bridge__factory(v.admin).deploy(await l2Bus.getAddress(), l1BridgeAddress);
      await networkHelpers.setCode(v.l2Bridge, await ethers.provider.getCode(await template.getAddress()));
      await networkHelpers.setBalance(v.l2Bridge, GENESIS_SUPPLY);
      await (await l2Bus.setReceiver(l1BridgeAddress, v.l2Bridge)).wait();
      const l2Bridge = L2Bridge__factory.connect(v.l2Bridge, v.admin);
      const token = await new TestToken__factory(v.admin).deploy("Test Token", "TT", 18);
      await (await token.mint(alice.address, 10_000n)).wait();
      await (await token.connect(alice).approve(l1BridgeAddress, ethers.MaxUint256)).wait();
      return { v, genesis, alice, bob, system, l1BridgeAddress, l2Bus, l2Bridge, token };
    }

    it("deposits on L1, credits on L2, withdraws on L2 and pays on L1", async () => {
      const { v, genesis, alice, bob, system, l1BridgeAddress, l2Bus, l2Bridge, token } =
        await networkHelpers.loadFixture(roundTripFixture);
      expect(await l2Bridge.l1Bridge()).to.equal(l1BridgeAddress);
      const tokenAddress = await token.getAddress();
      const l1BusAddress = await v.messageBus.getAddress();
      const l2BusAddress = await l2Bus.getAddress();

      // L1: register the token, deposit 3 ETH and 1,000 TT for alice on L2.
      const l1Messages: CrossChainMessage[] = [];
      for (const send of [
        () => v.bridge.connect(alice).registerToken(tokenAddress),
        () => v.bridge.connect(alice).depositNative(alice.address, { value: parseEther("3") }),
        () => v.bridge.connect(alice).depositERC20(tokenAddress, 1_000n, alice.address),
      ]) {
        l1Messages.push(...publishedMessages(await (await send()).wait(), v.messageBus, l1BusAddress));
      }
      expect(l1Messages.map((m) => [m.sequence, m.topic])).to.deep.equal([
        [0n, Topic.TokenRegistered],
        [1n, Topic.Deposit],
        [2n, Topic.Deposit],
      ]);
      const [registration, ethDeposit, tokenDeposit] = take(l1Messages, 3, "L1 messages");

      // L2: the system account applies them in order.
      await expect(l2Bus.connect(system).deliverMessage(registration)).to.emit(l2Bridge, "WrappedTokenCreated");
      const wrapped = WrappedERC20__factory.connect(await l2Bridge.wrappedOf(tokenAddress), v.admin);
      expect(await wrapped.decimals()).to.equal(18n);
      await expect(l2Bus.connect(system).deliverMessage(ethDeposit)).to.changeEtherBalances(
        ethers,
        [v.l2Bridge, alice],
        [-parseEther("3"), parseEther("3")],
      );
      await expect(l2Bus.connect(system).deliverMessage(tokenDeposit)).to.changeTokenBalance(
        ethers,
        wrapped,
        alice,
        1_000n,
      );

      // L2: alice withdraws 1 ETH and 400 TT to bob on L1.
      const l2Messages: CrossChainMessage[] = [];
      const wrappedAddress = await wrapped.getAddress();
      for (const send of [
        () => l2Bridge.connect(alice).withdrawNative(bob.address, { value: parseEther("1") }),
        () => l2Bridge.connect(alice).withdrawERC20(wrappedAddress, 400n, bob.address),
      ]) {
        l2Messages.push(...publishedMessages(await (await send()).wait(), l2Bus, l2BusAddress));
      }
      const expected = await withdrawalMessages(v, [
        { to: bob.address, amount: parseEther("1") },
        { token: tokenAddress, to: bob.address, amount: 400n },
      ]);
      expect(l2Messages.map((m) => ({ ...m, sender: getAddress(m.sender) }))).to.deep.equal(
        expected.map((m) => ({ ...m, sender: getAddress(m.sender) })),
      );

      const [ethWithdrawal, tokenWithdrawal] = take(l2Messages, 2, "L2 messages");

      // L1: the rollup carries the L2 messages; after the challenge period anyone relays them.
      const { tree } = await submitRollup(v, genesis, l2Messages);
      await passChallengePeriod(v);
      const relayEth = v.messenger.connect(v.stranger).relayMessageWithProof(ethWithdrawal, tree!.proof(0), tree!.root);
      await expect(relayEth).to.changeEtherBalances(
        ethers,
        [l1BridgeAddress, bob],
        [-parseEther("1"), parseEther("1")],
      );
      await expect(relayEth)
        .to.emit(v.messenger, "MessageRelayed")
        .withArgs(messageLeaf(ethWithdrawal), 0n, l1BridgeAddress);
      const relayToken = v.messenger
        .connect(v.stranger)
        .relayMessageWithProof(tokenWithdrawal, tree!.proof(1), tree!.root);
      await expect(relayToken).to.changeTokenBalances(ethers, token, [l1BridgeAddress, bob], [-400n, 400n]);
      await expect(relayToken).to.emit(v.bridge, "WithdrawalFinalized").withArgs(tokenAddress, bob.address, 400n);

      // Supply: what L1 holds equals what circulates on L2.
      const l1LockedEth = await ethers.provider.getBalance(l1BridgeAddress);
      const l2CirculatingEth = GENESIS_SUPPLY - (await ethers.provider.getBalance(v.l2Bridge));
      expect(l1LockedEth).to.equal(parseEther("2"));
      expect(l2CirculatingEth).to.equal(l1LockedEth);
      expect(await token.balanceOf(l1BridgeAddress)).to.equal(await wrapped.totalSupply());
      expect(await wrapped.totalSupply()).to.equal(600n);
    });
  });
});
