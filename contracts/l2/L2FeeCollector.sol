// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IL2FeeCollectorErrors} from "../interfaces/IL2FeeCollectorErrors.sol";
import {L2Bridge} from "./L2Bridge.sol";

/// @title L2FeeCollector
/// @notice A predeploy of the L2 genesis and the L2 blocks' coinbase: it receives every L2 execution
/// fee and the L1 data fees the enclave charges. Anyone may send what it holds to the L1 fee vault
/// through the bridge (`flush`), where it funds sequencer rewards.
contract L2FeeCollector is IL2FeeCollectorErrors {
    /// @notice Emitted when `amount` leaves for `l1Recipient` as L2→L1 withdrawal `sequence`.
    event FeesFlushed(address indexed l1Recipient, uint256 amount, uint64 sequence);

    /// @notice The L2 bridge the fees leave through.
    L2Bridge public immutable bridge;
    /// @notice Where the fees go on L1 (the L1 FeeVault).
    address public immutable l1Recipient;

    /// @param bridge_ The L2 bridge.
    /// @param l1Recipient_ The L1 address receiving the fees.
    constructor(L2Bridge bridge_, address l1Recipient_) {
        if (address(bridge_) == address(0) || l1Recipient_ == address(0)) revert ZeroAddress();
        bridge = bridge_;
        l1Recipient = l1Recipient_;
    }

    /// @notice Withdraws the whole balance to `l1Recipient` on L1.
    function flush() external returns (uint64 sequence) {
        uint256 amount = address(this).balance;
        if (amount == 0) revert NothingToFlush();
        sequence = bridge.withdrawNative{value: amount}(l1Recipient);
        emit FeesFlushed(l1Recipient, amount, sequence);
    }

    /// @notice Accepts fees.
    receive() external payable {}
}
