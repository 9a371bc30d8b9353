// SPDX-License-Identifier: MIT
// Test double: plain `require`s with messages.
// solhint-disable gas-custom-errors, reason-string
pragma solidity ^0.8.28;

import {IEnclaveRegistry} from "../../interfaces/IEnclaveRegistry.sol";

/// @notice An IEnclaveRegistry whose sequencers and revocation generation the test sets directly.
contract MockEnclaveRegistry is IEnclaveRegistry {
    /// @inheritdoc IEnclaveRegistry
    uint64 public revocationGeneration;
    mapping(address enclaveId => bool) public isSequencer;
    mapping(address enclaveId => address) private _operators;

    /// @notice Makes `enclaveId` a sequencer operated by `operator`.
    function grantSequencer(address enclaveId, address operator) external {
        isSequencer[enclaveId] = true;
        _operators[enclaveId] = operator;
    }

    /// @notice Revokes `enclaveId`, bumping the revocation generation as the real registry does.
    function revokeSequencer(address enclaveId) external {
        isSequencer[enclaveId] = false;
        ++revocationGeneration;
    }

    /// @inheritdoc IEnclaveRegistry
    function isAttested(address enclaveId) external view returns (bool) {
        return isSequencer[enclaveId];
    }

    /// @inheritdoc IEnclaveRegistry
    function sequencerOperator(address enclaveId) external view returns (address) {
        require(isSequencer[enclaveId], "not a sequencer");
        return _operators[enclaveId];
    }
}
