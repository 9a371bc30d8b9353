// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ISignedReportVerifierErrors
/// @notice The custom errors of SignedReportVerifier, the signed attestation report verifier. Declared apart from
/// the contract, which inherits them, so that callers decode its reverts from this interface alone.
interface ISignedReportVerifierErrors {
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
}
