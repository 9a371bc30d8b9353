// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ICrossChainMessengerErrors
/// @notice The custom errors of CrossChainMessenger, the L1 cross-chain messenger. Declared apart from the
/// contract, which inherits them, so that callers decode its reverts from this interface alone.
interface ICrossChainMessengerErrors {
    /// @notice The message's topic is not `CrossChain.TOPIC_CALL`.
    error NotACallMessage(uint32 topic);
    /// @notice The payload is not `abi.encode(address target, bytes data)`.
    error MalformedCallPayload();
    /// @notice Message `sequence` was relayed already.
    error MessageAlreadyRelayed(uint64 sequence);
    /// @notice The message is not waiting for a retry (never failed, or succeeded since).
    error MessageNotRetryable(bytes32 leaf);
    /// @notice The target call ran out of the gas the relayer provided; relay again with more gas.
    error InsufficientGasForCall();
    /// @notice `crossChainSender()` was called outside a relayed call.
    error NotInRelayedCall();
    /// @notice A zero address where one is required.
    error ZeroAddress();
}
