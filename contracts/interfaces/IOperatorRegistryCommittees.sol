// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IOperatorRegistryCommittees
/// @notice The OperatorRegistry's record of any committee (not only the active one), as the
/// RollupRegistry reads it to register a committee's threshold key (DESIGN §9.4).
/// @dev The tuple `OperatorRegistry.committee(uint64)` returns; declared apart from IOperatorRegistry,
/// which the OperatorRegistry implements with its own struct of the same layout.
interface IOperatorRegistryCommittees {
    /// @notice A committee as the OperatorRegistry records it.
    /// @param owner Who created it.
    /// @param signersGeneration The EnclaveRegistry's `revocationGeneration()` when `signersHash` was recorded.
    /// @param size Number of members n (zero: no such committee).
    /// @param quorum 2f+1 where n = 3f+1.
    /// @param liquidated Whether it is liquidated.
    /// @param signersHash keccak256(abi.encodePacked(address[] signers)) of its members' enclaves, in member order.
    /// @param balance Its balance as of now, wei.
    /// @param operatorIds Its members' operator ids, ascending.
    struct CommitteeRecord {
        address owner;
        uint64 signersGeneration;
        uint8 size;
        uint8 quorum;
        bool liquidated;
        bytes32 signersHash;
        uint256 balance;
        uint64[] operatorIds;
    }

    /// @notice Committee `committeeId` (reverts with `UnknownCommittee` when there is none).
    function committee(uint64 committeeId) external view returns (CommitteeRecord memory);
}
