/**
 * Sealing a gossip payload under a key the sender and receivers derive from the network secret (only
 * attested enclaves hold it): [version 1][12-byte nonce][AES-256-GCM ciphertext], with the topic as
 * associated data, so a payload sealed for one topic does not open on another.
 */
import { gcm } from "@noble/ciphers/aes.js";
import { randomBytes, utf8ToBytes } from "@noble/hashes/utils.js";

const NONCE = 12;

export class SealedPayloadError extends Error {
  constructor(message: string) {
    super(`sealed payload: ${message}`);
    this.name = "SealedPayloadError";
  }
}

export function sealPayload(key: Uint8Array, topic: string, plaintext: Uint8Array): Uint8Array {
  const nonce = randomBytes(NONCE);
  const ct = gcm(key, nonce, utf8ToBytes(topic)).encrypt(plaintext);
  const out = new Uint8Array(1 + NONCE + ct.length);
  out[0] = 1;
  out.set(nonce, 1);
  out.set(ct, 1 + NONCE);
  return out;
}

export function openPayload(key: Uint8Array, topic: string, sealed: Uint8Array): Uint8Array {
  if (sealed.length < 1 + NONCE + 16 || sealed[0] !== 1) throw new SealedPayloadError("malformed");
  try {
    return gcm(key, sealed.subarray(1, 1 + NONCE), utf8ToBytes(topic)).decrypt(sealed.subarray(1 + NONCE));
  } catch {
    throw new SealedPayloadError(`does not open on ${topic} (another key or altered bytes)`);
  }
}
