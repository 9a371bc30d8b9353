// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IAttestationVerifier} from "../interfaces/IAttestationVerifier.sol";
import {IAttestationReportsErrors} from "../interfaces/IAttestationReportsErrors.sol";
import {ISignedReportVerifierErrors} from "../interfaces/ISignedReportVerifierErrors.sol";
import {AttestationReports} from "../libraries/AttestationReports.sol";

/// @title SignedReportVerifier
/// @notice Default attestation verifier: a report is valid when an allowed attestation service signed
/// it (EIP-712) and the measurement it attests is on the owner-managed allow-list.
/// @dev Trust boundary: this trusts the attestation service keys completely. It stands in for
/// hardware (SGX/TDX DCAP) verification, which can replace it behind `IAttestationVerifier`.
/// Report encoding: `abi.encode(AttestationReport report, bytes signature)`, the `AttestationReports`
/// envelope. Decoding reads the calldata in place after bounds checks (no self-call), so a malformed
/// report reverts with `IAttestationReportsErrors.MalformedReport`.
contract SignedReportVerifier is
    IAttestationVerifier,
    ISignedReportVerifierErrors,
    AccessControlDefaultAdminRules,
    EIP712
{
    /// @notice What the attestation service signs.
    /// @param enclavePubKey Uncompressed secp256k1 key of the enclave (65 bytes, 0x04 prefix).
    /// @param measurement Code measurement of the enclave.
    /// @param issuedAt Unix time the service produced the report.
    /// @param expiresAt Unix time after which the report is no longer accepted.
    struct AttestationReport {
        bytes enclavePubKey;
        bytes32 measurement;
        uint64 issuedAt;
        uint64 expiresAt;
    }

    /// @notice May manage attestation service keys and the measurement allow-list.
    bytes32 public constant ATTESTATION_ADMIN_ROLE = keccak256("ATTESTATION_ADMIN_ROLE");
    /// @notice EIP-712 type hash of `AttestationReport`.
    bytes32 public constant REPORT_TYPEHASH =
        keccak256("AttestationReport(bytes enclavePubKey,bytes32 measurement,uint64 issuedAt,uint64 expiresAt)");

    /// @notice Emitted when `service` is allowed or disallowed as a report signer.
    event AttestationServiceSet(address indexed service, bool allowed);
    /// @notice Emitted when `measurement` is added to or removed from the allow-list.
    event MeasurementSet(bytes32 indexed measurement, bool allowed);

    /// @notice Whether `service` may sign reports.
    mapping(address service => bool) public isAttestationService;
    /// @inheritdoc IAttestationVerifier
    mapping(bytes32 measurement => bool) public isMeasurementAllowed;

    /// @param admin Receives DEFAULT_ADMIN_ROLE (transferred in two delayed steps) and ATTESTATION_ADMIN_ROLE.
    /// @param adminDelay Delay of a DEFAULT_ADMIN_ROLE transfer, in seconds.
    /// @param service First attestation service key.
    /// @param measurement First allowed measurement.
    constructor(
        address admin,
        uint48 adminDelay,
        address service,
        bytes32 measurement
    ) AccessControlDefaultAdminRules(adminDelay, _nonZero(admin)) EIP712("VeilnetAttestation", "1") {
        _grantRole(ATTESTATION_ADMIN_ROLE, admin);
        _setService(service, true);
        _setMeasurement(measurement, true);
    }

    /// @notice Allows or disallows `service` as a report signer.
    function setAttestationService(address service, bool allowed) external onlyRole(ATTESTATION_ADMIN_ROLE) {
        _setService(service, allowed);
    }

    /// @notice Adds `measurement` to or removes it from the allow-list. The EnclaveRegistry follows the
    /// change once `EnclaveRegistry.syncMeasurement(measurement)` is called (permissionless; schedule it in
    /// the same timelock batch): removing a measurement then revokes every enclave attested under it.
    function setMeasurement(bytes32 measurement, bool allowed) external onlyRole(ATTESTATION_ADMIN_ROLE) {
        _setMeasurement(measurement, allowed);
    }

    /// @inheritdoc IAttestationVerifier
    function verify(
        bytes calldata report
    ) external view returns (address enclaveId, bytes memory enclavePubKey, bytes32 measurement) {
        return _verify(report);
    }

    /// @notice Decodes a report (reverts with `MalformedReport` when it is not one).
    function decodeReport(
        bytes calldata report
    ) external pure returns (AttestationReport memory r, bytes memory signature) {
        (bytes calldata head, bytes calldata sig) = AttestationReports.split(report);
        (bytes calldata pubKey, bytes32 measurement, uint64 issuedAt, uint64 expiresAt) = AttestationReports
            .fields(head);
        return (AttestationReport(pubKey, measurement, issuedAt, expiresAt), sig);
    }

    /// @notice The EIP-712 digest the attestation service signs for `r`.
    function reportDigest(AttestationReport memory r) public view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(REPORT_TYPEHASH, keccak256(r.enclavePubKey), r.measurement, r.issuedAt, r.expiresAt)
                )
            );
    }

    /// @notice The address an uncompressed secp256k1 public key signs as.
    function enclaveAddress(bytes memory pubKey) public pure returns (address) {
        if (pubKey.length != 65 || pubKey[0] != 0x04) revert IAttestationReportsErrors.InvalidEnclavePubKey();
        bytes32 h;
        assembly ("memory-safe") {
            h := keccak256(add(pubKey, 0x21), 64)
        }
        return address(uint160(uint256(h)));
    }

    function _verify(
        bytes calldata report
    ) private view returns (address enclaveId, bytes calldata enclavePubKey, bytes32 measurement) {
        (bytes calldata r, bytes calldata signature) = AttestationReports.split(report);
        (bytes calldata pubKey, bytes32 m, uint64 issuedAt, uint64 expiry) = AttestationReports.fields(r);
        enclaveId = AttestationReports.enclaveAddress(pubKey);
        // slither-disable-next-line timestamp
        if (expiry < block.timestamp) revert ReportExpired(expiry);
        if (issuedAt > expiry) revert InvalidReportWindow(issuedAt, expiry);
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(
            _digest(keccak256(pubKey), m, issuedAt, expiry),
            signature
        );
        if (err != ECDSA.RecoverError.NoError || !isAttestationService[signer]) {
            revert UnknownAttestationService(signer);
        }
        if (!isMeasurementAllowed[m]) revert MeasurementNotAllowed(m);
        return (enclaveId, pubKey, m);
    }

    function _digest(bytes32 pubKeyHash, bytes32 m, uint64 issuedAt, uint64 expiresAt) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(REPORT_TYPEHASH, pubKeyHash, m, issuedAt, expiresAt)));
    }

    function _nonZero(address account) private pure returns (address) {
        if (account == address(0)) revert ZeroAddress();
        return account;
    }

    function _setService(address service, bool allowed) private {
        if (service == address(0)) revert ZeroAddress();
        isAttestationService[service] = allowed;
        emit AttestationServiceSet(service, allowed);
    }

    function _setMeasurement(bytes32 measurement, bool allowed) private {
        isMeasurementAllowed[measurement] = allowed;
        emit MeasurementSet(measurement, allowed);
    }
}
