// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Test target: reads `block.prevrandao` (the batch entropy on Veilnet) in a transaction and in a view.
contract EntropyReader {
    /// @notice keccak256 of the prevrandao the last `draw` saw (the value itself is not stored).
    bytes32 public lastDrawHash;

    event Drawn(address indexed by, bytes32 valueHash);

    /// @notice Records the hash of the entropy this transaction sees.
    function draw() external {
        lastDrawHash = keccak256(abi.encode(block.prevrandao));
        emit Drawn(msg.sender, lastDrawHash);
    }

    /// @notice The entropy of the block a call runs in.
    function peek() external view returns (uint256) {
        return block.prevrandao;
    }
}
