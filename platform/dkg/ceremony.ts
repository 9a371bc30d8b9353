/**
 * A DKG ceremony's fixed terms, which every participant must be given identically: the 32-byte id the
 * initiator chose, the operators (indices 1..n, each with the address that signs its messages and the
 * secp256k1 public key its share is encrypted to) and the threshold t (2f + 1 by default). Also the
 * ceremony's outcomes.
 */
import { hexlify } from "ethers";

import { type PublicKey, type Share, thresholdFor } from "../bls/index.js";

/** One operator of the ceremony. */
export interface DkgOperator {
  /** 1..n, the operator's share index. */
  readonly index: number;
  /** The address whose secp256k1 key signs this operator's messages. */
  readonly address: string;
  /** The secp256k1 public key (33 or 65 bytes) its shares are encrypted to, e.g. its enclave key. */
  readonly encryptionKey: Uint8Array;
}

/** What the initiator fixes. */
export interface CeremonyTerms {
  readonly ceremonyId: Uint8Array;
  readonly operators: readonly DkgOperator[];
  /** t of n; thresholdFor(n) = 2f + 1 when absent. */
  readonly threshold?: number;
}

/** A ceremony's terms checked. */
export interface Ceremony {
  readonly ceremonyId: Uint8Array;
  readonly id: string;
  readonly operators: readonly DkgOperator[];
  readonly n: number;
  readonly threshold: number;
}

/** Terms that cannot make a ceremony (the caller's mistake, not a peer's). */
export class DkgConfigError extends Error {
  constructor(message: string) {
    super(`DKG: ${message}`);
    this.name = "DkgConfigError";
  }
}

/** The most operators a ceremony takes (indices travel as 16-bit numbers). */
export const MAX_OPERATORS = 1024;

/** `terms` checked: a 32-byte id, operators 1..n in order, 1 ≤ t ≤ n. */
export function ceremonyOf(terms: CeremonyTerms): Ceremony {
  if (!(terms.ceremonyId instanceof Uint8Array) || terms.ceremonyId.length !== 32) {
    throw new DkgConfigError("the ceremony id is 32 bytes");
  }
  const n = terms.operators.length;
  if (n < 1 || n > MAX_OPERATORS) throw new DkgConfigError(`1 to ${MAX_OPERATORS} operators, got ${n}`);
  terms.operators.forEach((op, i) => {
    if (op.index !== i + 1) throw new DkgConfigError(`operator ${i + 1} has index ${op.index}: list them 1..n`);
  });
  const threshold = terms.threshold ?? thresholdFor(n);
  if (!Number.isSafeInteger(threshold) || threshold < 1 || threshold > n) {
    throw new DkgConfigError(`the threshold is in [1, ${n}], got ${threshold}`);
  }
  return { ceremonyId: terms.ceremonyId, id: hexlify(terms.ceremonyId), operators: terms.operators, n, threshold };
}

/** A ceremony that made a key: this operator's part of it. */
export interface DkgCompleted {
  readonly kind: "completed";
  readonly ceremonyId: string;
  readonly threshold: number;
  /** The committee key PK = Σ_i C_i0. */
  readonly publicKey: PublicKey;
  /** The summed commitments Σ_i C_ik, k = 0..t − 1 (the first is PK). */
  readonly commitments: readonly PublicKey[];
  /** x_j = Σ_i f_i(j): secret, for the caller to seal. */
  readonly share: Share;
  /** The public key of every share 1..n (sharePublicKeys[j − 1] is operator j's). */
  readonly sharePublicKeys: readonly PublicKey[];
}

/** A ceremony that made no key, naming whom it blames (possibly no one, for a restart). */
export interface DkgAborted {
  readonly kind: "aborted";
  readonly culprits: readonly number[];
  readonly reason: string;
}

export type DkgResult = DkgCompleted | DkgAborted;
