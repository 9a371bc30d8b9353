// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {
    AccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IEnclaveRegistry} from "../interfaces/IEnclaveRegistry.sol";
import {IFeeVault} from "../interfaces/IFeeVault.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {IOperatorRegistryCommittees} from "../interfaces/IOperatorRegistryCommittees.sol";
import {IRollupRegistryErrors} from "../interfaces/IRollupRegistryErrors.sol";
import {BLS12381} from "../libraries/BLS12381.sol";
import {MessageBus} from "./MessageBus.sol";

/// @title RollupRegistry
/// @notice Accepts rollups signed by a quorum of the OperatorRegistry's active committee (DESIGN §9.1):
/// at least `quorum` of its `size` members' attested sequencer enclaves, either each with its own ECDSA key
/// or together with the committee's threshold BLS12-381 key (DESIGN §9.4: one signature recovered from
/// `quorum` shares, verified with the EIP-2537 precompiles). A committee's threshold key is registered by
/// `registerCommitteeKey` with the approval of every member enclave and a proof of possession: no role can
/// set it. Each rollup is bound to a recent L1
/// block (so a reorg of that block invalidates it), continues the batch sequence without gaps and the
/// chain of batch hashes (`previousBatchHash`), commits to its data (calldata or blob), and spans at most
/// as many batches as its payload can carry.
/// Its L2→L1 message root becomes usable in the MessageBus after the challenge period, during which a
/// guardian may reject it.
///
/// A rejection invalidates the rejected rollup and every rollup after it (they were built on its state),
/// in O(1) (see MessageBus), and reopens the batch sequence at the rejected rollup's first batch, so the
/// committee can post a corrected rollup (possibly carrying the same withdrawals, which then become
/// relayable after its own challenge period) chained to the same parent. Rewards are credited to the
/// OperatorRegistry (which pays the committee), vest at the end of the challenge period, and a rejection
/// forfeits those not vested yet (FeeVault).
///
/// Challenge periods: the admin may change the period within `[minChallengePeriod, MAX_CHALLENGE_PERIOD]`
/// (`minChallengePeriod` is fixed at deployment, never below `MIN_CHALLENGE_PERIOD`); a change applies to
/// rollups accepted afterwards, and no rollup activates before the one accepted before it.
///
/// Payloads are encrypted with one key per revelation epoch (`EPOCH_LENGTH` L1 blocks, counted from the
/// rollup's binding block). Each epoch's key is committed with its first rollup and may be published with
/// `revealEpochKey` once `revelationPeriod` L1 blocks have passed after the epoch's end; from then on
/// anyone can decrypt that epoch's rollups (`npx veilnet decrypt`).
/// @dev Trust model: there are no fraud or validity proofs. Safety of withdrawals rests on the enclave
/// attestation (only attested code holds a sequencer key, and the committee's signer set is checked
/// attested by the OperatorRegistry at the EnclaveRegistry's current revocation generation), on the
/// committee's quorum, and on the guardian, who can reject a rollup's messages during the challenge
/// period. See docs/trust-model.md.
contract RollupRegistry is IRollupRegistryErrors, EIP712, AccessControlDefaultAdminRules {
    /// @notice What the committee members sign (EIP-712 struct `RollupHeader`).
    /// @param firstBatchSeq Sequence number of the first batch in the rollup.
    /// @param lastBatchSeq Sequence number of the last batch in the rollup.
    /// @param lastBatchHash Hash of the last batch (the L2 head the rollup commits to).
    /// @param previousBatchHash `lastBatchHash` of the previous accepted rollup (zero for the first one):
    /// the rollup extends the L2 chain L1 holds.
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
        bytes32 previousBatchHash;
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
            "RollupHeader(uint64 firstBatchSeq,uint64 lastBatchSeq,bytes32 lastBatchHash,bytes32 previousBatchHash,"
            "uint64 l1BlockNumber,bytes32 l1BlockHash,bytes32 messageRoot,bytes32 payloadHash,uint64 revelationEpoch,"
            "bytes32 keyCommitment)"
        );
    /// @notice EIP-712 type hash of `CommitteeKey`: what every member enclave of a committee signs to approve
    /// its threshold key (the key's hash, at the committee's current key nonce).
    bytes32 public constant COMMITTEE_KEY_TYPEHASH =
        keccak256("CommitteeKey(uint64 committeeId,bytes32 publicKeyHash,uint64 nonce)");
    /// @notice Length of a threshold-signed rollup's `signatures`: the G1 signature (128 bytes, EIP-2537)
    /// followed by the committee's G2 public key (256 bytes; L1 keeps only its hash).
    uint256 public constant THRESHOLD_SIGNATURE_LENGTH = 384;
    /// @notice How far back the binding block may be (the EVM's `blockhash` window).
    uint256 public constant MAX_BINDING_AGE = 256;
    /// @notice L1 blocks per revelation epoch: a rollup bound to L1 block `n` is in epoch `n / EPOCH_LENGTH`.
    uint64 public constant EPOCH_LENGTH = 7200;
    /// @notice Shortest revelation period, in L1 blocks. Once a key is revealable no rollup can be bound to
    /// its epoch any more (binding blocks are at most `MAX_BINDING_AGE` old), so nothing new is ever
    /// encrypted under a published key.
    uint64 public constant MIN_REVELATION_PERIOD = uint64(MAX_BINDING_AGE);
    /// @notice Absolute floor of the challenge period, seconds: the guardian always has at least this long
    /// to pause and reject. A deployment sets its own, higher floor (`minChallengePeriod`); the devnet runs
    /// at this one for demo speed.
    uint32 public constant MIN_CHALLENGE_PERIOD = 60;
    /// @notice Longest challenge period, seconds (30 days): the admin cannot freeze withdrawals with it.
    uint32 public constant MAX_CHALLENGE_PERIOD = 30 days;
    /// @notice Most batches one rollup may span. The producer's default is 1,000 batches per rollup; the
    /// bound keeps `nextBatchSeq` far from overflowing (2^64 / 1,024 rollups) and caps a rollup's reward.
    uint64 public constant MAX_BATCHES_PER_ROLLUP = 1024;

    /// @notice Emitted for every accepted rollup: `committeeId` is the active committee that signed it,
    /// `signerBitmap` which of its members did (bit `i`: the member at index `i`, in member order).
    event RollupAdded(
        bytes32 indexed rollupHash,
        uint64 firstSeq,
        uint64 lastSeq,
        bytes32 messageRoot,
        uint64 indexed committeeId,
        uint256 signerBitmap
    );
    /// @notice Emitted when the guardian rejects a rollup (it and every later rollup are invalid).
    event RollupRejected(bytes32 indexed rollupHash, bytes32 messageRoot, address indexed guardian);
    /// @notice Emitted with every rejection: the next rollup must start at batch `nextBatchSeq` again.
    event BatchSequenceReopened(uint64 nextBatchSeq);
    /// @notice Emitted when the challenge period changes.
    event ChallengePeriodSet(uint32 challengePeriod);
    /// @notice Emitted when a revelation epoch is first used, with its key commitment.
    event EpochKeyCommitted(uint64 indexed epoch, bytes32 keyCommitment);
    /// @notice Emitted when the revelation period changes.
    event RevelationPeriodSet(uint64 revelationPeriod);
    /// @notice Emitted when an epoch's key is published: its rollups can be decrypted by anyone.
    event EpochKeyRevealed(uint64 indexed epoch, bytes32 key);
    /// @notice Emitted when a committee's threshold key is registered (or registered again, as after a
    /// resharing that keeps it): `nonce` is the key nonce the approvals were for.
    event CommitteeKeyRegistered(uint64 indexed committeeId, bytes32 publicKeyHash, bytes publicKey, uint64 nonce);
    /// @notice Emitted when rollup submission is paused (as OpenZeppelin's Pausable).
    event Paused(address account);
    /// @notice Emitted when rollup submission resumes (as OpenZeppelin's Pausable).
    event Unpaused(address account);

    /// @notice The EnclaveRegistry whose `revocationGeneration` tells whether the committee's signers are current.
    IEnclaveRegistry public immutable enclaveRegistry;
    /// @notice The OperatorRegistry naming the active committee (and receiving its rewards).
    IOperatorRegistry public immutable operatorRegistry;
    MessageBus public immutable messageBus;
    IFeeVault public immutable feeVault;

    /// @notice The floor of `challengePeriod` for this deployment, seconds (at least `MIN_CHALLENGE_PERIOD`).
    uint32 public immutable minChallengePeriod;

    /// @dev The state every rollup reads and writes, packed by hand into one word (one read, one write):
    /// the pause flag (bit 0), the next batch sequence number, the rollup count, the current revelation
    /// epoch, the challenge period and the activation time of the last accepted rollup (no rollup
    /// activates before its predecessor). Offsets below.
    uint256 private _state;
    uint256 private constant _NEXT_BATCH_SEQ = 8;
    uint256 private constant _ROLLUP_COUNT = 72;
    uint256 private constant _CURRENT_EPOCH = 136;
    uint256 private constant _CHALLENGE_PERIOD = 168;
    uint256 private constant _LAST_ACTIVATES_AT = 200;
    uint256 private constant _MASK32 = type(uint32).max;
    uint256 private constant _MASK40 = type(uint40).max;
    uint256 private constant _MASK64 = type(uint64).max;

    /// @notice L1 blocks after the end of an epoch before its key may be revealed (`revealableAt`).
    uint64 public revelationPeriod;

    /// @notice `lastBatchHash` of the last accepted rollup (zero before the first one, and after the
    /// rejection of the first one): the next rollup's `previousBatchHash` must equal it.
    bytes32 public lastBatchHash;

    /// @notice keccak256 of each epoch's key, committed by the epoch's first rollup (zero: no rollup).
    mapping(uint64 epoch => bytes32 keyCommitment) public epochKeyCommitment;
    /// @notice Each revealed epoch's key (zero: not revealed).
    mapping(uint64 epoch => bytes32 key) public epochKey;
    /// @notice keccak256 of each committee's threshold BLS12-381 public key (zero: none; it signs with its
    /// members' ECDSA keys only).
    mapping(uint64 committeeId => bytes32 publicKeyHash) public committeeKeyHash;
    /// @notice The nonce the next `registerCommitteeKey` of each committee must be approved for.
    mapping(uint64 committeeId => uint64 nonce) public committeeKeyNonce;

    /// @param admin Receives DEFAULT_ADMIN_ROLE (the timelock in a deployment): sets the challenge and
    /// revelation periods.
    /// @param adminDelay Delay of a DEFAULT_ADMIN_ROLE transfer, seconds.
    /// @param guardian Receives GUARDIAN_ROLE and PAUSER_ROLE.
    /// @param enclaves The EnclaveRegistry (its revocation generation keeps the committee's signers current).
    /// @param operators The OperatorRegistry whose active committee signs rollups.
    /// @param bus The MessageBus where message roots are registered (it must bind this contract).
    /// @param vault The FeeVault crediting sequencer rewards (it must bind this contract as rewarder).
    /// @param challengePeriod_ Seconds from acceptance until a rollup's messages may be consumed.
    /// @param minChallengePeriod_ The floor of the challenge period for this deployment (at least
    /// `MIN_CHALLENGE_PERIOD`, at most `MAX_CHALLENGE_PERIOD`).
    /// @param revelationPeriod_ L1 blocks after an epoch's end until its key may be revealed (at least
    /// `MIN_REVELATION_PERIOD`).
    constructor(
        address admin,
        uint48 adminDelay,
        address guardian,
        IEnclaveRegistry enclaves,
        IOperatorRegistry operators,
        MessageBus bus,
        IFeeVault vault,
        uint32 challengePeriod_,
        uint32 minChallengePeriod_,
        uint64 revelationPeriod_
    ) EIP712("VeilnetRollupRegistry", "1") AccessControlDefaultAdminRules(adminDelay, _nonZero(admin)) {
        if (
            guardian == address(0) ||
            address(enclaves) == address(0) ||
            address(operators) == address(0) ||
            address(bus) == address(0) ||
            address(vault) == address(0)
        ) revert ZeroValue();
        if (minChallengePeriod_ < MIN_CHALLENGE_PERIOD || minChallengePeriod_ > MAX_CHALLENGE_PERIOD) {
            revert ChallengePeriodOutOfRange(minChallengePeriod_, MIN_CHALLENGE_PERIOD, MAX_CHALLENGE_PERIOD);
        }
        _grantRole(GUARDIAN_ROLE, guardian);
        _grantRole(PAUSER_ROLE, guardian);
        enclaveRegistry = enclaves;
        operatorRegistry = operators;
        messageBus = bus;
        feeVault = vault;
        minChallengePeriod = minChallengePeriod_;
        _setChallengePeriod(challengePeriod_);
        _setRevelationPeriod(revelationPeriod_);
    }

    /// @notice Submits a rollup signed by the active committee of the OperatorRegistry. `members` are the
    /// committee's enclave signing addresses in member order (they must hash to its `signersHash`, recorded
    /// at the EnclaveRegistry's current `revocationGeneration`); bit `i` of `signerBitmap` says member `i`
    /// signed, and `signatures` holds their 65-byte EIP-712 signatures (r, s, v) of `header`, in ascending
    /// bit order. At least `quorum` members must sign.
    /// Data availability: with a non-empty `payload`, `header.payloadHash` must be its keccak256; with an
    /// empty `payload`, the transaction must carry a blob whose versioned hash is `header.payloadHash`.
    /// `header.previousBatchHash` must be the `lastBatchHash` of the previous accepted rollup.
    /// `header.revelationEpoch` must be the epoch of the binding block, so a sequencer cannot push a
    /// rollup into a later epoch to delay its reveal. The rollup spans at most `MAX_BATCHES_PER_ROLLUP`
    /// batches, and with a calldata payload at most one per payload byte (an honest payload takes more:
    /// about 1.24 bytes for an empty batch, compressed). Its messages activate at
    /// `now + challengePeriod`, or at the previous rollup's activation if that is later. The reward is
    /// credited to the OperatorRegistry, for the committee.
    /// @return rollupHash The EIP-712 struct hash of `header`, the rollup's identifier.
    function addRollup(
        RollupHeader calldata header,
        bytes calldata payload,
        address[] calldata members,
        uint256 signerBitmap,
        bytes calldata signatures
    ) external returns (bytes32 rollupHash) {
        uint256 state = _state;
        if (state & 1 != 0) revert EnforcedPause();
        rollupHash = hashRollupHeader(header);
        uint64 committeeId = _authenticate(_hashTypedDataV4(rollupHash), members, signerBitmap, signatures);
        _record(state, header, payload, rollupHash, committeeId, signerBitmap);
    }

    /// @notice Registers committee `committeeId`'s threshold BLS12-381 key (made by its members' DKG, or
    /// kept through a resharing). Anyone may submit it; it takes effect only with
    /// - the approval of every member enclave: `enclaveSignatures` holds, in member order, each member's
    ///   65-byte EIP-712 signature of `CommitteeKey(committeeId, keccak256(publicKey), committeeKeyNonce)`,
    ///   `members` being the committee's current signers (hashing to its `signersHash`, recorded at the
    ///   EnclaveRegistry's current revocation generation): only attested enclaves, all of them, vouch for
    ///   the key their shares belong to;
    /// - a proof of possession: `proofOfPossession` is the key's BLS signature (G1, 128 bytes) of
    ///   keccak256(abi.encode(publicKey, owner, nonce)) under `BLS12381.POP_DST`, `owner` being the
    ///   committee's owner in the OperatorRegistry: whoever registers it could make the key sign.
    /// @param publicKey The G2 public key, 256 bytes (EIP-2537).
    function registerCommitteeKey(
        uint64 committeeId,
        bytes calldata publicKey,
        bytes calldata proofOfPossession,
        address[] calldata members,
        bytes calldata enclaveSignatures
    ) external {
        uint64 nonce = committeeKeyNonce[committeeId];
        bytes32 publicKeyHash = keccak256(publicKey);
        address owner = _checkKeyApprovals(committeeId, publicKeyHash, nonce, members, enclaveSignatures);
        bytes32 possessionMessage = keccak256(abi.encode(publicKey, owner, nonce));
        if (!BLS12381.verify(publicKey, possessionMessage, proofOfPossession, BLS12381.POP_DST)) {
            revert InvalidProofOfPossession(committeeId);
        }
        committeeKeyHash[committeeId] = publicKeyHash;
        committeeKeyNonce[committeeId] = nonce + 1;
        emit CommitteeKeyRegistered(committeeId, publicKeyHash, publicKey, nonce);
    }

    /// @dev Checks every member enclave of committee `committeeId` signed `CommitteeKey(committeeId,
    /// publicKeyHash, nonce)`; returns the committee's owner.
    function _checkKeyApprovals(
        uint64 committeeId,
        bytes32 publicKeyHash,
        uint64 nonce,
        address[] calldata members,
        bytes calldata enclaveSignatures
    ) private view returns (address owner) {
        IOperatorRegistryCommittees.CommitteeRecord memory c = IOperatorRegistryCommittees(
            address(operatorRegistry)
        ).committee(committeeId);
        _checkSigners(committeeId, c.signersHash, c.signersGeneration, c.size, members);
        uint256 expected = 65 * uint256(c.size);
        if (enclaveSignatures.length != expected) revert SignaturesLengthMismatch(enclaveSignatures.length, expected);
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(COMMITTEE_KEY_TYPEHASH, committeeId, publicKeyHash, nonce))
        );
        _checkSignatures(digest, members, (uint256(1) << c.size) - 1, enclaveSignatures);
        owner = c.owner;
    }

    /// @notice Rejects an accepted rollup during its challenge period. Its message root, and those of every
    /// later rollup (built on its state), never activate; the batch sequence reopens at its first batch,
    /// so a corrected rollup can take its place (with the same message root if its withdrawals were
    /// honest), and `lastBatchHash` goes back to the rejected header's `previousBatchHash` (the corrected
    /// rollup chains to the same parent); rewards not vested yet are forfeited. Works while paused: the
    /// guardian may pause first, then reject. Only rollups that carry messages can be rejected (others
    /// move no value to L1). Constant gas, unless the guardian rejects a rollup older than its own earlier
    /// rejections (see MessageBus.rejectMessageRoot).
    function rejectRollup(RollupHeader calldata header) external onlyRole(GUARDIAN_ROLE) {
        bytes32 rollupHash = hashRollupHeader(header);
        MessageBus.MessageRootInfo memory r = messageBus.messageRoot(header.messageRoot);
        if (r.activatesAt == 0 || r.rollupTag != bytes12(rollupHash)) revert UnknownRollup(rollupHash);
        if (r.rejected) revert RollupAlreadyRejected(rollupHash);
        // slither-disable-next-line timestamp
        if (block.timestamp >= r.activatesAt) revert ChallengePeriodOver(rollupHash, r.activatesAt);
        messageBus.rejectMessageRoot(header.messageRoot);
        _state = (_state & ~(_MASK64 << _NEXT_BATCH_SEQ)) | (uint256(r.firstBatchSeq) << _NEXT_BATCH_SEQ);
        lastBatchHash = header.previousBatchHash;
        feeVault.forfeitUnvestedRewards();
        emit RollupRejected(rollupHash, header.messageRoot, msg.sender);
        emit BatchSequenceReopened(r.firstBatchSeq);
    }

    /// @notice Sets the challenge period for rollups accepted from now on, within
    /// `[minChallengePeriod, MAX_CHALLENGE_PERIOD]`. Rollups accepted before keep the activation time they
    /// were given (and a shorter period never makes a rollup activate before an earlier one).
    function setChallengePeriod(uint32 challengePeriod_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setChallengePeriod(challengePeriod_);
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

    /// @notice Stops rollup submission (rejections and reveals go on).
    function pause() external onlyRole(PAUSER_ROLE) {
        uint256 state = _state;
        if (state & 1 != 0) revert EnforcedPause();
        _state = state | 1;
        emit Paused(msg.sender);
    }

    /// @notice Resumes rollup submission.
    function unpause() external onlyRole(PAUSER_ROLE) {
        uint256 state = _state;
        if (state & 1 == 0) revert ExpectedPause();
        _state = state & ~uint256(1);
        emit Unpaused(msg.sender);
    }

    /// @notice Whether rollup submission is paused.
    function paused() external view returns (bool) {
        return _state & 1 != 0;
    }

    /// @notice The batch sequence number the next rollup must start at.
    function nextBatchSeq() external view returns (uint64) {
        return uint64(_state >> _NEXT_BATCH_SEQ);
    }

    /// @notice Number of rollups accepted (rejected and invalidated ones included).
    function rollupCount() external view returns (uint64) {
        return uint64(_state >> _ROLLUP_COUNT);
    }

    /// @notice The highest revelation epoch used so far.
    function currentEpoch() external view returns (uint64) {
        return uint32(_state >> _CURRENT_EPOCH);
    }

    /// @notice Seconds from acceptance until a rollup's messages may be consumed (rollups accepted now).
    function challengePeriod() external view returns (uint32) {
        return uint32(_state >> _CHALLENGE_PERIOD);
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

    /// @notice The EIP-712 digest each committee member signs for `header`.
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

    /// @dev Checks and records an authenticated rollup: its binding, payload, batch range, parent and epoch;
    /// registers its message root, emits RollupAdded and credits the committee's reward.
    function _record(
        uint256 state,
        RollupHeader calldata header,
        bytes calldata payload,
        bytes32 rollupHash,
        uint64 committeeId,
        uint256 signerBitmap
    ) private {
        _checkBinding(header.l1BlockNumber, header.l1BlockHash);
        _checkPayload(header.payloadHash, payload);
        (uint256 batches, uint64 activatesAt) = _accept(state, header, payload.length);

        if (header.messageRoot != bytes32(0)) {
            messageBus.addMessageRoot(header.messageRoot, rollupHash, activatesAt, header.firstBatchSeq);
        }
        emit RollupAdded(
            rollupHash,
            header.firstBatchSeq,
            header.lastBatchSeq,
            header.messageRoot,
            committeeId,
            signerBitmap
        );
        feeVault.rewardSequencer(address(operatorRegistry), batches, activatesAt);
    }

    /// @dev Checks that a quorum of the active committee signed `digest`; returns the committee's id.
    function _authenticate(
        bytes32 digest,
        address[] calldata members,
        uint256 signerBitmap,
        bytes calldata signatures
    ) private view returns (uint64 committeeId) {
        uint256 count;
        (committeeId, count) = _checkCommittee(members, signerBitmap);
        if (signatures.length == THRESHOLD_SIGNATURE_LENGTH) {
            _checkThresholdSignature(committeeId, digest, signatures);
            return committeeId;
        }
        if (signatures.length != 65 * count) revert SignaturesLengthMismatch(signatures.length, 65 * count);
        _checkSignatures(digest, members, signerBitmap, signatures);
    }

    /// @dev Checks `signatures` (G1 signature ‖ G2 public key) is committee `committeeId`'s threshold
    /// signature of `digest`: the key is its registered one, and the signature verifies under `ROLLUP_DST`.
    /// (A quorum of shares made it: the bitmap was checked to name a quorum, and a signature of the key
    /// cannot be made from fewer shares.)
    function _checkThresholdSignature(uint64 committeeId, bytes32 digest, bytes calldata signatures) private view {
        bytes32 registered = committeeKeyHash[committeeId];
        if (registered == bytes32(0)) revert NoCommitteeKey(committeeId);
        bytes calldata publicKey = signatures[128:THRESHOLD_SIGNATURE_LENGTH];
        bytes32 given = keccak256(publicKey);
        if (given != registered) revert WrongCommitteeKey(committeeId, registered, given);
        if (!BLS12381.verify(publicKey, digest, signatures[:128], BLS12381.ROLLUP_DST)) revert InvalidSignature();
    }

    /// @dev Checks `members` are the active committee's current signers and `signerBitmap` a quorum of
    /// them; returns the committee's id and the number of signers.
    function _checkCommittee(
        address[] calldata members,
        uint256 signerBitmap
    ) private view returns (uint64 id, uint256 count) {
        bytes32 signersHash;
        uint64 generation;
        uint8 size;
        uint8 quorum;
        bool liquidated;
        (id, signersHash, generation, size, quorum, liquidated) = operatorRegistry.activeCommittee();
        if (id == 0) revert NoActiveCommittee();
        if (liquidated) revert CommitteeLiquidated(id);
        _checkSigners(id, signersHash, generation, size, members);
        if (signerBitmap >> size != 0) revert SignerBitmapOutOfRange(signerBitmap, size);
        count = _popCount(signerBitmap);
        // A committee always has a quorum of at least one; refuse an unsigned rollup even if it had not.
        if (count < quorum || count == 0) revert QuorumNotReached(id, count, quorum);
    }

    /// @dev Checks `members` are committee `id`'s signers (`size` of them, hashing to `signersHash`), recorded
    /// at the EnclaveRegistry's current revocation generation.
    function _checkSigners(
        uint64 id,
        bytes32 signersHash,
        uint64 generation,
        uint8 size,
        address[] calldata members
    ) private view {
        if (members.length != size) revert CommitteeSizeMismatch(id, size, members.length);
        bytes32 given = keccak256(abi.encodePacked(members));
        if (given != signersHash) revert WrongCommitteeMembers(id, signersHash, given);
        uint64 current = enclaveRegistry.revocationGeneration();
        if (generation != current) revert StaleCommitteeSigners(id, generation, current);
    }

    /// @dev Checks the k-th 65-byte signature recovers to the member at the k-th set bit of `signerBitmap`
    /// (one signature per member: distinct signers follow from the bitmap).
    function _checkSignatures(
        bytes32 digest,
        address[] calldata members,
        uint256 signerBitmap,
        bytes calldata signatures
    ) private pure {
        uint256 offset;
        for (uint256 i; signerBitmap != 0; ++i) {
            if (signerBitmap & 1 != 0) {
                (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(
                    digest,
                    signatures[offset:offset + 65]
                );
                if (err != ECDSA.RecoverError.NoError) revert InvalidSignature();
                if (signer != members[i]) revert SignerMismatch(i, members[i], signer);
                offset += 65;
            }
            signerBitmap >>= 1;
        }
    }

    /// @dev The number of set bits of `bits`.
    function _popCount(uint256 bits) private pure returns (uint256 count) {
        while (bits != 0) {
            bits &= bits - 1;
            ++count;
        }
    }

    /// @dev Checks the header's batch range, parent and epoch against `state` and records the rollup.
    function _accept(
        uint256 state,
        RollupHeader calldata header,
        uint256 payloadLength
    ) private returns (uint256 batches, uint64 activatesAt) {
        batches = _checkBatches(
            uint64(state >> _NEXT_BATCH_SEQ),
            header.firstBatchSeq,
            header.lastBatchSeq,
            payloadLength
        );
        bytes32 parent = lastBatchHash;
        if (header.previousBatchHash != parent) revert PreviousBatchHashMismatch(parent, header.previousBatchHash);
        lastBatchHash = header.lastBatchHash;
        uint256 epoch = _checkEpoch(
            (state >> _CURRENT_EPOCH) & _MASK32,
            header.l1BlockNumber,
            header.revelationEpoch,
            header.keyCommitment
        );
        activatesAt = _advance(state, header.lastBatchSeq, epoch);
    }

    /// @dev Records an accepted rollup ending at `lastBatchSeq` in revelation epoch `epoch` (one write);
    /// returns its activation time: `now + challengePeriod`, or the previous rollup's if that is later.
    function _advance(uint256 state, uint64 lastBatchSeq, uint256 epoch) private returns (uint64 activatesAt) {
        uint256 at = block.timestamp + ((state >> _CHALLENGE_PERIOD) & _MASK32);
        uint256 last = (state >> _LAST_ACTIVATES_AT) & _MASK40;
        if (at < last) at = last;
        // The count cannot realistically wrap (2^64 rollups); the other fields fit by the checks made.
        _state =
            (state &
                ~((_MASK64 << _NEXT_BATCH_SEQ) |
                    (_MASK64 << _ROLLUP_COUNT) |
                    (_MASK32 << _CURRENT_EPOCH) |
                    (_MASK40 << _LAST_ACTIVATES_AT))) |
            (uint256(lastBatchSeq + 1) << _NEXT_BATCH_SEQ) |
            ((((state >> _ROLLUP_COUNT) + 1) & _MASK64) << _ROLLUP_COUNT) |
            (epoch << _CURRENT_EPOCH) |
            (at << _LAST_ACTIVATES_AT);
        activatesAt = uint64(at);
    }

    /// @dev Checks the header's epoch against the binding block and `current`; returns the new current
    /// epoch (it fits in 32 bits: the binding block is below block.number).
    function _checkEpoch(
        uint256 current,
        uint64 l1BlockNumber,
        uint64 epoch,
        bytes32 commitment
    ) private returns (uint256) {
        uint64 expected = l1BlockNumber / EPOCH_LENGTH;
        if (epoch != expected) revert RevelationEpochMismatch(l1BlockNumber, expected, epoch);
        if (epoch < current) revert RevelationEpochDecreased(uint64(current), epoch);
        bytes32 committed = epochKeyCommitment[epoch];
        if (committed == bytes32(0)) {
            if (commitment == bytes32(0)) revert ZeroValue();
            epochKeyCommitment[epoch] = commitment;
            emit EpochKeyCommitted(epoch, commitment);
        } else if (committed != commitment) {
            revert KeyCommitmentMismatch(epoch, committed, commitment);
        }
        return epoch;
    }

    /// @dev The number of batches from `first` to `last`, which the payload must be able to carry.
    function _checkBatches(
        uint64 expected,
        uint64 first,
        uint64 last,
        uint256 payloadLength
    ) private pure returns (uint256 batches) {
        if (first != expected) revert BatchSequenceGap(expected, first);
        if (last < first) revert InvalidBatchRange(first, last);
        batches = uint256(last - first) + 1;
        uint256 maximum = MAX_BATCHES_PER_ROLLUP;
        // A calldata payload carries at least one byte per batch; a blob (empty payload) up to the maximum.
        if (payloadLength != 0 && payloadLength < maximum) maximum = payloadLength;
        if (batches > maximum) revert TooManyBatches(batches, maximum);
    }

    function _setChallengePeriod(uint32 challengePeriod_) private {
        uint32 minimum = minChallengePeriod;
        if (challengePeriod_ < minimum || challengePeriod_ > MAX_CHALLENGE_PERIOD) {
            revert ChallengePeriodOutOfRange(challengePeriod_, minimum, MAX_CHALLENGE_PERIOD);
        }
        _state = (_state & ~(_MASK32 << _CHALLENGE_PERIOD)) | (uint256(challengePeriod_) << _CHALLENGE_PERIOD);
        emit ChallengePeriodSet(challengePeriod_);
    }

    /// @dev `admin`, or a revert with ZeroValue (before AccessControlDefaultAdminRules' own check).
    function _nonZero(address admin) private pure returns (address) {
        if (admin == address(0)) revert ZeroValue();
        return admin;
    }

    function _setRevelationPeriod(uint64 revelationPeriod_) private {
        if (revelationPeriod_ < MIN_REVELATION_PERIOD) {
            revert RevelationPeriodTooShort(revelationPeriod_, MIN_REVELATION_PERIOD);
        }
        revelationPeriod = revelationPeriod_;
        emit RevelationPeriodSet(revelationPeriod_);
    }
}
