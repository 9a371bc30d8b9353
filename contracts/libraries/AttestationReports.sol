// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title AttestationReports
/// @notice The report envelope Veilnet's attestation reports share: `abi.encode(AttestationReport report,
/// bytes evidence)` where `AttestationReport` is `(bytes enclavePubKey, bytes32 measurement, uint64 issuedAt,
/// uint64 expiresAt)`. `SignedReportVerifier` reads it (its evidence is the attestation service's
/// signature); the EnclaveRegistry reads only the enclave key from it, unverified, to announce a secret
/// request (the report is verified in full when the request is answered). A verifier with another
/// format (e.g. SGX/TDX DCAP, the quote as evidence) keeps this envelope.
/// @dev Decoding reads the calldata in place after bounds checks (no copy, no self-call); a malformed
/// report reverts with `MalformedReport`.
library AttestationReports {
    /// @notice The report could not be decoded.
    error MalformedReport();
    /// @notice The public key is not a 65-byte uncompressed secp256k1 key.
    error InvalidEnclavePubKey();

    /// @notice Splits `report` in place into the report's head (its four words onwards) and the evidence,
    /// checking every offset and length against the calldata bounds.
    function split(bytes calldata report) internal pure returns (bytes calldata head, bytes calldata evidence) {
        head = _head(report);
        evidence = bytesAt(report, uint256(bytes32(report[0x20:0x40])));
    }

    /// @notice The fields of a report head; the two timestamps must fit 64 bits.
    function fields(
        bytes calldata head
    ) internal pure returns (bytes calldata pubKey, bytes32 measurement, uint64 issuedAt, uint64 expiresAt) {
        uint256 issued = uint256(bytes32(head[0x40:0x60]));
        uint256 expires = uint256(bytes32(head[0x60:0x80]));
        if (issued > type(uint64).max || expires > type(uint64).max) revert MalformedReport();
        return (pubKeyOf(head), bytes32(head[0x20:0x40]), uint64(issued), uint64(expires));
    }

    /// @notice The enclave key `report` claims and the address it signs as, without verifying anything
    /// else (cheap: no copy, one 64-byte hash).
    function enclaveKey(bytes calldata report) internal pure returns (address enclaveId, bytes calldata pubKey) {
        pubKey = pubKeyOf(_head(report));
        enclaveId = enclaveAddress(pubKey);
    }

    /// @notice The address an uncompressed secp256k1 public key (65 bytes, 0x04 prefix) signs as.
    function enclaveAddress(bytes calldata pubKey) internal pure returns (address) {
        if (pubKey.length != 65 || pubKey[0] != 0x04) revert InvalidEnclavePubKey();
        return address(uint160(uint256(keccak256(pubKey[1:]))));
    }

    /// @notice The ABI `bytes` at `offset` of `data`, bounds checked.
    function bytesAt(bytes calldata data, uint256 offset) internal pure returns (bytes calldata) {
        if (offset > data.length || data.length - offset < 0x20) revert MalformedReport();
        uint256 length = uint256(bytes32(data[offset:offset + 0x20]));
        if (length > data.length - offset - 0x20) revert MalformedReport();
        return data[offset + 0x20:offset + 0x20 + length];
    }

    function pubKeyOf(bytes calldata head) private pure returns (bytes calldata) {
        return bytesAt(head, uint256(bytes32(head[0:0x20])));
    }

    function _head(bytes calldata report) private pure returns (bytes calldata) {
        if (report.length < 0x40) revert MalformedReport();
        uint256 head = uint256(bytes32(report[0:0x20]));
        if (head > report.length || report.length - head < 0x80) revert MalformedReport();
        return report[head:];
    }
}
