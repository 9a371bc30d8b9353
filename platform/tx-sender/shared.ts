/**
 * One TxSender per signing key per process: workers that run in one process (`npx veilnet workers`) and
 * sign with the same key share its sender, so a single owner assigns that key's nonces. The sender stops
 * when its last user releases it.
 */
import { Wallet } from "ethers";

import { parseConfig } from "../config.js";
import type { WorkerContext } from "../context.js";
import { TxSender, senderFromConfig, txSenderConfigSchema } from "./tx-sender.js";

type SenderContext = Pick<WorkerContext, "provider" | "redis" | "config" | "logger" | "metrics" | "source">;

interface Entry {
  sender: TxSender;
  users: number;
}

/** Shared senders, per Redis connection (one per runtime) and signer address. */
const shared = new WeakMap<object, Map<string, Entry>>();

export interface SharedSender {
  sender: TxSender;
  /** Gives the sender back; the last release stops it. */
  release(): Promise<void>;
}

/** The process's TxSender for the key in `source` (SIGNER_PRIVATE_KEY), created on first use. */
export function acquireSender(ctx: SenderContext, source: Record<string, unknown> = ctx.source): SharedSender {
  const { SIGNER_PRIVATE_KEY } = parseConfig(txSenderConfigSchema, source);
  const address = new Wallet(SIGNER_PRIVATE_KEY).address;
  let senders = shared.get(ctx.redis);
  if (senders === undefined) {
    senders = new Map();
    shared.set(ctx.redis, senders);
  }
  let entry = senders.get(address);
  if (entry === undefined) {
    entry = { sender: senderFromConfig(ctx, source), users: 0 };
    senders.set(address, entry);
  }
  entry.users++;
  const own = entry;
  let released = false;
  return {
    sender: own.sender,
    async release() {
      if (released) return;
      released = true;
      own.users--;
      if (own.users === 0) {
        senders.delete(address);
        await own.sender.stop();
      }
    },
  };
}
