// SPDX-License-Identifier: MIT
// Test conventions: plain `require`s with messages, Foundry-style test names, several contracts per file.
// solhint-disable gas-custom-errors, reason-string, func-name-mixedcase, one-contract-per-file

pragma solidity ^0.8.28;

import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Errors} from "@openzeppelin/contracts/utils/Errors.sol";

import {Bridge} from "../l1/Bridge.sol";
import {CrossChainMessenger} from "../l1/CrossChainMessenger.sol";
import {FeeVault} from "../l1/FeeVault.sol";
import {MessageBus} from "../l1/MessageBus.sol";
import {CrossChain} from "../libraries/CrossChain.sol";
import {BridgeHandler, IMintableERC20} from "./handlers/BridgeHandler.t.sol";
import {RejectingReceiver} from "./mocks/TestTargets.sol";
import {FeeOnTransferToken, TestToken} from "./mocks/TestTokens.sol";
import {MessageTrees, TestBase} from "./utils/TestBase.t.sol";
import {IBridgeErrors} from "../interfaces/IBridgeErrors.sol";
import {ICrossChainMessengerErrors} from "../interfaces/ICrossChainMessengerErrors.sol";

/// @notice Deploys a real FeeVault, MessageBus (non-zero message fee), CrossChainMessenger and Bridge, with a
/// plain token and a 1% fee-on-transfer token registered. The test contract may register message roots
/// (bound as the MessageBus's RollupRegistry, standing in for it).
abstract contract BridgeSetup is TestBase {
    uint256 internal constant FEE = 0.001 ether;
    uint256 internal constant FEE_BPS = 100;
    uint64 internal constant CHALLENGE = 1 hours;
    address internal constant L2_BRIDGE = address(0xB21D6E);

    FeeVault internal vault;
    MessageBus internal bus;
    CrossChainMessenger internal messenger;
    Bridge internal bridge;
    TestToken internal plain;
    FeeOnTransferToken internal feeToken;
    RejectingReceiver internal rejecting;

    function _deployBridge() internal {
        vm.deal(address(this), 1 ether);
        vault = new FeeVault(address(this), 0, address(this), 0, 0, 0);
        bus = new MessageBus(address(this), 0, address(this), payable(address(vault)), FEE);
        messenger = new CrossChainMessenger(address(this), 0, address(this), bus);
        bridge = new Bridge(address(this), 0, address(this), bus, messenger, L2_BRIDGE, false);
        plain = new TestToken("Test Token", "TST", 18);
        feeToken = new FeeOnTransferToken(FEE_BPS);
        bridge.registerToken{value: FEE}(address(plain));
        bridge.registerToken{value: FEE}(address(feeToken));
        rejecting = new RejectingReceiver();
    }

    function _token(uint256 i) internal view returns (address) {
        return i == 0 ? address(0) : i == 1 ? address(plain) : address(feeToken);
    }

    function _balance(uint256 i, address account) internal view returns (uint256) {
        return i == 0 ? account.balance : IERC20(_token(i)).balanceOf(account);
    }
}

/// @notice Fuzz tests of single withdrawals: paid once, never more than the bridge holds, never when forged.
contract BridgeFuzzTest is BridgeSetup {
    function setUp() public {
        _deployBridge();
        bus.bindRollupRegistry(address(this));
    }

    /// @dev Deposits a fuzzed amount of token `i`; returns what the bridge holds of it.
    function _deposit(uint256 i, uint256 amount) internal returns (uint256 held) {
        address depositor = _addr("depositor", amount);
        if (i == 0) {
            amount = _bound(amount, FEE + 1, 1_000 ether);
            vm.deal(depositor, amount);
            vm.prank(depositor);
            bridge.depositNative{value: amount}(depositor);
        } else {
            amount = _bound(amount, 1, 1e36);
            IMintableERC20(_token(i)).mint(depositor, amount);
            vm.prank(depositor);
            IERC20(_token(i)).approve(address(bridge), amount);
            vm.deal(depositor, FEE);
            vm.prank(depositor);
            bridge.depositERC20{value: FEE}(IERC20(_token(i)), amount, depositor);
        }
        held = _balance(i, address(bridge));
        uint256 expected = i == 0 ? amount - FEE : i == 1 ? amount : amount - (amount * FEE_BPS) / 10_000;
        require(held == expected, "bridge did not receive the deposit");
    }

    function _withdrawal(
        address l2Sender,
        uint64 seq,
        uint256 i,
        address to,
        uint256 amount
    ) internal view returns (CrossChain.Message memory) {
        return
            CrossChain.Message({
                sender: l2Sender,
                sequence: seq,
                nonce: seq,
                topic: CrossChain.TOPIC_CALL,
                payload: abi.encode(
                    address(bridge),
                    abi.encodeCall(Bridge.finalizeWithdrawal, (_token(i), to, amount))
                ),
                consistencyLevel: 0
            });
    }

    /// @dev Registers a root holding `m` and a filler leaf, waits for activation, returns the proof.
    function _commit(CrossChain.Message memory m, bytes32 filler)
        internal
        returns (bytes32 root, bytes32[] memory proof)
    {
        bytes32[] memory leaves = new bytes32[](2);
        (leaves[0], leaves[1]) = (filler, MessageTrees.leaf(m));
        root = MessageTrees.root(leaves);
        proof = MessageTrees.proof(leaves, 1);
        uint64 activatesAt = uint64(block.timestamp) + CHALLENGE;
        bus.addMessageRoot(root, keccak256(abi.encode(root)), activatesAt, 0);
        vm.warp(activatesAt);
    }

    /// @notice A withdrawal within the bridge's balance pays exactly its amount once; the same message under
    /// another root never pays again.
    function testFuzz_WithdrawalPaysOutOnce(uint256 tokenSeed, uint256 depositAmount, uint256 amount, uint64 seq)
        public
    {
        uint256 i = tokenSeed % 3;
        uint256 held = _deposit(i, depositAmount);
        amount = _bound(amount, 1, held);
        address to = _addr("recipient", seq);
        CrossChain.Message memory m = _withdrawal(L2_BRIDGE, seq, i, to, amount);
        (bytes32 root, bytes32[] memory proof) = _commit(m, bytes32("first rollup"));

        require(messenger.relayMessageWithProof(m, proof, root), "withdrawal failed");
        uint256 received = i == 2 ? amount - (amount * FEE_BPS) / 10_000 : amount;
        require(_balance(i, to) == received, "recipient not paid the amount");
        require(_balance(i, address(bridge)) == held - amount, "bridge paid out more than the amount");

        (bytes32 root2, bytes32[] memory proof2) = _commit(m, bytes32("second rollup"));
        vm.expectRevert(abi.encodeWithSelector(ICrossChainMessengerErrors.MessageAlreadyRelayed.selector, seq));
        messenger.relayMessageWithProof(m, proof2, root2);
        require(_balance(i, address(bridge)) == held - amount, "replay moved value");
        require(_balance(i, to) == received, "replay paid the recipient again");
    }

    /// @notice A withdrawal of more than the bridge holds never pays out: the call fails at the bridge (event
    /// with the token's or Address's insufficient-balance error), nothing moves, the message is recorded in
    /// `failedMessages`, a retry reverts with the same error and a replay is refused.
    function testFuzz_OverWithdrawalNeverPaysOut(
        uint256 tokenSeed,
        uint256 depositAmount,
        uint256 excess,
        uint64 seq
    ) public {
        uint256 i = tokenSeed % 3;
        uint256 held = _deposit(i, depositAmount);
        uint256 amount = held + _bound(excess, 1, 1e36);
        address to = _addr("recipient", seq);
        CrossChain.Message memory m = _withdrawal(L2_BRIDGE, seq, i, to, amount);
        bytes32 leaf = MessageTrees.leaf(m);
        (bytes32 root, bytes32[] memory proof) = _commit(m, bytes32("rollup"));
        bytes memory reason = _insufficientBalance(i, held, amount);

        vm.expectEmit(true, true, true, true, address(messenger));
        emit CrossChainMessenger.MessageRelayFailed(leaf, seq, address(bridge), reason);
        require(!messenger.relayMessageWithProof(m, proof, root), "over-withdrawal reported success");

        require(_balance(i, address(bridge)) == held, "bridge balance changed");
        require(_balance(i, to) == 0, "recipient received value");
        require(messenger.failedMessages(leaf) && messenger.isRelayed(seq), "failure not recorded");

        vm.expectRevert(reason);
        messenger.retryMessage(m);
        vm.expectRevert(abi.encodeWithSelector(ICrossChainMessengerErrors.MessageAlreadyRelayed.selector, seq));
        messenger.relayMessageWithProof(m, proof, root);
        require(_balance(i, address(bridge)) == held && _balance(i, to) == 0, "value moved");
        require(messenger.failedMessages(leaf), "failed retry lost the message");
    }

    /// @notice A withdrawal call published by any L2 account but the L2 bridge fails at the bridge with
    /// `NotFromL2Bridge`, even for an amount the bridge holds, and its retries keep failing.
    function testFuzz_ForgedWithdrawalNeverPaysOut(
        address l2Sender,
        uint256 tokenSeed,
        uint256 depositAmount,
        uint256 amount,
        uint64 seq
    ) public {
        if (l2Sender == L2_BRIDGE || l2Sender == address(0)) l2Sender = address(0xBAD);
        uint256 i = tokenSeed % 3;
        uint256 held = _deposit(i, depositAmount);
        amount = _bound(amount, 1, held);
        address to = _addr("recipient", seq);
        CrossChain.Message memory m = _withdrawal(l2Sender, seq, i, to, amount);
        bytes32 leaf = MessageTrees.leaf(m);
        (bytes32 root, bytes32[] memory proof) = _commit(m, bytes32("rollup"));
        bytes memory reason = abi.encodeWithSelector(IBridgeErrors.NotFromL2Bridge.selector, l2Sender);

        vm.expectEmit(true, true, true, true, address(messenger));
        emit CrossChainMessenger.MessageRelayFailed(leaf, seq, address(bridge), reason);
        require(!messenger.relayMessageWithProof(m, proof, root), "forged withdrawal reported success");
        vm.expectRevert(reason);
        messenger.retryMessage(m);
        require(_balance(i, address(bridge)) == held && _balance(i, to) == 0, "forged withdrawal moved value");
    }

    /// @dev The error the bridge's transfer of `amount` of token `i` reverts with when it holds only `held`.
    function _insufficientBalance(uint256 i, uint256 held, uint256 amount) internal view returns (bytes memory) {
        if (i == 0) return abi.encodeWithSelector(Errors.InsufficientBalance.selector, held, amount);
        bytes4 selector = IERC20Errors.ERC20InsufficientBalance.selector;
        if (i == 1) return abi.encodeWithSelector(selector, address(bridge), held, amount);
        // The fee-on-transfer token first burns the fee from the sender, then moves the rest.
        uint256 fee = (amount * FEE_BPS) / 10_000;
        if (fee > held) return abi.encodeWithSelector(selector, address(bridge), held, fee);
        return abi.encodeWithSelector(selector, address(bridge), held - fee, amount - fee);
    }
}

/// @notice Invariant campaign over `BridgeHandler`: per token (ETH, plain, fee-on-transfer), the value paid
/// out on L1 never exceeds the value deposited, and the bridge holds exactly the difference.
contract BridgeInvariantTest is BridgeSetup {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    BridgeHandler internal handler;

    function setUp() public {
        _deployBridge();
        handler = new BridgeHandler(
            bridge,
            IMintableERC20(address(plain)),
            IMintableERC20(address(feeToken)),
            FEE_BPS,
            rejecting
        );
        bus.bindRollupRegistry(address(handler));
        bridge.grantRole(bridge.TOKEN_ADMIN_ROLE(), address(handler));
        bridge.grantRole(bridge.PAUSER_ROLE(), address(handler));
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice Every action but `drain`, which only `afterInvariant` calls.
    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory selectors = new bytes4[](13);
        selectors[0] = BridgeHandler.depositNative.selector;
        selectors[1] = BridgeHandler.depositERC20.selector;
        selectors[2] = BridgeHandler.initiateWithdrawal.selector;
        selectors[3] = BridgeHandler.forgeWithdrawal.selector;
        selectors[4] = BridgeHandler.commitRoot.selector;
        selectors[5] = BridgeHandler.passTime.selector;
        selectors[6] = BridgeHandler.relay.selector;
        selectors[7] = BridgeHandler.retry.selector;
        selectors[8] = BridgeHandler.finalizeDirectly.selector;
        selectors[9] = BridgeHandler.setTokenPaused.selector;
        selectors[10] = BridgeHandler.setBridgePaused.selector;
        selectors[11] = BridgeHandler.setReceiverAccepts.selector;
        // Relaying is what the campaign is about: give it a second slot.
        selectors[12] = BridgeHandler.relay.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector({addr: address(handler), selectors: selectors});
    }

    /// @notice Per token: paid out <= deposited, and the bridge's balance is exactly deposited − paid out.
    /**
     * hardhat-config: invariant.runs = 32
     * hardhat-config: invariant.depth = 100
     * hardhat-config: invariant.failOnRevert = true
     */
    function invariant_paidOutNeverExceedsDeposited() public view {
        for (uint256 i; i < handler.TOKENS(); ++i) {
            require(handler.paidOut(i) <= handler.deposited(i), "paid out more than deposited");
            require(
                _balance(i, address(bridge)) == handler.deposited(i) - handler.paidOut(i),
                "bridge balance != deposited - paid out"
            );
        }
    }

    /// @notice Per token, the bridge backs every L2 balance and every withdrawal in flight, exactly; no
    /// withdrawal paid twice, no forged one paid; the messenger and the bus hold nothing.
    /**
     * hardhat-config: invariant.runs = 32
     * hardhat-config: invariant.depth = 100
     * hardhat-config: invariant.failOnRevert = true
     */
    function invariant_everyL2BalanceIsBacked() public view {
        for (uint256 i; i < handler.TOKENS(); ++i) {
            require(
                _balance(i, address(bridge)) == handler.l2Supply(i) + handler.inFlight(i),
                "bridge balance != L2 supply + withdrawals in flight"
            );
            require(_balance(i, address(messenger)) == 0 && _balance(i, address(bus)) == 0, "value stuck in transit");
        }
        require(handler.doublePayouts() == 0, "a withdrawal paid out twice");
        require(handler.forgedPayouts() == 0, "a forged withdrawal paid out");
    }

    /// @notice At the end of every run everything exits: all genuine withdrawals and the whole remaining L2
    /// supply are paid, once each, and the bridge ends up empty with paid out == deposited.
    function afterInvariant() public {
        handler.drain();
        for (uint256 i; i < handler.TOKENS(); ++i) {
            require(_balance(i, address(bridge)) == 0, "bridge not empty after every withdrawal");
            require(handler.paidOut(i) == handler.deposited(i), "paid out != deposited after draining");
            require(handler.l2Supply(i) == 0 && handler.inFlight(i) == 0, "L2 balance left after draining");
        }
        require(handler.doublePayouts() == 0 && handler.forgedPayouts() == 0, "bad payout while draining");
    }
}
