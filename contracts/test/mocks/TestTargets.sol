// SPDX-License-Identifier: MIT
// Test doubles, grouped by kind.
// solhint-disable one-contract-per-file
pragma solidity ^0.8.28;

import {ICrossChainMessenger} from "../../interfaces/ICrossChainMessenger.sol";

/// @notice An L1 target of relayed calls that records the L2 sender and can be told to fail.
contract RelayTarget {
    error TargetFailure(uint256 value);

    ICrossChainMessenger public immutable messenger;
    bool public shouldFail;
    address public lastSender;
    uint256 public lastValue;
    uint256 public calls;

    constructor(ICrossChainMessenger messenger_) {
        messenger = messenger_;
    }

    function setShouldFail(bool fail) external {
        shouldFail = fail;
    }

    function receiveCall(uint256 value) external {
        if (shouldFail) revert TargetFailure(value);
        lastSender = messenger.crossChainSender();
        lastValue = value;
        ++calls;
    }
}

/// @notice An account that refuses ETH unless told otherwise.
contract RejectingReceiver {
    bool public accept;

    function setAccept(bool accept_) external {
        accept = accept_;
    }

    receive() external payable {
        // A plain reason string on purpose: tests check that arbitrary revert data is carried through.
        // solhint-disable-next-line gas-custom-errors
        require(accept, "RejectingReceiver: refused");
    }
}

/// @notice A target whose call needs a lot of gas (fresh storage writes), to starve it on purpose.
contract GasHungryTarget {
    mapping(uint256 slot => uint256) public written;
    uint256 public calls;

    function consume(uint256 slots) external {
        for (uint256 i; i < slots; ++i) written[i] = i + 1;
        ++calls;
    }
}
