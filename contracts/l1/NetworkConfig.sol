// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {
    AccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";

import {INetworkConfigErrors} from "../interfaces/INetworkConfigErrors.sol";

/// @title NetworkConfig
/// @notice The address book of a Veilnet deployment and the log of feature upgrades. Off-chain
/// components discover every other contract from here. The book is filled at deployment (this contract is
/// deployed last); later changes are the admin's (in a deployment: the TimelockController's, so delayed).
contract NetworkConfig is INetworkConfigErrors, AccessControlDefaultAdminRules {
    /// @notice May set addresses and announce feature upgrades.
    bytes32 public constant CONFIG_ADMIN_ROLE = keccak256("CONFIG_ADMIN_ROLE");

    /// @notice Emitted when `name` is pointed at `addr`.
    event NetworkAddressSet(string name, address addr);
    /// @notice Emitted when the operators announce an upgrade of feature `name`.
    event FeatureUpgraded(string name, bytes data);

    mapping(bytes32 nameHash => address addr) private _addresses;
    mapping(bytes32 nameHash => bool) private _listed;
    string[] private _names;

    /// @param admin Receives DEFAULT_ADMIN_ROLE (two-step transfer, `adminDelay`) and CONFIG_ADMIN_ROLE.
    /// @param adminDelay Seconds a DEFAULT_ADMIN_ROLE transfer waits before it can be accepted.
    /// @param names_ The address book's names, booked in this order.
    /// @param addrs The address of each name.
    constructor(
        address admin,
        uint48 adminDelay,
        string[] memory names_,
        address[] memory addrs
    ) AccessControlDefaultAdminRules(adminDelay, admin) {
        _grantRole(CONFIG_ADMIN_ROLE, admin);
        if (names_.length != addrs.length) revert LengthMismatch(names_.length, addrs.length);
        for (uint256 i = 0; i < names_.length; ++i) {
            _setAddress(names_[i], addrs[i]);
        }
    }

    /// @notice Points `name` at `addr` (address(0) clears it).
    function setAddress(string calldata name, address addr) external onlyRole(CONFIG_ADMIN_ROLE) {
        _setAddress(name, addr);
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

    function _setAddress(string memory name, address addr) private {
        if (bytes(name).length == 0) revert EmptyName();
        bytes32 key = keccak256(bytes(name));
        if (!_listed[key]) {
            _listed[key] = true;
            _names.push(name);
        }
        _addresses[key] = addr;
        emit NetworkAddressSet(name, addr);
    }
}
