// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IBridge
/// @notice The L1 bridge entry point the L2 bridge's withdrawal messages call through the messenger.
interface IBridge {
    /// @notice Pays out a withdrawal proven on L2. Only via the CrossChainMessenger, from the L2 bridge.
    /// @param token The L1 token, address(0) for ETH.
    function finalizeWithdrawal(address token, address to, uint256 amount) external;
}
