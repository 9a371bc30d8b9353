/**
 * The share keystore a signer loads (SIGNER_KEYSTORE; docs/distributed-key.md): a JSON file of BLS
 * secret-key shares in plaintext, which must be readable by its owner only (mode 0600 or stricter; a
 * file readable by group or others is refused). Encrypted keystores (EIP-2335) are not built yet.
 *
 *   { "version": 1, "shares": [ { "secretKey": "0x…32 bytes", "publicKey": "0x…96 bytes (optional)" } ] }
 *
 * A `publicKey`, when given, must be the secret key's (a guard against a mixed-up file).
 */
import { readFileSync, statSync } from "node:fs";

import { z } from "zod";

import { BlsError, hexOf, publicKeyOf } from "../bls/index.js";
import { SignerInputError } from "./errors.js";

/** One share: its secret key and its public key (0x-hex, 96 bytes compressed, lower case). */
export interface Share {
  readonly secretKey: Uint8Array;
  readonly publicKey: string;
}

const keystoreSchema = z
  .object({
    version: z.literal(1),
    shares: z
      .array(
        z
          .object({
            secretKey: z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be 0x and 32 bytes of hex"),
            publicKey: z
              .string()
              .regex(/^0x[0-9a-fA-F]{192}$/, "must be 0x and 96 bytes of hex")
              .optional(),
          })
          .strict(),
      )
      .min(1, "holds no share"),
  })
  .strict();

/** The shares of a keystore's JSON (`where` names it in errors). */
export function sharesOf(json: unknown, where = "keystore"): Share[] {
  const parsed = keystoreSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SignerInputError(`${where}: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  const seen = new Set<string>();
  return parsed.data.shares.map((s, i) => {
    let publicKey: string;
    const secretKey = Uint8Array.from(Buffer.from(s.secretKey.slice(2), "hex"));
    try {
      publicKey = hexOf(publicKeyOf(secretKey).bytes);
    } catch (e) {
      throw new SignerInputError(`${where}: shares.${i}.secretKey: ${e instanceof BlsError ? e.problem : String(e)}`);
    }
    if (s.publicKey !== undefined && s.publicKey.toLowerCase() !== publicKey) {
      throw new SignerInputError(`${where}: shares.${i}.publicKey is not the public key of its secretKey`);
    }
    if (seen.has(publicKey)) throw new SignerInputError(`${where}: shares.${i} is listed twice`);
    seen.add(publicKey);
    return { secretKey, publicKey };
  });
}

/** Loads the keystore `file`: refused unless it is readable by its owner only (0600). */
export function loadKeystore(file: string): Share[] {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (e) {
    throw new SignerInputError(`keystore ${file}: ${(e as Error).message}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new SignerInputError(
      `keystore ${file}: mode ${(mode & 0o777).toString(8)} lets others read the shares: chmod 600 it`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new SignerInputError(`keystore ${file}: not JSON (${(e as Error).message})`);
  }
  return sharesOf(json, `keystore ${file}`);
}

/** A keystore's JSON for `secretKeys` (the format above). */
export function keystoreJson(secretKeys: readonly Uint8Array[]): unknown {
  return {
    version: 1,
    shares: secretKeys.map((sk) => ({ secretKey: hexOf(sk), publicKey: hexOf(publicKeyOf(sk).bytes) })),
  };
}
