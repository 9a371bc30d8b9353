// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CrossChain} from "../libraries/CrossChain.sol";

/// @title IMessageBus
/// @notice Publishing of L1→L2 messages and verification of L2→L1 messages.
interface IMessageBus {
    /// @notice Emitted for every message published; the enclave applies them in `sequence` order. The
    /// per-sender nonce is not stored on L1: the L2MessageBus assigns it when it delivers the message
    /// (it is the number of earlier messages of `sender`, which the total order determines).
    event MessagePublished(
        address indexed sender,
        uint64 sequence,
        uint32 topic,
        bytes payload,
        uint8 consistencyLevel
    );

    /// @notice Publishes a message to the L2. `msg.value` must equal `messageFee()`.
    function publishMessage(
        uint32 topic,
        bytes calldata payload,
        uint8 consistencyLevel
    ) external payable returns (uint64 sequence);

    /// @notice The fee in wei every `publishMessage` call must carry.
    function messageFee() external view returns (uint256);

    /// @notice Reverts unless `message` is in the tree of `root` and `root` is active and not rejected.
    /// @return leaf The message's leaf hash.
    function verifyMessageInclusion(
        CrossChain.Message calldata message,
        bytes32[] calldata proof,
        bytes32 root
    ) external view returns (bytes32 leaf);
}
