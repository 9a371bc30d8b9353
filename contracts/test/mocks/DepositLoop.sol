// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Bridge} from "../../l1/Bridge.sol";

/// @notice Makes many ETH deposits in one transaction (benchmarks: lots of deposit events quickly).
contract DepositLoop {
    /// @notice Deposits `msg.value / count` wei `count` times for `recipient` (message fee must be zero).
    function depositMany(Bridge bridge, address recipient, uint256 count) external payable {
        uint256 each = msg.value / count;
        for (uint256 i; i < count; ++i) bridge.depositNative{value: each}(recipient);
    }
}
