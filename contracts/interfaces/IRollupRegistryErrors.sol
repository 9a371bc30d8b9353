// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IRollupRegistryErrors
/// @notice The custom errors of RollupRegistry, the rollup registry. Declared apart from the contract, which
/// inherits them, so that callers decode its reverts from this interface alone.
interface IRollupRegistryErrors {
    /// @notice A committee signature is malformed (not 65 bytes of r, s, v with a low s).
    error InvalidSignature();
    /// @notice The OperatorRegistry has no active committee yet: no rollup is accepted.
    error NoActiveCommittee();
    /// @notice The active committee `committeeId` is liquidated: its rollups are refused until reactivated.
    error CommitteeLiquidated(uint64 committeeId);
    /// @notice `given` members were sent; the active committee `committeeId` has `size`.
    error CommitteeSizeMismatch(uint64 committeeId, uint8 size, uint256 given);
    /// @notice The members sent hash to `given`, not to the active committee's recorded `signersHash`.
    error WrongCommitteeMembers(uint64 committeeId, bytes32 signersHash, bytes32 given);
    /// @notice The committee's signers were recorded at revocation generation `signersGeneration`; the
    /// EnclaveRegistry is at `current` (an enclave was revoked since): someone must call the
    /// OperatorRegistry's `refreshCommitteeSigners`.
    error StaleCommitteeSigners(uint64 committeeId, uint64 signersGeneration, uint64 current);
    /// @notice `signerBitmap` has a bit at or above the committee's `size`.
    error SignerBitmapOutOfRange(uint256 signerBitmap, uint8 size);
    /// @notice `signers` members signed; the committee needs `quorum` (and never fewer than one).
    error QuorumNotReached(uint64 committeeId, uint256 signers, uint8 quorum);
    /// @notice `signatures` is `length` bytes long; the bitmap's signers need `expected` (65 each).
    error SignaturesLengthMismatch(uint256 length, uint256 expected);
    /// @notice The signature for member `memberIndex` (`member`) recovers to `recovered`.
    error SignerMismatch(uint256 memberIndex, address member, address recovered);
    /// @notice The rollup's `previousBatchHash` is `given`; the last accepted rollup ended at `expected`.
    error PreviousBatchHashMismatch(bytes32 expected, bytes32 given);
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
    /// @notice A threshold-signed rollup for a committee that has registered no threshold key.
    error NoCommitteeKey(uint64 committeeId);
    /// @notice A threshold-signed rollup carrying another key than the committee's registered one.
    error WrongCommitteeKey(uint64 committeeId, bytes32 registered, bytes32 given);
    /// @notice `registerCommitteeKey` with a proof of possession that does not verify.
    error InvalidProofOfPossession(uint64 committeeId);
    /// @notice Rollup submission is paused (as OpenZeppelin's Pausable).
    error EnforcedPause();
    /// @notice Rollup submission is not paused (as OpenZeppelin's Pausable).
    error ExpectedPause();
}
