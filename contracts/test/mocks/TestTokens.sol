// SPDX-License-Identifier: MIT
// Test doubles, grouped by kind.
// solhint-disable one-contract-per-file
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice A plain mintable ERC-20 for tests.
contract TestToken is ERC20 {
    uint8 private immutable _decimals;

    constructor(string memory name_, string memory symbol_, uint8 decimals_) ERC20(name_, symbol_) {
        _decimals = decimals_;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }
}

/// @notice An ERC-20 that burns `feeBps` of every transfer, for fee-on-transfer tests.
contract FeeOnTransferToken is ERC20 {
    uint256 public immutable feeBps;

    constructor(uint256 feeBps_) ERC20("Fee Token", "FEE") {
        feeBps = feeBps_;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 fee = (value * feeBps) / 10_000;
            super._update(from, address(0), fee);
            super._update(from, to, value - fee);
        } else {
            super._update(from, to, value);
        }
    }
}

/// @notice A token whose name and symbol are bytes32 (like MKR) and that has no decimals().
contract Bytes32MetadataToken {
    // solhint-disable-next-line const-name-snakecase
    bytes32 public constant name = "Maker";
    // solhint-disable-next-line const-name-snakecase
    bytes32 public constant symbol = "MKR";
}
