/**
 * Batch proposals travel sealed (DESIGN §9.2, no L2 plaintext on the wire): the QBFT value is
 * [version 1][12-byte nonce][AES-256-GCM ciphertext] under a key derived from the network secret, with the
 * height as associated data. Only attested enclaves can open it; everyone else (gossip peers, the
 * exporter) sees, signs and verifies the digest of the sealed bytes, so votes and commit certificates
 * need no secret.
 */
import { gcm } from "@noble/ciphers/aes.js";
import { randomBytes } from "@noble/hashes/utils.js";

const VERSION = 1;
const NONCE_LENGTH = 12;

/** A sealed value that does not open: another key, another height, or altered bytes. */
export class SealedValueError extends Error {
  constructor(message: string) {
    super(`sealed proposal: ${message}`);
    this.name = "SealedValueError";
  }
}

function associatedData(height: number): Uint8Array {
  return new TextEncoder().encode(`veilnet-consensus-value-v1/${height}`);
}

/** Seals `plaintext` as the value of `height`. */
export function sealValue(key: Uint8Array, height: number, plaintext: Uint8Array): Uint8Array {
  const nonce = randomBytes(NONCE_LENGTH);
  const ciphertext = gcm(key, nonce, associatedData(height)).encrypt(plaintext);
  const out = new Uint8Array(1 + NONCE_LENGTH + ciphertext.length);
  out[0] = VERSION;
  out.set(nonce, 1);
  out.set(ciphertext, 1 + NONCE_LENGTH);
  return out;
}

/** Opens a value sealed for `height`; throws SealedValueError when it does not open. */
export function openValue(key: Uint8Array, height: number, sealed: Uint8Array): Uint8Array {
  if (sealed.length < 1 + NONCE_LENGTH + 16) throw new SealedValueError(`${sealed.length} bytes is too short`);
  if (sealed[0] !== VERSION) throw new SealedValueError(`unknown version ${sealed[0]}`);
  try {
    return gcm(key, sealed.subarray(1, 1 + NONCE_LENGTH), associatedData(height)).decrypt(
      sealed.subarray(1 + NONCE_LENGTH),
    );
  } catch {
    throw new SealedValueError(`does not open for height ${height} (another key, another height, or altered bytes)`);
  }
}
