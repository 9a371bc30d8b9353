/**
 * L1 Bridge: deposits (ETH, ERC-20, fee-on-transfer), the message fee, token registration and the
 * token list, withdrawals through the CrossChainMessenger (payment, replay, failure and retry), and
 * access control / pausing.
 */
import { expect } from "chai";
import { Wallet, ZeroAddress, parseEther } from "ethers";
import { network } from "hardhat";

import { type CrossChainMessage, Topic, decodeDepositPayload, withdrawalMessage } from "../../protocol/messages.js";
import {
  Bytes32MetadataToken__factory,
  FeeOnTransferToken__factory,
  RejectingReceiver__factory,
  TestToken__factory,
} from "../../types/ethers-contracts/index.js";
import {
  depositPayload,
  errorString,
  messageLeaf,
  publishedL1Messages,
  registrationPayload,
} from "../../testing/bridge.js";
import {
  type Veilnet,
  deployVeilnet,
  feeVaultInvariant,
  initializeGenesis,
  passChallengePeriod,
  submitRollup,
  withdrawalMessages,
} from "../../testing/veilnet.js";
import { only } from "../../testing/defined.js";
import { govern } from "../../testing/governance.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

const MESSAGE_FEE = 10n ** 14n;
const TOKEN_SUPPLY = 10n ** 24n;
const TOKEN_ADMIN_ROLE = ethers.id("TOKEN_ADMIN_ROLE");
const PAUSER_ROLE = ethers.id("PAUSER_ROLE");
const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;

async function withTokens(v: Veilnet) {
  const [alice, bob, carol] = v.users;
  const token = await new TestToken__factory(v.admin).deploy("Test Token", "TT", 6);
  const feeToken = await new FeeOnTransferToken__factory(v.admin).deploy(100n); // 1 %
  const bridgeAddress = await v.bridge.getAddress();
  for (const t of [token, feeToken]) {
    await (await t.mint(alice.address, TOKEN_SUPPLY)).wait();
    await (await t.connect(alice).approve(bridgeAddress, ethers.MaxUint256)).wait();
  }
  return { v, alice, bob, carol, token, feeToken, bridgeAddress };
}

/** Fresh suite, no token registered, no message published. */
async function baseFixture() {
  return withTokens(await deployVeilnet(connection));
}

/** TestToken (L1 sequence 0) and FeeOnTransferToken (sequence 1) registered. */
async function registeredFixture() {
  const f = await withTokens(await deployVeilnet(connection));
  await (await f.v.bridge.registerToken(await f.token.getAddress())).wait();
  await (await f.v.bridge.registerToken(await f.feeToken.getAddress())).wait();
  return f;
}

/** Message fee on; nothing registered. */
async function feeFixture() {
  return withTokens(await deployVeilnet(connection, { messageFee: MESSAGE_FEE }));
}

/** Token registration restricted to TOKEN_ADMIN_ROLE. */
async function restrictedFixture() {
  return withTokens(await deployVeilnet(connection, { permissionlessTokenRegistration: false }));
}

const FUNDED_ETH = parseEther("5");
const FUNDED_TOKENS = 1_000_000n;

/** Network secret initialized; the bridge holds 5 ETH and 1,000,000 TT deposited by alice. */
async function fundedFixture() {
  const f = await registeredFixture();
  const genesis = await initializeGenesis(f.v);
  await (await f.v.bridge.connect(f.alice).depositNative(f.alice.address, { value: FUNDED_ETH })).wait();
  await (
    await f.v.bridge.connect(f.alice).depositERC20(await f.token.getAddress(), FUNDED_TOKENS, f.alice.address)
  ).wait();
  return { ...f, genesis };
}

type Funded = Awaited<ReturnType<typeof fundedFixture>>;

/** Puts `messages` in a rollup and waits out its challenge period. */
async function provenRollup(f: Funded, messages: CrossChainMessage[]) {
  const { tree } = await submitRollup(f.v, f.genesis, messages);
  await passChallengePeriod(f.v);
  return { tree: tree!, root: tree!.root };
}

describe("Bridge", () => {
  describe("deposits", () => {
    it("depositNative locks ETH and publishes a deposit message", async () => {
      const { v, alice, bob, bridgeAddress } = await networkHelpers.loadFixture(baseFixture);
      const amount = parseEther("1.5");
      const payload = depositPayload(ZeroAddress, alice.address, bob.address, amount);

      const tx = v.bridge.connect(alice).depositNative(bob.address, { value: amount });
      await expect(tx).to.changeEtherBalances(ethers, [alice, bridgeAddress, v.feeVault], [-amount, amount, 0n]);
      await expect(tx)
        .to.emit(v.bridge, "DepositInitiated")
        .withArgs(ZeroAddress, alice.address, bob.address, amount, 0n)
        .and.to.emit(v.messageBus, "MessagePublished")
        .withArgs(bridgeAddress, 0n, Topic.Deposit, payload, 1n);

      const message = only(
        publishedL1Messages(await (await tx).wait(), v.messageBus, await v.messageBus.getAddress()),
        "published message",
      );
      expect(decodeDepositPayload(message.payload)).to.deep.equal({
        token: ZeroAddress,
        from: alice.address,
        to: bob.address,
        amount,
      });

      // The next deposit gets the next sequence (L1 keeps no per-sender nonce: L2 assigns it).
      await expect(v.bridge.connect(bob).depositNative(alice.address, { value: 7n }))
        .to.emit(v.bridge, "DepositInitiated")
        .withArgs(ZeroAddress, bob.address, alice.address, 7n, 1n)
        .and.to.emit(v.messageBus, "MessagePublished")
        .withArgs(bridgeAddress, 1n, Topic.Deposit, depositPayload(ZeroAddress, bob.address, alice.address, 7n), 1n);
      expect(await v.messageBus.nextSequence()).to.equal(2n);
    });

    it("depositERC20 pulls the tokens and publishes a deposit message", async () => {
      const { v, alice, bob, token, bridgeAddress } = await networkHelpers.loadFixture(registeredFixture);
      const tokenAddress = await token.getAddress();
      const amount = 123_456_789n;
      expect(await v.messageBus.nextSequence()).to.equal(2n); // two registrations

      const tx = v.bridge.connect(alice).depositERC20(tokenAddress, amount, bob.address);
      await expect(tx).to.changeTokenBalances(ethers, token, [alice, bridgeAddress, bob], [-amount, amount, 0n]);
      await expect(tx)
        .to.emit(v.bridge, "DepositInitiated")
        .withArgs(tokenAddress, alice.address, bob.address, amount, 2n)
        .and.to.emit(v.messageBus, "MessagePublished")
        .withArgs(
          bridgeAddress,
          2n,
          Topic.Deposit,
          depositPayload(tokenAddress, alice.address, bob.address, amount),
          1n,
        );

      const message = only(
        publishedL1Messages(await (await tx).wait(), v.messageBus, await v.messageBus.getAddress()),
        "published message",
      );
      expect(message.topic).to.equal(Topic.Deposit);
      expect(decodeDepositPayload(message.payload)).to.deep.equal({
        token: tokenAddress,
        from: alice.address,
        to: bob.address,
        amount,
      });
    });

    it("credits a fee-on-transfer token with the amount the bridge actually received", async () => {
      const { v, alice, bob, feeToken, bridgeAddress } = await networkHelpers.loadFixture(registeredFixture);
      const feeTokenAddress = await feeToken.getAddress();
      const requested = 1_000_000n;
      const received = requested - (requested * 100n) / 10_000n; // 990,000

      const tx = v.bridge.connect(alice).depositERC20(feeTokenAddress, requested, bob.address);
      await expect(tx).to.changeTokenBalances(ethers, feeToken, [alice, bridgeAddress], [-requested, received]);
      await expect(tx)
        .to.emit(v.bridge, "DepositInitiated")
        .withArgs(feeTokenAddress, alice.address, bob.address, received, 2n)
        .and.to.emit(v.messageBus, "MessagePublished")
        .withArgs(
          bridgeAddress,
          2n,
          Topic.Deposit,
          depositPayload(feeTokenAddress, alice.address, bob.address, received),
          1n,
        );

      const message = only(
        publishedL1Messages(await (await tx).wait(), v.messageBus, await v.messageBus.getAddress()),
        "published message",
      );
      expect(decodeDepositPayload(message.payload).amount).to.equal(received);
      expect(await feeToken.balanceOf(bridgeAddress)).to.equal(received);
    });

    it("rejects a zero recipient and a zero amount", async () => {
      const { v, alice, bob, token, feeToken } = await networkHelpers.loadFixture(registeredFixture);
      const tokenAddress = await token.getAddress();
      await expect(v.bridge.connect(alice).depositNative(ZeroAddress, { value: 1n })).to.be.revertedWithCustomError(
        v.bridge,
        "ZeroAddress",
      );
      await expect(v.bridge.connect(alice).depositERC20(tokenAddress, 1n, ZeroAddress)).to.be.revertedWithCustomError(
        v.bridge,
        "ZeroAddress",
      );
      await expect(v.bridge.connect(alice).depositNative(bob.address, { value: 0n })).to.be.revertedWithCustomError(
        v.bridge,
        "ZeroAmount",
      );
      await expect(v.bridge.connect(alice).depositERC20(tokenAddress, 0n, bob.address)).to.be.revertedWithCustomError(
        v.bridge,
        "ZeroAmount",
      );
      await expect(
        v.bridge.connect(alice).depositERC20(await feeToken.getAddress(), 0n, bob.address),
      ).to.be.revertedWithCustomError(v.bridge, "ZeroAmount");
      expect(await v.messageBus.nextSequence()).to.equal(2n);
    });

    it("reverts for an unregistered token and for a paused token until it is unpaused", async () => {
      const { v, alice, bob, token, bridgeAddress } = await networkHelpers.loadFixture(baseFixture);
      const tokenAddress = await token.getAddress();
      await expect(v.bridge.connect(alice).depositERC20(tokenAddress, 10n, bob.address))
        .to.be.revertedWithCustomError(v.bridge, "TokenNotRegistered")
        .withArgs(tokenAddress);
      await expect(govern(v, v.bridge, "pauseToken", [tokenAddress]))
        .to.be.revertedWithCustomError(v.bridge, "TokenNotRegistered")
        .withArgs(tokenAddress);
      await expect(govern(v, v.bridge, "unpauseToken", [tokenAddress]))
        .to.be.revertedWithCustomError(v.bridge, "TokenNotRegistered")
        .withArgs(tokenAddress);

      await (await v.bridge.registerToken(tokenAddress)).wait();
      await expect(govern(v, v.bridge, "pauseToken", [tokenAddress]))
        .to.emit(v.bridge, "TokenPaused")
        .withArgs(tokenAddress);
      expect(await v.bridge.tokenInfo(tokenAddress)).to.deep.equal([true, true]);
      await expect(v.bridge.connect(alice).depositERC20(tokenAddress, 10n, bob.address))
        .to.be.revertedWithCustomError(v.bridge, "TokenIsPaused")
        .withArgs(tokenAddress);

      await expect(govern(v, v.bridge, "unpauseToken", [tokenAddress]))
        .to.emit(v.bridge, "TokenUnpaused")
        .withArgs(tokenAddress);
      expect(await v.bridge.tokenInfo(tokenAddress)).to.deep.equal([true, false]);
      await expect(v.bridge.connect(alice).depositERC20(tokenAddress, 10n, bob.address)).to.changeTokenBalances(
        ethers,
        token,
        [alice, bridgeAddress],
        [-10n, 10n],
      );
    });
  });

  describe("message fee", () => {
    it("depositNative credits msg.value minus the fee and the FeeVault receives the fee", async () => {
      const { v, alice, bob, bridgeAddress } = await networkHelpers.loadFixture(feeFixture);
      const value = parseEther("1");
      const credited = value - MESSAGE_FEE;

      const tx = v.bridge.connect(alice).depositNative(bob.address, { value });
      await expect(tx).to.changeEtherBalances(
        ethers,
        [alice, bridgeAddress, v.feeVault],
        [-value, credited, MESSAGE_FEE],
      );
      await expect(tx)
        .to.emit(v.bridge, "DepositInitiated")
        .withArgs(ZeroAddress, alice.address, bob.address, credited, 0n)
        .and.to.emit(v.messageBus, "MessagePublished")
        .withArgs(
          bridgeAddress,
          0n,
          Topic.Deposit,
          depositPayload(ZeroAddress, alice.address, bob.address, credited),
          1n,
        );

      // msg.value must exceed the fee: exactly the fee would credit nothing.
      await expect(
        v.bridge.connect(alice).depositNative(bob.address, { value: MESSAGE_FEE }),
      ).to.be.revertedWithCustomError(v.bridge, "ZeroAmount");
      await expect(
        v.bridge.connect(alice).depositNative(bob.address, { value: MESSAGE_FEE - 1n }),
      ).to.be.revertedWithCustomError(v.bridge, "ZeroAmount");
      await feeVaultInvariant(v);
    });

    it("issue 10: a fee raised between signing and inclusion cannot lower the credit of depositNativeWithMaxFee", async () => {
      const { v, alice, bob, bridgeAddress } = await networkHelpers.loadFixture(feeFixture);
      const amount = parseEther("1");
      // alice signs for the fee she sees; the fee is raised before her transaction is included
      const seen = await v.messageBus.messageFee();
      await (await govern(v, v.messageBus, "setMessageFee", [seen * 10n])).wait();
      // unbounded: the raise silently comes out of the credit
      await expect(v.bridge.connect(alice).depositNative(bob.address, { value: amount + seen }))
        .to.emit(v.bridge, "DepositInitiated")
        .withArgs(ZeroAddress, alice.address, bob.address, amount + seen - seen * 10n, 0n);
      // bounded: refused, nothing moves
      await expect(v.bridge.connect(alice).depositNativeWithMaxFee(bob.address, seen, { value: amount + seen }))
        .to.be.revertedWithCustomError(v.bridge, "FeeAboveMax")
        .withArgs(seen * 10n, seen);
      // within the bound it credits msg.value minus the fee in force
      await (await govern(v, v.messageBus, "setMessageFee", [seen])).wait();
      const tx = v.bridge.connect(alice).depositNativeWithMaxFee(bob.address, seen, { value: amount + seen });
      await expect(tx).to.changeEtherBalances(
        ethers,
        [alice, bridgeAddress, v.feeVault],
        [-(amount + seen), amount, seen],
      );
      await expect(tx)
        .to.emit(v.bridge, "DepositInitiated")
        .withArgs(ZeroAddress, alice.address, bob.address, amount, 1n);
      // (depositERC20 is bounded already: msg.value must equal the fee, so a raised fee reverts with
      // IncorrectFee; see the next test)
      await feeVaultInvariant(v);
    });

    it("registerToken and depositERC20 need msg.value == fee, which goes to the FeeVault", async () => {
      const { v, alice, bob, token, bridgeAddress } = await networkHelpers.loadFixture(feeFixture);
      const tokenAddress = await token.getAddress();

      await expect(v.bridge.connect(alice).registerToken(tokenAddress))
        .to.be.revertedWithCustomError(v.bridge, "IncorrectFee")
        .withArgs(0n, MESSAGE_FEE);
      await expect(v.bridge.connect(alice).registerToken(tokenAddress, { value: MESSAGE_FEE + 1n }))
        .to.be.revertedWithCustomError(v.bridge, "IncorrectFee")
        .withArgs(MESSAGE_FEE + 1n, MESSAGE_FEE);
      const register = v.bridge.connect(alice).registerToken(tokenAddress, { value: MESSAGE_FEE });
      await expect(register).to.changeEtherBalances(
        ethers,
        [alice, bridgeAddress, v.feeVault],
        [-MESSAGE_FEE, 0n, MESSAGE_FEE],
      );
      await expect(register).to.emit(v.bridge, "TokenRegistered");

      await expect(v.bridge.connect(alice).depositERC20(tokenAddress, 100n, bob.address))
        .to.be.revertedWithCustomError(v.bridge, "IncorrectFee")
        .withArgs(0n, MESSAGE_FEE);
      await expect(v.bridge.connect(alice).depositERC20(tokenAddress, 100n, bob.address, { value: MESSAGE_FEE * 2n }))
        .to.be.revertedWithCustomError(v.bridge, "IncorrectFee")
        .withArgs(MESSAGE_FEE * 2n, MESSAGE_FEE);

      const deposit = v.bridge.connect(alice).depositERC20(tokenAddress, 100n, bob.address, { value: MESSAGE_FEE });
      await expect(deposit).to.changeEtherBalances(
        ethers,
        [alice, bridgeAddress, v.feeVault],
        [-MESSAGE_FEE, 0n, MESSAGE_FEE],
      );
      await expect(deposit).to.changeTokenBalances(ethers, token, [alice, bridgeAddress], [-100n, 100n]);
      await expect(deposit)
        .to.emit(v.bridge, "DepositInitiated")
        .withArgs(tokenAddress, alice.address, bob.address, 100n, 1n);
      await feeVaultInvariant(v);
    });
  });

  describe("token registration", () => {
    it("reads name, symbol and decimals and publishes a registration message", async () => {
      const { v, alice, token, feeToken, bridgeAddress } = await networkHelpers.loadFixture(baseFixture);
      const tokenAddress = await token.getAddress();
      const payload = registrationPayload(tokenAddress, "Test Token", "TT", 6);

      await expect(v.bridge.connect(alice).registerToken(tokenAddress))
        .to.emit(v.bridge, "TokenRegistered")
        .withArgs(tokenAddress, "Test Token", "TT", 6n)
        .and.to.emit(v.messageBus, "MessagePublished")
        .withArgs(bridgeAddress, 0n, Topic.TokenRegistered, payload, 1n);
      expect(await v.bridge.tokenInfo(tokenAddress)).to.deep.equal([true, false]);

      const feeTokenAddress = await feeToken.getAddress();
      await expect(v.bridge.connect(alice).registerToken(feeTokenAddress))
        .to.emit(v.bridge, "TokenRegistered")
        .withArgs(feeTokenAddress, "Fee Token", "FEE", 18n)
        .and.to.emit(v.messageBus, "MessagePublished")
        .withArgs(
          bridgeAddress,
          1n,
          Topic.TokenRegistered,
          registrationPayload(feeTokenAddress, "Fee Token", "FEE", 18),
          1n,
        );
      // The token list is the TokenRegistered events (veil:status reads them), not storage.
      const listed = await v.bridge.queryFilter(v.bridge.filters.TokenRegistered());
      expect(listed.map((e) => e.args.token)).to.deep.equal([tokenAddress, feeTokenAddress]);
    });

    it("reads bytes32 metadata and defaults decimals to 18", async () => {
      const { v, alice, bridgeAddress } = await networkHelpers.loadFixture(baseFixture);
      const mkr = await new Bytes32MetadataToken__factory(v.admin).deploy();
      const mkrAddress = await mkr.getAddress();
      await expect(v.bridge.connect(alice).registerToken(mkrAddress))
        .to.emit(v.bridge, "TokenRegistered")
        .withArgs(mkrAddress, "Maker", "MKR", 18n)
        .and.to.emit(v.messageBus, "MessagePublished")
        .withArgs(bridgeAddress, 0n, Topic.TokenRegistered, registrationPayload(mkrAddress, "Maker", "MKR", 18), 1n);
    });

    it("rejects a second registration and an address without code", async () => {
      const { v, alice, token } = await networkHelpers.loadFixture(baseFixture);
      const tokenAddress = await token.getAddress();
      await (await v.bridge.connect(alice).registerToken(tokenAddress)).wait();
      await expect(v.bridge.connect(alice).registerToken(tokenAddress))
        .to.be.revertedWithCustomError(v.bridge, "TokenAlreadyRegistered")
        .withArgs(tokenAddress);
      await expect(v.bridge.connect(alice).registerToken(alice.address))
        .to.be.revertedWithCustomError(v.bridge, "NotAContract")
        .withArgs(alice.address);
      await expect(v.bridge.connect(alice).registerToken(ZeroAddress))
        .to.be.revertedWithCustomError(v.bridge, "NotAContract")
        .withArgs(ZeroAddress);
      expect((await v.bridge.queryFilter(v.bridge.filters.TokenRegistered())).map((e) => e.args.token)).to.deep.equal([
        tokenAddress,
      ]);
      expect(await v.messageBus.nextSequence()).to.equal(1n);
    });

    it("is restricted to TOKEN_ADMIN_ROLE when permissionless registration is off", async () => {
      const { v, alice, bob, token, feeToken } = await networkHelpers.loadFixture(restrictedFixture);
      const tokenAddress = await token.getAddress();
      expect(await v.bridge.permissionlessRegistration()).to.equal(false);
      await expect(v.bridge.connect(v.stranger).registerToken(tokenAddress))
        .to.be.revertedWithCustomError(v.bridge, "RegistrationRestricted")
        .withArgs(v.stranger.address);

      await (await govern(v, v.bridge, "grantRole", [TOKEN_ADMIN_ROLE, alice.address])).wait();
      await expect(v.bridge.connect(alice).registerToken(tokenAddress))
        .to.emit(v.bridge, "TokenRegistered")
        .withArgs(tokenAddress, "Test Token", "TT", 6n);

      // Opening registration lets anyone register.
      await expect(v.bridge.connect(v.stranger).setPermissionlessRegistration(true))
        .to.be.revertedWithCustomError(v.bridge, "AccessControlUnauthorizedAccount")
        .withArgs(v.stranger.address, DEFAULT_ADMIN_ROLE);
      await expect(govern(v, v.bridge, "setPermissionlessRegistration", [true]))
        .to.emit(v.bridge, "PermissionlessRegistrationSet")
        .withArgs(true);
      const feeTokenAddress = await feeToken.getAddress();
      await expect(v.bridge.connect(bob).registerToken(feeTokenAddress))
        .to.emit(v.bridge, "TokenRegistered")
        .withArgs(feeTokenAddress, "Fee Token", "FEE", 18n);
    });
  });

  describe("withdrawals", () => {
    it("pays an ETH withdrawal exactly once, relayed by anyone", async () => {
      const f = await networkHelpers.loadFixture(fundedFixture);
      const { v, bob, bridgeAddress } = f;
      const amount = parseEther("1.25");
      const msgs = await withdrawalMessages(v, [{ to: bob.address, amount }]);
      const { tree, root } = await provenRollup(f, msgs);

      const tx = v.messenger.connect(v.stranger).relayMessageWithProof(msgs[0], tree.proof(0), root);
      await expect(tx).to.changeEtherBalances(ethers, [bridgeAddress, bob, v.stranger], [-amount, amount, 0n]);
      await expect(tx)
        .to.emit(v.bridge, "WithdrawalFinalized")
        .withArgs(ZeroAddress, bob.address, amount)
        .and.to.emit(v.messenger, "MessageRelayed")
        .withArgs(messageLeaf(msgs[0]), 0n, bridgeAddress);
      expect(await v.messenger.isRelayed(0n)).to.equal(true);
      expect(await v.messenger.failedMessages(messageLeaf(msgs[0]))).to.equal(false);

      await expect(v.messenger.relayMessageWithProof(msgs[0], tree.proof(0), root))
        .to.be.revertedWithCustomError(v.messenger, "MessageAlreadyRelayed")
        .withArgs(0n);
      await expect(v.messenger.retryMessage(msgs[0]))
        .to.be.revertedWithCustomError(v.messenger, "MessageNotRetryable")
        .withArgs(messageLeaf(msgs[0]));
      expect(await ethers.provider.getBalance(bridgeAddress)).to.equal(FUNDED_ETH - amount);
    });

    it("pays ERC-20 withdrawals exactly once, each message of a rollup on its own", async () => {
      const f = await networkHelpers.loadFixture(fundedFixture);
      const { v, bob, carol, token, bridgeAddress } = f;
      const tokenAddress = await token.getAddress();
      const msgs = await withdrawalMessages(
        v,
        [
          { token: tokenAddress, to: bob.address, amount: 400_000n },
          { token: tokenAddress, to: carol.address, amount: 600_000n },
          { to: carol.address, amount: 1n },
        ],
        10n,
      );
      const { tree, root } = await provenRollup(f, msgs);

      const second = v.messenger.connect(carol).relayMessageWithProof(msgs[1], tree.proof(1), root);
      await expect(second).to.changeTokenBalances(
        ethers,
        token,
        [bridgeAddress, carol, bob],
        [-600_000n, 600_000n, 0n],
      );
      await expect(second)
        .to.emit(v.bridge, "WithdrawalFinalized")
        .withArgs(tokenAddress, carol.address, 600_000n)
        .and.to.emit(v.messenger, "MessageRelayed")
        .withArgs(messageLeaf(msgs[1]), 11n, bridgeAddress);
      expect(await v.messenger.isRelayed(10n)).to.equal(false);
      expect(await v.messenger.isRelayed(11n)).to.equal(true);

      const first = v.messenger.connect(v.stranger).relayMessageWithProof(msgs[0], tree.proof(0), root);
      await expect(first).to.changeTokenBalances(ethers, token, [bridgeAddress, bob], [-400_000n, 400_000n]);
      await expect(first).to.emit(v.bridge, "WithdrawalFinalized").withArgs(tokenAddress, bob.address, 400_000n);

      // The two relayed above (the third stays unrelayed).
      for (const [i, message] of msgs.slice(0, 2).entries()) {
        await expect(v.messenger.relayMessageWithProof(message, tree.proof(i), root))
          .to.be.revertedWithCustomError(v.messenger, "MessageAlreadyRelayed")
          .withArgs(message.sequence);
      }
      expect(await token.balanceOf(bridgeAddress)).to.equal(0n);
    });

    it("cannot be called except by the messenger", async () => {
      const f = await networkHelpers.loadFixture(fundedFixture);
      const { v, bob } = f;
      await expect(v.bridge.connect(bob).finalizeWithdrawal(ZeroAddress, bob.address, 1n))
        .to.be.revertedWithCustomError(v.bridge, "NotMessenger")
        .withArgs(bob.address);
      await expect(v.bridge.finalizeWithdrawal(ZeroAddress, v.admin.address, 1n))
        .to.be.revertedWithCustomError(v.bridge, "NotMessenger")
        .withArgs(v.admin.address);
    });

    it("records a withdrawal from an L2 sender other than the L2 bridge as failed and pays nothing", async () => {
      const f = await networkHelpers.loadFixture(fundedFixture);
      const { v, bob, bridgeAddress } = f;
      const impostor = Wallet.createRandom().address;
      const forged = withdrawalMessage({
        l2Bridge: impostor,
        l1Bridge: bridgeAddress,
        l1Token: ZeroAddress,
        to: bob.address,
        amount: parseEther("1"),
        sequence: 0n,
      });
      const { tree, root } = await provenRollup(f, [forged]);
      const leaf = messageLeaf(forged);
      const reason = v.bridge.interface.encodeErrorResult("NotFromL2Bridge", [impostor]);

      const tx = v.messenger.relayMessageWithProof(forged, tree.proof(0), root);
      await expect(tx).to.changeEtherBalances(ethers, [bridgeAddress, bob], [0n, 0n]);
      await expect(tx)
        .to.emit(v.messenger, "MessageRelayFailed")
        .withArgs(leaf, 0n, bridgeAddress, reason)
        .and.not.to.emit(v.bridge, "WithdrawalFinalized");
      expect(await v.messenger.failedMessages(leaf)).to.equal(true);
      await expect(v.messenger.retryMessage(forged))
        .to.be.revertedWithCustomError(v.bridge, "NotFromL2Bridge")
        .withArgs(impostor);
    });

    it("keeps an ETH withdrawal the recipient refuses retryable until it is paid once", async () => {
      const f = await networkHelpers.loadFixture(fundedFixture);
      const { v, bridgeAddress } = f;
      const receiver = await new RejectingReceiver__factory(v.admin).deploy();
      const receiverAddress = await receiver.getAddress();
      const amount = parseEther("2");
      const msgs = await withdrawalMessages(v, [{ to: receiverAddress, amount }], 3n);
      const { tree, root } = await provenRollup(f, msgs);
      const leaf = messageLeaf(msgs[0]);

      const relay = v.messenger.connect(v.stranger).relayMessageWithProof(msgs[0], tree.proof(0), root);
      await expect(relay).to.changeEtherBalances(ethers, [bridgeAddress, receiverAddress], [0n, 0n]);
      await expect(relay)
        .to.emit(v.messenger, "MessageRelayFailed")
        .withArgs(leaf, 3n, bridgeAddress, errorString("RejectingReceiver: refused"))
        .and.not.to.emit(v.messenger, "MessageRelayed");
      expect(await v.messenger.failedMessages(leaf)).to.equal(true);
      expect(await v.messenger.isRelayed(3n)).to.equal(true);
      expect(await ethers.provider.getBalance(bridgeAddress)).to.equal(FUNDED_ETH);

      await expect(v.messenger.relayMessageWithProof(msgs[0], tree.proof(0), root))
        .to.be.revertedWithCustomError(v.messenger, "MessageAlreadyRelayed")
        .withArgs(3n);
      await expect(v.messenger.retryMessage(msgs[0])).to.be.revertedWith("RejectingReceiver: refused");
      expect(await v.messenger.failedMessages(leaf)).to.equal(true);

      await (await receiver.setAccept(true)).wait();
      const retry = v.messenger.connect(v.stranger).retryMessage(msgs[0]);
      await expect(retry).to.changeEtherBalances(ethers, [bridgeAddress, receiverAddress], [-amount, amount]);
      await expect(retry)
        .to.emit(v.messenger, "MessageRelayed")
        .withArgs(leaf, 3n, bridgeAddress)
        .and.to.emit(v.bridge, "WithdrawalFinalized")
        .withArgs(ZeroAddress, receiverAddress, amount);
      expect(await v.messenger.failedMessages(leaf)).to.equal(false);

      await expect(v.messenger.retryMessage(msgs[0]))
        .to.be.revertedWithCustomError(v.messenger, "MessageNotRetryable")
        .withArgs(leaf);
      await expect(v.messenger.relayMessageWithProof(msgs[0], tree.proof(0), root))
        .to.be.revertedWithCustomError(v.messenger, "MessageAlreadyRelayed")
        .withArgs(3n);
      expect(await ethers.provider.getBalance(receiverAddress)).to.equal(amount);
    });

    it("keeps a withdrawal of a paused token retryable until the token is unpaused", async () => {
      const f = await networkHelpers.loadFixture(fundedFixture);
      const { v, bob, token, bridgeAddress } = f;
      const tokenAddress = await token.getAddress();
      const msgs = await withdrawalMessages(v, [{ token: tokenAddress, to: bob.address, amount: 5_000n }]);
      const { tree, root } = await provenRollup(f, msgs);
      const leaf = messageLeaf(msgs[0]);
      await (await govern(v, v.bridge, "pauseToken", [tokenAddress])).wait();

      const relay = v.messenger.relayMessageWithProof(msgs[0], tree.proof(0), root);
      await expect(relay).to.changeTokenBalances(ethers, token, [bridgeAddress, bob], [0n, 0n]);
      await expect(relay)
        .to.emit(v.messenger, "MessageRelayFailed")
        .withArgs(leaf, 0n, bridgeAddress, v.bridge.interface.encodeErrorResult("TokenIsPaused", [tokenAddress]));
      expect(await v.messenger.failedMessages(leaf)).to.equal(true);

      await expect(v.messenger.retryMessage(msgs[0]))
        .to.be.revertedWithCustomError(v.bridge, "TokenIsPaused")
        .withArgs(tokenAddress);
      expect(await v.messenger.failedMessages(leaf)).to.equal(true);

      await (await govern(v, v.bridge, "unpauseToken", [tokenAddress])).wait();
      const retry = v.messenger.retryMessage(msgs[0]);
      await expect(retry).to.changeTokenBalances(ethers, token, [bridgeAddress, bob], [-5_000n, 5_000n]);
      await expect(retry)
        .to.emit(v.bridge, "WithdrawalFinalized")
        .withArgs(tokenAddress, bob.address, 5_000n)
        .and.to.emit(v.messenger, "MessageRelayed")
        .withArgs(leaf, 0n, bridgeAddress);
      await expect(v.messenger.retryMessage(msgs[0]))
        .to.be.revertedWithCustomError(v.messenger, "MessageNotRetryable")
        .withArgs(leaf);
    });
  });

  describe("access control and pausing", () => {
    it("rejects admin calls from accounts without the role", async () => {
      const { v, token } = await networkHelpers.loadFixture(registeredFixture);
      const tokenAddress = await token.getAddress();
      const s = v.bridge.connect(v.stranger);
      const cases: [() => Promise<unknown>, string][] = [
        [() => s.pauseToken(tokenAddress), TOKEN_ADMIN_ROLE],
        [() => s.unpauseToken(tokenAddress), TOKEN_ADMIN_ROLE],
        [() => s.setPermissionlessRegistration(false), DEFAULT_ADMIN_ROLE],
        [() => s.pause(), PAUSER_ROLE],
        [() => s.unpause(), PAUSER_ROLE],
      ];
      for (const [call, role] of cases) {
        await expect(call())
          .to.be.revertedWithCustomError(v.bridge, "AccessControlUnauthorizedAccount")
          .withArgs(v.stranger.address, role);
      }
      // Holding TOKEN_ADMIN_ROLE is enough to pause a token, not the bridge.
      await (await govern(v, v.bridge, "grantRole", [TOKEN_ADMIN_ROLE, v.stranger.address])).wait();
      await expect(s.pauseToken(tokenAddress)).to.emit(v.bridge, "TokenPaused").withArgs(tokenAddress);
      await expect(s.pause())
        .to.be.revertedWithCustomError(v.bridge, "AccessControlUnauthorizedAccount")
        .withArgs(v.stranger.address, PAUSER_ROLE);
    });

    it("pausing the bridge stops deposits and registrations until unpaused", async () => {
      const { v, alice, bob, token, feeToken, bridgeAddress } = await networkHelpers.loadFixture(registeredFixture);
      const tokenAddress = await token.getAddress();
      const mkr = await new Bytes32MetadataToken__factory(v.admin).deploy();
      await expect(v.bridge.pause()).to.emit(v.bridge, "Paused").withArgs(v.admin.address);

      await expect(v.bridge.connect(alice).depositNative(bob.address, { value: 1n })).to.be.revertedWithCustomError(
        v.bridge,
        "EnforcedPause",
      );
      await expect(v.bridge.connect(alice).depositERC20(tokenAddress, 1n, bob.address)).to.be.revertedWithCustomError(
        v.bridge,
        "EnforcedPause",
      );
      await expect(v.bridge.connect(alice).registerToken(await mkr.getAddress())).to.be.revertedWithCustomError(
        v.bridge,
        "EnforcedPause",
      );
      // Token administration still works while paused.
      await expect(govern(v, v.bridge, "pauseToken", [await feeToken.getAddress()])).to.emit(v.bridge, "TokenPaused");

      await expect(v.bridge.unpause()).to.emit(v.bridge, "Unpaused").withArgs(v.admin.address);
      await expect(v.bridge.connect(alice).depositNative(bob.address, { value: 1n })).to.changeEtherBalances(
        ethers,
        [alice, bridgeAddress],
        [-1n, 1n],
      );
      await expect(v.bridge.connect(alice).registerToken(await mkr.getAddress())).to.emit(v.bridge, "TokenRegistered");
    });

    it("pausing the bridge makes a relayed withdrawal fail at the target; it stays retryable", async () => {
      const f = await networkHelpers.loadFixture(fundedFixture);
      const { v, bob, bridgeAddress } = f;
      const amount = parseEther("0.5");
      const msgs = await withdrawalMessages(v, [{ to: bob.address, amount }]);
      const { tree, root } = await provenRollup(f, msgs);
      const leaf = messageLeaf(msgs[0]);
      await (await v.bridge.pause()).wait();

      const relay = v.messenger.relayMessageWithProof(msgs[0], tree.proof(0), root);
      await expect(relay).to.changeEtherBalances(ethers, [bridgeAddress, bob], [0n, 0n]);
      await expect(relay)
        .to.emit(v.messenger, "MessageRelayFailed")
        .withArgs(leaf, 0n, bridgeAddress, v.bridge.interface.encodeErrorResult("EnforcedPause", []));
      await expect(v.messenger.retryMessage(msgs[0])).to.be.revertedWithCustomError(v.bridge, "EnforcedPause");

      await (await v.bridge.unpause()).wait();
      const retry = v.messenger.retryMessage(msgs[0]);
      await expect(retry).to.changeEtherBalances(ethers, [bridgeAddress, bob], [-amount, amount]);
      await expect(retry).to.emit(v.bridge, "WithdrawalFinalized").withArgs(ZeroAddress, bob.address, amount);
      expect(await v.messenger.failedMessages(leaf)).to.equal(false);
    });
  });
});
