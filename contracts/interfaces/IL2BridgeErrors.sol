// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IL2BridgeErrors
/// @notice The custom errors of L2Bridge, the L2 bridge. Declared apart from the contract, which inherits them, so
/// that callers decode its reverts from this interface alone.
interface IL2BridgeErrors {
    /// @notice The caller is not the L2 MessageBus.
    error NotMessageBus(address caller);
    /// @notice The L1 message does not come from the L1 bridge.
    error NotFromL1Bridge(address l1Sender);
    /// @notice The L1 message has a topic the bridge does not handle.
    error UnknownTopic(uint32 topic);
    /// @notice No wrapped token exists for `l1Token`.
    error UnknownL1Token(address l1Token);
    /// @notice `token` is not a wrapped token of this bridge.
    error UnknownWrappedToken(address token);
    /// @notice A wrapped token exists for `l1Token` already.
    error TokenAlreadyCreated(address l1Token);
    /// @notice Nothing to withdraw.
    error ZeroAmount();
    /// @notice A zero address where one is required.
    error ZeroAddress();
}
