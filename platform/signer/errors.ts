/**
 * The typed failures of a share signer (docs/distributed-key.md, "Slashing protection and the remote
 * signer"), shared by the local signer, the `veilnet signer` HTTP API and its client: a node tells a
 * refusal (slashing protection said no: never retried with another header) from a signer that is down
 * or misconfigured (the duty is missed and counted), and a malformed request from both.
 */

/** Why slashing protection refused to sign (docs/distributed-key.md). */
export type RefusalReason =
  /** A different header with the same firstBatchSeq was signed before (an equivocation). */
  | "double-sign"
  /** A header with another root whose batch range overlaps this one's was signed before. */
  | "overlap";

/** Slashing protection refused: signing would make this share sign two conflicting headers. */
export class SignerRefusedError extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
    this.name = "SignerRefusedError";
  }
}

/** The signer holds no share of this public key. */
export class UnknownKeyError extends Error {
  constructor(readonly publicKey: string) {
    super(`the signer holds no share with public key ${publicKey}`);
    this.name = "UnknownKeyError";
  }
}

/** The request is malformed or not for this signer (a bad header, another registry's domain). */
export class SignerInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SignerInputError";
  }
}

/** The remote signer did not answer (refused connection, timeout, 5xx): the duty is missed. */
export class SignerDownError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SignerDownError";
  }
}

/** The remote signer refused the client's credentials (401/403). */
export class SignerUnauthorizedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SignerUnauthorizedError";
  }
}

/** The remote signer answered something that is not a valid signature of what was asked. */
export class SignerProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SignerProtocolError";
  }
}

/** The slashing-protection record cannot be opened, read or imported. */
export class SlashingProtectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SlashingProtectionError";
  }
}
