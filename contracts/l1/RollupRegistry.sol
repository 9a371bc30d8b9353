// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {
    AccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IEnclaveRegistry} from "../interfaces/IEnclaveRegistry.sol";
import {IFeeVault} from "../interfaces/IFeeVault.sol";
import {MessageBus} from "./MessageBus.sol";

/// @title RollupRegistry
/// @notice Accepts rollups signed by an attested sequencer enclave. Each rollup is bound to a recent L1
/// block (so a reorg of that block invalidates it), continues the batch sequence without gaps, and
/// commits to its data (calldata or blob). Its L2→L1 message root becomes usable in the MessageBus
/// after the challenge period, during which a guardian may reject it.
///
/// Payloads are encrypted with one key per revelation epoch (`EPOCH_LENGTH` L1 blocks, counted from the
/// rollup's binding block). Each epoch's key is committed with its first rollup and may be published with
/// `revealEpochKey` once `revelationPeriod` L1 blocks have passed after the epoch's end; from then on
/// anyone can decrypt that epoch's rollups (`npx veilnet decrypt`).
/// @dev Trust model: there are no fraud or validity proofs. Safety of withdrawals rests on the enclave
/// attestation (only attested code holds a sequencer key) and on the guardian, who can reject a rollup's
/// messages during the challenge period. See docs/trust-model.md.
contract RollupRegistry is EIP712, AccessControlDefaultAdminRules, Pausable {
    /// @notice What a sequencer signs (EIP-712 struct `RollupHeader`).
    /// @param firstBatchSeq Sequence number of the first batch in the rollup.
    /// @param lastBatchSeq Sequence number of the last batch in the rollup.
    /// @param lastBatchHash Hash of the last batch (the L2 head the rollup commits to).
    /// @param l1BlockNumber L1 block the rollup was built against (reorg anchor).
    /// @param l1BlockHash Hash of that block.
    /// @param messageRoot Root of the rollup's L2→L1 message tree (zero when it has none).
    /// @param payloadHash keccak256 of the calldata payload, or the versioned hash of the blob carrying it.
    /// @param revelationEpoch Epoch of the key the payload is encrypted with.
    /// @param keyCommitment Commitment to that epoch's key (revealed after the revelation period).
    struct RollupHeader {
        uint64 firstBatchSeq;
        uint64 lastBatchSeq;
        bytes32 lastBatchHash;
        uint64 l1BlockNumber;
        bytes32 l1BlockHash;
        bytes32 messageRoot;
        bytes32 payloadHash;
        uint64 revelationEpoch;
        bytes32 keyCommitment;
    }

    /// @notice May reject rollups during their challenge period.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @notice May pause and unpause rollup submission.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice EIP-712 type hash of `RollupHeader`.
    bytes32 public constant ROLLUP_HEADER_TYPEHASH =
        keccak256(
            "RollupHeader(uint64 firstBatchSeq,uint64 lastBatchSeq,bytes32 lastBatchHash,uint64 l1BlockNumber,"
            "bytes32 l1BlockHash,bytes32 messageRoot,bytes32 payloadHash,uint64 revelationEpoch,bytes32 keyCommitment)"
        );
    /// @notice How far back the binding block may be (the EVM's `blockhash` window).
    uint256 public constant MAX_BINDING_AGE = 256;
    /// @notice L1 blocks per revelation epoch: a rollup bound to L1 block `n` is in epoch `n / EPOCH_LENGTH`.
    uint64 public constant EPOCH_LENGTH = 7200;
    /// @notice Shortest revelation period, in L1 blocks. Once a key is revealable no rollup can be bound to
    /// its epoch any more (binding blocks are at most `MAX_BINDING_AGE` old), so nothing new is ever
    /// encrypted under a published key.
    uint64 public constant MIN_REVELATION_PERIOD = uint64(MAX_BINDING_AGE);

    /// @notice Emitted for every accepted rollup.
    event RollupAdded(
        bytes32 indexed rollupHash,
        uint64 firstSeq,
        uint64 lastSeq,
        bytes32 messageRoot,
        address indexed sequencer
    );
    /// @notice Emitted when the guardian rejects a rollup.
    event RollupRejected(bytes32 indexed rollupHash, bytes32 messageRoot, address indexed guardian);
    /// @notice Emitted when the challenge period changes.
    event ChallengePeriodSet(uint32 challengePeriod);
    /// @notice Emitted when a revelation epoch is first used, with its key commitment.
    event EpochKeyCommitted(uint64 indexed epoch, bytes32 keyCommitment);
    /// @notice Emitted when the revelation period changes.
    event RevelationPeriodSet(uint64 revelationPeriod);
    /// @notice Emitted when an epoch's key is published: its rollups can be decrypted by anyone.
    event EpochKeyRevealed(uint64 indexed epoch, bytes32 key);

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

    IEnclaveRegistry public immutable enclaveRegistry;
    MessageBus public immutable messageBus;
    IFeeVault public immutable feeVault;

    // Packs with Pausable's flag: one slot read and written per rollup.
    uint64 private _nextBatchSeq;
    uint64 private _rollupCount;
    uint64 private _currentEpoch;
    uint32 public challengePeriod;
    /// @notice L1 blocks after the end of an epoch before its key may be revealed (`revealableAt`).
    uint64 public revelationPeriod;

    /// @notice keccak256 of each epoch's key, committed by the epoch's first rollup (zero: no rollup).
    mapping(uint64 epoch => bytes32 keyCommitment) public epochKeyCommitment;
    /// @notice Each revealed epoch's key (zero: not revealed).
    mapping(uint64 epoch => bytes32 key) public epochKey;

    /// @param admin Receives DEFAULT_ADMIN_ROLE (in a deployment: the timelock).
    /// @param adminDelay Seconds a DEFAULT_ADMIN_ROLE transfer waits before it can be accepted.
    /// @param guardian Receives GUARDIAN_ROLE and PAUSER_ROLE.
    /// @param enclaves The EnclaveRegistry deciding who may sign rollups.
    /// @param bus The MessageBus where message roots are registered (bound to this contract).
    /// @param vault The FeeVault crediting sequencer rewards (its rewarder is bound to this contract).
    /// @param challengePeriod_ Seconds from acceptance until a rollup's messages may be consumed.
    /// @param revelationPeriod_ L1 blocks after an epoch's end until its key may be revealed (at least
    /// `MIN_REVELATION_PERIOD`).
    constructor(
        address admin,
        uint48 adminDelay,
        address guardian,
        IEnclaveRegistry enclaves,
        MessageBus bus,
        IFeeVault vault,
        uint32 challengePeriod_,
        uint64 revelationPeriod_
    ) EIP712("VeilnetRollupRegistry", "1") AccessControlDefaultAdminRules(adminDelay, admin) {
        if (
            guardian == address(0) ||
            address(enclaves) == address(0) ||
            address(bus) == address(0) ||
            address(vault) == address(0)
        ) revert ZeroValue();
        _grantRole(GUARDIAN_ROLE, guardian);
        _grantRole(PAUSER_ROLE, guardian);
        enclaveRegistry = enclaves;
        messageBus = bus;
        feeVault = vault;
        challengePeriod = challengePeriod_;
        emit ChallengePeriodSet(challengePeriod_);
        _setRevelationPeriod(revelationPeriod_);
    }

    /// @notice Submits a rollup. `signature` is the sequencer enclave's EIP-712 signature of `header`.
    /// Data availability: with a non-empty `payload`, `header.payloadHash` must be its keccak256; with an
    /// empty `payload`, the transaction must carry a blob whose versioned hash is `header.payloadHash`.
    /// `header.revelationEpoch` must be the epoch of the binding block, so a sequencer cannot push a
    /// rollup into a later epoch to delay its reveal.
    /// @return rollupHash The EIP-712 struct hash of `header`, the rollup's identifier.
    function addRollup(
        RollupHeader calldata header,
        bytes calldata payload,
        bytes calldata signature
    ) external whenNotPaused returns (bytes32 rollupHash) {
        rollupHash = hashRollupHeader(header);
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(_hashTypedDataV4(rollupHash), signature);
        if (err != ECDSA.RecoverError.NoError) revert InvalidSignature();
        // Reverts NotSequencer for unattested, revoked and non-sequencer signers alike.
        address operator = enclaveRegistry.sequencerOperator(signer);

        _checkBinding(header.l1BlockNumber, header.l1BlockHash);
        _checkPayload(header.payloadHash, payload);

        uint64 expected = _nextBatchSeq;
        if (header.firstBatchSeq != expected) revert BatchSequenceGap(expected, header.firstBatchSeq);
        if (header.lastBatchSeq < header.firstBatchSeq) {
            revert InvalidBatchRange(header.firstBatchSeq, header.lastBatchSeq);
        }
        _checkEpoch(header.l1BlockNumber, header.revelationEpoch, header.keyCommitment);

        _nextBatchSeq = header.lastBatchSeq + 1;
        ++_rollupCount;

        if (header.messageRoot != bytes32(0)) {
            messageBus.addMessageRoot(header.messageRoot, rollupHash, uint64(block.timestamp) + challengePeriod);
        }
        emit RollupAdded(rollupHash, header.firstBatchSeq, header.lastBatchSeq, header.messageRoot, signer);
        feeVault.rewardSequencer(operator, uint256(header.lastBatchSeq - header.firstBatchSeq) + 1);
    }

    /// @notice Rejects an accepted rollup during its challenge period: its message root never activates.
    /// Only rollups that carry messages can be rejected (others move no value to L1).
    function rejectRollup(RollupHeader calldata header) external onlyRole(GUARDIAN_ROLE) {
        bytes32 rollupHash = hashRollupHeader(header);
        MessageBus.MessageRoot memory r = messageBus.messageRoot(header.messageRoot);
        if (r.activatesAt == 0 || r.rollupTag != bytes23(rollupHash)) revert UnknownRollup(rollupHash);
        if (r.rejected) revert RollupAlreadyRejected(rollupHash);
        // slither-disable-next-line timestamp
        if (block.timestamp >= r.activatesAt) revert ChallengePeriodOver(rollupHash, r.activatesAt);
        messageBus.rejectMessageRoot(header.messageRoot);
        emit RollupRejected(rollupHash, header.messageRoot, msg.sender);
    }

    /// @notice Sets the challenge period for rollups accepted from now on.
    function setChallengePeriod(uint32 challengePeriod_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        challengePeriod = challengePeriod_;
        emit ChallengePeriodSet(challengePeriod_);
    }

    /// @notice Sets the revelation period (at least `MIN_REVELATION_PERIOD`); it applies to every epoch whose
    /// key is not revealed yet.
    function setRevelationPeriod(uint64 revelationPeriod_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setRevelationPeriod(revelationPeriod_);
    }

    /// @notice Publishes the key of `epoch`. Anyone may call it with the right key (it is checked against
    /// the epoch's commitment) once `revealableAt(epoch)` is reached; the sequencer node's epoch-revealer
    /// does. Not stopped by `pause`: pausing halts rollups, not the reveal of past ones.
    /// @dev A zero key is refused (ZeroValue): keys are keccak256 outputs, and zero means "not revealed".
    function revealEpochKey(uint64 epoch, bytes32 key) external {
        bytes32 committed = epochKeyCommitment[epoch];
        if (committed == bytes32(0)) revert EpochNotCommitted(epoch);
        uint256 from = revealableAt(epoch);
        if (block.number < from) revert EpochKeyNotRevealable(epoch, from);
        if (epochKey[epoch] != bytes32(0)) revert EpochKeyAlreadyRevealed(epoch);
        if (key == bytes32(0)) revert ZeroValue();
        bytes32 keyHash = keccak256(abi.encodePacked(key));
        if (keyHash != committed) revert EpochKeyMismatch(epoch, committed, keyHash);
        epochKey[epoch] = key;
        emit EpochKeyRevealed(epoch, key);
    }

    /// @notice Stops rollup submission.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Resumes rollup submission.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    /// @notice The batch sequence number the next rollup must start at.
    function nextBatchSeq() external view returns (uint64) {
        return _nextBatchSeq;
    }

    /// @notice Number of rollups accepted.
    function rollupCount() external view returns (uint64) {
        return _rollupCount;
    }

    /// @notice The highest revelation epoch used so far.
    function currentEpoch() external view returns (uint64) {
        return _currentEpoch;
    }

    /// @notice The first L1 block at which the key of `epoch` may be revealed: the epoch's end
    /// (`(epoch + 1) * EPOCH_LENGTH`) plus the current `revelationPeriod`.
    function revealableAt(uint64 epoch) public view returns (uint256) {
        return (uint256(epoch) + 1) * EPOCH_LENGTH + revelationPeriod;
    }

    /// @notice The rollup identifier: EIP-712 struct hash of `header`.
    function hashRollupHeader(RollupHeader calldata header) public pure returns (bytes32) {
        return keccak256(abi.encode(ROLLUP_HEADER_TYPEHASH, header));
    }

    /// @notice The EIP-712 digest a sequencer signs for `header`.
    function rollupDigest(RollupHeader calldata header) external view returns (bytes32) {
        return _hashTypedDataV4(hashRollupHeader(header));
    }

    function _checkBinding(uint64 number, bytes32 hash) private view {
        if (number >= block.number) revert BindingBlockNotMined(number);
        if (block.number - number > MAX_BINDING_AGE) revert BindingBlockTooOld(number);
        bytes32 actual = blockhash(number);
        if (actual != hash) revert BindingBlockHashMismatch(number, hash, actual);
    }

    function _checkPayload(bytes32 expected, bytes calldata payload) private view {
        bytes32 actual;
        if (payload.length == 0) {
            actual = blobhash(0);
            if (actual == bytes32(0)) revert MissingPayload();
        } else {
            actual = keccak256(payload);
        }
        if (actual != expected) revert PayloadHashMismatch(expected, actual);
    }

    function _checkEpoch(uint64 l1BlockNumber, uint64 epoch, bytes32 commitment) private {
        uint64 expected = l1BlockNumber / EPOCH_LENGTH;
        if (epoch != expected) revert RevelationEpochMismatch(l1BlockNumber, expected, epoch);
        uint64 current = _currentEpoch;
        if (epoch < current) revert RevelationEpochDecreased(current, epoch);
        bytes32 committed = epochKeyCommitment[epoch];
        if (committed == bytes32(0)) {
            if (commitment == bytes32(0)) revert ZeroValue();
            epochKeyCommitment[epoch] = commitment;
            _currentEpoch = epoch;
            emit EpochKeyCommitted(epoch, commitment);
        } else if (committed != commitment) {
            revert KeyCommitmentMismatch(epoch, committed, commitment);
        }
    }

    function _setRevelationPeriod(uint64 revelationPeriod_) private {
        if (revelationPeriod_ < MIN_REVELATION_PERIOD) {
            revert RevelationPeriodTooShort(revelationPeriod_, MIN_REVELATION_PERIOD);
        }
        revelationPeriod = revelationPeriod_;
        emit RevelationPeriodSet(revelationPeriod_);
    }
}
