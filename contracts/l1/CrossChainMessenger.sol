// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {BitMaps} from "@openzeppelin/contracts/utils/structs/BitMaps.sol";

import {ICrossChainMessengerErrors} from "../interfaces/ICrossChainMessengerErrors.sol";
import {ICrossChainMessenger} from "../interfaces/ICrossChainMessenger.sol";
import {IMessageBus} from "../interfaces/IMessageBus.sol";
import {CrossChain} from "../libraries/CrossChain.sol";

/// @title CrossChainMessenger (L1)
/// @notice Executes L2→L1 calls: anyone relays a `TOPIC_CALL` message with its Merkle proof against an
/// active message root; the messenger calls the target, which reads the L2 sender from
/// `crossChainSender()`. Each message is consumed once (a bitmap over L2 message sequence numbers). A
/// call that fails at the target is recorded and may be retried by anyone, never lost; a call that
/// succeeded never runs again. A call that fails because the relayer gave it too little gas reverts the
/// whole relay instead, so no one can mark a message failed by starving it.
contract CrossChainMessenger is
    ICrossChainMessenger,
    ICrossChainMessengerErrors,
    AccessControlDefaultAdminRules,
    ReentrancyGuardTransient,
    Pausable
{
    using BitMaps for BitMaps.BitMap;

    /// @notice May pause and unpause relaying (the guardian).
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @notice Emitted when the call in message `sequence` ran successfully.
    event MessageRelayed(bytes32 indexed leaf, uint64 indexed sequence, address indexed target);
    /// @notice Emitted when the call in message `sequence` failed; it can be retried with `retryMessage`.
    event MessageRelayFailed(bytes32 indexed leaf, uint64 indexed sequence, address indexed target, bytes reason);

    IMessageBus public immutable messageBus;

    BitMaps.BitMap private _relayed;
    /// @notice Leaves of messages whose call failed and may be retried.
    mapping(bytes32 leaf => bool) public failedMessages;

    address private transient _xSender;

    /// @param admin Receives DEFAULT_ADMIN_ROLE (transferred in two delayed steps).
    /// @param adminDelay Delay of a DEFAULT_ADMIN_ROLE transfer, in seconds.
    /// @param guardian Receives PAUSER_ROLE.
    /// @param bus The MessageBus holding the message roots.
    constructor(
        address admin,
        uint48 adminDelay,
        address guardian,
        IMessageBus bus
    ) AccessControlDefaultAdminRules(adminDelay, _nonZero(admin)) {
        if (guardian == address(0) || address(bus) == address(0)) revert ZeroAddress();
        _grantRole(PAUSER_ROLE, guardian);
        messageBus = bus;
    }

    /// @notice Relays L2→L1 call `message`, proven by `proof` against `root`. Anyone may call.
    /// @return success Whether the target call succeeded (when it did not, the message is retryable).
    function relayMessageWithProof(
        CrossChain.Message calldata message,
        bytes32[] calldata proof,
        bytes32 root
    ) external whenNotPaused nonReentrant returns (bool success) {
        if (message.topic != CrossChain.TOPIC_CALL) revert NotACallMessage(message.topic);
        bytes32 leaf = messageBus.verifyMessageInclusion(message, proof, root);
        if (_relayed.get(message.sequence)) revert MessageAlreadyRelayed(message.sequence);
        _relayed.set(message.sequence);

        (address target, bytes memory data) = _decodeCall(message.payload);
        bytes memory reason;
        (success, reason) = _call(message.sender, target, data);
        if (success) {
            emit MessageRelayed(leaf, message.sequence, target);
        } else {
            failedMessages[leaf] = true;
            emit MessageRelayFailed(leaf, message.sequence, target, reason);
        }
    }

    /// @notice Runs again the call of a relayed message whose call failed. Anyone may call; the whole
    /// transaction reverts with the target's error if it fails again, leaving the message retryable.
    function retryMessage(CrossChain.Message calldata message) external whenNotPaused nonReentrant {
        bytes32 leaf = CrossChain.leafHash(message);
        if (!failedMessages[leaf]) revert MessageNotRetryable(leaf);
        failedMessages[leaf] = false;
        (address target, bytes memory data) = _decodeCall(message.payload);
        (bool success, bytes memory reason) = _call(message.sender, target, data);
        if (!success) {
            assembly ("memory-safe") {
                revert(add(reason, 0x20), mload(reason))
            }
        }
        emit MessageRelayed(leaf, message.sequence, target);
    }

    /// @inheritdoc ICrossChainMessenger
    function crossChainSender() external view returns (address sender) {
        sender = _xSender;
        if (sender == address(0)) revert NotInRelayedCall();
    }

    /// @notice Whether L2 message `sequence` was relayed (successfully or not).
    function isRelayed(uint64 sequence) external view returns (bool) {
        return _relayed.get(sequence);
    }

    /// @notice Stops relaying and retries.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Resumes relaying and retries.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    function _nonZero(address account) private pure returns (address) {
        if (account == address(0)) revert ZeroAddress();
        return account;
    }

    /// @dev Checks that `payload` is a canonical `abi.encode(address, bytes)` before decoding, so junk
    /// published by an L2 contract fails with `MalformedCallPayload` rather than an empty revert.
    function _decodeCall(bytes calldata payload) private pure returns (address target, bytes memory data) {
        if (payload.length < 0x60) revert MalformedCallPayload();
        uint256 targetWord = uint256(bytes32(payload[0:0x20]));
        uint256 offset = uint256(bytes32(payload[0x20:0x40]));
        uint256 length = uint256(bytes32(payload[0x40:0x60]));
        if (targetWord > type(uint160).max || offset != 0x40 || length > payload.length - 0x60) {
            revert MalformedCallPayload();
        }
        return (address(uint160(targetWord)), payload[0x60:0x60 + length]);
    }

    /// @dev A failure that leaves less than 1/63 of the gas the call started with is treated as the call
    /// running out of gas (the EVM forwards at most 63/64 of it): the relay reverts rather than recording
    /// a failure the relayer caused.
    function _call(address sender, address target, bytes memory data) private returns (bool, bytes memory) {
        _xSender = sender;
        uint256 gasBefore = gasleft();
        // slither-disable-next-line low-level-calls
        (bool success, bytes memory reason) = target.call(data);
        _xSender = address(0);
        if (!success && gasleft() <= gasBefore / 63) revert InsufficientGasForCall();
        return (success, reason);
    }
}
