// SPDX-License-Identifier: MIT
// Test double of the OperatorRegistry (DESIGN §9.1): the active committee is whatever the test sets.
pragma solidity ^0.8.28;

import {IOperatorRegistry} from "../../interfaces/IOperatorRegistry.sol";
import {IOperatorRegistryCommittees} from "../../interfaces/IOperatorRegistryCommittees.sol";

/// @notice Stands in for the OperatorRegistry in RollupRegistry's tests: `activeCommittee()` returns the
/// values last set, by anyone (test-only: it has no access control), and `committee(id)` the same values
/// for the active id (with `owner` as its owner; it reverts for any other id).
contract TestOperatorRegistry is IOperatorRegistry, IOperatorRegistryCommittees {
    /// @dev Two slots, as a real registry would pack its active committee (the gas bench measures it).
    struct Committee {
        bytes32 signersHash;
        uint64 id;
        uint64 signersGeneration;
        uint8 size;
        uint8 quorum;
        bool liquidated;
    }

    Committee private _active;
    /// @notice The owner `committee()` reports.
    address public owner;

    /// @notice `committee()` of another id than the active one.
    error UnknownCommittee(uint64 committeeId);

    /// @notice Emitted whenever the active committee's values change.
    event ActiveCommitteeSet(
        uint64 id,
        bytes32 signersHash,
        uint64 signersGeneration,
        uint8 size,
        uint8 quorum,
        bool liquidated
    );

    /// @notice Accepts ETH: the FeeVault pays the committee's claimed rewards here.
    receive() external payable {}

    /// @notice Makes committee `id` of `signers` (in member order, hashed as the OperatorRegistry does)
    /// with `quorum`, recorded at revocation generation `generation`, the active one (not liquidated).
    function setCommittee(uint64 id, address[] calldata signers, uint8 quorum, uint64 generation) external {
        _set(Committee(keccak256(abi.encodePacked(signers)), id, generation, uint8(signers.length), quorum, false));
    }

    /// @notice Sets every value `activeCommittee()` returns.
    function setRaw(
        uint64 id,
        bytes32 signersHash,
        uint64 signersGeneration,
        uint8 size,
        uint8 quorum,
        bool liquidated
    ) external {
        _set(Committee(signersHash, id, signersGeneration, size, quorum, liquidated));
    }

    /// @notice Sets the owner `committee()` reports.
    function setOwner(address owner_) external {
        owner = owner_;
    }

    /// @notice Sets the liquidated flag of the active committee.
    function setLiquidated(bool liquidated) external {
        Committee memory c = _active;
        c.liquidated = liquidated;
        _set(c);
    }

    /// @notice Sets the revocation generation the active committee's signers were recorded at.
    function setSignersGeneration(uint64 generation) external {
        Committee memory c = _active;
        c.signersGeneration = generation;
        _set(c);
    }

    /// @inheritdoc IOperatorRegistry
    function activeCommittee()
        external
        view
        returns (uint64 id, bytes32 signersHash, uint64 signersGeneration, uint8 size, uint8 quorum, bool liquidated)
    {
        Committee memory c = _active;
        return (c.id, c.signersHash, c.signersGeneration, c.size, c.quorum, c.liquidated);
    }

    /// @inheritdoc IOperatorRegistryCommittees
    function committee(uint64 committeeId) external view returns (CommitteeRecord memory r) {
        Committee memory c = _active;
        if (committeeId != c.id || c.id == 0) revert UnknownCommittee(committeeId);
        r.owner = owner;
        r.signersGeneration = c.signersGeneration;
        r.size = c.size;
        r.quorum = c.quorum;
        r.liquidated = c.liquidated;
        r.signersHash = c.signersHash;
    }

    function _set(Committee memory c) private {
        _active = c;
        emit ActiveCommitteeSet(c.id, c.signersHash, c.signersGeneration, c.size, c.quorum, c.liquidated);
    }
}
