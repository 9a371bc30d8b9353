// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IAttestationVerifier} from "../interfaces/IAttestationVerifier.sol";
import {IEnclaveRegistryErrors} from "../interfaces/IEnclaveRegistryErrors.sol";
import {IEnclaveRegistry} from "../interfaces/IEnclaveRegistry.sol";
import {AttestationReports} from "../libraries/AttestationReports.sol";

/// @title EnclaveRegistry
/// @notice Decides which enclaves are trusted. The genesis enclave creates the network secret; every
/// later enclave proves itself with an attestation report, asks for the secret with a bounty, and
/// becomes attested when an attested enclave answers with the secret encrypted to its key.
/// @dev Trust boundaries: reports are only as good as the `IAttestationVerifier`; the contract cannot
/// check the encrypted secret, so it trusts that an attested enclave (attested code) answered honestly.
/// Admins can revoke enclaves and sequencers at any time. The operator of an enclave (where its
/// bounties and rewards go) is whoever first requested the secret for it, until the enclave itself
/// names its operator with a signature (`bindEnclaveOperator`) or an admin reassigns it; so copying a
/// report from the mempool to become its operator gains nothing lasting.
/// Attestation is live: each enclave's record keeps the id of its measurement, and the registry keeps,
/// per measurement id, one bit saying whether the verifier still allows it (256 ids a slot, so the
/// hot path `sequencerOperator` reads one more slot, not the verifier). The bits follow the verifier
/// through the permissionless `syncMeasurement` (call it right after a verifier change, e.g. in the same
/// timelock batch) and `setAttestationVerifier`, which syncs every known measurement; removing a
/// measurement and syncing it revokes every enclave attested under it, without a loop over enclaves.
/// A request is cheap: it stores one hash of its fields (emitted in `NetworkSecretRequested`) and reads
/// the enclave key from the report without verifying it; the response passes the report back and it is
/// verified in full then (signature, expiry and measurement as of the response). So an invalid report
/// costs its payer the request's gas and locks the bounty until `cancelSecretRequest`; responders check
/// reports with `IAttestationVerifier.verify` before answering.
contract EnclaveRegistry is
    IEnclaveRegistry,
    IEnclaveRegistryErrors,
    AccessControlDefaultAdminRules,
    ReentrancyGuardTransient,
    EIP712,
    Nonces,
    Pausable
{
    /// @notice May grant and revoke sequencers, revoke enclaves and reassign operators.
    bytes32 public constant ENCLAVE_ADMIN_ROLE = keccak256("ENCLAVE_ADMIN_ROLE");
    /// @notice May pause and unpause (the guardian).
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice May initialize the network secret, once; renounced by that call.
    bytes32 public constant GENESIS_ROLE = keccak256("GENESIS_ROLE");
    /// @notice EIP-712 type hash of a secret response.
    bytes32 public constant SECRET_RESPONSE_TYPEHASH =
        keccak256("NetworkSecretResponse(uint256 requestId,bytes32 encryptedSecretHash)");
    /// @notice EIP-712 type hash of an enclave naming its operator.
    bytes32 public constant OPERATOR_BINDING_TYPEHASH =
        keccak256("EnclaveOperator(address enclaveId,address operator,uint256 nonce)");
    /// @notice Exact length of an ECIES (eciesjs defaults: uncompressed ephemeral key, AES-256-GCM with a
    /// 16-byte nonce and 16-byte tag) encryption of the 32-byte secret: 65 + 16 + 16 + 32.
    uint256 public constant ENCRYPTED_SECRET_LENGTH = 129;

    /// @dev Stored in place of a request's commitment once it is cancelled (answered requests hold 0).
    bytes32 private constant CANCELLED = bytes32(uint256(1));

    /// @notice State of an enclave, one storage slot.
    /// @param operator Account that pays for and is paid for the enclave (bounties, rewards).
    /// @param attestedAt Unix time the enclave became attested.
    /// @param measurementId The registry's id of the measurement it was attested under
    /// (`enclaveMeasurement` gives the measurement).
    struct Enclave {
        address operator;
        bool attested;
        bool sequencer;
        bool revoked;
        uint40 attestedAt;
        uint32 measurementId;
    }

    /// @notice Status of a secret request.
    enum RequestStatus {
        None,
        Open,
        Answered,
        Cancelled
    }

    /// @notice The fields of a secret request. Only their hash is stored; `NetworkSecretRequested` emits
    /// them and `respondNetworkSecret`/`cancelSecretRequest` take them back.
    /// @param enclaveId The requesting enclave (the address of the key its report claims; the response's
    /// report, verified then, must attest this enclave).
    /// @param payer Who paid the bounty (refunded on cancellation; the enclave's operator if it has none).
    /// @param bounty The bounty, in wei.
    /// @param createdAt Unix time of the request.
    struct SecretRequest {
        address enclaveId;
        address payer;
        uint96 bounty;
        uint64 createdAt;
    }

    /// @notice Emitted once, when the genesis enclave creates the network secret.
    event NetworkSecretInitialized(address indexed enclaveId, bytes32 secretCommitment);
    /// @notice Emitted when an enclave asks for the network secret; `bounty` goes to the first valid
    /// responder. `enclaveId` and `enclavePubKey` are read from the report unverified: responders verify
    /// the report (the request transaction's input) before answering. With `payer` and `createdAt` the
    /// event gives the request's `SecretRequest`.
    event NetworkSecretRequested(
        uint256 indexed requestId,
        address indexed enclaveId,
        bytes enclavePubKey,
        uint256 bounty,
        address payer,
        uint64 createdAt
    );
    /// @notice Emitted when `responder` answered request `requestId`; `requester` is now attested.
    /// `encryptedSecret` is the secret encrypted to the requester's key.
    event NetworkSecretResponded(
        uint256 indexed requestId,
        address indexed responder,
        address indexed requester,
        bytes encryptedSecret
    );
    /// @notice Emitted when an unanswered request is cancelled and `refund` returned to its payer.
    event SecretRequestCancelled(uint256 indexed requestId, uint256 refund);
    /// @notice Emitted when `enclaveId` becomes attested.
    event EnclaveAttested(address indexed enclaveId, address indexed operator);
    /// @notice Emitted when `enclaveId` is revoked for good.
    event EnclaveRevoked(address indexed enclaveId);
    /// @notice Emitted when `enclaveId` may sign rollups.
    event SequencerGranted(address indexed enclaveId);
    /// @notice Emitted when `enclaveId` may no longer sign rollups.
    event SequencerRevoked(address indexed enclaveId);
    /// @notice Emitted when the operator of `enclaveId` changes, including its first assignment.
    event EnclaveOperatorSet(address indexed enclaveId, address indexed operator);
    /// @notice Emitted when the attestation verifier changes.
    event AttestationVerifierSet(address indexed verifier);
    /// @notice Emitted when the secret request timeout changes.
    event SecretRequestTimeoutSet(uint64 timeout);
    /// @notice Emitted when the registry's copy of the verifier's verdict on `measurement` (id `id`) is
    /// refreshed; `allowed` false means the enclaves attested under it no longer count.
    event MeasurementSynced(bytes32 indexed measurement, uint32 id, bool allowed);

    // One slot with Pausable's flag, read by every request, response and cancellation.
    /// @notice The attestation verifier.
    IAttestationVerifier public attestationVerifier;
    /// @notice Number of secret requests made so far; request ids are 1..requestCount.
    uint48 public requestCount;
    uint32 private _secretRequestTimeout;
    bool private _secretInitialized;

    /// @notice Commitment (hash) to the network secret, set by the genesis enclave.
    bytes32 public secretCommitment;
    uint32 private _measurementCount;

    mapping(address enclaveId => Enclave) private _enclaves;
    mapping(uint256 requestId => bytes32 commitment) private _requests;
    mapping(bytes32 measurement => uint32 id) private _measurementIds;
    mapping(uint32 id => bytes32 measurement) private _measurements;
    // Bit `id % 256` of word `id / 256` is set while measurement `id` is revoked (synced from the verifier).
    mapping(uint256 word => uint256 bits) private _revokedMeasurements;

    /// @inheritdoc IEnclaveRegistry
    uint64 public revocationGeneration;

    /// @param admin Receives DEFAULT_ADMIN_ROLE (transferred in two delayed steps) and ENCLAVE_ADMIN_ROLE.
    /// @param adminDelay Delay of a DEFAULT_ADMIN_ROLE transfer, in seconds.
    /// @param guardian Receives PAUSER_ROLE.
    /// @param initializer Receives GENESIS_ROLE: may call `initializeNetworkSecret`, once.
    /// @param verifier The attestation verifier.
    /// @param requestTimeout Seconds after which an unanswered secret request can be cancelled.
    constructor(
        address admin,
        uint48 adminDelay,
        address guardian,
        address initializer,
        IAttestationVerifier verifier,
        uint64 requestTimeout
    ) AccessControlDefaultAdminRules(adminDelay, _nonZero(admin)) EIP712("VeilnetEnclaveRegistry", "1") {
        if (guardian == address(0) || initializer == address(0) || address(verifier) == address(0)) {
            revert ZeroValue();
        }
        _grantRole(ENCLAVE_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, guardian);
        // Only its holder could hand GENESIS_ROLE on: the admin can neither initialize nor grant itself the role.
        _setRoleAdmin(GENESIS_ROLE, GENESIS_ROLE);
        _grantRole(GENESIS_ROLE, initializer);
        _setAttestationVerifier(verifier);
        _setSecretRequestTimeout(requestTimeout);
    }

    // ----------------------------------------------------------------------------------------------
    // Network secret

    /// @notice Records the genesis enclave and the commitment to the network secret it created. Once,
    /// by the GENESIS_ROLE holder, which renounces the role. The genesis enclave becomes attested and a
    /// sequencer; the caller becomes its operator.
    /// @param report Attestation report of the genesis enclave.
    /// @param commitment Commitment to the network secret (`keccak256(secret)` in Veilnet's enclave).
    function initializeNetworkSecret(
        bytes calldata report,
        bytes32 commitment
    ) external onlyRole(GENESIS_ROLE) whenNotPaused {
        if (_secretInitialized) revert NetworkSecretAlreadyInitialized();
        if (commitment == bytes32(0)) revert ZeroValue();
        (address enclaveId, , bytes32 measurement) = attestationVerifier.verify(report);
        if (_enclaves[enclaveId].revoked) revert EnclaveIsRevoked(enclaveId);
        secretCommitment = commitment;
        _secretInitialized = true;
        _enclaves[enclaveId] = Enclave({
            operator: msg.sender,
            attested: true,
            sequencer: true,
            revoked: false,
            attestedAt: uint40(block.timestamp),
            measurementId: _measurementId(measurement)
        });
        _revokeRole(GENESIS_ROLE, msg.sender);
        emit NetworkSecretInitialized(enclaveId, commitment);
        emit EnclaveOperatorSet(enclaveId, msg.sender);
        emit EnclaveAttested(enclaveId, msg.sender);
        emit SequencerGranted(enclaveId);
    }

    /// @notice Asks the attested enclaves for the network secret on behalf of the enclave whose key
    /// `report` carries. `msg.value` is the bounty for the first valid responder; the caller gets it back
    /// if the request is cancelled, and becomes the enclave's operator when it is answered (if it has
    /// none). Only a hash of the request is stored: keep the fields `NetworkSecretRequested` emits.
    /// @dev The report is not verified here (only its enclave key is read): `respondNetworkSecret`
    /// verifies it in full. An invalid report therefore costs its payer this call's gas and locks the
    /// bounty until `cancelSecretRequest` (after `secretRequestTimeout`); no responder answers it.
    /// @return requestId The id responders answer.
    function requestNetworkSecret(bytes calldata report) external payable returns (uint256 requestId) {
        // Pausable's flag, the initialization flag and the counter share one slot: read it once
        // (`whenNotPaused`, `_secretInitialized` and `++requestCount`, without the two extra reads).
        uint256 state;
        bool initialized;
        assembly ("memory-safe") {
            state := sload(requestCount.slot)
            initialized := and(shr(mul(_secretInitialized.offset, 8), state), 0xff)
            requestId := add(and(shr(mul(requestCount.offset, 8), state), 0xffffffffffff), 1)
        }
        if (state & 0xff != 0) revert EnforcedPause(); // Pausable's `_paused`, at offset 0 of the slot
        if (!initialized) revert NetworkSecretNotInitialized();
        if (msg.value > type(uint96).max) revert BountyTooLarge(msg.value);
        // 2^48 requests cannot be paid for; the check keeps the increment below from touching its neighbour.
        if (requestId > type(uint48).max) revert BountyTooLarge(requestId);
        assembly ("memory-safe") {
            sstore(requestCount.slot, add(state, shl(mul(requestCount.offset, 8), 1)))
        }
        // Nothing about the enclave is checked here (not even whether it is attested or revoked already):
        // the response checks it all, so an unanswerable request only costs its payer.
        (address enclaveId, bytes calldata pubKey) = AttestationReports.enclaveKey(report);
        // = hashSecretRequest(requestId, SecretRequest(enclaveId, msg.sender, msg.value, block.timestamp)).
        _requests[requestId] = keccak256(abi.encode(requestId, enclaveId, msg.sender, msg.value, block.timestamp));
        emit NetworkSecretRequested(requestId, enclaveId, pubKey, msg.value, msg.sender, uint64(block.timestamp));
    }

    /// @notice Answers request `requestId` (whose fields are `request`) with the network secret
    /// encrypted (ECIES) to the requester's key. Any attested enclave may answer; `signature` is its
    /// EIP-712 signature over `(requestId, keccak256(encryptedSecret))`. `report` is the requester's
    /// attestation report (the request's, or a fresher one of the same enclave), verified in full now:
    /// it must not have expired and its measurement must be allowed by the verifier and not revoked in
    /// the registry. The first valid answer makes the requester attested and pays the bounty to the
    /// responding enclave's operator.
    function respondNetworkSecret(
        uint256 requestId,
        SecretRequest calldata request,
        bytes calldata report,
        bytes calldata encryptedSecret,
        bytes calldata signature
    ) external whenNotPaused nonReentrant {
        if (encryptedSecret.length != ENCRYPTED_SECRET_LENGTH) {
            revert InvalidEncryptedSecretLength(encryptedSecret.length);
        }
        _closeRequest(requestId, request, bytes32(0));
        uint32 measurementId = _verifyRequester(requestId, request.enclaveId, report);
        (address responder, address responderOperator) = _responder(requestId, encryptedSecret, signature);
        emit NetworkSecretResponded(requestId, responder, request.enclaveId, encryptedSecret);
        _attest(request.enclaveId, request.payer, measurementId);
        if (request.bounty != 0) Address.sendValue(payable(responderOperator), request.bounty);
    }

    /// @notice Cancels unanswered request `requestId` (whose fields are `request`) once
    /// `secretRequestTimeout` has passed since it was made and refunds the bounty to whoever paid it.
    /// Anyone may call, also while paused: refunds cannot be frozen.
    function cancelSecretRequest(uint256 requestId, SecretRequest calldata request) external nonReentrant {
        _closeRequest(requestId, request, CANCELLED);
        uint256 cancellableAt = uint256(request.createdAt) + _secretRequestTimeout;
        // slither-disable-next-line timestamp
        if (block.timestamp < cancellableAt) revert RequestNotExpired(requestId, cancellableAt);
        emit SecretRequestCancelled(requestId, request.bounty);
        if (request.bounty != 0) Address.sendValue(payable(request.payer), request.bounty);
    }

    // ----------------------------------------------------------------------------------------------
    // Administration

    /// @notice Lets attested enclave `enclaveId` sign rollups.
    function grantSequencer(address enclaveId) external onlyRole(ENCLAVE_ADMIN_ROLE) {
        Enclave storage e = _enclaves[enclaveId];
        if (!_isLive(e)) revert EnclaveNotAttested(enclaveId);
        e.sequencer = true;
        emit SequencerGranted(enclaveId);
    }

    /// @notice Stops `enclaveId` from signing rollups; it stays attested.
    function revokeSequencer(address enclaveId) external onlyRole(ENCLAVE_ADMIN_ROLE) {
        Enclave storage e = _enclaves[enclaveId];
        if (!e.sequencer) revert NotSequencer(enclaveId);
        e.sequencer = false;
        ++revocationGeneration;
        emit SequencerRevoked(enclaveId);
    }

    /// @notice Revokes `enclaveId` for good: not attested, not a sequencer, and never again.
    function revokeEnclave(address enclaveId) external onlyRole(ENCLAVE_ADMIN_ROLE) {
        Enclave storage e = _enclaves[enclaveId];
        if (e.revoked) revert EnclaveIsRevoked(enclaveId);
        if (e.sequencer) emit SequencerRevoked(enclaveId);
        e.attested = false;
        e.sequencer = false;
        e.revoked = true;
        ++revocationGeneration;
        emit EnclaveRevoked(enclaveId);
    }

    /// @notice Reassigns the operator of `enclaveId` (where its bounties and rewards go).
    function setEnclaveOperator(address enclaveId, address operator) external onlyRole(ENCLAVE_ADMIN_ROLE) {
        if (operator == address(0)) revert ZeroValue();
        _enclaves[enclaveId].operator = operator;
        emit EnclaveOperatorSet(enclaveId, operator);
    }

    /// @notice Sets the operator of `enclaveId` on the enclave's own authority: `signature` is the
    /// enclave's EIP-712 signature of `EnclaveOperator(enclaveId, operator, nonces(enclaveId))`. Anyone may
    /// submit it; each signature works once.
    function bindEnclaveOperator(address enclaveId, address operator, bytes calldata signature) external {
        if (operator == address(0)) revert ZeroValue();
        Enclave storage e = _enclaves[enclaveId];
        if (e.revoked) revert EnclaveIsRevoked(enclaveId);
        address signer = _recover(
            keccak256(abi.encode(OPERATOR_BINDING_TYPEHASH, enclaveId, operator, _useNonce(enclaveId))),
            signature
        );
        if (signer != enclaveId) revert NotSignedByEnclave(enclaveId, signer);
        e.operator = operator;
        emit EnclaveOperatorSet(enclaveId, operator);
    }

    /// @notice Replaces the attestation verifier (e.g. with hardware DCAP verification) and syncs every
    /// measurement the registry knows with it (one call per distinct measurement, never per enclave):
    /// enclaves whose measurement the new verifier does not allow stop counting as attested.
    function setAttestationVerifier(IAttestationVerifier verifier) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(verifier) == address(0)) revert ZeroValue();
        _setAttestationVerifier(verifier);
        uint32 count = _measurementCount;
        for (uint32 id = 1; id <= count; ++id) {
            _sync(verifier, _measurements[id], id);
        }
    }

    /// @notice Makes the registry follow the verifier's current verdict on `measurement`: when the
    /// verifier no longer allows it, every enclave attested under it stops counting as attested or as a
    /// sequencer (and cannot answer requests); when it allows it again, they count again (an explicit
    /// `revokeEnclave` stays for good). Anyone may call it — the guardian, a watcher, or the timelock
    /// batch that changed the verifier — since it only copies the verifier's answer. A measurement no
    /// enclave was attested under is not tracked: nothing happens.
    function syncMeasurement(bytes32 measurement) external {
        uint32 id = _measurementIds[measurement];
        if (id != 0) _sync(attestationVerifier, measurement, id);
    }

    /// @notice Sets the seconds after which an unanswered secret request may be cancelled.
    function setSecretRequestTimeout(uint64 timeout) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setSecretRequestTimeout(timeout);
    }

    /// @notice Stops the genesis initialization, requests and responses (not cancellations).
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Resumes the genesis initialization, requests and responses.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ----------------------------------------------------------------------------------------------
    // Views

    /// @inheritdoc IEnclaveRegistry
    function isAttested(address enclaveId) external view returns (bool) {
        return _isLive(_enclaves[enclaveId]);
    }

    /// @inheritdoc IEnclaveRegistry
    function isSequencer(address enclaveId) external view returns (bool) {
        Enclave memory e = _enclaves[enclaveId];
        return e.sequencer && _isLive(e);
    }

    /// @inheritdoc IEnclaveRegistry
    function sequencerOperator(address enclaveId) external view returns (address) {
        Enclave memory e = _enclaves[enclaveId];
        // A sequencer is attested and not revoked (revokeEnclave clears the flag): only the measurement
        // is left to check, in the registry's own bitmap (one slot for 256 measurements).
        if (!e.sequencer || _isRevoked(e.measurementId)) revert NotSequencer(enclaveId);
        return e.operator;
    }

    /// @notice The full record of `enclaveId`.
    function enclave(address enclaveId) external view returns (Enclave memory) {
        return _enclaves[enclaveId];
    }

    /// @notice The measurement `enclaveId` was attested under (zero when never attested).
    function enclaveMeasurement(address enclaveId) external view returns (bytes32) {
        return _measurements[_enclaves[enclaveId].measurementId];
    }

    /// @notice Whether the registry counts `measurement` as revoked (its last `syncMeasurement` found the
    /// verifier no longer allowing it). Differs from `!attestationVerifier.isMeasurementAllowed` until
    /// the measurement is synced after a verifier change; unknown measurements are not revoked.
    function isMeasurementRevoked(bytes32 measurement) external view returns (bool) {
        return _isRevoked(_measurementIds[measurement]);
    }

    /// @notice Seconds after which an unanswered secret request may be cancelled.
    function secretRequestTimeout() external view returns (uint64) {
        return _secretRequestTimeout;
    }

    /// @notice The status of request `requestId`.
    function requestStatus(uint256 requestId) external view returns (RequestStatus) {
        if (requestId == 0 || requestId > requestCount) return RequestStatus.None;
        bytes32 stored = _requests[requestId];
        if (stored == bytes32(0)) return RequestStatus.Answered;
        if (stored == CANCELLED) return RequestStatus.Cancelled;
        return RequestStatus.Open;
    }

    /// @notice What is stored for request `requestId`: the hash of its fields while open, 0 once answered
    /// (or when unknown), 1 once cancelled.
    function requestCommitment(uint256 requestId) external view returns (bytes32) {
        return _requests[requestId];
    }

    /// @notice The hash stored for open request `requestId` with fields `request`.
    function hashSecretRequest(uint256 requestId, SecretRequest calldata request) public pure returns (bytes32) {
        return keccak256(abi.encode(requestId, request));
    }

    /// @notice The EIP-712 digest an enclave signs to answer `requestId` with `encryptedSecret`.
    function secretResponseDigest(uint256 requestId, bytes calldata encryptedSecret) external view returns (bytes32) {
        return
            _hashTypedDataV4(keccak256(abi.encode(SECRET_RESPONSE_TYPEHASH, requestId, keccak256(encryptedSecret))));
    }

    // ----------------------------------------------------------------------------------------------
    // Internals

    /// @dev Verifies `report` in full and that it attests `requester`; returns its measurement's id, which
    /// must not be revoked.
    function _verifyRequester(
        uint256 requestId,
        address requester,
        bytes calldata report
    ) private returns (uint32 measurementId) {
        // `attestationVerifier.verify(report)`, reading only the enclave id and the measurement of its
        // answer (words 0 and 2) instead of decoding the key into memory; a revert is passed on as it is.
        IAttestationVerifier verifier = attestationVerifier;
        bytes4 selector = IAttestationVerifier.verify.selector;
        address attested;
        bytes32 measurement;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), 0x20)
            mstore(add(ptr, 0x24), report.length)
            let padded := and(add(report.length, 0x1f), not(0x1f))
            mstore(add(add(ptr, 0x44), sub(padded, 0x20)), 0) // zero the last word's padding
            calldatacopy(add(ptr, 0x44), report.offset, report.length)
            if iszero(staticcall(gas(), verifier, ptr, add(0x44, padded), 0, 0)) {
                returndatacopy(ptr, 0, returndatasize())
                revert(ptr, returndatasize())
            }
            // (address, bytes, bytes32): at least the three head words; no code answers nothing.
            if lt(returndatasize(), 0x60) {
                revert(0, 0)
            }
            returndatacopy(ptr, 0, 0x60)
            attested := and(mload(ptr), 0xffffffffffffffffffffffffffffffffffffffff)
            measurement := mload(add(ptr, 0x40))
        }
        if (attested != requester) revert RequestMismatch(requestId);
        measurementId = _measurementId(measurement);
        if (_isRevoked(measurementId)) revert MeasurementNotAllowed(measurement);
    }

    /// @dev The live enclave that signed the answer to `requestId`, and its operator.
    function _responder(
        uint256 requestId,
        bytes calldata encryptedSecret,
        bytes calldata signature
    ) private view returns (address responder, address operator) {
        responder = _recover(
            keccak256(abi.encode(SECRET_RESPONSE_TYPEHASH, requestId, keccak256(encryptedSecret))),
            signature
        );
        Enclave memory responding = _enclaves[responder];
        if (!_isLive(responding)) revert EnclaveNotAttested(responder);
        operator = responding.operator;
    }

    /// @dev Records `requester` as attested under measurement `measurementId`; `payer` becomes its
    /// operator when it has none.
    function _attest(address requester, address payer, uint32 measurementId) private {
        Enclave memory requesting = _enclaves[requester];
        if (requesting.revoked) revert EnclaveIsRevoked(requester);
        if (requesting.attested) revert EnclaveAlreadyAttested(requester);
        address operator = requesting.operator;
        bool firstOperator = operator == address(0);
        if (firstOperator) operator = payer;
        _enclaves[requester] = Enclave({
            operator: operator,
            attested: true,
            sequencer: false,
            revoked: false,
            attestedAt: uint40(block.timestamp),
            measurementId: measurementId
        });
        if (firstOperator) emit EnclaveOperatorSet(requester, operator);
        emit EnclaveAttested(requester, operator);
    }

    /// @dev Checks that `request` is open request `requestId`, then stores `closed` in its place.
    function _closeRequest(uint256 requestId, SecretRequest calldata request, bytes32 closed) private {
        bytes32 stored = _requests[requestId];
        if (stored == bytes32(0) || stored == CANCELLED) {
            if (requestId == 0 || requestId > requestCount) revert UnknownRequest(requestId);
            revert RequestNotOpen(requestId);
        }
        if (stored != hashSecretRequest(requestId, request)) revert RequestMismatch(requestId);
        _requests[requestId] = closed;
    }

    /// @dev Attested, not revoked, and its measurement not revoked.
    function _isLive(Enclave memory e) private view returns (bool) {
        return e.attested && !e.revoked && !_isRevoked(e.measurementId);
    }

    /// @dev Whether measurement `id` is revoked (id 0, never assigned, is not).
    function _isRevoked(uint32 id) private view returns (bool) {
        return (_revokedMeasurements[id >> 8] >> (id & 0xff)) & 1 == 1;
    }

    /// @dev Copies `verifier`'s verdict on `measurement` (id `id`) into the revocation bitmap.
    function _sync(IAttestationVerifier verifier, bytes32 measurement, uint32 id) private {
        bool allowed = verifier.isMeasurementAllowed(measurement);
        uint256 bit = uint256(1) << (id & 0xff);
        uint256 word = _revokedMeasurements[id >> 8];
        if (!allowed && word & bit == 0) ++revocationGeneration;
        _revokedMeasurements[id >> 8] = allowed ? word & ~bit : word | bit;
        emit MeasurementSynced(measurement, id, allowed);
    }

    /// @dev The id of `measurement`, assigned on first use.
    function _measurementId(bytes32 measurement) private returns (uint32 id) {
        id = _measurementIds[measurement];
        if (id == 0) {
            id = ++_measurementCount;
            _measurementIds[measurement] = id;
            _measurements[id] = measurement;
        }
    }

    function _setAttestationVerifier(IAttestationVerifier verifier) private {
        attestationVerifier = verifier;
        emit AttestationVerifierSet(address(verifier));
    }

    function _setSecretRequestTimeout(uint64 timeout) private {
        if (timeout == 0) revert ZeroValue();
        if (timeout > type(uint32).max) revert SecretRequestTimeoutTooLarge(timeout);
        _secretRequestTimeout = uint32(timeout);
        emit SecretRequestTimeoutSet(timeout);
    }

    function _recover(bytes32 structHash, bytes calldata signature) private view returns (address signer) {
        ECDSA.RecoverError err;
        (signer, err, ) = ECDSA.tryRecoverCalldata(_hashTypedDataV4(structHash), signature);
        if (err != ECDSA.RecoverError.NoError) revert InvalidSignature();
    }

    function _nonZero(address account) private pure returns (address) {
        if (account == address(0)) revert ZeroValue();
        return account;
    }
}
