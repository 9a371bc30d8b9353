// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IMessageBusErrors
/// @notice The custom errors of MessageBus, the L1 message bus. Declared apart from the contract, which inherits
/// them, so that callers decode its reverts from this interface alone.
interface IMessageBusErrors {
    /// @notice `msg.value` is not the message fee.
    error IncorrectMessageFee(uint256 sent, uint256 required);
    /// @notice `root` is zero or registered already (and still valid).
    error InvalidMessageRoot(bytes32 root);
    /// @notice `root` is invalid already (rejected, or after a rejected rollup).
    error MessageRootAlreadyRejected(bytes32 root);
    /// @notice Only the RollupRegistry may register and reject roots.
    error NotRollupRegistry(address caller);
    /// @notice Only the deployer may bind the RollupRegistry, once.
    error NotDeployer(address caller);
    /// @notice The RollupRegistry is bound already.
    error RollupRegistryAlreadyBound(address registry);
    /// @notice `root` was never registered.
    error UnknownMessageRoot(bytes32 root);
    /// @notice `root` becomes active only at `activatesAt`.
    error MessageRootNotActive(bytes32 root, uint64 activatesAt);
    /// @notice `root` was rejected by the guardian, or came after a rejected rollup.
    error MessageRootIsRejected(bytes32 root);
    /// @notice The Merkle proof does not lead from the message to `root`.
    error InvalidMerkleProof(bytes32 root);
    /// @notice The fee does not fit in 128 bits.
    error FeeTooLarge(uint256 fee);
    /// @notice A zero address where one is required.
    error ZeroAddress();
}
