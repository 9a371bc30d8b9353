// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IBridgeErrors
/// @notice The custom errors of Bridge, the L1 bridge. Declared apart from the contract, which inherits them, so
/// that callers decode its reverts from this interface alone.
interface IBridgeErrors {
    /// @notice `token` is not registered.
    error TokenNotRegistered(address token);
    /// @notice `token` is registered already.
    error TokenAlreadyRegistered(address token);
    /// @notice `token` is paused.
    error TokenIsPaused(address token);
    /// @notice `token` has no code.
    error NotAContract(address token);
    /// @notice Registration is restricted to TOKEN_ADMIN_ROLE.
    error RegistrationRestricted(address caller);
    /// @notice The deposit would credit nothing.
    error ZeroAmount();
    /// @notice A zero address where one is required.
    error ZeroAddress();
    /// @notice `msg.value` does not cover the message fee.
    error IncorrectFee(uint256 sent, uint256 fee);
    /// @notice The message fee is above the most the depositor accepted.
    error FeeAboveMax(uint256 fee, uint256 maxFee);
    /// @notice `finalizeWithdrawal` was not called by the messenger.
    error NotMessenger(address caller);
    /// @notice The relayed message does not come from the L2 bridge.
    error NotFromL2Bridge(address l2Sender);
}
