// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IOperatorRegistry
/// @notice The part of the OperatorRegistry (DESIGN §9.1) the RollupRegistry relies on: which committee
/// may sign rollups now, and with which enclave keys.
interface IOperatorRegistry {
    /// @notice The committee whose rollups L1 accepts.
    /// @param id The committee's id (zero: none set yet, every rollup is refused).
    /// @param signersHash keccak256(abi.encodePacked(address[] signers)): the committee members' enclave
    /// signing addresses, in the committee's member order (ascending operator id). Recorded by
    /// `refreshCommitteeSigners`, which checks every one is an attested sequencer enclave.
    /// @param signersGeneration The EnclaveRegistry's `revocationGeneration()` when `signersHash` was
    /// recorded. A revocation since then makes the set stale until it is refreshed.
    /// @param size Number of members n (1, 4, 7, 10 or 13).
    /// @param quorum Signatures a rollup needs: 2f+1 where n = 3f+1.
    /// @param liquidated True while the committee is liquidated (its rollups are refused until
    /// `reactivate`).
    function activeCommittee()
        external
        view
        returns (uint64 id, bytes32 signersHash, uint64 signersGeneration, uint8 size, uint8 quorum, bool liquidated);
}
