// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title INetworkConfigErrors
/// @notice The custom errors of NetworkConfig, the network's address book. Declared apart from the contract, which
/// inherits them, so that callers decode its reverts from this interface alone.
interface INetworkConfigErrors {
    /// @notice `name` is empty.
    error EmptyName();
    /// @notice No address is set for `name`.
    error AddressNotSet(string name);
    /// @notice The constructor got `names` and `addrs` of different lengths.
    error LengthMismatch(uint256 names, uint256 addrs);
}
