// SPDX-License-Identifier: MIT
// Test conventions: plain `require`s with messages, several contracts per file.
// solhint-disable gas-custom-errors, reason-string, one-contract-per-file

pragma solidity ^0.8.28;

import {CrossChainMessenger} from "../../l1/CrossChainMessenger.sol";
import {MessageBus} from "../../l1/MessageBus.sol";
import {CrossChain} from "../../libraries/CrossChain.sol";
import {MessageTrees, TestBase} from "../utils/TestBase.t.sol";
import {ICrossChainMessengerErrors} from "../../interfaces/ICrossChainMessengerErrors.sol";
import {IMessageBusErrors} from "../../interfaces/IMessageBusErrors.sol";

/// @notice Target of relayed calls that pays out (counts an execution) once per call, per message id,
/// and can be told to fail for a given id.
contract CountingTarget {
    error TargetFailure(uint64 id);

    CrossChainMessenger public immutable messenger;
    address public immutable expectedSender;
    mapping(uint64 id => uint256) public executions;
    mapping(uint64 id => bool) public failing;
    uint256 public wrongSenderCalls;

    constructor(CrossChainMessenger messenger_, address expectedSender_) {
        messenger = messenger_;
        expectedSender = expectedSender_;
    }

    function setFailing(uint64 id, bool fail) external {
        failing[id] = fail;
    }

    function execute(uint64 id, uint256 /* variant */) external {
        if (failing[id]) revert TargetFailure(id);
        if (msg.sender != address(messenger) || messenger.crossChainSender() != expectedSender) ++wrongSenderCalls;
        ++executions[id];
    }
}

/// @notice Invariant handler: relays messages from a small pool of L2 sequences (two conflicting variants
/// per sequence) under many roots, with failing targets, retries, replays and forged proofs. It models
/// what the messenger must do and reverts (failing the campaign, `failOnRevert`) on any deviation.
contract MessengerHandler is TestBase {
    /// @notice Number of L2 sequences in the pool.
    uint64 public constant SEQUENCES = 6;
    /// @notice Delay between a root's registration and its activation.
    uint64 public constant CHALLENGE = 1 hours;
    address public constant L2_APP = address(0xA11CE);

    MessageBus public immutable bus;
    CrossChainMessenger public immutable messenger;
    CountingTarget public immutable target;

    // Ghost state: the model.
    mapping(uint64 seq => uint256) public ghostPayouts;
    mapping(uint64 seq => bool) public ghostConsumed;
    mapping(bytes32 leaf => bool) public ghostRetryable;

    // Coverage counters, for diagnosing a campaign (not asserted).
    uint256 public relaysSucceeded;
    uint256 public relaysFailed;
    uint256 public replaysRejected;
    uint256 public retriesSucceeded;
    uint256 public retriesRejected;
    uint256 public forgeriesRejected;
    uint256 public rootsRegistered;

    constructor(MessageBus bus_, CrossChainMessenger messenger_) {
        bus = bus_;
        messenger = messenger_;
        target = new CountingTarget(messenger_, L2_APP);
    }

    // ----------------------------------------------------------------------------------------------
    // Pool

    /// @notice Message `variant` (0 or 1) of L2 sequence `seq`: both call the target for id `seq`, with
    /// different data (a conflicting message reusing a consumed sequence must never run).
    function message(uint64 seq, uint256 variant) public view returns (CrossChain.Message memory m) {
        m = CrossChain.Message({
            sender: L2_APP,
            sequence: seq,
            nonce: seq,
            topic: CrossChain.TOPIC_CALL,
            payload: abi.encode(address(target), abi.encodeCall(CountingTarget.execute, (seq, variant))),
            consistencyLevel: 0
        });
    }

    function leafOf(uint64 seq, uint256 variant) public view returns (bytes32) {
        return MessageTrees.leaf(message(seq, variant));
    }

    // ----------------------------------------------------------------------------------------------
    // Actions

    /// @notice Relays message (`seqSeed`, `variantSeed`) proven under a root that also holds 0–3 other pool
    /// messages chosen by `companions` (so one message is provable under many roots); the target fails
    /// for one seed in three.
    function relay(uint256 seqSeed, uint256 variantSeed, uint256 companions, uint256 failSeed) external {
        uint64 seq = uint64(seqSeed % SEQUENCES);
        bool failTarget = failSeed % 3 == 0;
        CrossChain.Message memory m = message(seq, variantSeed % 2);
        target.setFailing(seq, failTarget);

        uint256 extra = companions % 4;
        bytes32[] memory leaves = new bytes32[](extra + 1);
        uint256 pos = (companions >> 8) % (extra + 1);
        for (uint256 i; i <= extra; ++i) {
            if (i == pos) {
                leaves[i] = MessageTrees.leaf(m);
            } else {
                uint256 c = uint256(keccak256(abi.encode(companions, i)));
                leaves[i] = leafOf(uint64(c % SEQUENCES), (c >> 128) % 2);
            }
        }
        bytes32 root = MessageTrees.root(leaves);
        bytes32[] memory proof = MessageTrees.proof(leaves, pos);
        _ensureActive(root, m, proof);

        bytes32 leaf = MessageTrees.leaf(m);
        uint256 executionsBefore = target.executions(seq);
        try messenger.relayMessageWithProof(m, proof, root) returns (bool success) {
            require(!ghostConsumed[seq], "relayed a consumed sequence");
            require(success == !failTarget, "relay outcome differs from the target's");
            ghostConsumed[seq] = true;
            if (success) {
                require(target.executions(seq) == executionsBefore + 1, "success without one execution");
                ++ghostPayouts[seq];
                ++relaysSucceeded;
            } else {
                require(target.executions(seq) == executionsBefore, "failed relay executed");
                require(messenger.failedMessages(leaf), "failed relay not retryable");
                ghostRetryable[leaf] = true;
                ++relaysFailed;
            }
        } catch (bytes memory reason) {
            require(ghostConsumed[seq], "fresh message rejected");
            _requireError(
                reason,
                abi.encodeWithSelector(ICrossChainMessengerErrors.MessageAlreadyRelayed.selector, seq)
            );
            ++replaysRejected;
        }
    }

    /// @notice Retries message (`seqSeed`, `variantSeed`); the target fails for one seed in four.
    function retry(uint256 seqSeed, uint256 variantSeed, uint256 failSeed) external {
        uint64 seq = uint64(seqSeed % SEQUENCES);
        bool failTarget = failSeed % 4 == 0;
        CrossChain.Message memory m = message(seq, variantSeed % 2);
        bytes32 leaf = MessageTrees.leaf(m);
        target.setFailing(seq, failTarget);
        uint256 executionsBefore = target.executions(seq);
        try messenger.retryMessage(m) {
            require(ghostRetryable[leaf] && !failTarget, "retry ran when it must not");
            require(target.executions(seq) == executionsBefore + 1, "retry without one execution");
            require(!messenger.failedMessages(leaf), "message still retryable after success");
            ghostRetryable[leaf] = false;
            ++ghostPayouts[seq];
            ++retriesSucceeded;
        } catch (bytes memory reason) {
            if (ghostRetryable[leaf]) {
                require(failTarget, "retry of a retryable message failed");
                _requireError(reason, abi.encodeWithSelector(CountingTarget.TargetFailure.selector, seq));
                require(messenger.failedMessages(leaf), "failed retry lost the message");
            } else {
                _requireError(
                    reason,
                    abi.encodeWithSelector(ICrossChainMessengerErrors.MessageNotRetryable.selector, leaf)
                );
            }
            ++retriesRejected;
        }
    }

    /// @notice Relays a pool message with a forged proof against a registered root, or against a made-up root.
    function relayForged(uint256 seqSeed, uint256 variantSeed, bytes32 junk, bool knownRoot) external {
        uint64 seq = uint64(seqSeed % SEQUENCES);
        CrossChain.Message memory m = message(seq, variantSeed % 2);
        bytes32 leaf = MessageTrees.leaf(m);
        bytes32[] memory proof = new bytes32[](1);
        proof[0] = junk;
        // A known root: the single-leaf root of the other variant (the proof cannot lead there from `leaf`).
        bytes32 root = knownRoot ? leafOf(seq, 1 - (variantSeed % 2)) : keccak256(abi.encode(junk, "unknown"));
        if (knownRoot) _ensureActive(root, message(seq, 1 - (variantSeed % 2)), new bytes32[](0));
        bool consumedBefore = messenger.isRelayed(seq);
        try messenger.relayMessageWithProof(m, proof, root) returns (bool) {
            revert("forged proof accepted");
        } catch (bytes memory reason) {
            bytes memory expected = knownRoot
                ? abi.encodeWithSelector(IMessageBusErrors.InvalidMerkleProof.selector, root)
                : abi.encodeWithSelector(IMessageBusErrors.UnknownMessageRoot.selector, root);
            _requireError(reason, expected);
        }
        require(messenger.isRelayed(seq) == consumedBefore, "forged relay consumed the sequence");
        require(messenger.failedMessages(leaf) == ghostRetryable[leaf], "forged relay touched the retry set");
        ++forgeriesRejected;
    }

    // ----------------------------------------------------------------------------------------------
    // Internals

    /// @dev Registers `root` if new; checks that `m` cannot be relayed before activation; activates it.
    function _ensureActive(bytes32 root, CrossChain.Message memory m, bytes32[] memory proof) private {
        uint64 activatesAt = bus.messageRoot(root).activatesAt;
        if (activatesAt == 0) {
            activatesAt = uint64(block.timestamp) + CHALLENGE;
            bus.addMessageRoot(root, keccak256(abi.encode("rollup", root)), activatesAt, 0);
            ++rootsRegistered;
            try messenger.relayMessageWithProof(m, proof, root) returns (bool) {
                revert("relayed under an inactive root");
            } catch (bytes memory reason) {
                _requireError(
                    reason,
                    abi.encodeWithSelector(IMessageBusErrors.MessageRootNotActive.selector, root, activatesAt)
                );
            }
        }
        if (block.timestamp < activatesAt) vm.warp(activatesAt);
    }

    function _requireError(bytes memory reason, bytes memory expected) private pure {
        require(keccak256(reason) == keccak256(expected), "unexpected revert reason");
    }
}
