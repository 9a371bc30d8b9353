// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IFeeVault
/// @notice The part of the FeeVault the RollupRegistry relies on.
interface IFeeVault {
    /// @notice Credits `operator` with the reward for an accepted rollup of `batchCount` batches. The
    /// reward vests at `vestsAt` (the end of the rollup's challenge period); until then a rejection
    /// forfeits it (`forfeitUnvestedRewards`).
    /// @return reward The amount credited in wei (capped by the vault's unallocated balance, rounded down
    /// to a whole gwei).
    function rewardSequencer(address operator, uint256 batchCount, uint64 vestsAt) external returns (uint256 reward);

    /// @notice Forfeits every reward not vested yet (called by the RollupRegistry when the guardian
    /// rejects a rollup): the rollups they paid for may be invalid. The amounts return to the reward
    /// budget as each operator's account is next settled.
    function forfeitUnvestedRewards() external;
}
