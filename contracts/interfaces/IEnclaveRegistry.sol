// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IEnclaveRegistry
/// @notice The part of the EnclaveRegistry other Veilnet contracts rely on.
interface IEnclaveRegistry {
    /// @notice True when `enclaveId` holds the network secret and has not been revoked.
    function isAttested(address enclaveId) external view returns (bool);

    /// @notice Incremented by every revocation: `revokeSequencer`, `revokeEnclave`, and a
    /// `syncMeasurement` that finds a measurement no longer allowed. A set of signers checked at one
    /// generation (OperatorRegistry's committee signers) is known to be still valid while it is unchanged.
    function revocationGeneration() external view returns (uint64);

    /// @notice True when `enclaveId` is attested and may sign rollups.
    function isSequencer(address enclaveId) external view returns (bool);

    /// @notice The operator account of a sequencer enclave (where its rewards accrue); reverts when
    /// `enclaveId` is not an attested sequencer.
    function sequencerOperator(address enclaveId) external view returns (address operator);
}
