// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IAttestationReportsErrors
/// @notice The custom errors of the AttestationReports library (report decoding), which reverts with them by this
/// interface's name. The contracts that use the library list them in their ABIs; callers decode them from this
/// interface alone.
interface IAttestationReportsErrors {
    /// @notice The report could not be decoded.
    error MalformedReport();
    /// @notice The public key is not a 65-byte uncompressed secp256k1 key.
    error InvalidEnclavePubKey();
}
