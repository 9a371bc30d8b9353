// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IAttestationVerifier
/// @notice Turns an enclave's attestation report into a verified identity. The default
/// implementation checks a signature by an attestation service; SGX/TDX DCAP verification can be
/// plugged in behind the same interface.
interface IAttestationVerifier {
    /// @notice Verifies `report` and returns the identity it attests to; reverts if it is not valid.
    /// @return enclaveId The enclave's address (derived from `enclavePubKey`); it signs as this address.
    /// @return enclavePubKey The enclave's uncompressed secp256k1 public key (65 bytes, 0x04 prefix),
    /// used to encrypt the network secret to it.
    /// @return measurement The code measurement (MRENCLAVE / MRTD) the report attests.
    function verify(
        bytes calldata report
    ) external view returns (address enclaveId, bytes memory enclavePubKey, bytes32 measurement);

    /// @notice Like `verify`, and also returns until when the report is valid, so a later step (the
    /// secret response) can refuse a report that expired in between.
    /// @return enclaveId As in `verify`.
    /// @return enclavePubKey As in `verify`.
    /// @return measurement As in `verify`.
    /// @return expiresAt Unix time after which the report is no longer accepted.
    function verifyWithExpiry(
        bytes calldata report
    ) external view returns (address enclaveId, bytes memory enclavePubKey, bytes32 measurement, uint64 expiresAt);

    /// @notice Whether enclaves running code `measurement` are trusted now. Removing a measurement
    /// revokes every enclave attested under it (the EnclaveRegistry asks this on every use).
    function isMeasurementAllowed(bytes32 measurement) external view returns (bool);
}
