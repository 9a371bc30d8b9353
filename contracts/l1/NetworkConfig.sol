// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title NetworkConfig
/// @notice The address book of a Veilnet deployment and the log of feature upgrades. Off-chain
/// components discover every other contract from here.
contract NetworkConfig is AccessControl {
    /// @notice May set addresses and announce feature upgrades.
    bytes32 public constant CONFIG_ADMIN_ROLE = keccak256("CONFIG_ADMIN_ROLE");

    /// @notice Emitted when `name` is pointed at `addr`.
    event NetworkAddressSet(string name, address addr);
    /// @notice Emitted when the operators announce an upgrade of feature `name`.
    event FeatureUpgraded(string name, bytes data);

    /// @notice `name` is empty.
    error EmptyName();
    /// @notice No address is set for `name`.
    error AddressNotSet(string name);

    mapping(bytes32 nameHash => address addr) private _addresses;
    mapping(bytes32 nameHash => bool) private _listed;
    string[] private _names;

    /// @param admin Receives DEFAULT_ADMIN_ROLE and CONFIG_ADMIN_ROLE.
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(CONFIG_ADMIN_ROLE, admin);
    }

    /// @notice Points `name` at `addr` (address(0) clears it).
    function setAddress(string calldata name, address addr) external onlyRole(CONFIG_ADMIN_ROLE) {
        if (bytes(name).length == 0) revert EmptyName();
        bytes32 key = keccak256(bytes(name));
        if (!_listed[key]) {
            _listed[key] = true;
            _names.push(name);
        }
        _addresses[key] = addr;
        emit NetworkAddressSet(name, addr);
    }

    /// @notice The address set for `name`; reverts with `AddressNotSet` when there is none.
    function getAddress(string calldata name) external view returns (address addr) {
        addr = _addresses[keccak256(bytes(name))];
        if (addr == address(0)) revert AddressNotSet(name);
    }

    /// @notice Every name ever set (cleared ones included), in the order first set.
    function names() external view returns (string[] memory) {
        return _names;
    }

    /// @notice Announces an upgrade of feature `name`; `data` is for the nodes to interpret.
    function upgradeFeature(string calldata name, bytes calldata data) external onlyRole(CONFIG_ADMIN_ROLE) {
        if (bytes(name).length == 0) revert EmptyName();
        emit FeatureUpgraded(name, data);
    }
}
