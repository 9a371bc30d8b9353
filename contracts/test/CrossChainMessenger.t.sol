// SPDX-License-Identifier: MIT
// Test conventions: plain `require`s with messages, Foundry-style test names, several contracts per file.
// solhint-disable gas-custom-errors, reason-string, func-name-mixedcase, one-contract-per-file

pragma solidity ^0.8.28;

import {CrossChainMessenger} from "../l1/CrossChainMessenger.sol";
import {FeeVault} from "../l1/FeeVault.sol";
import {MessageBus} from "../l1/MessageBus.sol";
import {CrossChain} from "../libraries/CrossChain.sol";
import {MessengerHandler} from "./handlers/MessengerHandler.t.sol";
import {RelayTarget} from "./mocks/TestTargets.sol";
import {MessageTrees, TestBase} from "./utils/TestBase.t.sol";
import {ICrossChainMessengerErrors} from "../interfaces/ICrossChainMessengerErrors.sol";
import {IMessageBusErrors} from "../interfaces/IMessageBusErrors.sol";

/// @notice Deploys a real FeeVault, MessageBus and CrossChainMessenger; the test contract registers message
/// roots itself (bound as the MessageBus's RollupRegistry, standing in for it).
abstract contract MessengerSetup is TestBase {
    uint64 internal constant CHALLENGE = 1 hours;

    FeeVault internal vault;
    MessageBus internal bus;
    CrossChainMessenger internal messenger;

    function _deployMessenger() internal {
        vault = new FeeVault(address(this), 0, address(this), 0, 0, 0);
        bus = new MessageBus(address(this), 0, address(this), payable(address(vault)), 0);
        messenger = new CrossChainMessenger(address(this), 0, address(this), bus);
    }

    /// @dev Registers the root of `leaves` (activating after the challenge period) and waits until it is active.
    function _registerActive(bytes32[] memory leaves) internal returns (bytes32 root) {
        root = MessageTrees.root(leaves);
        uint64 activatesAt = uint64(block.timestamp) + CHALLENGE;
        bus.addMessageRoot(root, keccak256(abi.encode("rollup", root)), activatesAt, 0);
        vm.warp(activatesAt);
    }

    function _leaves(bytes32 a) internal pure returns (bytes32[] memory out) {
        out = new bytes32[](1);
        out[0] = a;
    }

    function _leaves(bytes32 a, bytes32 b) internal pure returns (bytes32[] memory out) {
        out = new bytes32[](2);
        (out[0], out[1]) = (a, b);
    }

    function _leaves(bytes32 a, bytes32 b, bytes32 c) internal pure returns (bytes32[] memory out) {
        out = new bytes32[](3);
        (out[0], out[1], out[2]) = (a, b, c);
    }
}

/// @notice Fuzz tests: a relayed message never runs again, whatever root or proof it comes with.
contract CrossChainMessengerFuzzTest is MessengerSetup {
    RelayTarget internal target;

    function setUp() public {
        _deployMessenger();
        bus.bindRollupRegistry(address(this));
        target = new RelayTarget(messenger);
    }

    function _call(address l2Sender, uint64 seq, uint64 nonce, uint256 value)
        internal
        view
        returns (CrossChain.Message memory)
    {
        return
            CrossChain.Message({
                sender: l2Sender,
                sequence: seq,
                nonce: nonce,
                topic: CrossChain.TOPIC_CALL,
                payload: abi.encode(address(target), abi.encodeCall(RelayTarget.receiveCall, (value))),
                consistencyLevel: 0
            });
    }

    function _alreadyRelayed(uint64 seq) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ICrossChainMessengerErrors.MessageAlreadyRelayed.selector, seq);
    }

    /// @notice After one successful relay, the same message — same proof, another root holding it, its own
    /// single-leaf root, any junk proof — and a conflicting message with the same sequence all revert,
    /// and a retry is refused: the target ran exactly once.
    function testFuzz_RelayedMessageNeverRelaysAgain(
        address l2Sender,
        uint64 seq,
        uint64 nonce,
        uint256 value,
        bytes32 sibling,
        bytes32 otherSibling,
        bytes32[] calldata junkProof,
        bytes32 junkRoot
    ) public {
        if (l2Sender == address(0)) l2Sender = address(1);
        CrossChain.Message memory m = _call(l2Sender, seq, nonce, value);
        bytes32 leaf = _relayOnce(m, sibling);
        require(target.lastValue() == value && target.lastSender() == l2Sender, "target saw another call");

        _replayUnderOtherRoots(m, leaf, sibling, otherSibling);

        // A different message that reuses the consumed sequence.
        CrossChain.Message memory conflicting = _call(l2Sender, seq, nonce, value ^ 1);
        bytes32 conflictingLeaf = MessageTrees.leaf(conflicting);
        _registerActive(_leaves(conflictingLeaf));
        vm.expectRevert(_alreadyRelayed(seq));
        messenger.relayMessageWithProof(conflicting, new bytes32[](0), conflictingLeaf);

        // Any proof against any root.
        vm.expectRevert();
        messenger.relayMessageWithProof(m, junkProof, junkRoot);

        // Nothing to retry.
        vm.expectRevert(abi.encodeWithSelector(ICrossChainMessengerErrors.MessageNotRetryable.selector, leaf));
        messenger.retryMessage(m);

        require(target.calls() == 1, "target ran more than once");
        require(!messenger.failedMessages(leaf), "succeeded message is retryable");
    }

    /// @dev Relays `m` under the root of [m, sibling]; checks the target ran once; replays it there.
    function _relayOnce(CrossChain.Message memory m, bytes32 sibling) internal returns (bytes32 leaf) {
        leaf = MessageTrees.leaf(m);
        bytes32[] memory leaves = _leaves(leaf, sibling);
        bytes32 root = _registerActive(leaves);
        bytes32[] memory proof = MessageTrees.proof(leaves, 0);
        require(bus.verifyMessageInclusion(m, proof, root) == leaf, "leaf differs from CrossChain.leafHash");
        require(messenger.relayMessageWithProof(m, proof, root), "first relay failed");
        require(target.calls() == 1, "target did not run once");
        require(messenger.isRelayed(m.sequence), "sequence not consumed");

        // Same root, same proof.
        vm.expectRevert(_alreadyRelayed(m.sequence));
        messenger.relayMessageWithProof(m, proof, root);
    }

    /// @dev Another rollup's root holding `m` again, and `m` as a single-leaf root: both revert.
    function _replayUnderOtherRoots(
        CrossChain.Message memory m,
        bytes32 leaf,
        bytes32 sibling,
        bytes32 otherSibling
    ) internal {
        bytes32[] memory leaves = _leaves(otherSibling, sibling, leaf);
        bytes32 root = _registerActive(leaves);
        bytes32[] memory proof = MessageTrees.proof(leaves, 2);
        require(bus.verifyMessageInclusion(m, proof, root) == leaf, "second proof invalid");
        vm.expectRevert(_alreadyRelayed(m.sequence));
        messenger.relayMessageWithProof(m, proof, root);

        _registerActive(_leaves(leaf));
        vm.expectRevert(_alreadyRelayed(m.sequence));
        messenger.relayMessageWithProof(m, new bytes32[](0), leaf);
    }

    /// @notice A message whose call failed is consumed (never relayed again), stays retryable through any
    /// number of failing retries, runs exactly once when a retry succeeds, and never again after that.
    function testFuzz_FailedMessageRunsAtMostOnce(
        uint64 seq,
        uint256 value,
        bytes32 sibling,
        uint8 failedRetries
    ) public {
        CrossChain.Message memory m = _call(address(0xA11CE), seq, 0, value);
        bytes32 leaf = MessageTrees.leaf(m);
        bytes32[] memory leaves = _leaves(sibling, leaf);
        bytes32 root = _registerActive(leaves);
        bytes32[] memory proof = MessageTrees.proof(leaves, 1);

        target.setShouldFail(true);
        require(!messenger.relayMessageWithProof(m, proof, root), "failing call reported success");
        require(messenger.failedMessages(leaf) && messenger.isRelayed(seq), "failed call not recorded");
        require(target.calls() == 0, "failing target ran");

        vm.expectRevert(_alreadyRelayed(seq));
        messenger.relayMessageWithProof(m, proof, root);

        for (uint256 i; i < failedRetries % 4; ++i) {
            vm.expectRevert(abi.encodeWithSelector(RelayTarget.TargetFailure.selector, value));
            messenger.retryMessage(m);
            require(messenger.failedMessages(leaf), "failed retry lost the message");
        }

        target.setShouldFail(false);
        messenger.retryMessage(m);
        require(target.calls() == 1 && target.lastValue() == value, "retry did not run once");
        require(!messenger.failedMessages(leaf), "message retryable after success");

        vm.expectRevert(abi.encodeWithSelector(ICrossChainMessengerErrors.MessageNotRetryable.selector, leaf));
        messenger.retryMessage(m);
        vm.expectRevert(_alreadyRelayed(seq));
        messenger.relayMessageWithProof(m, proof, root);
        require(target.calls() == 1, "target ran again after the retry");
    }

    /// @notice A relay that fails its proof checks (root not yet active, rejected, wrong proof) consumes
    /// nothing: the message is relayed once under a valid root afterwards.
    function testFuzz_UnprovenRelayConsumesNothing(uint64 seq, uint256 value, bytes32 junk, uint32 early) public {
        CrossChain.Message memory m = _call(address(0xA11CE), seq, 0, value);
        bytes32 leaf = MessageTrees.leaf(m);
        bytes32[] memory leaves = _leaves(leaf, junk);
        bytes32 root = MessageTrees.root(leaves);
        bytes32[] memory proof = MessageTrees.proof(leaves, 0);
        uint64 activatesAt = uint64(block.timestamp) + CHALLENGE;
        bus.addMessageRoot(root, bytes32(uint256(1)), activatesAt, 0);

        vm.warp(activatesAt - 1 - (early % CHALLENGE));
        vm.expectRevert(abi.encodeWithSelector(IMessageBusErrors.MessageRootNotActive.selector, root, activatesAt));
        messenger.relayMessageWithProof(m, proof, root);

        vm.warp(activatesAt);
        bytes32[] memory badProof = new bytes32[](1);
        badProof[0] = keccak256(abi.encode(junk));
        vm.expectRevert(abi.encodeWithSelector(IMessageBusErrors.InvalidMerkleProof.selector, root));
        messenger.relayMessageWithProof(m, badProof, root);

        bus.rejectMessageRoot(root);
        vm.expectRevert(abi.encodeWithSelector(IMessageBusErrors.MessageRootIsRejected.selector, root));
        messenger.relayMessageWithProof(m, proof, root);
        require(!messenger.isRelayed(seq), "unproven relay consumed the sequence");

        // (Leaves in another order would give the same, rejected root: nodes hash sorted pairs.)
        leaves = _leaves(junk, leaf, bytes32("another rollup"));
        bytes32 root2 = _registerActive(leaves);
        require(messenger.relayMessageWithProof(m, MessageTrees.proof(leaves, 1), root2), "relay failed");
        require(target.calls() == 1, "target did not run once");
    }
}

/// @notice Invariant campaign over `MessengerHandler`: relays, replays under many roots, conflicting
/// messages, failing targets, retries and forged proofs.
contract CrossChainMessengerInvariantTest is MessengerSetup {
    MessengerHandler internal handler;

    function setUp() public {
        _deployMessenger();
        handler = new MessengerHandler(bus, messenger);
        bus.bindRollupRegistry(address(handler));
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice No message pays out twice: per L2 sequence, the target ran at most once, and exactly as often
    /// as the handler saw a relay or retry succeed.
    /**
     * hardhat-config: invariant.runs = 48
     * hardhat-config: invariant.depth = 40
     * hardhat-config: invariant.failOnRevert = true
     */
    function invariant_noMessagePaidOutTwice() public view {
        for (uint64 seq; seq < handler.SEQUENCES(); ++seq) {
            uint256 executions = handler.target().executions(seq);
            require(executions <= 1, "message paid out twice");
            require(handler.ghostPayouts(seq) <= 1, "handler saw two payouts");
            require(executions == handler.ghostPayouts(seq), "executions differ from observed payouts");
        }
        require(handler.target().wrongSenderCalls() == 0, "target saw a wrong crossChainSender");
    }

    /// @notice A consumed sequence is either paid out once or waiting for a retry — never both, never
    /// neither; an unconsumed one has neither. The messenger's state matches the model.
    /**
     * hardhat-config: invariant.runs = 48
     * hardhat-config: invariant.depth = 40
     * hardhat-config: invariant.failOnRevert = true
     */
    function invariant_consumedExactlyOnceOrRetryable() public view {
        for (uint64 seq; seq < handler.SEQUENCES(); ++seq) {
            bytes32 leaf0 = handler.leafOf(seq, 0);
            bytes32 leaf1 = handler.leafOf(seq, 1);
            bool retry0 = messenger.failedMessages(leaf0);
            bool retry1 = messenger.failedMessages(leaf1);
            require(retry0 == handler.ghostRetryable(leaf0) && retry1 == handler.ghostRetryable(leaf1), "retry set");
            require(messenger.isRelayed(seq) == handler.ghostConsumed(seq), "consumed set differs from model");
            uint256 executions = handler.target().executions(seq);
            uint256 retryable = (retry0 ? 1 : 0) + (retry1 ? 1 : 0);
            uint256 expected = messenger.isRelayed(seq) ? 1 : 0;
            require(executions + retryable == expected, "consumed message neither paid nor retryable, or both");
        }
    }
}
