// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IEnclaveRegistryErrors
/// @notice The custom errors of EnclaveRegistry, the enclave registry. Declared apart from the contract, which
/// inherits them, so that callers decode its reverts from this interface alone.
interface IEnclaveRegistryErrors {
    /// @notice The network secret was initialized already.
    error NetworkSecretAlreadyInitialized();
    /// @notice The network secret is not initialized yet.
    error NetworkSecretNotInitialized();
    /// @notice `enclaveId` is attested already.
    error EnclaveAlreadyAttested(address enclaveId);
    /// @notice `enclaveId` was revoked.
    error EnclaveIsRevoked(address enclaveId);
    /// @notice `enclaveId` is not attested (or its measurement is no longer allowed).
    error EnclaveNotAttested(address enclaveId);
    /// @notice `enclaveId` is not a sequencer.
    error NotSequencer(address enclaveId);
    /// @notice No request has id `requestId`.
    error UnknownRequest(uint256 requestId);
    /// @notice Request `requestId` is answered or cancelled.
    error RequestNotOpen(uint256 requestId);
    /// @notice The fields given are not those of request `requestId`, or the report attests another enclave.
    error RequestMismatch(uint256 requestId);
    /// @notice Request `requestId` may be cancelled only from `cancellableAt`.
    error RequestNotExpired(uint256 requestId, uint256 cancellableAt);
    /// @notice The requester's measurement is revoked in the registry (synced from the verifier).
    error MeasurementNotAllowed(bytes32 measurement);
    /// @notice The encrypted secret is `length` bytes, not `ENCRYPTED_SECRET_LENGTH`.
    error InvalidEncryptedSecretLength(uint256 length);
    /// @notice The response signature is malformed.
    error InvalidSignature();
    /// @notice The operator binding for `enclaveId` was signed by `signer`.
    error NotSignedByEnclave(address enclaveId, address signer);
    /// @notice The bounty does not fit in 96 bits.
    error BountyTooLarge(uint256 bounty);
    /// @notice The timeout does not fit in 32 bits.
    error SecretRequestTimeoutTooLarge(uint64 timeout);
    /// @notice A zero address or a zero value where one is required.
    error ZeroValue();
}
