// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IFeeVaultErrors
/// @notice The custom errors of FeeVault, the fee vault. Declared apart from the contract, which inherits them, so
/// that callers decode its reverts from this interface alone.
interface IFeeVaultErrors {
    /// @notice The caller has no vested rewards to claim.
    error NothingToClaim();
    /// @notice The treasury holds only `available`.
    error InsufficientTreasury(uint256 requested, uint256 available);
    /// @notice Basis points above 10,000.
    error InvalidBps(uint256 bps);
    /// @notice The caller is not the rewarder.
    error NotRewarder(address caller);
    /// @notice A reward does not fit in 64 bits.
    error RewardTooLarge(uint256 reward);
    /// @notice Only the deployer may bind the rewarder, once.
    error NotDeployer(address caller);
    /// @notice The rewarder is bound already.
    error RewarderAlreadyBound(address rewarder);
    /// @notice A zero address where one is required.
    error ZeroAddress();
}
