// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ICrossChainMessenger
/// @notice What a target of a relayed L2→L1 call may ask the messenger.
interface ICrossChainMessenger {
    /// @notice During a relayed call: the L2 contract that sent the message. Reverts otherwise.
    function crossChainSender() external view returns (address);
}
