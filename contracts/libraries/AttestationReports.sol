// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAttestationReportsErrors} from "../interfaces/IAttestationReportsErrors.sol";

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
    /// @notice Splits `report` in place into the report's head (its four words onwards) and the evidence,
    /// checking every offset and length against the calldata bounds.
    function split(bytes calldata report) internal pure returns (bytes calldata head, bytes calldata evidence) {
        head = _head(report);
        evidence = bytesAt(report, _word(report, 0x20));
    }

    /// @notice The fields of a report head (from `split`); the two timestamps must fit 64 bits.
    function fields(
        bytes calldata head
    ) internal pure returns (bytes calldata pubKey, bytes32 measurement, uint64 issuedAt, uint64 expiresAt) {
        // `_head` checked that the head holds its four words.
        uint256 issued = _word(head, 0x40);
        uint256 expires = _word(head, 0x60);
        if (issued > type(uint64).max || expires > type(uint64).max) revert IAttestationReportsErrors.MalformedReport();
        return (bytesAt(head, _word(head, 0)), bytes32(_word(head, 0x20)), uint64(issued), uint64(expires));
    }

    /// @notice The enclave key `report` claims and the address it signs as, without verifying anything
    /// else (cheap: no copy, one 64-byte hash).
    function enclaveKey(bytes calldata report) internal pure returns (address enclaveId, bytes calldata pubKey) {
        bytes calldata head = _head(report);
        pubKey = bytesAt(head, _word(head, 0));
        enclaveId = enclaveAddress(pubKey);
    }

    /// @notice The address an uncompressed secp256k1 public key (65 bytes, 0x04 prefix) signs as.
    function enclaveAddress(bytes calldata pubKey) internal pure returns (address enclaveId) {
        if (pubKey.length != 65 || pubKey[0] != 0x04) revert IAttestationReportsErrors.InvalidEnclavePubKey();
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, add(pubKey.offset, 1), 64)
            enclaveId := and(keccak256(ptr, 64), 0xffffffffffffffffffffffffffffffffffffffff)
        }
    }

    /// @notice The ABI `bytes` at `offset` of `data`, bounds checked.
    function bytesAt(bytes calldata data, uint256 offset) internal pure returns (bytes calldata out) {
        if (offset > data.length || data.length - offset < 0x20) revert IAttestationReportsErrors.MalformedReport();
        uint256 length = _word(data, offset);
        if (length > data.length - offset - 0x20) revert IAttestationReportsErrors.MalformedReport();
        assembly ("memory-safe") {
            out.offset := add(data.offset, add(offset, 0x20))
            out.length := length
        }
    }

    /// @dev `report[head:]` where `head` (its first word) leaves room for the report's four words.
    function _head(bytes calldata report) private pure returns (bytes calldata out) {
        if (report.length < 0x40) revert IAttestationReportsErrors.MalformedReport();
        uint256 head = _word(report, 0);
        if (head > report.length || report.length - head < 0x80) revert IAttestationReportsErrors.MalformedReport();
        assembly ("memory-safe") {
            out.offset := add(report.offset, head)
            out.length := sub(report.length, head)
        }
    }

    /// @dev The 32-byte word at `at` of `data`; the caller checked that `at + 32 <= data.length`.
    function _word(bytes calldata data, uint256 at) private pure returns (uint256 w) {
        assembly ("memory-safe") {
            w := calldataload(add(data.offset, at))
        }
    }
}
