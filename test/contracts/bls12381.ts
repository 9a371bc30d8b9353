/**
 * The BLS12381 library (contracts/libraries/BLS12381.sol) through its harness: RFC 9380 hash-to-G1 on the
 * EIP-2537 precompiles against the RFC's known answers (Appendix J.9.1) and against @noble/curves for
 * random messages and tags; BLS verification (signature in G1, key in G2) of the vectors in
 * test/fixtures/bls-sol-vectors.json (scripts/bls-sol-vectors.ts) and of fresh noble signatures; the refusals
 * (another message, key or tag, a signature off the curve or outside the subgroup or not canonical, the
 * identity key, wrong lengths); and the gas of a verification, which issue 13 caps at 130,000.
 */
import { readFileSync } from "node:fs";

import { bls12_381 } from "@noble/curves/bls12-381.js";
import { expect } from "chai";
import { getBytes, hexlify, keccak256, randomBytes, toUtf8Bytes, zeroPadValue } from "ethers";
import fc from "fast-check";
import { network } from "hardhat";

import { g1ToEip2537, g2ToEip2537, hexOf } from "../../platform/bls/index.js";
import { type BLS12381Harness, BLS12381Harness__factory } from "../../types/ethers-contracts/index.js";

const connection = await network.create();
const { ethers } = connection;

const ROLLUP_DST = "VEILNET-ROLLUP-V1_BLS12381G1_XMD:SHA-256_SSWU_RO_";
const POP_DST = "VEILNET-POP-V1_BLS12381G1_XMD:SHA-256_SSWU_RO_";
const RFC_DST = "QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_";
/** Issue 13's target for the signature check. */
const VERIFY_GAS_TARGET = 130_000n;

const short = bls12_381.shortSignatures;
const Fp = bls12_381.fields.Fp;
type G1Point = ReturnType<typeof short.hash>;
type G2Point = ReturnType<typeof short.getPublicKey>;

interface Vector {
  dst: string;
  digest: string;
  pk: string;
  signature: string;
  hashToG1: string;
  valid: boolean;
}

/** The fixture's vectors, checked for shape (the file may be regenerated or replaced). */
function loadVectors(): Vector[] {
  const raw: unknown = JSON.parse(readFileSync(new URL("../fixtures/bls-sol-vectors.json", import.meta.url), "utf8"));
  if (!Array.isArray(raw)) throw new Error("bls-sol-vectors.json: not an array");
  return raw.map((entry: unknown, i) => {
    const v = entry as Partial<Record<keyof Vector, unknown>>;
    const hex = (key: keyof Vector, bytes: number): string => {
      const value = v[key];
      if (typeof value !== "string" || getBytes(value).length !== bytes)
        throw new Error(`bls-sol-vectors.json[${i}].${key}: not ${bytes} bytes of hex`);
      return value;
    };
    if (typeof v.dst !== "string" || typeof v.valid !== "boolean")
      throw new Error(`bls-sol-vectors.json[${i}]: dst or valid missing`);
    return {
      dst: v.dst,
      digest: hex("digest", 32),
      pk: hex("pk", 256),
      signature: hex("signature", 128),
      hashToG1: hex("hashToG1", 128),
      valid: v.valid,
    };
  });
}

/** An Fp element in EIP-2537's 64 bytes (hex without 0x). */
function fp(value: bigint): string {
  return value.toString(16).padStart(128, "0");
}

const encodeG1 = (point: G1Point): string => hexOf(g1ToEip2537(point));
const encodeG2 = (point: G2Point): string => hexOf(g2ToEip2537(point));

/** A point on E(Fp): y² = x³ + 4 at the first x from `start` where a root exists, as (x, y). */
function curvePointFrom(start: bigint): { x: bigint; y: bigint } {
  for (let x = start; ; x++) {
    const rhs = Fp.add(Fp.pow(x, 3n), 4n);
    // Euler's criterion: rhs is a square when rhs^((p-1)/2) = 1.
    if (Fp.eql(Fp.pow(rhs, (Fp.ORDER - 1n) / 2n), Fp.ONE)) return { x, y: Fp.sqrt(rhs) };
  }
}

/** `hex` with byte `index` XORed with `mask` (non-zero). */
function flipByte(hex: string, index: number, mask: number): string {
  const bytes = getBytes(hex);
  bytes[index]! ^= mask;
  return hexlify(bytes);
}

/** A fresh noble key pair and its signature of `digest` under `dst`, EIP-2537 encoded. */
function signFresh(digest: string, dst: string, sk = short.keygen().secretKey) {
  const hashed = short.hash(getBytes(digest), dst);
  return { pk: encodeG2(short.getPublicKey(sk)), signature: encodeG1(short.sign(hashed, sk)), hashed };
}

describe("BLS12381 (EIP-2537 verifier, signature in G1)", () => {
  let harness: BLS12381Harness;
  const vectors = loadVectors();
  const valid = vectors.filter((v) => v.valid);
  const bytes = (text: string): string => hexlify(toUtf8Bytes(text));

  before(async () => {
    const [deployer] = await ethers.getSigners();
    harness = await new BLS12381Harness__factory(deployer).deploy();
  });

  describe("hashToG1 (RFC 9380 hash_to_curve, BLS12381G1_XMD:SHA-256_SSWU_RO_)", () => {
    // RFC 9380 Appendix J.9.1.
    const known: { msg: string; x: string; y: string }[] = [
      {
        msg: "",
        x: "052926add2207b76ca4fa57a8734416c8dc95e24501772c814278700eed6d1e4e8cf62d9c09db0fac349612b759e79a1",
        y: "08ba738453bfed09cb546dbb0783dbb3a5f1f566ed67bb6be0e8c67e2e81a4cc68ee29813bb7994998f3eae0c9c6a265",
      },
      {
        msg: "abc",
        x: "03567bc5ef9c690c2ab2ecdf6a96ef1c139cc0b2f284dca0a9a7943388a49a3aee664ba5379a7655d3c68900be2f6903",
        y: "0b9c15f3fe6e5cf4211f346271d7b01c8f3b28be689c8429c85b67af215533311f0b8dfaaa154fa6b88176c229f2885d",
      },
    ];
    for (const { msg, x, y } of known) {
      it(`gives RFC 9380 J.9.1's point for msg "${msg}"`, async () => {
        const expected = "0x" + fp(BigInt("0x" + x)) + fp(BigInt("0x" + y));
        expect(await harness.hashBytesToG1(bytes(msg), bytes(RFC_DST))).to.equal(expected);
      });
    }

    it("gives the fixture's point for each digest and tag", async () => {
      expect(new Set(vectors.map((v) => v.dst))).to.have.all.keys(ROLLUP_DST, POP_DST);
      for (const v of vectors) expect(await harness.hashToG1(v.digest, bytes(v.dst))).to.equal(v.hashToG1);
    });

    it("agrees with @noble/curves on random digests under both tags", async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.boolean(), async (digest, pop) => {
          const dst = pop ? POP_DST : ROLLUP_DST;
          const expected = encodeG1(bls12_381.G1.hashToCurve(digest, { DST: dst }));
          expect(await harness.hashToG1(digest, bytes(dst))).to.equal(expected);
        }),
        { numRuns: 20 },
      );
    });

    it("agrees with @noble/curves for messages of any length and tags of 1 to 255 bytes", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 300 }),
          fc.uint8Array({ minLength: 1, maxLength: 255 }),
          async (message, dst) => {
            const expected = encodeG1(bls12_381.G1.hashToCurve(message, { DST: dst }));
            expect(await harness.hashBytesToG1(message, dst)).to.equal(expected);
          },
        ),
        { numRuns: 20 },
      );
    });

    it("separates the rollup and proof-of-possession domains", async () => {
      const digest = keccak256(bytes("one digest"));
      expect(await harness.hashToG1(digest, bytes(ROLLUP_DST))).to.not.equal(
        await harness.hashToG1(digest, bytes(POP_DST)),
      );
    });

    it("refuses an empty tag and one over 255 bytes", async () => {
      const digest = keccak256(bytes("digest"));
      await expect(harness.hashToG1(digest, "0x"))
        .to.be.revertedWithCustomError(harness, "BLS12381InvalidDomainLength")
        .withArgs(0);
      await expect(harness.hashToG1(digest, hexlify(randomBytes(256))))
        .to.be.revertedWithCustomError(harness, "BLS12381InvalidDomainLength")
        .withArgs(256);
    });
  });

  describe("verify", () => {
    it("accepts the fixture's valid signatures and refuses its invalid ones", async () => {
      expect(valid.length).to.be.greaterThan(0);
      expect(vectors.length).to.be.greaterThan(valid.length);
      for (const v of vectors) {
        expect(await harness.verify(v.pk, v.digest, v.signature, bytes(v.dst)), `${v.digest} ${v.dst}`).to.equal(
          v.valid,
        );
      }
    });

    it("accepts fresh signatures and refuses them for another digest, key or tag", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          async (digestBytes, otherBytes) => {
            fc.pre(hexlify(digestBytes) !== hexlify(otherBytes));
            const digest = hexlify(digestBytes);
            const { pk, signature } = signFresh(digest, ROLLUP_DST);
            const otherKey = encodeG2(short.getPublicKey(short.keygen().secretKey));
            expect(await harness.verify(pk, digest, signature, bytes(ROLLUP_DST))).to.equal(true);
            expect(await harness.verify(pk, hexlify(otherBytes), signature, bytes(ROLLUP_DST))).to.equal(false);
            expect(await harness.verify(otherKey, digest, signature, bytes(ROLLUP_DST))).to.equal(false);
            expect(await harness.verify(pk, digest, signature, bytes(POP_DST))).to.equal(false);
          },
        ),
        { numRuns: 10 },
      );
    });

    it("refuses a valid signature with any one byte changed", async () => {
      const v = valid[0]!;
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 127 }), fc.integer({ min: 1, max: 255 }), async (i, mask) => {
          expect(await harness.verify(v.pk, v.digest, flipByte(v.signature, i, mask), bytes(v.dst))).to.equal(false);
        }),
        { numRuns: 24 },
      );
    });

    it("refuses, without reverting, a signature off the curve, outside G1 or with a coordinate not below p", async () => {
      const v = valid[0]!;
      const dst = bytes(v.dst);
      const offCurve = "0x" + fp(1n) + fp(1n);
      const onCurve = curvePointFrom(5n);
      const point = bls12_381.G1.Point.fromAffine(onCurve);
      expect(point.isTorsionFree(), "the test point must lie outside G1").to.equal(false);
      const outsideSubgroup = "0x" + fp(onCurve.x) + fp(onCurve.y);
      const signature = getBytes(v.signature);
      const x = BigInt(hexlify(signature.slice(16, 64)));
      const notCanonical = "0x" + fp(x + Fp.ORDER) + hexlify(signature.slice(64)).slice(2);
      for (const bad of [offCurve, outsideSubgroup, notCanonical]) {
        expect(await harness.verify(v.pk, v.digest, bad, dst)).to.equal(false);
      }
    });

    it("refuses the identity key, and keys off the curve or outside G2", async () => {
      const v = valid[0]!;
      const dst = bytes(v.dst);
      const identity = "0x" + "00".repeat(256);
      // The identity key would make the identity signature verify any message.
      expect(await harness.verify(identity, v.digest, "0x" + "00".repeat(128), dst)).to.equal(false);
      expect(await harness.verify(identity, v.digest, v.signature, dst)).to.equal(false);
      expect(await harness.verify(flipByte(v.pk, 255, 1), v.digest, v.signature, dst)).to.equal(false);
    });

    it("reverts on a key or signature of the wrong length", async () => {
      const v = valid[0]!;
      const dst = bytes(v.dst);
      await expect(harness.verify(v.pk.slice(0, -2), v.digest, v.signature, dst))
        .to.be.revertedWithCustomError(harness, "BLS12381InvalidPublicKeyLength")
        .withArgs(255);
      await expect(harness.verify(v.pk, v.digest, v.signature + "00", dst))
        .to.be.revertedWithCustomError(harness, "BLS12381InvalidSignatureLength")
        .withArgs(129);
      // A 48-byte compressed signature is not the EIP-2537 form.
      await expect(harness.verify(v.pk, v.digest, zeroPadValue("0x01", 48), dst))
        .to.be.revertedWithCustomError(harness, "BLS12381InvalidSignatureLength")
        .withArgs(48);
    });

    it(`costs at most ${VERIFY_GAS_TARGET.toLocaleString("en-US")} gas`, async () => {
      const figures: bigint[] = [];
      for (const v of valid.filter((w) => w.dst === ROLLUP_DST)) {
        const [ok, used] = await harness.verifyRollupGas(v.pk, v.digest, v.signature);
        expect(ok).to.equal(true);
        figures.push(used);
      }
      const v = valid[0]!;
      const [ok, inMemory] = await harness.verifyGas(v.pk, v.digest, v.signature, bytes(v.dst));
      expect(ok).to.equal(true);
      const worst = figures.reduce((a, b) => (a > b ? a : b), inMemory);
      const tx = await harness.verify.estimateGas(v.pk, v.digest, v.signature, bytes(v.dst));
      console.log(
        `      BLS12381.verify gas: ${inMemory} (arguments in memory), ${figures.join(", ")} (rollup tag, ` +
          `signature from calldata); a whole eth_call of verify estimates ${tx}`,
      );
      expect(worst).to.be.at.most(VERIFY_GAS_TARGET);
      // The pairing and the two maps alone are 113,900: below that, something was skipped.
      expect(inMemory).to.be.greaterThan(113_900n);
    });
  });
});

describe("BLS12381 on a chain without EIP-2537 (cancun)", () => {
  it("reverts with BLS12381PrecompileFailed instead of answering", async () => {
    const cancun = await network.create({ override: { hardfork: "cancun" } });
    const [deployer] = await cancun.ethers.getSigners();
    const harness = await new BLS12381Harness__factory(deployer).deploy();
    const digest = keccak256(toUtf8Bytes("digest"));
    const { pk, signature } = signFresh(digest, ROLLUP_DST);
    await expect(harness.hashToG1(digest, hexlify(toUtf8Bytes(ROLLUP_DST))))
      .to.be.revertedWithCustomError(harness, "BLS12381PrecompileFailed")
      .withArgs("0x0000000000000000000000000000000000000010");
    await expect(harness.verify(pk, digest, signature, hexlify(toUtf8Bytes(ROLLUP_DST))))
      .to.be.revertedWithCustomError(harness, "BLS12381PrecompileFailed")
      .withArgs("0x0000000000000000000000000000000000000010");
  });
});
