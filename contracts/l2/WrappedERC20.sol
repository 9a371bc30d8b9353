// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

import {IWrappedERC20Errors} from "../interfaces/IWrappedERC20Errors.sol";

/// @title WrappedERC20
/// @notice The L2 representation of an L1 token, minted and burned only by the L2 bridge.
contract WrappedERC20 is IWrappedERC20Errors, ERC20Permit {
    /// @notice The L1 token this wraps.
    address public immutable l1Token;
    /// @notice The L2 bridge, the only minter and burner.
    address public immutable bridge;
    uint8 private immutable _decimals;

    constructor(
        string memory name_,
        string memory symbol_,
        uint8 decimals_,
        address l1Token_
    ) ERC20(name_, symbol_) ERC20Permit(name_) {
        l1Token = l1Token_;
        bridge = msg.sender;
        _decimals = decimals_;
    }

    modifier onlyBridge() {
        if (msg.sender != bridge) revert OnlyBridge(msg.sender);
        _;
    }

    /// @notice Mints `amount` to `to`. Only the bridge (on a deposit).
    function mint(address to, uint256 amount) external onlyBridge {
        _mint(to, amount);
    }

    /// @notice Burns `amount` from `from`. Only the bridge (on a withdrawal).
    function burn(address from, uint256 amount) external onlyBridge {
        _burn(from, amount);
    }

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _decimals;
    }
}
