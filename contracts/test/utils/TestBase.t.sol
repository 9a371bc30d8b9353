// SPDX-License-Identifier: MIT
// Foundry's names (`Vm`, `vm`) on purpose; plain `require`s with messages.
// solhint-disable interface-starts-with-i, const-name-snakecase, gas-custom-errors, one-contract-per-file

pragma solidity ^0.8.28;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";

import {CrossChain} from "../../libraries/CrossChain.sol";

/// @notice The few Foundry-compatible cheatcodes these tests use (Hardhat 3's EDR runner serves them at
/// the cheatcode address; there is no forge-std here).
interface Vm {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function warp(uint256 timestamp) external;
    function deal(address account, uint256 balance) external;
    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function expectRevert() external;
    function expectRevert(bytes calldata revertData) external;
    function expectEmit(bool topic1, bool topic2, bool topic3, bool data, address emitter) external;
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory logs);
    function label(address account, string calldata name) external;
}

/// @notice Cheatcode handle and small helpers shared by the Solidity tests and their handlers.
abstract contract TestBase {
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    /// @dev Maps `x` into `[min, max]`, leaving values already inside untouched (like forge-std's `bound`).
    function _bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        if (x >= min && x <= max) return x;
        uint256 size = max - min;
        if (size == type(uint256).max) return x;
        return min + (x % (size + 1));
    }

    /// @dev A deterministic address with no code and no precompile behind it.
    function _addr(string memory label, uint256 i) internal pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encode(label, i)))));
    }
}

/// @notice OpenZeppelin-compatible Merkle trees over L2→L1 messages, built in Solidity.
/// @dev Nodes are `Hashes.commutativeKeccak256` of their two children (as `MerkleProof` expects); a node
/// without a sibling moves up a level unchanged, so any number of leaves works.
library MessageTrees {
    /// @notice The leaf of `m`, as `CrossChain.leafHash` computes it (memory version).
    function leaf(CrossChain.Message memory m) internal pure returns (bytes32) {
        return
            keccak256(
                bytes.concat(
                    keccak256(abi.encode(m.sender, m.sequence, m.nonce, m.topic, m.payload, m.consistencyLevel))
                )
            );
    }

    /// @notice The root of the tree over `leaves` (non-empty).
    function root(bytes32[] memory leaves) internal pure returns (bytes32) {
        require(leaves.length != 0, "MessageTrees: no leaves");
        bytes32[] memory layer = leaves;
        while (layer.length > 1) layer = _up(layer);
        return layer[0];
    }

    /// @notice The proof of `leaves[index]` against `root(leaves)`.
    function proof(bytes32[] memory leaves, uint256 index) internal pure returns (bytes32[] memory path) {
        require(index < leaves.length, "MessageTrees: index out of range");
        path = new bytes32[](256);
        uint256 n;
        bytes32[] memory layer = leaves;
        while (layer.length > 1) {
            uint256 sibling = index ^ 1;
            if (sibling < layer.length) path[n++] = layer[sibling];
            layer = _up(layer);
            index >>= 1;
        }
        assembly ("memory-safe") {
            mstore(path, n)
        }
    }

    function _up(bytes32[] memory layer) private pure returns (bytes32[] memory next) {
        next = new bytes32[]((layer.length + 1) / 2);
        for (uint256 i; i < layer.length; i += 2) {
            next[i / 2] = i + 1 < layer.length ? Hashes.commutativeKeccak256(layer[i], layer[i + 1]) : layer[i];
        }
    }
}
