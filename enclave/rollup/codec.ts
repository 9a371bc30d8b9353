/**
 * Rollup payloads: the batches of a rollup, RLP-encoded, brotli-compressed, then encrypted with
 * AES-256-GCM under the revelation epoch's key (DESIGN §6). Layout on L1:
 * `version (1 byte) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`. The plaintext is
 * `rlp([firstSeq, [[timestamp, l1BaseFee, l1MessagesTo, [tx, …]], …]])`.
 */
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { brotliCompress, brotliDecompressSync, constants as zlib } from "node:zlib";

import { gcm } from "@noble/ciphers/aes.js";
import { type RlpItem, RlpError, bytesToBigInt, hexBytes, rlpDecode, rlpEncode, toHex } from "../../platform/rlp.js";

export const ROLLUP_PAYLOAD_VERSION = 1;
const NONCE_LENGTH = 12;
/** Refuse to decompress more than this (a payload is at most a few hundred kB; this stops a zip bomb). */
const MAX_PLAINTEXT = 64 * 1024 * 1024;

/** What a rollup carries of each batch. */
export interface RollupBatch {
  timestamp: bigint;
  l1BaseFee: bigint;
  l1MessagesTo: bigint;
  txs: string[];
}

export interface RollupContent {
  firstSeq: bigint;
  batches: RollupBatch[];
}

export class RollupPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RollupPayloadError";
  }
}

function uintOf(item: RlpItem | undefined, what: string): bigint {
  if (item === undefined) throw new RollupPayloadError(`${what}: missing`);
  if (!(item instanceof Uint8Array)) throw new RollupPayloadError(`${what}: expected a number`);
  return bytesToBigInt(item);
}

/** The uncompressed, unencrypted encoding of a rollup's batches. */
export function encodeRollupContent(content: RollupContent): Uint8Array {
  const batches = content.batches.map((b) => [b.timestamp, b.l1BaseFee, b.l1MessagesTo, b.txs]);
  return rlpEncode([content.firstSeq, batches]);
}

export function decodeRollupContent(bytes: Uint8Array): RollupContent {
  let decoded: RlpItem;
  try {
    decoded = rlpDecode(bytes);
  } catch (e) {
    if (!(e instanceof RlpError)) throw e;
    throw new RollupPayloadError(`payload is not RLP: ${e.message}`);
  }
  if (!Array.isArray(decoded) || decoded.length !== 2 || !Array.isArray(decoded[1])) {
    throw new RollupPayloadError("payload is not [firstSeq, batches]");
  }
  const batches = decoded[1].map((b, i): RollupBatch => {
    if (!Array.isArray(b) || b.length !== 4 || !Array.isArray(b[3]))
      throw new RollupPayloadError(`batch ${i} is malformed`);
    const txs = b[3].map((tx, j) => {
      if (!(tx instanceof Uint8Array)) throw new RollupPayloadError(`batch ${i} transaction ${j} is not bytes`);
      return toHex(tx);
    });
    return {
      timestamp: uintOf(b[0], `batch ${i} timestamp`),
      l1BaseFee: uintOf(b[1], `batch ${i} l1BaseFee`),
      l1MessagesTo: uintOf(b[2], `batch ${i} l1MessagesTo`),
      txs,
    };
  });
  return { firstSeq: uintOf(decoded[0], "firstSeq"), batches };
}

/**
 * Brotli quality 9: on a rollup of 3,388 ETH transfers (403 kB), quality 11 takes 803 ms for 73.3% of the
 * bytes and quality 9 80 ms for 73.5% (`npm run bench:codec`): signatures, most of a transfer, do not
 * compress.
 */
export const BROTLI_QUALITY = 9;

const brotli = promisify(brotliCompress);

/** Brotli-compresses `bytes` in the thread pool (off the main thread). */
export async function compress(bytes: Uint8Array): Promise<Uint8Array> {
  return brotli(bytes, {
    params: {
      [zlib.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
      [zlib.BROTLI_PARAM_LGWIN]: 24,
      [zlib.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
}

export function decompress(bytes: Uint8Array): Uint8Array {
  try {
    return brotliDecompressSync(bytes, { maxOutputLength: MAX_PLAINTEXT });
  } catch (e) {
    throw new RollupPayloadError(`payload does not decompress: ${(e as Error).message}`);
  }
}

/** Compresses and encrypts `content` under `epochKey` (32 bytes, hex). */
export async function sealRollupPayload(content: RollupContent, epochKey: string): Promise<string> {
  const compressed = await compress(encodeRollupContent(content));
  const nonce = randomBytes(NONCE_LENGTH);
  const ciphertext = gcm(hexBytes(epochKey), nonce).encrypt(compressed);
  return toHex(Buffer.concat([Uint8Array.of(ROLLUP_PAYLOAD_VERSION), nonce, ciphertext]));
}

/** Decrypts and decodes a payload made by {@link sealRollupPayload}. */
export function openRollupPayload(payload: string, epochKey: string): RollupContent {
  let bytes: Uint8Array;
  try {
    bytes = hexBytes(payload);
  } catch (e) {
    throw new RollupPayloadError(`payload is not hex bytes: ${(e as Error).message}`);
  }
  if (bytes.length < 1 + NONCE_LENGTH + 16)
    throw new RollupPayloadError(`payload of ${bytes.length} bytes is too short`);
  if (bytes[0] !== ROLLUP_PAYLOAD_VERSION) throw new RollupPayloadError(`unknown payload version ${bytes[0]}`);
  let plaintext: Uint8Array;
  try {
    plaintext = gcm(hexBytes(epochKey), bytes.subarray(1, 1 + NONCE_LENGTH)).decrypt(bytes.subarray(1 + NONCE_LENGTH));
  } catch {
    throw new RollupPayloadError("payload does not decrypt under the epoch key (wrong key or tampered)");
  }
  return decodeRollupContent(decompress(plaintext));
}
