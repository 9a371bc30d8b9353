// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CrossChain} from "../libraries/CrossChain.sol";

/// @title IL1MessageReceiver
/// @notice An L2 contract the L2 MessageBus delivers L1 messages to.
interface IL1MessageReceiver {
    /// @notice Handles an L1 message from the L1 sender this receiver is registered for.
    function onL1Message(CrossChain.Message calldata message) external;
}
