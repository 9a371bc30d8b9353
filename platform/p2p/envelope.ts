/**
 * The signed envelope every Veilnet gossip message travels in: who sent it (an operator id, signed with
 * that operator's secp256k1 key, recoverable to its L1 address), for which chain, topic and committee,
 * about which height, when, and the payload. Binary form: RLP of
 * [version, chainId, topic, committeeId, operatorId, height, sentAtMs, payload, signature], the signature
 * (65 bytes) over keccak256("veilnet-p2p-envelope-v1" ‖ RLP of the fields before it). Decoding accepts
 * only the canonical form and names what is wrong.
 */
import { type SigningKey, keccak256 } from "ethers";

import { type RlpItem, RlpError, bytesToBigInt, rlpDecode, rlpEncode } from "../rlp.js";
import { recoverSigner, signDigest } from "../secp256k1.js";

export const ENVELOPE_VERSION = 1n;
const DOMAIN = new TextEncoder().encode("veilnet-p2p-envelope-v1");

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

function fields(h: EnvelopeHeader, payload: Uint8Array): (bigint | Uint8Array)[] {
  return [
    ENVELOPE_VERSION,
    h.chainId,
    new TextEncoder().encode(h.topic),
    h.committeeId,
    h.operatorId,
    h.height,
    h.sentAtMs,
    payload,
  ];
}

/** What the sender signs. */
export function envelopeDigest(h: EnvelopeHeader, payload: Uint8Array): string {
  return keccak256(Buffer.concat([DOMAIN, rlpEncode(fields(h, payload))]));
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
  return rlpEncode([...fields(h, payload), signature]);
}

/** Decodes envelope bytes (no signature check); throws EnvelopeFormatError. */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  let items: RlpItem;
  try {
    items = rlpDecode(bytes);
  } catch (error) {
    if (!(error instanceof RlpError)) throw error;
    throw new EnvelopeFormatError(`not RLP (${error.message})`);
  }
  if (!Array.isArray(items) || items.length !== 9 || !items.every((i) => i instanceof Uint8Array)) {
    throw new EnvelopeFormatError("not a list of 9 byte strings");
  }
  const f = items as Uint8Array[];
  const at = (i: number): Uint8Array => f[i] ?? new Uint8Array();
  const num = (i: number): bigint => bytesToBigInt(at(i));
  if (num(0) !== ENVELOPE_VERSION) throw new EnvelopeFormatError(`unknown version ${num(0)}`);
  let topic: string;
  try {
    topic = new TextDecoder("utf-8", { fatal: true }).decode(at(2));
  } catch {
    throw new EnvelopeFormatError("topic is not UTF-8");
  }
  const signature = at(8);
  if (signature.length !== 65) throw new EnvelopeFormatError(`signature is ${signature.length} bytes, not 65`);
  const envelope: Envelope = {
    chainId: num(1),
    topic,
    committeeId: num(3),
    operatorId: num(4),
    height: num(5),
    sentAtMs: num(6),
    payload: at(7),
    signature,
  };
  if (!Buffer.from(rlpEncode([...fields(envelope, envelope.payload), signature])).equals(bytes)) {
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
