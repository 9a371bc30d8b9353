/**
 * The one error platform/bls throws: what was malformed (a key, a signature, a share index…) and why,
 * so a caller can tell a bad input from a signature that merely fails to verify (which returns false).
 */

/** Which input was wrong. */
export type BlsInput =
  | "secret key"
  | "public key"
  | "signature"
  | "digest"
  | "share index"
  | "share"
  | "shares"
  | "threshold"
  | "commitments"
  | "partials"
  | "owner"
  | "nonce"
  | "seed";

/** A malformed BLS input: `input` names it, the message says what is wrong with it. */
export class BlsError extends Error {
  readonly input: BlsInput;
  /** What is wrong with it, without the input's name. */
  readonly problem: string;

  constructor(input: BlsInput, problem: string) {
    super(`BLS ${input}: ${problem}`);
    this.name = "BlsError";
    this.input = input;
    this.problem = problem;
  }

  /** The same problem, reported against `input` (a secret key that is a share, a signature that is a partial). */
  as(input: BlsInput, context?: string): BlsError {
    return new BlsError(input, context === undefined ? this.problem : `${context}: ${this.problem}`);
  }
}
