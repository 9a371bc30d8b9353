/**
 * Where the withdrawal-processor gets a rollup's L2→L1 messages from. The L1 only carries the message
 * root; the messages themselves (and so the Merkle proofs) come from whoever built the rollup. The
 * enclave will answer this directly; until then the rollup builder stores them in Redis per root.
 */
import type { Redis } from "ioredis";
import { z } from "zod";

import type { CrossChainMessage } from "../../protocol/messages.js";

export interface WithdrawalSource {
  /** The L2→L1 messages of the rollup whose message root is `root`, or undefined when unknown (yet). */
  messagesForRoot(root: string): Promise<CrossChainMessage[] | undefined>;
}

/** Redis key of the messages stored for `root`. */
export function rollupMessagesKey(prefix: string, root: string): string {
  return `${prefix}:rollup-messages:${root.toLowerCase()}`;
}

const hex = z.string().regex(/^0x[0-9a-fA-F]*$/, "expected 0x-prefixed hex");
const uint = z.string().regex(/^\d+$/, "expected a decimal integer");

const storedMessagesSchema = z.array(
  z.object({
    sender: hex,
    sequence: uint,
    nonce: uint,
    topic: z.number().int().nonnegative(),
    payload: hex,
    consistencyLevel: z.number().int().nonnegative(),
  }),
);

/**
 * Stores the messages of the rollup whose message tree has root `root` (called by whoever builds the
 * rollup, before submitting it). Overwrites what was stored for `root`.
 */
export async function storeRollupMessages(
  redis: Redis,
  prefix: string,
  root: string,
  messages: readonly CrossChainMessage[],
): Promise<void> {
  const stored = messages.map((m) => ({
    sender: m.sender,
    sequence: m.sequence.toString(),
    nonce: m.nonce.toString(),
    topic: m.topic,
    payload: m.payload,
    consistencyLevel: m.consistencyLevel,
  }));
  await redis.set(rollupMessagesKey(prefix, root), JSON.stringify(stored));
}

/** Messages stored in Redis with {@link storeRollupMessages}. */
export class RedisWithdrawalSource implements WithdrawalSource {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async messagesForRoot(root: string): Promise<CrossChainMessage[] | undefined> {
    const raw = await this.redis.get(rollupMessagesKey(this.prefix, root));
    if (raw === null) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (e) {
      throw new Error(`messages stored for root ${root} are not JSON: ${(e as Error).message}`, { cause: e });
    }
    const parsed = storedMessagesSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`messages stored for root ${root} are malformed: ${issue.path.join(".")}: ${issue.message}`);
    }
    return parsed.data.map((m) => ({
      sender: m.sender,
      sequence: BigInt(m.sequence),
      nonce: BigInt(m.nonce),
      topic: m.topic,
      payload: m.payload,
      consistencyLevel: m.consistencyLevel,
    }));
  }
}
