/**
 * platform/secp256k1.ts: the native signer and recovery behind gossip and QBFT signatures make the very
 * bytes ethers makes (so a member restarted from its log re-signs byte for byte) and recover the same
 * address; they refuse the malleable high-s twin, a bad v, and a wrong length.
 */
import { expect } from "chai";
import { Wallet, getBytes, hexlify, keccak256, randomBytes, recoverAddress } from "ethers";

import { recoverSigner, signDigest } from "../../platform/secp256k1.js";

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

describe("native secp256k1 signatures", () => {
  it("sign as ethers does (RFC 6979, low s, v 27/28) and recover the same address", () => {
    const wallet = Wallet.createRandom();
    for (let i = 0; i < 50; i++) {
      const digest = keccak256(randomBytes(64));
      const sig = signDigest(wallet.privateKey, digest);
      expect(hexlify(sig)).to.equal(wallet.signingKey.sign(digest).serialized);
      expect(recoverSigner(digest, sig)).to.equal(wallet.address);
      expect(recoverAddress(digest, hexlify(sig))).to.equal(wallet.address);
    }
  });

  it("refuse the high-s twin, a bad v, a wrong length and another digest's signer", () => {
    const wallet = Wallet.createRandom();
    const digest = keccak256(randomBytes(64));
    const sig = signDigest(wallet.privateKey, digest);
    const s = BigInt(hexlify(sig.subarray(32, 64)));
    const twin = new Uint8Array(sig);
    twin.set(getBytes(`0x${(N - s).toString(16).padStart(64, "0")}`), 32);
    twin[64] = sig[64] === 27 ? 28 : 27;
    expect(recoverSigner(digest, twin)).to.equal(undefined);
    const badV = new Uint8Array(sig);
    badV[64] = 29;
    expect(recoverSigner(digest, badV)).to.equal(undefined);
    expect(recoverSigner(digest, sig.subarray(0, 64))).to.equal(undefined);
    expect(recoverSigner(keccak256("0x01"), sig)).to.not.equal(wallet.address);
  });
});
