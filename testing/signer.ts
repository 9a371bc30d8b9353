/**
 * Fixtures for the share signer's tests: a RollupRegistry domain, rollup headers at chosen batch ranges
 * (a `variant` changes the header, hence its signing root, at the same range), shares derived from
 * seeds, and a keystore file written with mode 0600.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";

import { ZeroHash, keccak256, toUtf8Bytes } from "ethers";

import { deriveSecretKey } from "../platform/bls/index.js";
import { type Share, keystoreJson, sharesOf } from "../platform/signer/keystore.js";
import type { RollupRegistryId } from "../platform/signer/slashing-protection.js";
import type { SigningDomain } from "../platform/signer/api.js";
import type { RollupHeader } from "../protocol/rollup.js";

export const TEST_REGISTRY: RollupRegistryId = {
  chainId: 31337n,
  address: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
};

export const TEST_DOMAIN: SigningDomain = {
  chainId: TEST_REGISTRY.chainId,
  verifyingContract: TEST_REGISTRY.address,
};

const word = (s: string) => keccak256(toUtf8Bytes(s));

/** A header covering batches first..last; another `variant` gives another header (and root) there. */
export function headerAt(first: bigint, last: bigint = first, variant = 0): RollupHeader {
  return {
    firstBatchSeq: first,
    lastBatchSeq: last,
    lastBatchHash: word(`last ${last} ${variant}`),
    previousBatchHash: first === 0n ? ZeroHash : word(`last ${first - 1n}`),
    l1BlockNumber: 100n + first,
    l1BlockHash: word(`l1 ${first}`),
    messageRoot: word(`messages ${first} ${variant}`),
    payloadHash: word(`payload ${first} ${variant}`),
    revelationEpoch: 0n,
    keyCommitment: word("key"),
  };
}

/** `n` shares derived from fixed seeds (the same across processes). */
export function testShares(n: number, tag = "signer-test"): Share[] {
  const secretKeys = Array.from({ length: n }, (_, i) =>
    deriveSecretKey(toUtf8Bytes(`${tag} share ${i} `.padEnd(32, "."))),
  );
  return sharesOf(keystoreJson(secretKeys));
}

/** Writes a keystore of `n` test shares in `dir` (mode 0600); returns its path. */
export function writeTestKeystore(dir: string, n = 1, tag = "signer-test"): string {
  const file = path.join(dir, "keystore.json");
  const secretKeys = testShares(n, tag).map((s) => s.secretKey);
  writeFileSync(file, JSON.stringify(keystoreJson(secretKeys)), { mode: 0o600 });
  return file;
}
