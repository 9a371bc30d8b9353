/**
 * The committee key's proof of possession, made by threshold after a DKG (no one holds the whole key):
 * each operator signs popMessage(PK, owner, nonce) with its share under POP_DST; any t partials, each
 * checked against its share's public key, recover the key's proof (recoverSignature), which is checked
 * with verifyProofOfPossession before it is returned.
 */
import {
  type PartialSignature,
  type PublicKeyInput,
  type Signature,
  POP_DST,
  popMessage,
  recoverSignature,
  sign,
  verify,
  verifyProofOfPossession,
} from "../bls/index.js";

import type { DkgCompleted } from "./ceremony.js";

/** This operator's partial proof of possession of the committee key for `owner` and `nonce`. */
export function partialProofOfPossession(result: DkgCompleted, owner: string, nonce: bigint): PartialSignature {
  const message = popMessage(result.publicKey, owner, nonce);
  return { index: result.share.index, signature: sign(result.share.secretKey, message, POP_DST) };
}

/** The public parts of a DKG's outcome a recovery needs. */
export interface CommitteeKey {
  readonly publicKey: PublicKeyInput;
  readonly threshold: number;
  /** sharePublicKeys[j − 1] is share j's. */
  readonly sharePublicKeys: readonly PublicKeyInput[];
}

/**
 * The proof of possession recovered from the first `threshold` partials that verify against their
 * shares' public keys; undefined if fewer than t do.
 */
export function recoverProofOfPossession(
  key: CommitteeKey,
  partials: readonly PartialSignature[],
  owner: string,
  nonce: bigint,
): Signature | undefined {
  const message = popMessage(key.publicKey, owner, nonce);
  const valid: PartialSignature[] = [];
  const seen = new Set<number>();
  for (const partial of partials) {
    if (valid.length === key.threshold) break;
    const sharePk = key.sharePublicKeys[partial.index - 1];
    if (sharePk === undefined || seen.has(partial.index)) continue;
    try {
      if (!verify(sharePk, message, partial.signature, POP_DST)) continue;
    } catch {
      continue;
    }
    seen.add(partial.index);
    valid.push(partial);
  }
  if (valid.length < key.threshold) return undefined;
  const proof = recoverSignature(valid);
  return verifyProofOfPossession(key.publicKey, owner, nonce, proof) ? proof : undefined;
}
