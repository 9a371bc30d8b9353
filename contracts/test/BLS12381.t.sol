// SPDX-License-Identifier: MIT
// Test conventions: plain `require`s with messages, Foundry-style test names.
// solhint-disable gas-custom-errors, reason-string, func-name-mixedcase

pragma solidity ^0.8.28;

import {BLS12381} from "../libraries/BLS12381.sol";
import {TestBase} from "./utils/TestBase.t.sol";

/// @notice Fuzz tests of BLS12381.verify on the EIP-2537 precompiles (the network's hardfork, Osaka by default):
/// one valid signature from test/fixtures/bls-sol-vectors.json (its first case, made by
/// scripts/bls-sol-vectors.ts) stops verifying when any of its bytes changes, or the digest does.
contract BLS12381FuzzTest is TestBase {
    bytes internal constant PUBLIC_KEY =
        hex"000000000000000000000000000000000988280e19b883a5b875023de5ad18fa024aabe0606db3e7fe550d021809cdde"
        hex"2c0019f3ec6a11aa386763074e6f1ab60000000000000000000000000000000001f3859df9ee71785a1b7f66ff5213cf"
        hex"7a12dabfa93c1762abe6375d67e0980603b23755e2587b45f2ec5537e816039700000000000000000000000000000000"
        hex"0b105e039a24c306953025a0e27e8108bc314d75ffa21c6fc97ed265a1e623cf4473d235b2ea953eaced4473229c44c0"
        hex"0000000000000000000000000000000014be95910b5cdbbb0907687b8843c0ea1006cca041d0467c7e1219651de92cd5"
        hex"53b1a54822aa8091708088515aae0750";
    bytes32 internal constant DIGEST = 0x3c09f27af8de41b6c4c134ea8627a1ede85791cba6630d1af3989b6beef752ce;
    bytes internal constant SIGNATURE =
        hex"00000000000000000000000000000000069d7d6c30ac19f7660631d9c512e7b6c1d4b197de5592ef5ecdae6682556409"
        hex"1505c2ae341d0572cbdda19ffc7d30430000000000000000000000000000000016831685d330b8f06713ba1bab1c0711"
        hex"7ea4922cf824f0207dbb7e09b418d6dd179cf9cf2f7cf8693ff5b0a0eafeda99";

    function test_TheFixtureSignatureVerifies() public view {
        require(BLS12381.verify(PUBLIC_KEY, DIGEST, SIGNATURE, BLS12381.ROLLUP_DST), "valid signature refused");
        require(!BLS12381.verify(PUBLIC_KEY, DIGEST, SIGNATURE, BLS12381.POP_DST), "accepted under the PoP tag");
    }

    function testFuzz_AnyChangedByteOfTheSignatureFails(uint256 indexSeed, uint8 maskSeed) public view {
        uint256 index = _bound(indexSeed, 0, BLS12381.G1_POINT_LENGTH - 1);
        bytes1 mask = bytes1(uint8(_bound(maskSeed, 1, 255)));
        bytes memory signature = SIGNATURE;
        signature[index] ^= mask;
        require(!BLS12381.verify(PUBLIC_KEY, DIGEST, signature, BLS12381.ROLLUP_DST), "changed signature accepted");
    }

    function testFuzz_AnotherDigestFails(bytes32 digest) public view {
        if (digest == DIGEST) return;
        require(!BLS12381.verify(PUBLIC_KEY, digest, SIGNATURE, BLS12381.ROLLUP_DST), "another digest accepted");
    }
}
