/**
 * The network secret: 32 random bytes made once by the genesis enclave and handed, encrypted, to every
 * enclave attested after it. L1 stores only its commitment, `keccak256(secret)`
 * (EnclaveRegistry.secretCommitment), which lets a receiving enclave check what it was sent.
 */
import { inspect } from "node:util";

import { type BytesLike, getBytes, hexlify, randomBytes } from "ethers";

import { SECRET_LENGTH, derive } from "../crypto/derive.js";
import { secretCommitment } from "../crypto/ecies.js";

export class NetworkSecret {
  readonly #bytes: Uint8Array;
  /** `keccak256(secret)`, as the EnclaveRegistry stores it. */
  readonly commitment: string;

  private constructor(bytes: Uint8Array) {
    if (bytes.length !== SECRET_LENGTH) {
      throw new Error(`the network secret must be ${SECRET_LENGTH} bytes, got ${bytes.length}`);
    }
    this.#bytes = Uint8Array.from(bytes);
    this.commitment = secretCommitment(this.#bytes);
  }

  /** A new secret from the CSPRNG (genesis only). */
  static generate(): NetworkSecret {
    return new NetworkSecret(randomBytes(SECRET_LENGTH));
  }

  /** The secret `bytes` (e.g. decrypted from a peer, or unsealed). */
  static from(bytes: BytesLike): NetworkSecret {
    return new NetworkSecret(getBytes(bytes));
  }

  /** Whether this is the secret `commitment` commits to. */
  matches(commitment: string): boolean {
    return this.commitment.toLowerCase() === commitment.toLowerCase();
  }

  /** The key for `label` (enclave/crypto/derive.ts). */
  derive(label: string): string {
    return derive(this.#bytes, label);
  }

  /** The secret itself, 0x-hex. Only for ECIES to an attested peer and for sealing. */
  reveal(): string {
    return hexlify(this.#bytes);
  }

  /** Never serialize the secret by accident (logs, JSON). */
  toJSON(): { commitment: string } {
    return { commitment: this.commitment };
  }

  [inspect.custom](): string {
    return `NetworkSecret(commitment ${this.commitment})`;
  }
}
