// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IRollupRegistryErrors
/// @notice The custom errors of RollupRegistry, the rollup registry. Declared apart from the contract, which
/// inherits them, so that callers decode its reverts from this interface alone.
interface IRollupRegistryErrors {
    /// @notice The signature is malformed.
    error InvalidSignature();
    /// @notice The binding block `blockNumber` is not yet mined (it must be before the current block).
    error BindingBlockNotMined(uint64 blockNumber);
    /// @notice The binding block `blockNumber` is more than 256 blocks old.
    error BindingBlockTooOld(uint64 blockNumber);
    /// @notice The binding block hash does not match the chain (reorged away or wrong).
    error BindingBlockHashMismatch(uint64 blockNumber, bytes32 expected, bytes32 actual);
    /// @notice The rollup must start at batch `expected`.
    error BatchSequenceGap(uint64 expected, uint64 firstBatchSeq);
    /// @notice `lastBatchSeq` is below `firstBatchSeq`.
    error InvalidBatchRange(uint64 firstBatchSeq, uint64 lastBatchSeq);
    /// @notice The rollup spans `batches` batches; its payload allows at most `maximum` (one per calldata
    /// byte, and never more than `MAX_BATCHES_PER_ROLLUP`).
    error TooManyBatches(uint256 batches, uint256 maximum);
    /// @notice The challenge period is outside `[minimum, maximum]`.
    error ChallengePeriodOutOfRange(uint32 challengePeriod, uint32 minimum, uint32 maximum);
    /// @notice The data sent does not hash to `payloadHash`.
    error PayloadHashMismatch(bytes32 expected, bytes32 actual);
    /// @notice Neither a calldata payload nor a blob was sent.
    error MissingPayload();
    /// @notice The revelation epoch went backwards.
    error RevelationEpochDecreased(uint64 current, uint64 given);
    /// @notice The key commitment differs from the one already committed for the epoch.
    error KeyCommitmentMismatch(uint64 epoch, bytes32 committed, bytes32 given);
    /// @notice The header's revelation epoch is not the epoch of its binding block (`l1BlockNumber / EPOCH_LENGTH`).
    error RevelationEpochMismatch(uint64 l1BlockNumber, uint64 expected, uint64 given);
    /// @notice No rollup committed a key for `epoch`.
    error EpochNotCommitted(uint64 epoch);
    /// @notice The key of `epoch` may be revealed from L1 block `revealableAt` on.
    error EpochKeyNotRevealable(uint64 epoch, uint256 revealableAt);
    /// @notice keccak256 of the key (`keyHash`) is not the epoch's commitment.
    error EpochKeyMismatch(uint64 epoch, bytes32 committed, bytes32 keyHash);
    /// @notice The key of `epoch` was revealed already.
    error EpochKeyAlreadyRevealed(uint64 epoch);
    /// @notice The revelation period is below `MIN_REVELATION_PERIOD`.
    error RevelationPeriodTooShort(uint64 revelationPeriod, uint64 minimum);
    /// @notice No rollup with this header was accepted (or it carried no messages).
    error UnknownRollup(bytes32 rollupHash);
    /// @notice The challenge period of the rollup ended at `endedAt`.
    error ChallengePeriodOver(bytes32 rollupHash, uint64 endedAt);
    /// @notice The rollup was rejected already.
    error RollupAlreadyRejected(bytes32 rollupHash);
    /// @notice A zero value where one is required.
    error ZeroValue();
    /// @notice Rollup submission is paused (as OpenZeppelin's Pausable).
    error EnforcedPause();
    /// @notice Rollup submission is not paused (as OpenZeppelin's Pausable).
    error ExpectedPause();
}
