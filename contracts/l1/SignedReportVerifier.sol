// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {
    AccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IAttestationVerifier} from "../interfaces/IAttestationVerifier.sol";

/// @title SignedReportVerifier
/// @notice Default attestation verifier: a report is valid when an allowed attestation service signed
/// it (EIP-712) and the measurement it attests is on the owner-managed allow-list.
/// @dev Trust boundary: this trusts the attestation service keys completely. It stands in for
/// hardware (SGX/TDX DCAP) verification, which can replace it behind `IAttestationVerifier`.
/// Report encoding: `abi.encode(AttestationReport report, bytes signature)`.
contract SignedReportVerifier is IAttestationVerifier, AccessControlDefaultAdminRules, EIP712 {
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

    /// @notice The report could not be decoded.
    error MalformedReport();
    /// @notice The public key is not a 65-byte uncompressed secp256k1 key.
    error InvalidEnclavePubKey();
    /// @notice The report was signed by `signer`, which is not an allowed attestation service.
    error UnknownAttestationService(address signer);
    /// @notice `measurement` is not on the allow-list.
    error MeasurementNotAllowed(bytes32 measurement);
    /// @notice The report expired at `expiresAt`.
    error ReportExpired(uint64 expiresAt);
    /// @notice The report's validity window is empty (`issuedAt` after `expiresAt`).
    error InvalidReportWindow(uint64 issuedAt, uint64 expiresAt);
    /// @notice `account` is the zero address.
    error ZeroAddress();

    mapping(address service => bool) public isAttestationService;
    mapping(bytes32 measurement => bool) public isMeasurementAllowed;

    /// @param admin Receives DEFAULT_ADMIN_ROLE and ATTESTATION_ADMIN_ROLE (in a deployment: the timelock).
    /// @param adminDelay Seconds a DEFAULT_ADMIN_ROLE transfer waits before it can be accepted.
    /// @param service First attestation service key.
    /// @param measurement First allowed measurement.
    constructor(
        address admin,
        uint48 adminDelay,
        address service,
        bytes32 measurement
    ) EIP712("VeilnetAttestation", "1") AccessControlDefaultAdminRules(adminDelay, admin) {
        _grantRole(ATTESTATION_ADMIN_ROLE, admin);
        _setService(service, true);
        _setMeasurement(measurement, true);
    }

    /// @notice Allows or disallows `service` as a report signer.
    function setAttestationService(address service, bool allowed) external onlyRole(ATTESTATION_ADMIN_ROLE) {
        _setService(service, allowed);
    }

    /// @notice Adds `measurement` to or removes it from the allow-list.
    function setMeasurement(bytes32 measurement, bool allowed) external onlyRole(ATTESTATION_ADMIN_ROLE) {
        _setMeasurement(measurement, allowed);
    }

    /// @inheritdoc IAttestationVerifier
    function verify(
        bytes calldata report
    ) external view returns (address enclaveId, bytes memory enclavePubKey, bytes32 measurement) {
        AttestationReport memory r;
        bytes memory signature;
        try this.decodeReport(report) returns (AttestationReport memory decoded, bytes memory sig) {
            (r, signature) = (decoded, sig);
        } catch {
            revert MalformedReport();
        }
        enclaveId = enclaveAddress(r.enclavePubKey);
        // slither-disable-next-line timestamp
        if (r.expiresAt < block.timestamp) revert ReportExpired(r.expiresAt);
        if (r.issuedAt > r.expiresAt) revert InvalidReportWindow(r.issuedAt, r.expiresAt);
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecover(reportDigest(r), signature);
        if (err != ECDSA.RecoverError.NoError || !isAttestationService[signer]) {
            revert UnknownAttestationService(signer);
        }
        if (!isMeasurementAllowed[r.measurement]) revert MeasurementNotAllowed(r.measurement);
        return (enclaveId, r.enclavePubKey, r.measurement);
    }

    /// @notice Decodes a report; external so `verify` can turn a decoding failure into `MalformedReport`.
    function decodeReport(
        bytes calldata report
    ) external pure returns (AttestationReport memory r, bytes memory signature) {
        (r, signature) = abi.decode(report, (AttestationReport, bytes));
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
        if (pubKey.length != 65 || pubKey[0] != 0x04) revert InvalidEnclavePubKey();
        bytes32 h;
        assembly ("memory-safe") {
            h := keccak256(add(pubKey, 0x21), 64)
        }
        return address(uint160(uint256(h)));
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
