/**
 * Shamir sharing of a BLS secret key over Fr with Feldman commitments, and the recovery of a threshold
 * signature from partial signatures (DESIGN §9.4): operator i holds f(i) of a random polynomial f of
 * degree t − 1 with f(0) = sk; anyone checks a share against the commitments a_j·G2 of f's
 * coefficients; any t partial signatures f(i)·H(m) combine by Lagrange interpolation at 0, in the
 * exponent, into sk·H(m). Fewer than t combine into a signature that does not verify. The polynomial
 * arithmetic is @noble/curves' Fr, the point sums its multi-scalar multiplication.
 */
import { pippenger } from "@noble/curves/abstract/curve.js";

import { type BytesLike, type G2Point } from "./encoding.js";
import { BlsError } from "./errors.js";
import {
  type PublicKey,
  type PublicKeyInput,
  type Signature,
  type SignatureInput,
  generateSecretKey,
  publicKeyFromPoint,
  publicKeyPoint,
  scalarOf,
  secretKeyOf,
  signatureFromPoint,
  signaturePoint,
} from "./keys.js";
import { Fr, G1, G2 } from "./suite.js";

/** One operator's share: f(index) as a secret key. */
export interface Share {
  readonly index: number;
  readonly secretKey: Uint8Array;
}

/** A dealt key: its public key, the threshold, the n shares (indices 1..n) and the commitments a_j·G2. */
export interface SplitKey {
  readonly publicKey: PublicKey;
  readonly threshold: number;
  readonly shares: readonly Share[];
  /** t commitments; the first is the public key. */
  readonly commitments: readonly PublicKey[];
}

/** An operator's signature with its share, and the share's index. */
export interface PartialSignature {
  readonly index: number;
  readonly signature: SignatureInput;
}

/** Options of splitSecret. */
export interface SplitOptions {
  /** The source of the polynomial's random coefficients (scalars in [1, r)); the CSPRNG by default. */
  readonly randomScalar?: () => bigint;
}

/** The most shares splitSecret deals. */
export const MAX_SHARES = 1024;

/** The threshold 2f + 1 of a committee of n, f = ⌊(n − 1)/3⌋ (QBFT's quorum for n = 3f + 1). */
export function thresholdFor(n: number): number {
  if (!Number.isSafeInteger(n) || n < 1)
    throw new BlsError("shares", `a committee size is a positive integer, got ${n}`);
  return 2 * Math.floor((n - 1) / 3) + 1;
}

/** `index` checked: a share index is an integer ≥ 1 (0 would be the secret itself). */
function shareIndex(index: number): bigint {
  if (!Number.isSafeInteger(index) || index < 1) {
    throw new BlsError("share index", `an integer ≥ 1, got ${String(index)}`);
  }
  return BigInt(index);
}

/** f(x) for the coefficients a_0..a_{t-1} of f, by Horner's rule in Fr. */
function evaluate(coefficients: readonly bigint[], x: bigint): bigint {
  return coefficients.reduceRight((acc, a) => Fr.add(Fr.mul(acc, x), a), Fr.ZERO);
}

/** The powers 1, x, x², …, x^(count−1) in Fr. */
function powers(x: bigint, count: number): bigint[] {
  const out: bigint[] = [];
  for (let j = 0, p = Fr.ONE; j < count; j++, p = Fr.mul(p, x)) out.push(p);
  return out;
}

/**
 * Deals `secretKey` into n shares with threshold t: f(i) for i = 1..n, f of degree t − 1 with f(0) = sk
 * and random other coefficients, and the commitments a_j·G2.
 */
export function splitSecret(secretKey: BytesLike, n: number, threshold: number, options: SplitOptions = {}): SplitKey {
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_SHARES) {
    throw new BlsError("shares", `n is an integer in [1, ${MAX_SHARES}], got ${n}`);
  }
  if (!Number.isSafeInteger(threshold) || threshold < 1 || threshold > n) {
    throw new BlsError("threshold", `an integer in [1, n = ${n}], got ${threshold}`);
  }
  const random = options.randomScalar ?? (() => scalarOf(generateSecretKey()));
  const coefficients = [scalarOf(secretKey)];
  while (coefficients.length < threshold) {
    const a = random();
    if (a <= 0n || a >= Fr.ORDER) throw new BlsError("shares", "randomScalar returned a scalar outside [1, r)");
    coefficients.push(a);
  }
  const shares = Array.from({ length: n }, (_, i) => ({
    index: i + 1,
    secretKey: secretKeyOf(evaluate(coefficients, BigInt(i + 1))),
  }));
  const commitments = coefficients.map((a) => publicKeyFromPoint(G2.BASE.multiply(a)));
  return { publicKey: commitments[0]!, threshold, shares, commitments };
}

/** The G2 points of a commitment vector: at least one, each in the subgroup and not infinity. */
function commitmentPoints(commitments: readonly PublicKeyInput[]): G2Point[] {
  if (commitments.length === 0) throw new BlsError("commitments", "none given");
  // publicKeyPoint keeps the points it parsed: a DKG checks many shares against the same commitments.
  return commitments.map((c, j) => {
    try {
      return publicKeyPoint(c);
    } catch (e) {
      throw e instanceof BlsError ? e.as("commitments", `commitment ${j}`) : e;
    }
  });
}

/** Σ C_j·index^j: the public key f(index)·G2 of share `index`, from the commitments alone. */
function sharePoint(index: number, commitments: readonly PublicKeyInput[]): G2Point {
  const points = commitmentPoints(commitments);
  return pippenger(G2, points, powers(shareIndex(index), points.length));
}

/** The public key of share `index` (to verify that operator's partial signatures), from the commitments. */
export function sharePublicKey(index: number, commitments: readonly PublicKeyInput[]): PublicKey {
  return publicKeyFromPoint(sharePoint(index, commitments));
}

/**
 * Whether `share` is f(index) for the polynomial the commitments commit to: share·G2 = Σ C_j·index^j.
 * False for a well-formed share that does not match; a BlsError for a malformed index, share or commitment.
 */
export function verifyShare(index: number, share: BytesLike, commitments: readonly PublicKeyInput[]): boolean {
  let scalar: bigint;
  try {
    scalar = scalarOf(share);
  } catch (e) {
    throw e instanceof BlsError ? e.as("share") : e;
  }
  return G2.BASE.multiply(scalar).equals(sharePoint(index, commitments));
}

/** The Lagrange coefficients at 0 of the distinct indices x_i: λ_i = Π_{j≠i} x_j / (x_j − x_i), in Fr. */
export function lagrangeAtZero(indices: readonly number[]): bigint[] {
  const xs = indices.map(shareIndex);
  if (new Set(xs).size !== xs.length) throw new BlsError("share index", "an index appears twice");
  const numerators = xs.map((xi) => xs.reduce((acc, xj) => (xj === xi ? acc : Fr.mul(acc, xj)), Fr.ONE));
  const denominators = xs.map((xi) => xs.reduce((acc, xj) => (xj === xi ? acc : Fr.mul(acc, Fr.sub(xj, xi))), Fr.ONE));
  const inverses = Fr.invertBatch(denominators);
  return numerators.map((num, i) => Fr.mul(num, inverses[i]!));
}

/**
 * The threshold signature Σ λ_i·σ_i interpolated at 0 from partial signatures (distinct indices). It
 * cannot know the threshold: from t or more partials of one message it is the key's signature; from
 * fewer it is some other point, which does not verify. Check each partial against its share's
 * public key (sharePublicKey) first, or one bad partial spoils the result.
 */
export function recoverSignature(partials: readonly PartialSignature[]): Signature {
  if (partials.length === 0) throw new BlsError("partials", "none given");
  const lambdas = lagrangeAtZero(partials.map((p) => p.index));
  const points = partials.map((p) => {
    try {
      return signaturePoint(p.signature);
    } catch (e) {
      throw e instanceof BlsError ? e.as("partials", `the partial of index ${p.index}`) : e;
    }
  });
  return signatureFromPoint(pippenger(G1, points, lambdas));
}
