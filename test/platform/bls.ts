/**
 * platform/bls, the committee's BLS12-381 threshold key: RFC 9380's known answers for hash to G1, the
 * EIP-2537 forms (round trips, and the EVM's own precompiles agreeing with the vectors the Solidity
 * verifier will use), signing and its refusals, Shamir shares (any 2f + 1 recover the key's signature,
 * 2f do not; a tampered share fails its check), and the proof of possession.
 */
import { readFileSync } from "node:fs";

import { hash_to_field } from "@noble/curves/abstract/hash-to-curve.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { expect } from "chai";
import { concat, getBytes, hexlify, keccak256, randomBytes, toBeHex, toUtf8Bytes, zeroPadValue } from "ethers";
import fc from "fast-check";
import { network } from "hardhat";

import {
  BlsError,
  EIP2537,
  Fp,
  G1,
  G2,
  POP_DST,
  R,
  ROLLUP_DST,
  decodeG1,
  deriveSecretKey,
  g1FromEip2537,
  g1ToEip2537,
  g2FromEip2537,
  g2ToEip2537,
  generateSecretKey,
  hashToG1,
  hexOf,
  lagrangeAtZero,
  popMessage,
  proofOfPossession,
  publicKeyOf,
  recoverSignature,
  sharePublicKey,
  sign,
  splitSecret,
  thresholdFor,
  verify,
  verifyProofOfPossession,
  verifyShare,
} from "../../platform/bls/index.js";
import { BLS_VECTORS_FILE, blsVectors } from "../../scripts/bls-vectors.js";
import { at } from "../../testing/defined.js";

/** RFC 9380 Appendix J.9.1, BLS12381G1_XMD:SHA-256_SSWU_RO_. */
const RFC9380_DST = "QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_";
const RFC9380_G1 = [
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
  {
    msg: "abcdef0123456789",
    x: "11e0b079dea29a68f0383ee94fed1b940995272407e3bb916bbf268c263ddd57a6a27200a784cbc248e84f357ce82d98",
    y: "03a87ae2caf14e8ee52e51fa2ed8eefe80f02457004ba4d486d6aa1f517c0889501dc7413753f9599b099ebcbbd2d709",
  },
];

/** An EIP-55 address (checksummed: mixed case). */
const OWNER = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
const digest = (): string => keccak256(randomBytes(32));
const pad64 = (hex48: string): string => `${"00".repeat(16)}${hex48}`;

describe("platform/bls", () => {
  describe("hash to G1 and the EIP-2537 forms", () => {
    it("hashes RFC 9380's messages to its points (J.9.1)", () => {
      for (const v of RFC9380_G1) {
        const p = hashToG1(toUtf8Bytes(v.msg), RFC9380_DST);
        expect(hexOf(g1ToEip2537(p))).to.equal(`0x${pad64(v.x)}${pad64(v.y)}`);
      }
    });

    it("hashes under Veilnet's tags, not the standard one, and the two tags differ", () => {
      const m = getBytes(digest());
      const ours = hashToG1(m);
      expect(ours.equals(hashToG1(m, ROLLUP_DST))).to.equal(true);
      expect(ours.equals(hashToG1(m, "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_"))).to.equal(false);
      expect(ours.equals(hashToG1(m, POP_DST))).to.equal(false);
    });

    it("round-trips G1 and G2 points through EIP-2537 and the compressed forms", () => {
      for (let i = 0; i < 5; i++) {
        const k = BigInt(hexlify(generateSecretKey()));
        const p1 = G1.BASE.multiply(k);
        const p2 = G2.BASE.multiply(k);
        expect(g1FromEip2537(g1ToEip2537(p1)).equals(p1)).to.equal(true);
        expect(g2FromEip2537(g2ToEip2537(p2)).equals(p2)).to.equal(true);
        expect(decodeG1(p1.toBytes(true), "signature").equals(p1)).to.equal(true);
      }
      expect(hexOf(g1ToEip2537(G1.ZERO))).to.equal(`0x${"00".repeat(128)}`);
      expect(g1FromEip2537(new Uint8Array(128)).is0()).to.equal(true);
      expect(g2FromEip2537(new Uint8Array(256)).is0()).to.equal(true);
    });

    it("lays G2 out as x.c0, x.c1, y.c0, y.c1, each Fp in 64 bytes", () => {
      const p = G2.BASE.multiply(5n).toAffine();
      const hex = hexOf(g2ToEip2537(G2.BASE.multiply(5n)));
      const fp = (x: bigint) => pad64(x.toString(16).padStart(96, "0"));
      expect(hex).to.equal(`0x${fp(p.x.c0)}${fp(p.x.c1)}${fp(p.y.c0)}${fp(p.y.c1)}`);
    });

    it("refuses malformed EIP-2537 bytes: length, padding, a coordinate ≥ p, off the curve, off the subgroup", () => {
      const good = g1ToEip2537(G1.BASE.multiply(3n));
      expect(() => g1FromEip2537(good.subarray(0, 127))).to.throw(BlsError, /128 bytes/);
      const padded = new Uint8Array(good);
      padded[0] = 1;
      expect(() => g1FromEip2537(padded)).to.throw(BlsError, /top 16 bytes/);
      const big = new Uint8Array(good);
      big.set(getBytes(toBeHex(Fp.ORDER, 48)), 16);
      expect(() => g1FromEip2537(big)).to.throw(BlsError, /field modulus/);
      const offCurve = new Uint8Array(good);
      offCurve[127] = offCurve[127]! ^ 1;
      expect(() => g1FromEip2537(offCurve)).to.throw(BlsError, /subgroup/);
      // x = 4 is on y² = x³ + 4 but its point is not in the prime-order subgroup.
      const x = 4n;
      const y = Fp.sqrt(Fp.add(Fp.pow(x, 3n), 4n));
      const torsion = concat([zeroPadValue(toBeHex(x), 64), zeroPadValue(toBeHex(y), 64)]);
      expect(() => g1FromEip2537(torsion)).to.throw(BlsError, /prime-order subgroup/);
      expect(() => g2FromEip2537(new Uint8Array(255))).to.throw(BlsError, /256 bytes/);
    });
  });

  describe("keys and signatures", () => {
    it("signs a digest so that it verifies, in both forms, and not for another digest, key or tag", () => {
      const sk = generateSecretKey();
      const pk = publicKeyOf(sk);
      const d = digest();
      const sig = sign(sk, d);
      expect(sig.bytes.length).to.equal(48);
      expect(sig.eip2537.length).to.equal(128);
      expect(pk.bytes.length).to.equal(96);
      expect(pk.eip2537.length).to.equal(256);
      expect(verify(pk, d, sig)).to.equal(true);
      expect(verify(pk.eip2537, getBytes(d), sig.eip2537)).to.equal(true);
      expect(verify(hexOf(pk.bytes), d, hexOf(sig.bytes))).to.equal(true);
      expect(verify(pk, digest(), sig)).to.equal(false);
      expect(verify(publicKeyOf(generateSecretKey()), d, sig)).to.equal(false);
      expect(verify(pk, d, sign(sk, d, POP_DST))).to.equal(false);
    });

    it("derives the same key from the same seed, and refuses a short seed", () => {
      const seed = getBytes(keccak256(toUtf8Bytes("seed")));
      expect(hexOf(deriveSecretKey(seed))).to.equal(hexOf(deriveSecretKey(seed)));
      expect(hexOf(deriveSecretKey(seed))).to.not.equal(hexOf(deriveSecretKey(getBytes(digest()))));
      expect(() => deriveSecretKey(new Uint8Array(16))).to.throw(BlsError, /seed/);
    });

    it("names what is malformed: secret keys, digests, public keys, signatures", () => {
      const sk = generateSecretKey();
      const pk = publicKeyOf(sk);
      const d = digest();
      const sig = sign(sk, d);
      const refusal = (fn: () => unknown, input: string, problem: RegExp) => {
        expect(fn).to.throw(BlsError, problem);
        try {
          fn();
        } catch (e) {
          expect((e as BlsError).input).to.equal(input);
        }
      };
      refusal(() => sign(new Uint8Array(32), d), "secret key", /zero/);
      refusal(() => sign(getBytes(toBeHex(R, 32)), d), "secret key", /group order/);
      refusal(() => sign(sk.subarray(1), d), "secret key", /32 bytes/);
      refusal(() => sign(sk, "0x1234"), "digest", /32 bytes/);
      refusal(() => sign(sk, "1234"), "digest", /0x-hex/);
      refusal(() => verify(pk.bytes.subarray(1), d, sig), "public key", /96 bytes/);
      refusal(() => verify(G2.ZERO.toBytes(true), d, sig), "public key", /infinity/);
      refusal(() => verify(new Uint8Array(256), d, sig), "public key", /infinity/);
      refusal(() => verify(pk, d, G1.ZERO.toBytes(true)), "signature", /infinity/);
      refusal(() => verify(pk, d, new Uint8Array(48).fill(0xff)), "signature", /compressed G1/);
      refusal(() => verify(pk, d, sig.bytes.subarray(2)), "signature", /48 bytes/);
    });
  });

  describe("shares", () => {
    it("uses 2f + 1 of n for the committee sizes 1, 4, 7, 10, 13", () => {
      expect([1, 4, 7, 10, 13].map(thresholdFor)).to.deep.equal([1, 3, 5, 7, 9]);
      expect(() => thresholdFor(0)).to.throw(BlsError);
    });

    it("Lagrange coefficients at 0 sum to 1 (they interpolate the constant 1)", () => {
      fc.assert(
        fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 13 }), (xs) => {
          expect(lagrangeAtZero(xs).reduce((a, b) => (a + b) % R, 0n)).to.equal(1n);
        }),
        { numRuns: 100 },
      );
    });

    it("any 2f + 1 partials recover the key's signature; 2f recover one that does not verify", () => {
      fc.assert(
        fc.property(
          fc.constantFrom(4, 7, 10, 13).chain((n) =>
            fc.record({
              n: fc.constant(n),
              chosen: fc.shuffledSubarray(
                Array.from({ length: n }, (_, i) => i + 1),
                { minLength: thresholdFor(n), maxLength: thresholdFor(n) },
              ),
            }),
          ),
          ({ n, chosen }) => {
            const t = thresholdFor(n);
            const sk = generateSecretKey();
            const split = splitSecret(sk, n, t);
            const d = digest();
            const full = sign(sk, d);
            const partials = chosen.map((index) => ({
              index,
              signature: sign(at(split.shares, index - 1, `share ${index}`).secretKey, d),
            }));
            const recovered = recoverSignature(partials);
            expect(hexOf(recovered.bytes)).to.equal(hexOf(full.bytes));
            expect(verify(split.publicKey, d, recovered)).to.equal(true);
            const short = recoverSignature(partials.slice(1));
            expect(verify(split.publicKey, d, short)).to.equal(false);
          },
        ),
        { numRuns: 6 },
      );
    });

    it("a committee of 1 holds the key itself", () => {
      const sk = generateSecretKey();
      const split = splitSecret(sk, 1, 1);
      expect(hexOf(at(split.shares, 0, "the share").secretKey)).to.equal(hexOf(sk));
      const d = digest();
      expect(hexOf(recoverSignature([{ index: 1, signature: sign(sk, d) }]).bytes)).to.equal(hexOf(sign(sk, d).bytes));
    });

    it("every share checks against the commitments; a tampered one, or one under another index, does not", () => {
      const split = splitSecret(generateSecretKey(), 7, 5);
      expect(hexOf(at(split.commitments, 0, "commitment 0").bytes)).to.equal(hexOf(split.publicKey.bytes));
      for (const s of split.shares) expect(verifyShare(s.index, s.secretKey, split.commitments)).to.equal(true);
      const share = at(split.shares, 2, "share 3");
      const tampered = new Uint8Array(share.secretKey);
      tampered[31] = tampered[31]! ^ 1;
      expect(verifyShare(share.index, tampered, split.commitments)).to.equal(false);
      expect(verifyShare(share.index + 1, share.secretKey, split.commitments)).to.equal(false);
      const other = splitSecret(generateSecretKey(), 7, 5);
      expect(verifyShare(share.index, share.secretKey, other.commitments)).to.equal(false);
      expect(() => verifyShare(share.index, new Uint8Array(32), split.commitments)).to.throw(
        BlsError,
        /^BLS share: is zero$/,
      );
      expect(() => verifyShare(0, share.secretKey, split.commitments)).to.throw(BlsError, /share index/);
      expect(() => verifyShare(1, share.secretKey, [])).to.throw(BlsError, /commitments/);
    });

    it("a share's public key, from the commitments alone, verifies that operator's partial signatures", () => {
      const split = splitSecret(generateSecretKey(), 4, 3);
      const d = digest();
      for (const s of split.shares) {
        const pk = sharePublicKey(s.index, split.commitments);
        expect(hexOf(pk.bytes)).to.equal(hexOf(publicKeyOf(s.secretKey).bytes));
        expect(verify(pk, d, sign(s.secretKey, d))).to.equal(true);
      }
    });

    it("refuses bad splits and bad partials by name", () => {
      const sk = generateSecretKey();
      expect(() => splitSecret(sk, 4, 5)).to.throw(BlsError, /threshold/);
      expect(() => splitSecret(sk, 4, 0)).to.throw(BlsError, /threshold/);
      expect(() => splitSecret(sk, 0, 1)).to.throw(BlsError, /shares/);
      expect(() => splitSecret(sk, 4, 3, { randomScalar: () => 0n })).to.throw(BlsError, /randomScalar/);
      const sig = sign(sk, digest());
      expect(() => recoverSignature([])).to.throw(BlsError, /none/);
      expect(() =>
        recoverSignature([
          { index: 2, signature: sig },
          { index: 2, signature: sig },
        ]),
      ).to.throw(BlsError, /twice/);
      expect(() => recoverSignature([{ index: 0, signature: sig }])).to.throw(BlsError, /share index/);
      expect(() => recoverSignature([{ index: 1.5, signature: sig }])).to.throw(BlsError, /share index/);
      const withPartial = (signature: Uint8Array) => () =>
        recoverSignature([
          { index: 1, signature: sig },
          { index: 3, signature },
        ]);
      expect(withPartial(G1.ZERO.toBytes(true))).to.throw(
        BlsError,
        /^BLS partials: the partial of index 3: is the point at infinity$/,
      );
      expect(withPartial(new Uint8Array(48))).to.throw(
        BlsError,
        /^BLS partials: the partial of index 3: not a compressed/,
      );
    });
  });

  describe("proof of possession", () => {
    it("signs keccak256(abi.encode(bytes pk, address owner, uint256 nonce)) under the PoP tag", () => {
      const sk = generateSecretKey();
      const pk = publicKeyOf(sk);
      // abi.encode by hand: offset of the bytes (0x60), owner, nonce, length 256, the 256 bytes.
      const encoded = concat([
        toBeHex(0x60, 32),
        zeroPadValue(OWNER.toLowerCase(), 32),
        toBeHex(9, 32),
        toBeHex(256, 32),
        pk.eip2537,
      ]);
      expect(hexOf(popMessage(pk, OWNER, 9n))).to.equal(keccak256(encoded));
      const proof = proofOfPossession(sk, OWNER, 9n);
      expect(verify(pk, popMessage(pk, OWNER, 9n), proof, POP_DST)).to.equal(true);
    });

    it("verifies for its key, owner and nonce only, and is no rollup signature", () => {
      const sk = generateSecretKey();
      const pk = publicKeyOf(sk);
      const proof = proofOfPossession(sk, OWNER, 1n);
      expect(verifyProofOfPossession(pk, OWNER, 1n, proof)).to.equal(true);
      expect(verifyProofOfPossession(pk.eip2537, OWNER.toLowerCase(), 1n, proof)).to.equal(true);
      expect(verifyProofOfPossession(pk, "0x2222222222222222222222222222222222222222", 1n, proof)).to.equal(false);
      expect(verifyProofOfPossession(pk, OWNER, 2n, proof)).to.equal(false);
      expect(verifyProofOfPossession(publicKeyOf(generateSecretKey()), OWNER, 1n, proof)).to.equal(false);
      expect(verify(pk, popMessage(pk, OWNER, 1n), proof)).to.equal(false);
      const rollupSig = sign(sk, popMessage(pk, OWNER, 1n));
      expect(verifyProofOfPossession(pk, OWNER, 1n, rollupSig)).to.equal(false);
      expect(() => popMessage(pk, "0x1234", 1n)).to.throw(BlsError, /owner/);
      expect(() => popMessage(pk, OWNER, -1n)).to.throw(BlsError, /nonce/);
      expect(() => popMessage(pk, OWNER, 1n << 256n)).to.throw(BlsError, /nonce/);
    });
  });

  describe("the Solidity verifier's vectors (test/fixtures/bls-vectors.json)", () => {
    const vectors = blsVectors();
    type Pairing = { g1: string; g2: string };
    const negG2 = hexOf(g2ToEip2537(G2.BASE.negate()));

    it("are what scripts/bls-vectors.ts generates (npm run bls:vectors)", () => {
      expect(JSON.parse(readFileSync(BLS_VECTORS_FILE, "utf8"))).to.deep.equal(JSON.parse(JSON.stringify(vectors)));
    });

    it("verify with platform/bls, and the bad ones do not", () => {
      for (const c of vectors.cases) {
        expect(hexOf(g1ToEip2537(hashToG1(getBytes(c.digest), c.dst)))).to.equal(c.hashToG1);
        expect(verify(c.pk, c.digest, c.signature)).to.equal(true);
        expect(verify(c.pkCompressed, c.digest, c.signatureCompressed)).to.equal(true);
      }
      for (const c of vectors.invalid) expect(verify(c.pk, c.digest, c.signature)).to.equal(false);
      const t = vectors.threshold;
      expect(verify(t.pk, t.digest, t.signature)).to.equal(true);
      expect(verify(t.pk, t.digest, t.fromTwoPartials.signature)).to.equal(false);
      for (const p of t.partials) expect(verify(p.publicKey, t.digest, p.signature)).to.equal(true);
      const pop = vectors.proofOfPossession;
      expect(verifyProofOfPossession(pop.pk, pop.owner, BigInt(pop.nonce), pop.signature)).to.equal(true);
    });

    it("pass the EVM's EIP-2537 precompiles: hash to G1 by MAP_FP_TO_G1 + G1ADD, then the pairing check", async function () {
      this.timeout(60_000);
      const { ethers } = await network.create();
      const call = (to: string, data: string) => ethers.provider.call({ to, data });
      const pairingCheck = async (pairs: Pairing[]) =>
        BigInt(await call(EIP2537.PAIRING_CHECK, concat(pairs.flatMap((p) => [p.g1, p.g2])))) === 1n;
      /** What the Solidity verifier will do: hash_to_field to (u0, u1), map each, add. */
      const hashOnChain = async (message: string, dst: string) => {
        const [u0, u1] = hash_to_field(getBytes(message), 2, {
          DST: dst,
          p: Fp.ORDER,
          m: 1,
          k: 128,
          expand: "xmd",
          hash: sha256,
        }).map(([u]) => zeroPadValue(toBeHex(u!), 64));
        const q0 = await call(EIP2537.MAP_FP_TO_G1, u0!);
        const q1 = await call(EIP2537.MAP_FP_TO_G1, u1!);
        return call(EIP2537.G1ADD, concat([q0, q1]));
      };
      const signed = [
        ...vectors.cases,
        vectors.threshold,
        { ...vectors.proofOfPossession, digest: vectors.proofOfPossession.message },
      ];
      for (const c of signed) {
        expect(await hashOnChain(c.digest, c.dst)).to.equal(c.hashToG1);
        expect(
          await pairingCheck([
            { g1: c.signature, g2: negG2 },
            { g1: c.hashToG1, g2: c.pk },
          ]),
        ).to.equal(true);
      }
      for (const c of [
        ...vectors.invalid,
        { ...vectors.threshold, signature: vectors.threshold.fromTwoPartials.signature },
      ]) {
        expect(
          await pairingCheck([
            { g1: c.signature, g2: negG2 },
            { g1: c.hashToG1, g2: c.pk },
          ]),
        ).to.equal(false);
      }
    });
  });
});
