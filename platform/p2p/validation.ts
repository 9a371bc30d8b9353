/**
 * Topic validators (DESIGN §9.2): every gossip message is an envelope (envelope.ts) that must decode,
 * be for this chain, topic and committee, be signed by the key L1 records for the operator it names (a
 * member, for committee topics), name a height inside the window, not come from far in the future, not
 * be a replay of an envelope already seen, and not exceed its origin peer's rate. When a peer record
 * book is given, the origin peer must be the one the operator bound to its id. A message refused with
 * "reject" lowers the gossipsub score of the peer that sent it; "ignore" drops it without penalty (old,
 * or not checkable yet).
 */
import type { PeerRecordBook } from "./peer-records.js";
import { type Envelope, EnvelopeFormatError, decodeEnvelope, envelopeDigest, envelopeSigner } from "./envelope.js";

export type Verdict =
  | { readonly result: "accept"; readonly envelope: Envelope }
  | { readonly result: "reject" | "ignore"; readonly reason: string };

export interface EnvelopeValidatorOptions {
  chainId: bigint;
  topic: string;
  /** The committee of a committee topic; 0 for network-wide topics. */
  committeeId: bigint;
  /** The L1 address of operator `id` when it may send on this topic, undefined otherwise. */
  addressOf: (operatorId: bigint) => string | undefined;
  /**
   * An operator id (0 in practice) under which anyone may send, with any key that recovers: for topics
   * whose payload authenticates itself (the tx topic: sealed under a key only attested enclaves hold,
   * checked by `check`). Not bound to a peer record.
   */
  openSenderId?: bigint;
  /** The height window: heights above current + ahead are refused, below current − behind ignored. */
  window?: { current: () => bigint; behind: bigint; ahead: bigint };
  /** Default 30 s: a message sent further ahead of this clock is refused, further behind ignored. */
  maxClockSkewMs?: number;
  /** Per origin peer (default 200/s, burst 400). */
  rateLimit?: { perSecond: number; burst: number };
  /** When given, the origin peer must be bound to the operator (unbound → ignore, wrongly bound → reject). */
  peerRecords?: PeerRecordBook;
  /** An extra check of the payload: a reason to reject, or undefined. */
  check?: (envelope: Envelope, originPeer: string) => string | undefined;
  now?: () => number;
  /** Envelopes remembered for replay detection (default 65,536). */
  seenCapacity?: number;
}

export type EnvelopeValidator = (originPeer: string, data: Uint8Array) => Verdict;

export function createEnvelopeValidator(options: EnvelopeValidatorOptions): EnvelopeValidator {
  const now = options.now ?? Date.now;
  const skew = options.maxClockSkewMs ?? 30_000;
  const rate = options.rateLimit ?? { perSecond: 200, burst: 400 };
  const capacity = options.seenCapacity ?? 65_536;
  const seen = new Set<string>();
  const buckets = new Map<string, { tokens: number; at: number }>();

  const limited = (peer: string): boolean => {
    const t = now();
    const b = buckets.get(peer) ?? { tokens: rate.burst, at: t };
    b.tokens = Math.min(rate.burst, b.tokens + ((t - b.at) / 1000) * rate.perSecond);
    b.at = t;
    buckets.set(peer, b);
    if (buckets.size > 10_000) buckets.delete(buckets.keys().next().value as string);
    if (b.tokens < 1) return true;
    b.tokens -= 1;
    return false;
  };

  return (origin, data) => {
    if (limited(origin)) return { result: "reject", reason: "rate-limited" };
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(data);
    } catch (error) {
      if (error instanceof EnvelopeFormatError) return { result: "reject", reason: "malformed" };
      throw error;
    }
    if (envelope.chainId !== options.chainId) return { result: "reject", reason: "wrong-chain" };
    if (envelope.topic !== options.topic) return { result: "reject", reason: "wrong-topic" };
    if (envelope.committeeId !== options.committeeId) return { result: "reject", reason: "wrong-committee" };
    const open = options.openSenderId !== undefined && envelope.operatorId === options.openSenderId;
    const expected = open ? undefined : options.addressOf(envelope.operatorId);
    if (!open && expected === undefined) return { result: "reject", reason: "unknown-operator" };
    const signer = envelopeSigner(envelope);
    if (signer === undefined || (expected !== undefined && signer.toLowerCase() !== expected.toLowerCase())) {
      return { result: "reject", reason: "bad-signature" };
    }
    const t = now();
    if (Number(envelope.sentAtMs) > t + skew) return { result: "reject", reason: "from-the-future" };
    if (Number(envelope.sentAtMs) < t - skew) return { result: "ignore", reason: "stale" };
    if (options.window !== undefined) {
      const current = options.window.current();
      // Ignored, not rejected: a node that lags sees honest peers' messages as far ahead, and must not
      // lower their score for it (floods of future heights are bounded by the rate limit).
      if (envelope.height > current + options.window.ahead) return { result: "ignore", reason: "height-too-far-ahead" };
      if (envelope.height + options.window.behind < current) return { result: "ignore", reason: "height-too-old" };
    }
    if (options.peerRecords !== undefined && !open) {
      const bound = options.peerRecords.peerOf(envelope.operatorId);
      if (bound === undefined) return { result: "ignore", reason: "operator-not-bound" };
      if (bound !== origin) return { result: "reject", reason: "peer-not-bound-to-operator" };
    }
    const digest = envelopeDigest(envelope, envelope.payload);
    if (seen.has(digest)) return { result: "reject", reason: "replay" };
    const problem = options.check?.(envelope, origin);
    if (problem !== undefined) return { result: "reject", reason: problem };
    seen.add(digest);
    if (seen.size > capacity) seen.delete(seen.values().next().value as string);
    return { result: "accept", envelope };
  };
}
