/**
 * What committee members send each other, as bytes for the transport (which seals them under a key
 * derived from the network secret before they leave the enclave's host):
 *
 * - `qbft`: one signed QBFT message of a height;
 * - `decided`: a decided value with its commit certificate (any node can verify it, and a lagging one
 *   applies it without having voted);
 * - `sync-request`: "send me the decided values from this height on".
 *
 * The form is JSON with byte strings in hex, parsed strictly with zod: a malformed message is refused
 * with the path of its first bad field, before any signature is checked.
 */
import { z } from "zod";

import type { Commit, Message, OperatorId, Prepare, RoundChange, Signed } from "./qbft/index.js";

/** A decided height: the value, the round it was decided in and 2f+1 signed COMMITs for its digest. */
export interface DecidedRecord {
  readonly height: number;
  readonly round: number;
  readonly value: Uint8Array;
  readonly certificate: readonly Signed<Commit>[];
}

export type WireMessage =
  | { readonly kind: "qbft"; readonly signed: Signed }
  | { readonly kind: "decided"; readonly decided: DecidedRecord }
  | { readonly kind: "sync-request"; readonly sender: OperatorId; readonly fromHeight: number };

/** A message that is not a well-formed WireMessage. */
export class WireFormatError extends Error {
  constructor(message: string) {
    super(`consensus message: ${message}`);
    this.name = "WireFormatError";
  }
}

/** Bounds that keep a hostile message from costing more than a real one. */
const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
const MAX_JUSTIFICATION = 64;

const hex = z.string().regex(/^0x([0-9a-f]{2})*$/, "lower-case hex bytes");
const digest = z.string().regex(/^[0-9a-f]{64}$/, "a sha256 digest in hex");
const uint = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const head = { height: uint, round: uint, sender: uint };

const prepareJson = z.object({ type: z.literal("prepare"), ...head, digest }).strict();
const commitJson = z.object({ type: z.literal("commit"), ...head, digest }).strict();
const signedOf = <T extends z.ZodTypeAny>(message: T) => z.object({ message, signature: hex }).strict();
const signedPrepare = signedOf(prepareJson);
const roundChangeJson = z
  .object({
    type: z.literal("round-change"),
    ...head,
    preparedRound: uint.nullable(),
    digest: digest.nullable(),
    preparedValue: hex.nullable(),
    prepareJustification: z.array(signedPrepare).max(MAX_JUSTIFICATION),
  })
  .strict();
const prePrepareJson = z
  .object({
    type: z.literal("pre-prepare"),
    ...head,
    digest,
    value: hex,
    roundChangeJustification: z.array(signedOf(roundChangeJson)).max(MAX_JUSTIFICATION),
    prepareJustification: z.array(signedPrepare).max(MAX_JUSTIFICATION),
  })
  .strict();
const messageJson = z.discriminatedUnion("type", [prepareJson, commitJson, roundChangeJson, prePrepareJson]);

const wireJson = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("qbft"), signed: signedOf(messageJson) }).strict(),
  z
    .object({
      kind: z.literal("decided"),
      decided: z
        .object({
          height: uint,
          round: uint,
          value: hex,
          certificate: z.array(signedOf(commitJson)).min(1).max(MAX_JUSTIFICATION),
        })
        .strict(),
    })
    .strict(),
  z.object({ kind: z.literal("sync-request"), sender: uint, fromHeight: uint }).strict(),
]);

function toHex(bytes: Uint8Array): string {
  return "0x" + Buffer.from(bytes).toString("hex");
}

function fromHex(value: string): Uint8Array {
  return new Uint8Array(Buffer.from(value.slice(2), "hex"));
}

type Json = string | number | null | Json[] | { [key: string]: Json };

function signedToJson(signed: Signed): Json {
  return { message: messageToJson(signed.message), signature: toHex(signed.signature) };
}

function messageToJson(m: Message): Json {
  const base = { type: m.type, height: m.height, round: m.round, sender: m.sender };
  switch (m.type) {
    case "prepare":
    case "commit":
      return { ...base, digest: m.digest };
    case "round-change":
      return {
        ...base,
        preparedRound: m.preparedRound,
        digest: m.digest,
        preparedValue: m.preparedValue === null ? null : toHex(m.preparedValue),
        prepareJustification: m.prepareJustification.map(signedToJson),
      };
    case "pre-prepare":
      return {
        ...base,
        digest: m.digest,
        value: toHex(m.value),
        roundChangeJustification: m.roundChangeJustification.map(signedToJson),
        prepareJustification: m.prepareJustification.map(signedToJson),
      };
  }
}

/** The JSON form of `message` (also the consensus log's line format). */
export function wireToJson(message: WireMessage): Json {
  switch (message.kind) {
    case "qbft":
      return { kind: "qbft", signed: signedToJson(message.signed) };
    case "decided":
      return {
        kind: "decided",
        decided: {
          height: message.decided.height,
          round: message.decided.round,
          value: toHex(message.decided.value),
          certificate: message.decided.certificate.map(signedToJson),
        },
      };
    case "sync-request":
      return { kind: "sync-request", sender: message.sender, fromHeight: message.fromHeight };
  }
}

type MessageJson = z.infer<typeof messageJson>;
type SignedJson<M> = { message: M; signature: string };

function prepareFrom(s: SignedJson<z.infer<typeof prepareJson>>): Signed<Prepare> {
  return { message: s.message, signature: fromHex(s.signature) };
}

function roundChangeFrom(s: SignedJson<z.infer<typeof roundChangeJson>>): Signed<RoundChange> {
  const m = s.message;
  return {
    message: {
      ...m,
      preparedValue: m.preparedValue === null ? null : fromHex(m.preparedValue),
      prepareJustification: m.prepareJustification.map(prepareFrom),
    },
    signature: fromHex(s.signature),
  };
}

function signedFrom(s: SignedJson<MessageJson>): Signed {
  const m = s.message;
  switch (m.type) {
    case "prepare":
    case "commit":
      return { message: m, signature: fromHex(s.signature) };
    case "round-change":
      return roundChangeFrom({ message: m, signature: s.signature });
    case "pre-prepare":
      return {
        message: {
          ...m,
          value: fromHex(m.value),
          roundChangeJustification: m.roundChangeJustification.map(roundChangeFrom),
          prepareJustification: m.prepareJustification.map(prepareFrom),
        },
        signature: fromHex(s.signature),
      };
  }
}

/** Parses the JSON form; throws WireFormatError with the first bad field's path. */
export function wireFromJson(json: unknown): WireMessage {
  const parsed = wireJson.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WireFormatError(`${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`);
  }
  const w = parsed.data;
  switch (w.kind) {
    case "qbft":
      return { kind: "qbft", signed: signedFrom(w.signed) };
    case "decided":
      return {
        kind: "decided",
        decided: {
          height: w.decided.height,
          round: w.decided.round,
          value: fromHex(w.decided.value),
          certificate: w.decided.certificate.map((c) => ({ message: c.message, signature: fromHex(c.signature) })),
        },
      };
    case "sync-request":
      return w;
  }
}

/** The bytes of `message` for the transport. */
export function encodeWire(message: WireMessage): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(wireToJson(message)));
}

/** Decodes transport bytes; throws WireFormatError naming what is wrong. */
export function decodeWire(bytes: Uint8Array): WireMessage {
  if (bytes.length > MAX_MESSAGE_BYTES)
    throw new WireFormatError(`${bytes.length} bytes, more than ${MAX_MESSAGE_BYTES}`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw new WireFormatError(`not UTF-8 JSON (${(error as Error).message})`);
  }
  return wireFromJson(json);
}
