// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IBLS12381Errors} from "../interfaces/IBLS12381Errors.sol";

/// @title BLS12381
/// @notice BLS signatures over BLS12-381 with the signature in G1 and the public key in G2 (the "short
/// signatures" or min-sig variant), verified with the EIP-2537 precompiles (Prague and later). A committee's
/// threshold key signs a 32-byte digest: `verify` checks e(signature, -g2) · e(H(digest), publicKey) == 1,
/// where H is RFC 9380's hash_to_curve for the suite BLS12381G1_XMD:SHA-256_SSWU_RO_ under a caller-chosen
/// domain separation tag (`ROLLUP_DST`, `POP_DST`).
/// @dev Points use the EIP-2537 encodings: a G1 point is 128 bytes (x, y), a G2 point 256 bytes (x.c0, x.c1,
/// y.c0, y.c1), each coordinate 64 bytes big-endian (16 zero bytes, then 48); the point at infinity is all
/// zeros. Hashing to G1 is expand_message_xmd with SHA-256 (precompile 0x02) into 128 uniform bytes, each
/// 64-byte half reduced mod p with MODEXP (0x05, base^1 mod p), each field element mapped by
/// BLS12_MAP_FP_TO_G1 (0x10, which clears the cofactor; clearing is linear, so the sum of the two maps is
/// RFC 9380's clear_cofactor(Q0 + Q1)), and the two points added with BLS12_G1ADD (0x0b).
///
/// Failure policy: wrong lengths and bad domain tags revert with the errors of `IBLS12381Errors` (a caller's
/// bug, not a forged signature). A signature or key of the right length that is not a valid point (off the
/// curve, outside the subgroup, a coordinate not below p) makes the pairing precompile fail, and `verify`
/// returns false: to the verifier it is just an invalid signature, and the caller decides how to refuse
/// it. EIP-2537 precompiles consume all the gas given to a failing call, and `verify` forwards all it has
/// (the price of a pairing is not hard-coded, so a repricing cannot break verification): a malformed
/// signature costs its submitter 63/64 of the gas left, and the caller keeps 1/64 to revert with. The
/// identity public key (all zeros) is refused (false) before any pairing: with it the all-zero signature
/// would verify every message. A pairing call that runs out of gas looks the same as a failed check (false):
/// give `verify` the gas it needs (see below). A chain without the precompiles, or a call out of gas in the
/// hashing, reverts with `BLS12381PrecompileFailed`.
///
/// Gas (Osaka): pairing of two pairs 102,900, two maps 11,000, G1ADD 375, two MODEXPs 1,000, five SHA-256
/// about 500, the eleven calls 1,100, and the copying: about 120,000 for `verify` under `ROLLUP_DST`, as
/// test/contracts/bls12381.ts measures.
library BLS12381 {
    /// @notice The domain separation tag of rollup header signatures (the message: the header's EIP-712 digest).
    bytes internal constant ROLLUP_DST = "VEILNET-ROLLUP-V1_BLS12381G1_XMD:SHA-256_SSWU_RO_";
    /// @notice The domain separation tag of proofs of possession (the message:
    /// keccak256(abi.encode(publicKey, owner, nonce))).
    bytes internal constant POP_DST = "VEILNET-POP-V1_BLS12381G1_XMD:SHA-256_SSWU_RO_";

    /// @notice The length of an EIP-2537 G1 point (a signature, a hashed message).
    uint256 internal constant G1_POINT_LENGTH = 128;
    /// @notice The length of an EIP-2537 G2 point (a public key).
    uint256 internal constant G2_POINT_LENGTH = 256;

    address private constant PAIRING_CHECK = address(0x0f);

    // The hashing's scratch memory, offsets from its start:
    /// @dev Where a bytes32 caller puts its message (read first, into msg_prime).
    uint256 private constant MESSAGE_AT = 0;
    /// @dev The b_i input: (b_0, or b_0 ^ b_(i-1)) (32) || I2OSP(i, 1) || DST || I2OSP(len(DST), 1).
    uint256 private constant BLOCK_INPUT_AT = 32;
    /// @dev b_0.
    uint256 private constant B0_AT = 352;
    /// @dev The MODEXP input reducing b_1 || b_2 to u_0, then the one reducing b_3 || b_4 to u_1.
    uint256 private constant MODEXP_U0_AT = 384;
    uint256 private constant MODEXP_U1_AT = 608;
    /// @dev u_0 then u_1, as EIP-2537 field elements (64 bytes each).
    uint256 private constant FIELD_ELEMENTS_AT = 832;
    /// @dev map_to_curve(u_0) then map_to_curve(u_1), 128 bytes each: the G1ADD input.
    uint256 private constant MAPPED_AT = 960;
    /// @dev msg_prime, last for its lengths vary: Z_pad (64) || message || I2OSP(128, 2) || 0x00 || DST_prime.
    uint256 private constant MSG_PRIME_AT = 1216;

    /// @notice RFC 9380 hash_to_curve of the 32-byte `message` to G1 under `dst`, EIP-2537 encoded.
    /// @param message The message (a digest).
    /// @param dst The domain separation tag, 1 to 255 bytes.
    /// @return point The 128-byte G1 point.
    function hashToG1(bytes32 message, bytes memory dst) internal view returns (bytes memory point) {
        point = new bytes(G1_POINT_LENGTH);
        uint256 out;
        uint256 scratch;
        assembly ("memory-safe") {
            out := add(point, 0x20)
            scratch := mload(0x40)
            mstore(add(scratch, MESSAGE_AT), message)
        }
        _hashToG1Into(scratch + MESSAGE_AT, 32, dst, out, scratch);
    }

    /// @notice RFC 9380 hash_to_curve of a message of any length to G1 under `dst`, EIP-2537 encoded (the
    /// RFC's own test vectors hash such messages; Veilnet signs digests, see the bytes32 `hashToG1`).
    /// @param message The message.
    /// @param dst The domain separation tag, 1 to 255 bytes.
    /// @return point The 128-byte G1 point.
    function hashBytesToG1(bytes memory message, bytes memory dst) internal view returns (bytes memory point) {
        point = new bytes(G1_POINT_LENGTH);
        uint256 out;
        uint256 scratch;
        uint256 data;
        assembly ("memory-safe") {
            out := add(point, 0x20)
            scratch := mload(0x40)
            data := add(message, 0x20)
        }
        _hashToG1Into(data, message.length, dst, out, scratch);
    }

    /// @notice Whether `signature` is `publicKey`'s BLS signature of `message` under `dst`.
    /// @dev Reverts on wrong lengths (and a bad `dst`); returns false for an invalid signature, including one
    /// that is not a valid G1 point, and for an invalid or identity public key.
    /// @param publicKey The signer's G2 public key, 256 bytes (EIP-2537).
    /// @param message The signed message (a digest).
    /// @param signature The G1 signature, 128 bytes (EIP-2537).
    /// @param dst The domain separation tag the signer used, 1 to 255 bytes.
    /// @return valid Whether the signature verifies.
    function verify(
        bytes memory publicKey,
        bytes32 message,
        bytes memory signature,
        bytes memory dst
    ) internal view returns (bool valid) {
        if (publicKey.length != G2_POINT_LENGTH) {
            revert IBLS12381Errors.BLS12381InvalidPublicKeyLength(publicKey.length);
        }
        if (signature.length != G1_POINT_LENGTH) {
            revert IBLS12381Errors.BLS12381InvalidSignatureLength(signature.length);
        }
        if (_isZero(publicKey)) return false;

        // The pairing input: (signature, -g2) then (H(message), publicKey), 2 × (128 + 256) bytes.
        uint256 input;
        assembly ("memory-safe") {
            input := mload(0x40)
            mstore(0x40, add(input, 768))
            mcopy(input, add(signature, 0x20), 128)
            // -g2: the G2 generator with y negated (x.c0, x.c1, y.c0, y.c1).
            mstore(add(input, 128), 0x00000000000000000000000000000000024aa2b2f08f0a91260805272dc51051)
            mstore(add(input, 160), 0xc6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8)
            mstore(add(input, 192), 0x0000000000000000000000000000000013e02b6052719f607dacd3a088274f65)
            mstore(add(input, 224), 0x596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e)
            mstore(add(input, 256), 0x000000000000000000000000000000000d1b3cc2c7027888be51d9ef691d77bc)
            mstore(add(input, 288), 0xb679afda66c73f17f9ee3837a55024f78c71363275a75d75d86bab79f74782aa)
            mstore(add(input, 320), 0x0000000000000000000000000000000013fa4d4a0ad8b1ce186ed5061789213d)
            mstore(add(input, 352), 0x993923066dddaf1040bc3ff59f825c78df74f2d75467e25e0f55f8a00fa030ed)
            mcopy(add(input, 512), add(publicKey, 0x20), 256)
        }
        uint256 scratch = input + 768;
        assembly ("memory-safe") {
            mstore(add(scratch, MESSAGE_AT), message)
        }
        _hashToG1Into(scratch + MESSAGE_AT, 32, dst, input + 384, scratch);

        bool answered = true;
        address pairing = PAIRING_CHECK;
        assembly ("memory-safe") {
            // A failed pairing check means an input is not a valid point of its group: not a valid signature.
            // One that succeeds with no answer means the chain has no such precompile.
            if staticcall(gas(), pairing, input, 768, 0x00, 0x20) {
                answered := eq(returndatasize(), 0x20)
                valid := and(answered, eq(mload(0x00), 1))
            }
        }
        if (!answered) revert IBLS12381Errors.BLS12381PrecompileFailed(pairing);
    }

    /// @dev Writes hash_to_curve(message, dst) (128 bytes) at `out`, for the `length` bytes of message at
    /// `message`, using the free (unallocated) memory from `scratch` on: 1,316 bytes plus the message's and
    /// the tag's lengths, laid out as the `*_AT` offsets say.
    function _hashToG1Into(
        uint256 message,
        uint256 length,
        bytes memory dst,
        uint256 out,
        uint256 scratch
    ) private view {
        uint256 tagLength = dst.length;
        if (tagLength == 0 || tagLength > 255) revert IBLS12381Errors.BLS12381InvalidDomainLength(tagLength);
        _expandMessageXmd(message, length, dst, scratch);
        _fieldElementsToG1(out, scratch);
    }

    /// @dev expand_message_xmd(message, DST, 128) with SHA-256 (RFC 9380 §5.3.1; ell = 4 blocks): writes
    /// b_1 || b_2 and b_3 || b_4 as the bases of the two MODEXP inputs (`MODEXP_U0_AT`, `MODEXP_U1_AT`).
    function _expandMessageXmd(uint256 message, uint256 length, bytes memory dst, uint256 scratch) private view {
        bytes4 failure = IBLS12381Errors.BLS12381PrecompileFailed.selector;
        assembly ("memory-safe") {
            // Calls SHA-256 (0x02); reverts unless it answers. (The call first: Yul evaluates arguments from
            // the right, so returndatasize() inside the same expression would read the previous call's.)
            function sha256(input, inputLength, output, selector) {
                let ok := staticcall(gas(), 0x02, input, inputLength, output, 32)
                if iszero(and(ok, eq(returndatasize(), 32))) {
                    mstore(0x00, selector)
                    mstore(0x04, 0x02)
                    revert(0x00, 0x24)
                }
            }
            let tag := add(dst, 0x20)
            let tagLength := mload(dst)
            // msg_prime = Z_pad (64 zeros) || message || I2OSP(128, 2) || I2OSP(0, 1) || DST_prime, where
            // DST_prime = DST || I2OSP(len(DST), 1). The message first: a bytes32 caller left it in scratch.
            let prime := add(scratch, MSG_PRIME_AT)
            mcopy(add(prime, 64), message, length)
            mstore(prime, 0)
            mstore(add(prime, 32), 0)
            let tail := add(add(prime, 64), length)
            mstore(tail, shl(232, 0x008000))
            mcopy(add(tail, 3), tag, tagLength)
            mstore8(add(add(tail, 3), tagLength), tagLength)
            let b0 := add(scratch, B0_AT)
            sha256(prime, add(add(68, length), tagLength), b0, failure)

            // b_1 = H(b_0 || 1 || DST_prime), b_i = H((b_0 ^ b_(i-1)) || i || DST_prime).
            let input := add(scratch, BLOCK_INPUT_AT)
            let inputLength := add(34, tagLength)
            mcopy(add(input, 33), tag, tagLength)
            mstore8(add(add(input, 33), tagLength), tagLength)
            let b1 := add(scratch, add(MODEXP_U0_AT, 96))
            let b3 := add(scratch, add(MODEXP_U1_AT, 96))
            mstore(input, mload(b0))
            mstore8(add(input, 32), 1)
            sha256(input, inputLength, b1, failure)
            mstore(input, xor(mload(b0), mload(b1)))
            mstore8(add(input, 32), 2)
            sha256(input, inputLength, add(b1, 32), failure)
            mstore(input, xor(mload(b0), mload(add(b1, 32))))
            mstore8(add(input, 32), 3)
            sha256(input, inputLength, b3, failure)
            mstore(input, xor(mload(b0), mload(b3)))
            mstore8(add(input, 32), 4)
            sha256(input, inputLength, add(b3, 32), failure)
        }
    }

    /// @dev hash_to_field's reduction of the two 64-byte halves mod p (MODEXP, base^1 mod p) into EIP-2537
    /// field elements, each mapped by MAP_FP_TO_G1 (which clears the cofactor), the sum written at `out`.
    function _fieldElementsToG1(uint256 out, uint256 scratch) private view {
        bytes4 failure = IBLS12381Errors.BLS12381PrecompileFailed.selector;
        assembly ("memory-safe") {
            // Calls a precompile that cannot fail on these inputs; reverts unless it answers `outputLength` bytes.
            function precompile(at, input, inputLength, output, outputLength, selector) {
                let ok := staticcall(gas(), at, input, inputLength, output, outputLength)
                if iszero(and(ok, eq(returndatasize(), outputLength))) {
                    mstore(0x00, selector)
                    mstore(0x04, at)
                    revert(0x00, 0x24)
                }
            }
            // The MODEXP input around the 64-byte base at `m + 96`: lengths (64, 1, 48), base, 1, p.
            function modexpInput(m) {
                mstore(m, 64)
                mstore(add(m, 32), 1)
                mstore(add(m, 64), 48)
                mstore8(add(m, 160), 1)
                mstore(add(m, 161), 0x1a0111ea397fe69a4b1ba7b6434bacd700000000000000000000000000000000)
                mstore(add(m, 177), 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab)
            }
            let m0 := add(scratch, MODEXP_U0_AT)
            let m1 := add(scratch, MODEXP_U1_AT)
            modexpInput(m0)
            modexpInput(m1)
            // u_0, u_1: 16 zero bytes, then the 48-byte remainder.
            let u := add(scratch, FIELD_ELEMENTS_AT)
            mstore(u, 0)
            mstore(add(u, 64), 0)
            precompile(0x05, m0, 209, add(u, 16), 48, failure)
            precompile(0x05, m1, 209, add(u, 80), 48, failure)
            let mapped := add(scratch, MAPPED_AT)
            precompile(0x10, u, 64, mapped, 128, failure)
            precompile(0x10, add(u, 64), 64, add(mapped, 128), 128, failure)
            precompile(0x0b, mapped, 256, out, 128, failure)
        }
    }

    /// @dev Whether the 256 bytes of `point` are all zero (the EIP-2537 encoding of G2's identity).
    function _isZero(bytes memory point) private pure returns (bool zero) {
        assembly ("memory-safe") {
            let p := add(point, 0x20)
            let acc := or(or(mload(p), mload(add(p, 32))), or(mload(add(p, 64)), mload(add(p, 96))))
            acc := or(acc, or(or(mload(add(p, 128)), mload(add(p, 160))), or(mload(add(p, 192)), mload(add(p, 224)))))
            zero := iszero(acc)
        }
    }
}
