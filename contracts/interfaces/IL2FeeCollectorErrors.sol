// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IL2FeeCollectorErrors
/// @notice The custom errors of L2FeeCollector, the L2 fee collector. Declared apart from the contract, which
/// inherits them, so that callers decode its reverts from this interface alone.
interface IL2FeeCollectorErrors {
    /// @notice Nothing to flush.
    error NothingToFlush();
    /// @notice A zero address where one is required.
    error ZeroAddress();
}
