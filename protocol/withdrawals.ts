/**
 * What an L2 node answers about withdrawals, shared by the node (enclave/rpc/withdrawals.ts) and its
 * clients (platform/withdrawals): a rollup's L2→L1 messages (`veil_getRollupMessages`, public: the
 * relay calldata publishes them on L1 anyway) and the proof of the messages one L2 transaction emitted
 * (`veil_getWithdrawalProof`, for the transaction's sender only). On the wire every integer is a
 * decimal string; the parsers here turn answers back into typed values and name what is malformed.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { z } from "zod";

import { type CrossChainMessage, MESSAGE_LEAF_ENCODING, messageFromJson, messageToJson } from "./messages.js";

/** Public: a rollup's messages, by rollup hash or message root. */
export const ROLLUP_MESSAGES_METHOD = "veil_getRollupMessages";
/** Private (wallet method, answered under the privacy rules): the proof of an L2 transaction's withdrawals. */
export const WITHDRAWAL_PROOF_METHOD = "veil_getWithdrawalProof";

/** Where a rollup's message root stands on L1 (MessageBus.messageRoot, at the L1 head). */
export type RootStatus =
  /** Not registered for this rollup (not on L1 yet, or reorged away). */
  | "unregistered"
  /** Registered, challenge period not over yet. */
  | "pending"
  /** Messages under it may be relayed. */
  | "active"
  /** Its rollup, or an earlier one, was rejected by the guardian: never relayable. */
  | "rejected";

/** A rollup on L1, as the node read it (RollupAdded). */
export interface RollupRef {
  hash: string;
  messageRoot: string;
  firstBatchSeq: bigint;
  lastBatchSeq: bigint;
  l1TxHash: string;
  l1BlockNumber: number;
}

/** `veil_getRollupMessages`'s answer: the rollup and its L2→L1 messages in tree order. */
export interface RollupMessages {
  rollup: RollupRef;
  messages: CrossChainMessage[];
}

/** The L1 state of a rollup's root when the node answered. */
export interface RootState {
  status: RootStatus;
  /** Unix time the root activates (0 when unregistered). */
  activatesAt: bigint;
  /** The L1 head's timestamp the status was read at. */
  l1Time: bigint;
}

/** `veil_getWithdrawalProof`'s answer. */
export interface WithdrawalProof {
  transactionHash: string;
  /** The transaction's sender: the withdrawal's owner. */
  from: string;
  l2BlockNumber: bigint;
  batchSeq: bigint;
  /** The L2→L1 messages the transaction emitted (L2 MessageBus `MessagePublished`), in log order. */
  messages: CrossChainMessage[];
  /** Once a rollup carrying the batch is on L1 (the newest one in L1 order when re-posted). */
  rollup?: RollupRef &
    RootState & { /** Merkle proof of each message, in the order of `messages`. */ proofs: string[][] };
}

const hex = z.string().regex(/^0x[0-9a-fA-F]*$/, "expected 0x-prefixed hex");
const hash32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "expected a 32-byte 0x hash");
const uint = z.string().regex(/^\d+$/, "expected a decimal integer");

const messageSchema = z.object({
  sender: hex,
  sequence: uint,
  nonce: uint,
  topic: z.number().int().nonnegative(),
  payload: hex,
  consistencyLevel: z.number().int().nonnegative(),
});

const rollupSchema = z.object({
  hash: hash32,
  messageRoot: hash32,
  firstBatchSeq: uint,
  lastBatchSeq: uint,
  l1TxHash: hash32,
  l1BlockNumber: z.number().int().nonnegative(),
});

const rollupMessagesSchema = z.object({ rollup: rollupSchema, messages: z.array(messageSchema) });

const withdrawalProofSchema = z.object({
  transactionHash: hash32,
  from: hex,
  l2BlockNumber: uint,
  batchSeq: uint,
  messages: z.array(messageSchema),
  rollup: rollupSchema
    .extend({
      status: z.enum(["unregistered", "pending", "active", "rejected"]),
      activatesAt: uint,
      l1Time: uint,
      proofs: z.array(z.array(hash32)),
    })
    .optional(),
});

type RollupJson = z.infer<typeof rollupSchema>;
export type RollupMessagesJson = z.infer<typeof rollupMessagesSchema>;
export type WithdrawalProofJson = z.infer<typeof withdrawalProofSchema>;

/** A malformed answer; the message names the field. */
export class WithdrawalAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WithdrawalAnswerError";
  }
}

function rollupToJson(r: RollupRef): RollupJson {
  return {
    hash: r.hash,
    messageRoot: r.messageRoot,
    firstBatchSeq: r.firstBatchSeq.toString(),
    lastBatchSeq: r.lastBatchSeq.toString(),
    l1TxHash: r.l1TxHash,
    l1BlockNumber: r.l1BlockNumber,
  };
}

function rollupFromJson(r: RollupJson): RollupRef {
  return { ...r, firstBatchSeq: BigInt(r.firstBatchSeq), lastBatchSeq: BigInt(r.lastBatchSeq) };
}

function parse<T>(schema: z.ZodType<T>, json: unknown, what: string): T {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    const at = issue === undefined || issue.path.length === 0 ? "" : `${issue.path.join(".")}: `;
    throw new WithdrawalAnswerError(`malformed ${what}: ${at}${issue?.message ?? parsed.error.message}`);
  }
  return parsed.data;
}

export function rollupMessagesToJson(a: RollupMessages): RollupMessagesJson {
  return { rollup: rollupToJson(a.rollup), messages: a.messages.map(messageToJson) };
}

/** Parses a `veil_getRollupMessages` answer (not null). */
export function parseRollupMessages(json: unknown): RollupMessages {
  const a = parse(rollupMessagesSchema, json, `${ROLLUP_MESSAGES_METHOD} answer`);
  return { rollup: rollupFromJson(a.rollup), messages: a.messages.map(messageFromJson) };
}

export function withdrawalProofToJson(p: WithdrawalProof): WithdrawalProofJson {
  const { rollup } = p;
  return {
    transactionHash: p.transactionHash,
    from: p.from,
    l2BlockNumber: p.l2BlockNumber.toString(),
    batchSeq: p.batchSeq.toString(),
    messages: p.messages.map(messageToJson),
    ...(rollup === undefined
      ? {}
      : {
          rollup: {
            ...rollupToJson(rollup),
            status: rollup.status,
            activatesAt: rollup.activatesAt.toString(),
            l1Time: rollup.l1Time.toString(),
            proofs: rollup.proofs,
          },
        }),
  };
}

/** Parses a `veil_getWithdrawalProof` answer (not null); checks there is one proof per message. */
export function parseWithdrawalProof(json: unknown): WithdrawalProof {
  const a = parse(withdrawalProofSchema, json, `${WITHDRAWAL_PROOF_METHOD} answer`);
  const proof: WithdrawalProof = {
    transactionHash: a.transactionHash,
    from: a.from,
    l2BlockNumber: BigInt(a.l2BlockNumber),
    batchSeq: BigInt(a.batchSeq),
    messages: a.messages.map(messageFromJson),
  };
  if (a.rollup !== undefined) {
    if (a.rollup.proofs.length !== a.messages.length) {
      throw new WithdrawalAnswerError(
        `malformed ${WITHDRAWAL_PROOF_METHOD} answer: ${a.messages.length} messages but ${a.rollup.proofs.length} proofs`,
      );
    }
    proof.rollup = {
      ...rollupFromJson(a.rollup),
      status: a.rollup.status,
      activatesAt: BigInt(a.rollup.activatesAt),
      l1Time: BigInt(a.rollup.l1Time),
      proofs: a.rollup.proofs,
    };
  }
  return proof;
}

/** Whether `proof` shows `message` under `root` (the check CrossChainMessenger.relayMessageWithProof makes). */
export function verifyMessageProof(root: string, message: CrossChainMessage, proof: readonly string[]): boolean {
  const leaf = [
    message.sender,
    message.sequence,
    message.nonce,
    message.topic,
    message.payload,
    message.consistencyLevel,
  ];
  try {
    return StandardMerkleTree.verify(root, MESSAGE_LEAF_ENCODING, leaf, [...proof]);
  } catch {
    return false;
  }
}
