// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {OperatorRegistry} from "../../l1/OperatorRegistry.sol";

/// @notice Liquidates a committee and, when paid, tries to liquidate another one from its `receive`.
contract ReentrantLiquidator {
    OperatorRegistry public immutable registry;
    uint64 public reentryTarget;

    constructor(OperatorRegistry registry_) {
        registry = registry_;
    }

    /// @notice Liquidates `committeeId`; the payment re-enters with `liquidate(reentryTarget_)`.
    function liquidate(uint64 committeeId, uint64 reentryTarget_) external {
        reentryTarget = reentryTarget_;
        registry.liquidate(committeeId);
    }

    receive() external payable {
        registry.liquidate(reentryTarget);
    }
}
