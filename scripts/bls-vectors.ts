/**
 * Writes test/fixtures/bls-vectors.json: known answers of platform/bls for the Solidity verifier (the
 * EIP-2537 precompiles must accept exactly what the committee signs). Deterministic — every key and
 * polynomial coefficient is derived from a fixed seed — so the file can be regenerated and reviewed:
 *
 *   npm run bls:vectors        (about 5 s)
 *
 * Each case is a 32-byte message (the EIP-712 digest of a rollup header, as RollupRegistry will sign),
 * the point it hashes to under the tag (RFC 9380 hash_to_curve to G1), the public key and the signature,
 * all points in EIP-2537's uncompressed forms (G1 128 bytes, G2 256), with the compressed forms
 * alongside. Then a threshold case (n = 4, t = 3: three partials and the recovered signature, and what
 * 2f = 2 partials recover, which must not verify), signatures that must not verify, and a proof of
 * possession. test/platform/bls.ts checks the file is what this script makes.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { TypedDataEncoder, getAddress, keccak256, sha256, toUtf8Bytes } from "ethers";

import {
  POP_DST,
  ROLLUP_DST,
  deriveSecretKey,
  g1ToEip2537,
  hashToG1,
  hexOf,
  popMessage,
  proofOfPossession,
  publicKeyOf,
  recoverSignature,
  type Signature,
  scalarOf,
  sharePublicKey,
  sign,
  splitSecret,
} from "../platform/bls/index.js";
import { ROLLUP_HEADER_TYPES, type RollupHeader, epochOf, rollupRegistryDomain } from "../protocol/rollup.js";

/** Where the vectors live. */
export const BLS_VECTORS_FILE = fileURLToPath(new URL("../test/fixtures/bls-vectors.json", import.meta.url));

const SEED = "veilnet-bls-vectors-v1";
const CHAIN_ID = 31337n;
/** A placeholder RollupRegistry address for the digests' domain (the digest is what is signed; any address makes one). */
const REGISTRY = getAddress(`0x${"5e".repeat(20)}`);
const OWNER = getAddress(`0x${"0e".repeat(20)}`);
const POP_NONCE = 7n;

/** A secret key derived from the seed and `label`. */
const keyFor = (label: string): Uint8Array => deriveSecretKey(sha256Bytes(`${SEED}/${label}`));
const sha256Bytes = (text: string): Uint8Array => Buffer.from(sha256(toUtf8Bytes(text)).slice(2), "hex");
const word = (label: string): string => keccak256(toUtf8Bytes(`${SEED}/${label}`));

/** Rollup header number `i`: fixed, plausible fields. */
function header(i: number): RollupHeader {
  const l1BlockNumber = 100n + BigInt(i);
  return {
    firstBatchSeq: 1n + 10n * BigInt(i),
    lastBatchSeq: 10n + 10n * BigInt(i),
    lastBatchHash: word(`lastBatchHash/${i}`),
    previousBatchHash: word(`lastBatchHash/${i - 1}`),
    l1BlockNumber,
    l1BlockHash: word(`l1BlockHash/${i}`),
    messageRoot: word(`messageRoot/${i}`),
    payloadHash: word(`payloadHash/${i}`),
    revelationEpoch: epochOf(l1BlockNumber),
    keyCommitment: word(`keyCommitment/${i}`),
  };
}

const domain = rollupRegistryDomain(CHAIN_ID, REGISTRY);
const digestOf = (h: RollupHeader): string => TypedDataEncoder.hash(domain, ROLLUP_HEADER_TYPES, h);
/** A header as JSON: numbers as decimal strings. */
const headerJson = (h: RollupHeader): Record<string, string> =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : String(v)]));
const hashToG1Hex = (message: string | Uint8Array, dst: string): string =>
  hexOf(g1ToEip2537(hashToG1(typeof message === "string" ? Buffer.from(message.slice(2), "hex") : message, dst)));

/** One signature case: the key pair, the digest, its point, `sig` (the key's own by default), the tag. */
function signatureCase(name: string, sk: Uint8Array, digest: string, sig: Signature = sign(sk, digest)) {
  const pk = publicKeyOf(sk);
  return {
    name,
    sk: hexOf(sk),
    pk: hexOf(pk.eip2537),
    pkCompressed: hexOf(pk.bytes),
    digest,
    hashToG1: hashToG1Hex(digest, ROLLUP_DST),
    signature: hexOf(sig.eip2537),
    signatureCompressed: hexOf(sig.bytes),
    dst: ROLLUP_DST,
  };
}

/** Signatures that must not verify against the case's pk and digest. */
function invalidCases() {
  const key = keyFor("key/0");
  const digest = digestOf(header(0));
  return [
    {
      ...signatureCase("signature of another digest", key, digest, sign(key, digestOf(header(1)))),
      why: "a valid signature by pk, of header 1's digest",
    },
    {
      ...signatureCase("signature by another key", key, digest, sign(keyFor("key/1"), digest)),
      why: "a valid signature of the digest, by key 1",
    },
    {
      ...signatureCase("signature under the PoP tag", key, digest, sign(key, digest, POP_DST)),
      why: "pk's signature of the digest hashed under popDst instead of dst",
    },
  ];
}

/** The threshold case: n = 4, t = 3, a dealer split with derived coefficients. */
function thresholdCase() {
  const sk = keyFor("threshold/key");
  let k = 0;
  const split = splitSecret(sk, 4, 3, { randomScalar: () => scalarOf(keyFor(`threshold/coefficient/${k++}`)) });
  const h = header(9);
  const digest = digestOf(h);
  const partials = split.shares.map((s) => ({
    index: s.index,
    publicKey: hexOf(sharePublicKey(s.index, split.commitments).eip2537),
    signature: hexOf(sign(s.secretKey, digest).eip2537),
  }));
  const used = [partials[0]!, partials[2]!, partials[3]!];
  return {
    name: "threshold 3 of 4 (dealer split)",
    n: 4,
    threshold: 3,
    sk: hexOf(sk),
    pk: hexOf(split.publicKey.eip2537),
    commitments: split.commitments.map((c) => ({ point: hexOf(c.eip2537) })),
    header: headerJson(h),
    digest,
    hashToG1: hashToG1Hex(digest, ROLLUP_DST),
    dst: ROLLUP_DST,
    partials,
    recoveredFrom: used.map((p) => ({ index: p.index })),
    signature: hexOf(recoverSignature(used).eip2537),
    fromTwoPartials: {
      note: "what 2f = 2 partials (indices 1 and 2) interpolate to: must NOT verify against pk",
      signature: hexOf(recoverSignature(partials.slice(0, 2)).eip2537),
    },
  };
}

/** The proof of possession of case 0's key, for OWNER and POP_NONCE. */
function popCase() {
  const sk = keyFor("key/0");
  const pk = publicKeyOf(sk);
  const message = hexOf(popMessage(pk, OWNER, POP_NONCE));
  return {
    name: "proof of possession",
    sk: hexOf(sk),
    pk: hexOf(pk.eip2537),
    owner: OWNER,
    nonce: POP_NONCE.toString(),
    message,
    messageIs: "keccak256(abi.encode(bytes pk /* 256-byte EIP-2537 form */, address owner, uint256 nonce))",
    hashToG1: hashToG1Hex(message, POP_DST),
    signature: hexOf(proofOfPossession(sk, OWNER, POP_NONCE).eip2537),
    dst: POP_DST,
  };
}

/** The whole vector file. */
export function blsVectors() {
  const headers = [0, 1, 2, 3, 4].map(header);
  const cases = headers.map((h, i) => ({
    ...signatureCase(`rollup header ${i}`, keyFor(`key/${i}`), digestOf(h)),
    header: headerJson(h),
  }));
  return {
    description:
      "Known answers of platform/bls (BLS12-381, signature in G1, public key in G2) for the Solidity verifier. " +
      "Points in EIP-2537 form: G1 = x ‖ y, G2 = x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1, each Fp 64 bytes big-endian (16 zero bytes, then 48). " +
      "Check: hash_to_curve(digest, dst) = hashToG1 (RFC 9380, BLS12381G1_XMD:SHA-256_SSWU_RO_), and " +
      "e(signature, -G2) · e(hashToG1, pk) = 1 with the pairing precompile.",
    generatedBy: "npm run bls:vectors (scripts/bls-vectors.ts)",
    library: "@noble/curves",
    dst: ROLLUP_DST,
    popDst: POP_DST,
    domain: { name: domain.name, version: domain.version, chainId: CHAIN_ID.toString(), verifyingContract: REGISTRY },
    cases,
    threshold: thresholdCase(),
    invalid: invalidCases(),
    proofOfPossession: popCase(),
  };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(BLS_VECTORS_FILE, `${JSON.stringify(blsVectors(), null, 2)}\n`);
  process.stdout.write(`written to ${BLS_VECTORS_FILE}\n`);
}
