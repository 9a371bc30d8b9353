// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IWrappedERC20Errors
/// @notice The custom errors of WrappedERC20, the wrapped ERC-20s the L2 bridge mints. Declared apart from the
/// contract, which inherits them, so that callers decode its reverts from this interface alone.
interface IWrappedERC20Errors {
    /// @notice The caller is not the bridge.
    error OnlyBridge(address caller);
}
