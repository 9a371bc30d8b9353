// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IFeeVault
/// @notice The part of the FeeVault the RollupRegistry relies on.
interface IFeeVault {
    /// @notice Credits `operator` with the reward for an accepted rollup of `batchCount` batches.
    /// @return reward The amount credited (capped by the vault's unallocated balance).
    function rewardSequencer(address operator, uint256 batchCount) external returns (uint256 reward);
}
