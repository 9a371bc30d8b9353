// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {
    AccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IAttestationVerifier} from "../interfaces/IAttestationVerifier.sol";
import {IEnclaveRegistry} from "../interfaces/IEnclaveRegistry.sol";

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
contract EnclaveRegistry is
    IEnclaveRegistry,
    AccessControlDefaultAdminRules,
    Pausable,
    ReentrancyGuardTransient,
    EIP712,
    Nonces
{
    /// @notice May grant and revoke sequencers, revoke enclaves and reassign operators.
    bytes32 public constant ENCLAVE_ADMIN_ROLE = keccak256("ENCLAVE_ADMIN_ROLE");
    /// @notice May pause and unpause.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice May initialize the network secret, once (the call renounces the role).
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

    /// @notice State of an enclave, one storage slot.
    /// @param operator Account that pays for and is paid for the enclave (bounties, rewards).
    struct Enclave {
        address operator;
        bool attested;
        bool sequencer;
        bool revoked;
        uint64 attestedAt;
    }

    /// @notice Status of a secret request.
    enum RequestStatus {
        None,
        Open,
        Answered,
        Cancelled
    }

    /// @notice A request for the network secret.
    struct SecretRequest {
        address enclaveId;
        uint96 bounty;
        address payer;
        uint64 createdAt;
        RequestStatus status;
    }

    /// @notice Emitted once, when the genesis enclave creates the network secret.
    event NetworkSecretInitialized(address indexed enclaveId, bytes32 secretCommitment);
    /// @notice Emitted when an attested enclave asks for the network secret; `bounty` goes to the first
    /// valid responder.
    event NetworkSecretRequested(
        uint256 indexed requestId,
        address indexed enclaveId,
        bytes enclavePubKey,
        uint256 bounty
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
    /// @notice Emitted when the operator of `enclaveId` changes.
    event EnclaveOperatorSet(address indexed enclaveId, address indexed operator);
    /// @notice Emitted when the attestation verifier changes.
    event AttestationVerifierSet(address indexed verifier);
    /// @notice Emitted when the secret request timeout changes.
    event SecretRequestTimeoutSet(uint64 timeout);

    /// @notice The network secret was initialized already.
    error NetworkSecretAlreadyInitialized();
    /// @notice The network secret is not initialized yet.
    error NetworkSecretNotInitialized();
    /// @notice `enclaveId` is attested already.
    error EnclaveAlreadyAttested(address enclaveId);
    /// @notice `enclaveId` was revoked.
    error EnclaveIsRevoked(address enclaveId);
    /// @notice `enclaveId` is not attested.
    error EnclaveNotAttested(address enclaveId);
    /// @notice `enclaveId` is not a sequencer.
    error NotSequencer(address enclaveId);
    /// @notice No request has id `requestId`.
    error UnknownRequest(uint256 requestId);
    /// @notice Request `requestId` is answered or cancelled.
    error RequestNotOpen(uint256 requestId);
    /// @notice Request `requestId` may be cancelled only from `cancellableAt`.
    error RequestNotExpired(uint256 requestId, uint256 cancellableAt);
    /// @notice The encrypted secret is `length` bytes, not `ENCRYPTED_SECRET_LENGTH`.
    error InvalidEncryptedSecretLength(uint256 length);
    /// @notice The response signature is malformed.
    error InvalidSignature();
    /// @notice The operator binding for `enclaveId` was signed by `signer`.
    error NotSignedByEnclave(address enclaveId, address signer);
    /// @notice The bounty does not fit in 96 bits.
    error BountyTooLarge(uint256 bounty);
    /// @notice A zero address or a zero value where one is required.
    error ZeroValue();

    IAttestationVerifier public attestationVerifier;
    /// @notice Commitment (hash) to the network secret, set by the genesis enclave.
    bytes32 public secretCommitment;
    /// @notice Seconds after which an unanswered request may be cancelled.
    uint64 public secretRequestTimeout;
    /// @notice Number of secret requests made so far; request ids are 1..requestCount.
    uint64 public requestCount;

    mapping(address enclaveId => Enclave) private _enclaves;
    mapping(uint256 requestId => SecretRequest) private _requests;

    /// @param admin Receives DEFAULT_ADMIN_ROLE and ENCLAVE_ADMIN_ROLE (in a deployment: the timelock).
    /// @param adminDelay Seconds a DEFAULT_ADMIN_ROLE transfer waits before it can be accepted.
    /// @param guardian Receives PAUSER_ROLE.
    /// @param initializer Receives GENESIS_ROLE (initializes the network secret once).
    /// @param verifier The attestation verifier.
    /// @param requestTimeout Seconds after which an unanswered secret request can be cancelled.
    constructor(
        address admin,
        uint48 adminDelay,
        address guardian,
        address initializer,
        IAttestationVerifier verifier,
        uint64 requestTimeout
    ) EIP712("VeilnetEnclaveRegistry", "1") AccessControlDefaultAdminRules(adminDelay, admin) {
        if (
            guardian == address(0) ||
            initializer == address(0) ||
            address(verifier) == address(0) ||
            requestTimeout == 0
        ) revert ZeroValue();
        _grantRole(ENCLAVE_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, guardian);
        _grantRole(GENESIS_ROLE, initializer);
        attestationVerifier = verifier;
        secretRequestTimeout = requestTimeout;
        emit AttestationVerifierSet(address(verifier));
        emit SecretRequestTimeoutSet(requestTimeout);
    }

    // ----------------------------------------------------------------------------------------------
    // Network secret

    /// @notice Records the genesis enclave and the commitment to the network secret it created. Once.
    /// The genesis enclave becomes attested and a sequencer; the caller becomes its operator.
    /// @param report Attestation report of the genesis enclave.
    /// @param commitment Commitment to the network secret (`keccak256(secret)` in Veilnet's enclave).
    function initializeNetworkSecret(
        bytes calldata report,
        bytes32 commitment
    ) external onlyRole(GENESIS_ROLE) whenNotPaused {
        if (secretCommitment != bytes32(0)) revert NetworkSecretAlreadyInitialized();
        if (commitment == bytes32(0)) revert ZeroValue();
        (address enclaveId, , ) = attestationVerifier.verify(report);
        Enclave storage e = _enclaves[enclaveId];
        if (e.revoked) revert EnclaveIsRevoked(enclaveId);
        secretCommitment = commitment;
        e.operator = msg.sender;
        e.attested = true;
        e.sequencer = true;
        e.attestedAt = uint64(block.timestamp);
        emit NetworkSecretInitialized(enclaveId, commitment);
        emit EnclaveAttested(enclaveId, msg.sender);
        emit SequencerGranted(enclaveId);
        _revokeRole(GENESIS_ROLE, msg.sender);
    }

    /// @notice Asks the attested enclaves for the network secret on behalf of the enclave `report`
    /// attests. `msg.value` is the bounty for the first valid responder. The caller becomes the
    /// enclave's operator and gets the bounty back if the request is cancelled.
    /// @return requestId The id responders answer.
    function requestNetworkSecret(
        bytes calldata report
    ) external payable whenNotPaused nonReentrant returns (uint256 requestId) {
        if (secretCommitment == bytes32(0)) revert NetworkSecretNotInitialized();
        if (msg.value > type(uint96).max) revert BountyTooLarge(msg.value);
        (address enclaveId, bytes memory pubKey, ) = attestationVerifier.verify(report);
        Enclave storage e = _enclaves[enclaveId];
        if (e.revoked) revert EnclaveIsRevoked(enclaveId);
        if (e.attested) revert EnclaveAlreadyAttested(enclaveId);
        if (e.operator == address(0)) e.operator = msg.sender;

        requestId = ++requestCount;
        _requests[requestId] = SecretRequest({
            enclaveId: enclaveId,
            bounty: uint96(msg.value),
            payer: msg.sender,
            createdAt: uint64(block.timestamp),
            status: RequestStatus.Open
        });
        emit NetworkSecretRequested(requestId, enclaveId, pubKey, msg.value);
    }

    /// @notice Answers request `requestId` with the network secret encrypted (ECIES) to the requester's
    /// key. Any attested enclave may answer; `signature` is its EIP-712 signature over
    /// `(requestId, keccak256(encryptedSecret))`. The first valid answer makes the requester attested and
    /// pays the bounty to the responding enclave's operator.
    function respondNetworkSecret(
        uint256 requestId,
        bytes calldata encryptedSecret,
        bytes calldata signature
    ) external whenNotPaused nonReentrant {
        if (encryptedSecret.length != ENCRYPTED_SECRET_LENGTH) {
            revert InvalidEncryptedSecretLength(encryptedSecret.length);
        }
        SecretRequest storage r = _requests[requestId];
        if (r.status != RequestStatus.Open) {
            if (r.status == RequestStatus.None) revert UnknownRequest(requestId);
            revert RequestNotOpen(requestId);
        }
        address responder = _recover(
            keccak256(abi.encode(SECRET_RESPONSE_TYPEHASH, requestId, keccak256(encryptedSecret))),
            signature
        );
        Enclave storage responding = _enclaves[responder];
        if (!responding.attested || responding.revoked) revert EnclaveNotAttested(responder);

        address requester = r.enclaveId;
        Enclave storage requesting = _enclaves[requester];
        if (requesting.revoked) revert EnclaveIsRevoked(requester);
        if (requesting.attested) revert EnclaveAlreadyAttested(requester);

        uint256 bounty = r.bounty;
        r.status = RequestStatus.Answered;
        requesting.attested = true;
        requesting.attestedAt = uint64(block.timestamp);
        emit NetworkSecretResponded(requestId, responder, requester, encryptedSecret);
        emit EnclaveAttested(requester, requesting.operator);
        if (bounty != 0) Address.sendValue(payable(responding.operator), bounty);
    }

    /// @notice Cancels an unanswered request once `secretRequestTimeout` has passed since it was made
    /// and refunds the bounty to whoever paid it. Anyone may call.
    function cancelSecretRequest(uint256 requestId) external whenNotPaused nonReentrant {
        SecretRequest storage r = _requests[requestId];
        if (r.status != RequestStatus.Open) {
            if (r.status == RequestStatus.None) revert UnknownRequest(requestId);
            revert RequestNotOpen(requestId);
        }
        uint256 cancellableAt = uint256(r.createdAt) + secretRequestTimeout;
        // slither-disable-next-line timestamp
        if (block.timestamp < cancellableAt) revert RequestNotExpired(requestId, cancellableAt);
        uint256 refund = r.bounty;
        r.status = RequestStatus.Cancelled;
        emit SecretRequestCancelled(requestId, refund);
        if (refund != 0) Address.sendValue(payable(r.payer), refund);
    }

    // ----------------------------------------------------------------------------------------------
    // Administration

    /// @notice Lets attested enclave `enclaveId` sign rollups.
    function grantSequencer(address enclaveId) external onlyRole(ENCLAVE_ADMIN_ROLE) {
        Enclave storage e = _enclaves[enclaveId];
        if (!e.attested || e.revoked) revert EnclaveNotAttested(enclaveId);
        e.sequencer = true;
        emit SequencerGranted(enclaveId);
    }

    /// @notice Stops `enclaveId` from signing rollups; it stays attested.
    function revokeSequencer(address enclaveId) external onlyRole(ENCLAVE_ADMIN_ROLE) {
        Enclave storage e = _enclaves[enclaveId];
        if (!e.sequencer) revert NotSequencer(enclaveId);
        e.sequencer = false;
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

    /// @notice Replaces the attestation verifier (e.g. with hardware DCAP verification).
    function setAttestationVerifier(IAttestationVerifier verifier) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(verifier) == address(0)) revert ZeroValue();
        attestationVerifier = verifier;
        emit AttestationVerifierSet(address(verifier));
    }

    /// @notice Sets the seconds after which an unanswered secret request may be cancelled.
    function setSecretRequestTimeout(uint64 timeout) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (timeout == 0) revert ZeroValue();
        secretRequestTimeout = timeout;
        emit SecretRequestTimeoutSet(timeout);
    }

    /// @notice Stops requests, responses and cancellations.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Resumes requests, responses and cancellations.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ----------------------------------------------------------------------------------------------
    // Views

    /// @inheritdoc IEnclaveRegistry
    function isAttested(address enclaveId) external view returns (bool) {
        return _enclaves[enclaveId].attested;
    }

    /// @inheritdoc IEnclaveRegistry
    function isSequencer(address enclaveId) external view returns (bool) {
        return _enclaves[enclaveId].sequencer;
    }

    /// @inheritdoc IEnclaveRegistry
    function sequencerOperator(address enclaveId) external view returns (address) {
        Enclave storage e = _enclaves[enclaveId];
        if (!e.sequencer) revert NotSequencer(enclaveId);
        return e.operator;
    }

    /// @notice The full record of `enclaveId`.
    function enclave(address enclaveId) external view returns (Enclave memory) {
        return _enclaves[enclaveId];
    }

    /// @notice The full record of request `requestId`.
    function secretRequest(uint256 requestId) external view returns (SecretRequest memory) {
        return _requests[requestId];
    }

    /// @notice The EIP-712 digest an enclave signs to answer `requestId` with `encryptedSecret`.
    function secretResponseDigest(uint256 requestId, bytes calldata encryptedSecret) external view returns (bytes32) {
        return
            _hashTypedDataV4(keccak256(abi.encode(SECRET_RESPONSE_TYPEHASH, requestId, keccak256(encryptedSecret))));
    }

    function _recover(bytes32 structHash, bytes calldata signature) private view returns (address signer) {
        ECDSA.RecoverError err;
        (signer, err, ) = ECDSA.tryRecoverCalldata(_hashTypedDataV4(structHash), signature);
        if (err != ECDSA.RecoverError.NoError) revert InvalidSignature();
    }
}
