/**
 * What members send each other on the committee's partial-signatures topic to sign a rollup together:
 * the poster's `proposal` (the header and the payload it built, so every member can check the payload
 * against its own batches) and each member's `signature` of a header (EIP-712, as RollupRegistry checks
 * it) or, for a committee with a threshold key, its `partial` signature with its key share (BLS12-381,
 * G1, 48 bytes compressed). JSON with numbers as decimal strings and bytes in hex, parsed strictly with zod.
 */
import { z } from "zod";

import type { RollupHeader } from "../../protocol/rollup.js";

export type RollupGossip =
  | { readonly kind: "proposal"; readonly header: RollupHeader; readonly payload: string }
  | { readonly kind: "signature"; readonly rollupHash: string; readonly signature: string }
  | { readonly kind: "partial"; readonly rollupHash: string; readonly signature: string };

export class RollupWireError extends Error {
  constructor(message: string) {
    super(`rollup gossip: ${message}`);
    this.name = "RollupWireError";
  }
}

const MAX_BYTES = 512 * 1024;
const hex32 = z.string().regex(/^0x[0-9a-f]{64}$/, "32 bytes of lower-case hex");
const uint = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,19})$/, "a decimal uint64")
  .transform(BigInt);

const headerJson = z
  .object({
    firstBatchSeq: uint,
    lastBatchSeq: uint,
    lastBatchHash: hex32,
    previousBatchHash: hex32,
    l1BlockNumber: uint,
    l1BlockHash: hex32,
    messageRoot: hex32,
    payloadHash: hex32,
    revelationEpoch: uint,
    keyCommitment: hex32,
  })
  .strict();

const wireJson = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("proposal"),
      header: headerJson,
      payload: z.string().regex(/^0x([0-9a-f]{2})+$/, "lower-case hex bytes"),
    })
    .strict(),
  z
    .object({
      kind: z.literal("signature"),
      rollupHash: hex32,
      signature: z.string().regex(/^0x[0-9a-f]{130}$/, "a 65-byte signature in lower-case hex"),
    })
    .strict(),
  z
    .object({
      kind: z.literal("partial"),
      rollupHash: hex32,
      signature: z.string().regex(/^0x[0-9a-f]{96}$/, "a 48-byte BLS signature in lower-case hex"),
    })
    .strict(),
]);

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeRollupGossip(message: RollupGossip): Uint8Array {
  return encoder.encode(
    JSON.stringify(message, (_key, value: unknown) =>
      typeof value === "bigint" ? value.toString() : typeof value === "string" ? value.toLowerCase() : value,
    ),
  );
}

export function decodeRollupGossip(bytes: Uint8Array): RollupGossip {
  if (bytes.length > MAX_BYTES) throw new RollupWireError(`${bytes.length} bytes, more than ${MAX_BYTES}`);
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(bytes));
  } catch {
    throw new RollupWireError("not JSON");
  }
  const parsed = wireJson.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RollupWireError(`${issue?.path.join(".") || "message"}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}
