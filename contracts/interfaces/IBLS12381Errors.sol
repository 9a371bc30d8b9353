// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IBLS12381Errors
/// @notice The custom errors of the BLS12381 library (BLS signatures in G1, keys in G2, on the EIP-2537
/// precompiles), which reverts with them by this interface's name. The contracts that use the library list
/// them in their ABIs; callers decode them from this interface alone.
/// @dev A signature or key that is well sized but not a valid point (off the curve, outside the subgroup, a
/// coordinate not below p) is not an error: `BLS12381.verify` returns false for it.
interface IBLS12381Errors {
    /// @notice The public key is not a 256-byte EIP-2537 G2 point encoding.
    error BLS12381InvalidPublicKeyLength(uint256 length);
    /// @notice The signature is not a 128-byte EIP-2537 G1 point encoding.
    error BLS12381InvalidSignatureLength(uint256 length);
    /// @notice The domain separation tag is empty or longer than 255 bytes (RFC 9380 §3.1, §5.3.3).
    error BLS12381InvalidDomainLength(uint256 length);
    /// @notice A precompile that cannot fail on the inputs it was given failed or answered nothing: the
    /// chain lacks it (EIP-2537 is Prague's) or the call ran out of gas.
    error BLS12381PrecompileFailed(address precompile);
}
