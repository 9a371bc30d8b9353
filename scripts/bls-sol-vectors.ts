/**
 * Writes test/fixtures/bls-sol-vectors.json: BLS signatures (signature in G1, public key in G2) over
 * 32-byte digests under Veilnet's two domain tags, made with @noble/curves, for the Solidity verifier's
 * tests (contracts/libraries/BLS12381.sol, test/contracts/bls12381.ts). Each case is
 * { dst, digest, pk, signature, hashToG1, valid } with the points in their EIP-2537 encodings (pk 256
 * bytes, signature and hashToG1 128 bytes, hex); `valid` says whether the signature verifies for that
 * digest, key and tag. The invalid cases are real signatures used wrongly: of another digest, by another
 * key, under the other tag. Keys come from a fixed seed, so the file is the same on every run.
 *
 *   npx tsx scripts/bls-sol-vectors.ts [out.json]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

import { bls12_381 } from "@noble/curves/bls12-381.js";
import { keccak256, toUtf8Bytes } from "ethers";

import { type G1Point, type G2Point, g1ToEip2537, g2ToEip2537, hexOf } from "../platform/bls/index.js";

import { POP_DST, ROLLUP_DST } from "../platform/bls/index.js";

/** One vector: hex strings with 0x. */
interface BlsSolVector {
  dst: string;
  digest: string;
  pk: string;
  signature: string;
  hashToG1: string;
  valid: boolean;
}

const short = bls12_381.shortSignatures;

/** A G1 point in the 128-byte EIP-2537 encoding (platform/bls). */
const encodeG1 = (point: G1Point): string => hexOf(g1ToEip2537(point));
/** A G2 point in the 256-byte EIP-2537 encoding (platform/bls). */
const encodeG2 = (point: G2Point): string => hexOf(g2ToEip2537(point));

/** The i-th secret key of the fixed seed: keccak256 of a label, reduced into [1, r - 1]. */
function secretKey(i: number): Uint8Array {
  const order = bls12_381.fields.Fr.ORDER;
  const scalar = (BigInt(keccak256(toUtf8Bytes(`veilnet bls-sol vector key ${i}`))) % (order - 1n)) + 1n;
  return bls12_381.fields.Fr.toBytes(scalar);
}

/** The i-th digest of the fixed seed. */
function digest(i: number): string {
  return keccak256(toUtf8Bytes(`veilnet bls-sol vector digest ${i}`));
}

function bytesOf(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.slice(2), "hex"));
}

/** `sk`'s signature of `message` under `dst`, and the point the message hashes to. */
function signed(sk: Uint8Array, message: string, dst: string): { signature: G1Point; hashed: G1Point } {
  const hashed = short.hash(bytesOf(message), dst);
  return { signature: short.sign(hashed, sk), hashed };
}

/** The vectors: valid signatures by three keys under both tags, then misused ones. */
function makeVectors(): BlsSolVector[] {
  const vectors: BlsSolVector[] = [];
  const keys = [0, 1, 2].map(secretKey);
  const publicKeys = keys.map((sk) => short.getPublicKey(sk));
  const add = (pk: G2Point, message: string, dst: string, signature: G1Point): void => {
    const hashed = short.hash(bytesOf(message), dst);
    vectors.push({
      dst,
      digest: message,
      pk: encodeG2(pk),
      signature: encodeG1(signature),
      hashToG1: encodeG1(hashed),
      valid: short.verify(signature, hashed, pk),
    });
  };
  for (const [k, sk] of keys.entries()) {
    for (const dst of [ROLLUP_DST, POP_DST]) {
      for (const m of [0, 1]) {
        const message = digest(3 * k + m);
        add(publicKeys[k]!, message, dst, signed(sk, message, dst).signature);
      }
    }
  }
  const [sk0] = keys;
  const [pk0, pk1] = publicKeys;
  const m0 = digest(100);
  const m1 = digest(101);
  add(pk0!, m1, ROLLUP_DST, signed(sk0!, m0, ROLLUP_DST).signature); // another digest's signature
  add(pk1!, m0, ROLLUP_DST, signed(sk0!, m0, ROLLUP_DST).signature); // another key's signature
  add(pk0!, m0, POP_DST, signed(sk0!, m0, ROLLUP_DST).signature); // signed under the other tag
  add(pk0!, m0, ROLLUP_DST, bls12_381.G1.Point.ZERO); // the identity as a signature
  return vectors;
}

function main(): void {
  const out = process.argv[2] ?? path.join("test", "fixtures", "bls-sol-vectors.json");
  const vectors = makeVectors();
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(vectors, null, 2) + "\n");
  console.log(`${vectors.length} vectors (${vectors.filter((v) => v.valid).length} valid) written to ${out}`);
}

main();
