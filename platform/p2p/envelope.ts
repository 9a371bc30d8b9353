/**
 * The signed envelope every Veilnet gossip message travels in: who sent it (an operator id, signed with
 * that operator's secp256k1 key, recoverable to its L1 address), for which chain, topic and committee,
 * about which height, when, and the payload. Binary form: RLP of
 * [version, chainId, topic, committeeId, operatorId, height, sentAtMs, payload, signature], the signature
 * (65 bytes) over keccak256("veilnet-p2p-envelope-v1" ‖ RLP of the fields before it). Decoding accepts
 * only the canonical form and names what is wrong.
 */
import {
  type SigningKey,
  concat,
  decodeRlp,
  encodeRlp,
  getBytes,
  hexlify,
  keccak256,
  toBeHex,
  toBigInt,
  toUtf8Bytes,
  toUtf8String,
} from "ethers";

import { recoverSigner, signDigest } from "../secp256k1.js";

export const ENVELOPE_VERSION = 1n;
const DOMAIN = hexlify(toUtf8Bytes("veilnet-p2p-envelope-v1"));

export interface EnvelopeHeader {
  readonly chainId: bigint;
  readonly topic: string;
  readonly committeeId: bigint;
  readonly operatorId: bigint;
  readonly height: bigint;
  readonly sentAtMs: bigint;
}

export interface Envelope extends EnvelopeHeader {
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
}

export class EnvelopeFormatError extends Error {
  constructor(message: string) {
    super(`envelope: ${message}`);
    this.name = "EnvelopeFormatError";
  }
}

const q = (v: bigint): string => (v === 0n ? "0x" : toBeHex(v));

function fields(h: EnvelopeHeader, payload: Uint8Array): string[] {
  return [
    q(ENVELOPE_VERSION),
    q(h.chainId),
    hexlify(toUtf8Bytes(h.topic)),
    q(h.committeeId),
    q(h.operatorId),
    q(h.height),
    q(h.sentAtMs),
    hexlify(payload),
  ];
}

/** What the sender signs. */
export function envelopeDigest(h: EnvelopeHeader, payload: Uint8Array): string {
  return keccak256(concat([DOMAIN, encodeRlp(fields(h, payload))]));
}

/** Signs envelopes as one operator. */
export interface EnvelopeSigner {
  readonly operatorId: bigint;
  sign(digest: string): Uint8Array;
}

export function secp256k1EnvelopeSigner(key: SigningKey, operatorId: bigint): EnvelopeSigner {
  return { operatorId, sign: (digest) => signDigest(key.privateKey, digest) };
}

/** The envelope's bytes, signed by `signer`. */
export function sealEnvelope(
  signer: EnvelopeSigner,
  header: Omit<EnvelopeHeader, "operatorId">,
  payload: Uint8Array,
): Uint8Array {
  const h = { ...header, operatorId: signer.operatorId };
  const signature = signer.sign(envelopeDigest(h, payload));
  return getBytes(encodeRlp([...fields(h, payload), hexlify(signature)]));
}

/** Decodes envelope bytes (no signature check); throws EnvelopeFormatError. */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  let items: unknown;
  try {
    items = decodeRlp(bytes);
  } catch (error) {
    throw new EnvelopeFormatError(`not RLP (${(error as Error).message})`);
  }
  if (!Array.isArray(items) || items.length !== 9 || !items.every((i) => typeof i === "string")) {
    throw new EnvelopeFormatError("not a list of 9 byte strings");
  }
  const f = items as string[];
  const num = (i: number): bigint => (f[i] === "0x" ? 0n : toBigInt(f[i] ?? "0x"));
  if (num(0) !== ENVELOPE_VERSION) throw new EnvelopeFormatError(`unknown version ${num(0)}`);
  let topic: string;
  try {
    topic = toUtf8String(f[2] ?? "0x");
  } catch {
    throw new EnvelopeFormatError("topic is not UTF-8");
  }
  const signature = getBytes(f[8] ?? "0x");
  if (signature.length !== 65) throw new EnvelopeFormatError(`signature is ${signature.length} bytes, not 65`);
  const envelope: Envelope = {
    chainId: num(1),
    topic,
    committeeId: num(3),
    operatorId: num(4),
    height: num(5),
    sentAtMs: num(6),
    payload: getBytes(f[7] ?? "0x"),
    signature,
  };
  if (hexlify(getBytes(encodeRlp([...fields(envelope, envelope.payload), hexlify(signature)]))) !== hexlify(bytes)) {
    throw new EnvelopeFormatError("not in canonical form");
  }
  return envelope;
}

/** The address that signed `envelope`, or undefined when the signature does not recover. */
export function envelopeSigner(envelope: Envelope): string | undefined {
  try {
    return recoverSigner(envelopeDigest(envelope, envelope.payload), envelope.signature);
  } catch {
    return undefined;
  }
}
