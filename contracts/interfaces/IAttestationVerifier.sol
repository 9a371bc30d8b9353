// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IAttestationVerifier
/// @notice Turns an enclave's attestation report into a verified identity. The default
/// implementation checks a signature by an attestation service; SGX/TDX DCAP verification can be
/// plugged in behind the same interface.
interface IAttestationVerifier {
    /// @notice Verifies `report` and returns the identity it attests to; reverts if it is not valid
    /// (including when it has expired or its measurement is not allowed). Reports use the
    /// `AttestationReports` envelope: the EnclaveRegistry reads the enclave key from it, unverified, to
    /// announce a secret request, and calls `verify` when the request is answered.
    /// @return enclaveId The enclave's address (derived from `enclavePubKey`); it signs as this address.
    /// @return enclavePubKey The enclave's uncompressed secp256k1 public key (65 bytes, 0x04 prefix),
    /// used to encrypt the network secret to it.
    /// @return measurement The code measurement (MRENCLAVE / MRTD) the report attests.
    function verify(
        bytes calldata report
    ) external view returns (address enclaveId, bytes memory enclavePubKey, bytes32 measurement);

    /// @notice Whether enclaves running code `measurement` are trusted now. The EnclaveRegistry keeps a
    /// copy of this for the measurements it has seen and refreshes it with `syncMeasurement`: removing a
    /// measurement and syncing it revokes every enclave attested under it.
    function isMeasurementAllowed(bytes32 measurement) external view returns (bool);
}
