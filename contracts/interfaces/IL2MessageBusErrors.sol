// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IL2MessageBusErrors
/// @notice The custom errors of L2MessageBus, the L2 message bus. Declared apart from the contract, which inherits
/// them, so that callers decode its reverts from this interface alone.
interface IL2MessageBusErrors {
    /// @notice L1 messages must be delivered in order; `expected` is next.
    error L1MessageOutOfOrder(uint64 expected, uint64 given);
    /// @notice The message is not waiting for a retry.
    error L1MessageNotRetryable(bytes32 messageHash);
    /// @notice A zero address where one is required.
    error ZeroAddress();
}
