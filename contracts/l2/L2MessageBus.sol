// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IL1MessageReceiver} from "../interfaces/IL1MessageReceiver.sol";
import {IL2MessageBusErrors} from "../interfaces/IL2MessageBusErrors.sol";
import {CrossChain} from "../libraries/CrossChain.sol";

/// @title L2MessageBus
/// @notice The L2 side of the message bus, a predeploy of the L2 genesis.
/// L2→L1: `publishMessage` emits `MessagePublished`; the enclave collects these into each batch's
/// cross-chain message tree, whose root the rollup carries to L1.
/// L1→L2: the enclave's system account delivers L1 messages strictly in L1 `sequence` order, each
/// exactly once, to the receiver registered for the L1 sender. The L1 bus stores no per-sender nonce;
/// this bus assigns it at delivery (the count of the sender's earlier L1 messages) and hands
/// receivers the full message. A delivery that fails at the receiver is recorded and may be
/// retried; it never blocks the messages after it.
contract L2MessageBus is IL2MessageBusErrors, AccessControl {
    /// @notice Held by the enclave's system account: delivers L1 messages.
    bytes32 public constant SYSTEM_ROLE = keccak256("SYSTEM_ROLE");

    /// @notice Emitted for every L2→L1 message (same shape as the L1 bus's event).
    event MessagePublished(
        address indexed sender,
        uint64 sequence,
        uint64 nonce,
        uint32 topic,
        bytes payload,
        uint8 consistencyLevel
    );
    /// @notice Emitted for every L1 message delivered, with the per-sender nonce it was given; `receiver`
    /// is zero when none is registered.
    event L1MessageDelivered(
        uint64 indexed sequence,
        address indexed l1Sender,
        address indexed receiver,
        uint64 nonce
    );
    /// @notice Emitted when the receiver of L1 message `sequence` failed; retry with `retryL1Message`.
    event L1MessageFailed(uint64 indexed sequence, bytes32 indexed messageHash, bytes reason);
    /// @notice Emitted when a retry of failed L1 message `sequence` succeeded; it is no longer retryable.
    event L1MessageRetried(uint64 indexed sequence, bytes32 indexed messageHash, address indexed receiver);
    /// @notice Emitted when L1 sender `l1Sender`'s messages go to `receiver`.
    event ReceiverSet(address indexed l1Sender, address indexed receiver);

    uint64 private _nextSequence;
    uint64 private _nextL1Sequence;
    mapping(address sender => uint64) private _nonces;
    mapping(address l1Sender => uint64) private _l1Nonces;
    mapping(address l1Sender => address receiver) public receivers;
    /// @notice Hashes of L1 messages whose delivery failed and may be retried.
    mapping(bytes32 messageHash => bool) public failedL1Messages;

    /// @param admin Receives DEFAULT_ADMIN_ROLE (registers receivers).
    /// @param system Receives SYSTEM_ROLE (the enclave's system account).
    constructor(address admin, address system) {
        if (admin == address(0) || system == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(SYSTEM_ROLE, system);
    }

    /// @notice Publishes an L2→L1 message.
    function publishMessage(
        uint32 topic,
        bytes calldata payload,
        uint8 consistencyLevel
    ) external returns (uint64 sequence) {
        sequence = _nextSequence++;
        uint64 nonce = _nonces[msg.sender]++;
        emit MessagePublished(msg.sender, sequence, nonce, topic, payload, consistencyLevel);
    }

    /// @notice Delivers the next L1 message, numbering it in its sender's messages. Only the system
    /// account, strictly in L1 order.
    function deliverMessage(CrossChain.L1Message calldata l1Message) external onlyRole(SYSTEM_ROLE) {
        uint64 expected = _nextL1Sequence;
        if (l1Message.sequence != expected) revert L1MessageOutOfOrder(expected, l1Message.sequence);
        _nextL1Sequence = expected + 1;
        uint64 nonce = _l1Nonces[l1Message.sender]++;
        address receiver = receivers[l1Message.sender];
        emit L1MessageDelivered(l1Message.sequence, l1Message.sender, receiver, nonce);
        if (receiver == address(0)) return;
        CrossChain.Message memory message = CrossChain.Message({
            sender: l1Message.sender,
            sequence: l1Message.sequence,
            nonce: nonce,
            topic: l1Message.topic,
            payload: l1Message.payload,
            consistencyLevel: l1Message.consistencyLevel
        });
        // slither-disable-next-line low-level-calls
        (bool ok, bytes memory reason) = receiver.call(abi.encodeCall(IL1MessageReceiver.onL1Message, (message)));
        if (!ok) {
            bytes32 h = keccak256(abi.encode(message));
            failedL1Messages[h] = true;
            emit L1MessageFailed(message.sequence, h, reason);
        }
    }

    /// @notice Retries a failed L1 message delivery. Anyone may call; reverts with the receiver's
    /// error (leaving it retryable) if it fails again.
    function retryL1Message(CrossChain.Message calldata message) external {
        bytes32 h = keccak256(abi.encode(message));
        if (!failedL1Messages[h]) revert L1MessageNotRetryable(h);
        failedL1Messages[h] = false;
        address receiver = receivers[message.sender];
        IL1MessageReceiver(receiver).onL1Message(message);
        emit L1MessageRetried(message.sequence, h, receiver);
    }

    /// @notice Sends the messages of L1 contract `l1Sender` to L2 contract `receiver`.
    function setReceiver(address l1Sender, address receiver) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (l1Sender == address(0)) revert ZeroAddress();
        receivers[l1Sender] = receiver;
        emit ReceiverSet(l1Sender, receiver);
    }

    /// @notice The sequence of the next L2→L1 message.
    function nextSequence() external view returns (uint64) {
        return _nextSequence;
    }

    /// @notice The nonce the next L1 message of `l1Sender` gets (= its L1 messages delivered so far).
    function l1NonceOf(address l1Sender) external view returns (uint64) {
        return _l1Nonces[l1Sender];
    }

    /// @notice The sequence of the next L1 message to deliver (= L1 messages delivered so far).
    function nextL1Sequence() external view returns (uint64) {
        return _nextL1Sequence;
    }
}
