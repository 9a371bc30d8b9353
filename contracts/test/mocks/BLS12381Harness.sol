// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BLS12381} from "../../libraries/BLS12381.sol";

/// @notice Test harness: exposes the BLS12381 library's functions, and `verify`'s gas measured inside the
/// call (a gasleft() difference, so without the transaction's base cost and calldata).
contract BLS12381Harness {
    /// @notice `BLS12381.hashToG1`.
    function hashToG1(bytes32 message, bytes calldata dst) external view returns (bytes memory point) {
        return BLS12381.hashToG1(message, dst);
    }

    /// @notice `BLS12381.hashBytesToG1`.
    function hashBytesToG1(bytes calldata message, bytes calldata dst) external view returns (bytes memory point) {
        return BLS12381.hashBytesToG1(message, dst);
    }

    /// @notice `BLS12381.verify`.
    function verify(
        bytes calldata publicKey,
        bytes32 message,
        bytes calldata signature,
        bytes calldata dst
    ) external view returns (bool valid) {
        return BLS12381.verify(publicKey, message, signature, dst);
    }

    /// @notice `BLS12381.verify` and the gas it used, from arguments already in memory to the answer.
    function verifyGas(
        bytes calldata publicKey,
        bytes32 message,
        bytes calldata signature,
        bytes calldata dst
    ) external view returns (bool valid, uint256 gasUsed) {
        bytes memory pk = publicKey;
        bytes memory sig = signature;
        bytes memory tag = dst;
        uint256 before = gasleft();
        valid = BLS12381.verify(pk, message, sig, tag);
        gasUsed = before - gasleft();
    }

    /// @notice `BLS12381.verify` under the rollup domain, the signature checked from calldata as a
    /// contract receiving it would (the copy to memory included in the measured gas).
    function verifyRollupGas(
        bytes calldata publicKey,
        bytes32 digest,
        bytes calldata signature
    ) external view returns (bool valid, uint256 gasUsed) {
        bytes memory pk = publicKey;
        uint256 before = gasleft();
        valid = BLS12381.verify(pk, digest, signature, BLS12381.ROLLUP_DST);
        gasUsed = before - gasleft();
    }
}
