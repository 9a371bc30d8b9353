/**
 * The committee's gossip (DESIGN §9.2) over platform/p2p: the consensus driver's messages on the
 * committee's consensus topic, decided batches with their certificates on the decided topic (members and
 * followers such as the exporter), users' transactions forwarded to the committee on the tx topic
 * (sealed under a key derived from the network secret), rollup proposals and members' signatures of
 * them on the partial-signatures topic, and the peer records binding each operator's libp2p identity to
 * its operator id.
 *
 * Every message is a signed envelope checked by the topic's validator before anything reads it: chain,
 * topic, committee, signer (the member's enclave key, as L1 records it), clock skew, replay, per-peer
 * rate and the peer-record binding; on the consensus topic also the height window and that the QBFT
 * message's own sender is the envelope's signer. A refused message lowers the sender's gossipsub score.
 */

import { rlpDecode, rlpEncode, toHex } from "../../platform/rlp.js";
import type { Logger } from "../../platform/logger.js";
import {
  type Envelope,
  type EnvelopeSigner,
  type EnvelopeValidator,
  type P2PNode,
  PeerRecordBook,
  SealedPayloadError,
  consensusTopic,
  createEnvelopeValidator,
  decidedTopic,
  openPayload,
  peerRecordPayload,
  peerRecordProblem,
  partialSigsTopic,
  peerRecordsTopic,
  sealEnvelope,
  sealPayload,
  txTopic,
} from "../../platform/p2p/index.js";
import type { OperatorId } from "../consensus/qbft/index.js";
import { type WireMessage, WireFormatError, decodeWire, encodeWire } from "../consensus/wire.js";
import { type RollupGossip, RollupWireError, decodeRollupGossip, encodeRollupGossip } from "./rollup-wire.js";

export interface CommitteeGossipOptions {
  p2p: P2PNode;
  chainId: bigint;
  committeeId: bigint;
  /** The members' enclave (signing) addresses by operator id. */
  members: ReadonlyMap<OperatorId, string>;
  /**
   * This node's envelope signer: a member's (its operator id), or a validator's (operator id
   * {@link OPEN_SENDER}: it only forwards transactions); the exporter has none and publishes nothing.
   */
  signer?: EnvelopeSigner;
  /** The key transactions are sealed under on the tx topic (members only: it comes from the network secret). */
  txKey?: Uint8Array;
  /** This node's consensus height (the consensus topic's window is counted from it). */
  currentHeight: () => number;
  logger: Logger;
  /** Heights ahead of `currentHeight` accepted on the consensus topic (default 8, the driver's buffer). */
  heightsAhead?: number;
  /** How often the peer record is published again, ms (default 5 s: peers that join later learn it). */
  peerRecordIntervalMs?: number;
  now?: () => number;
}

/**
 * The operator id of a node that is not a committee member (a validator) on the tx topic: any enclave
 * key may sign under it, since the sealed payload proves the sender holds the network secret.
 */
export const OPEN_SENDER = 0n;

/** Forwarded transactions wait at most this long to be bundled, ms. */
export const TX_BUNDLE_MS = 20;
/** A bundle is sent once it holds this many bytes of transactions. */
export const TX_BUNDLE_BYTES = 128 * 1024;

/** A bundle of forwarded transactions: the RLP list of their signed bytes. */
export function encodeTxBundle(raws: readonly string[]): Uint8Array {
  return rlpEncode(raws);
}

/** The transactions of a bundle; throws on anything but an RLP list of byte strings. */
export function decodeTxBundle(bundle: Uint8Array): string[] {
  const items = rlpDecode(bundle);
  if (!Array.isArray(items) || !items.every((i): i is Uint8Array => i instanceof Uint8Array)) {
    throw new Error("a transaction bundle is an RLP list of byte strings");
  }
  return items.map(toHex);
}

/** The height an envelope carrying `message` names (the window and the exporter read it). */
export function wireHeight(message: WireMessage): number {
  switch (message.kind) {
    case "qbft":
      return message.signed.message.height;
    case "decided":
      return message.decided.height;
    case "sync-request":
      return message.fromHeight;
  }
}

/** The operator a wire message says sent it (a decided record is anyone's to forward: undefined). */
function wireSender(message: WireMessage): OperatorId | undefined {
  if (message.kind === "qbft") return message.signed.message.sender;
  if (message.kind === "sync-request") return message.sender;
  return undefined;
}

/**
 * The consensus and decided topics' own check of an envelope's payload: a well-formed wire message of
 * the envelope's height, sent (for a QBFT message or sync request on the consensus topic) by the
 * envelope's signer; decided records only on the decided topic. The message, or why it is refused.
 */
export function checkWireEnvelope(envelope: Envelope, onConsensusTopic: boolean): WireMessage | string {
  let message: WireMessage;
  try {
    message = decodeWire(envelope.payload);
  } catch (error) {
    if (error instanceof WireFormatError) return "malformed-consensus-message";
    throw error;
  }
  if (BigInt(wireHeight(message)) !== envelope.height) return "height-mismatch";
  const sender = wireSender(message);
  if (onConsensusTopic && sender !== undefined && BigInt(sender) !== envelope.operatorId) return "sender-mismatch";
  if (onConsensusTopic && message.kind === "decided") return "decided-on-consensus-topic";
  return message;
}

export class CommitteeGossip {
  readonly peerRecords = new PeerRecordBook();
  readonly consensusTopic: string;
  readonly decidedTopic: string;
  readonly txTopic: string;
  readonly peerRecordsTopic: string;
  private readonly consensusHandlers: ((message: WireMessage, from: OperatorId) => void)[] = [];
  private readonly txHandlers: ((raw: string) => void)[] = [];
  private pendingTxs: string[] = [];
  private pendingBytes = 0;
  private txTimer: NodeJS.Timeout | undefined;
  private readonly rollupHandlers: ((message: RollupGossip, from: OperatorId) => void)[] = [];
  readonly partialSigsTopic: string;
  private readonly now: () => number;
  private recordTimer: NodeJS.Timeout | undefined;
  /** Wire messages decoded by the validator, handed to the handler without decoding twice. */
  private readonly decoded = new WeakMap<Envelope, WireMessage>();

  constructor(private readonly options: CommitteeGossipOptions) {
    const { chainId, committeeId } = options;
    this.consensusTopic = consensusTopic(chainId, committeeId);
    this.decidedTopic = decidedTopic(chainId);
    this.txTopic = txTopic(chainId);
    this.peerRecordsTopic = peerRecordsTopic(chainId);
    this.partialSigsTopic = partialSigsTopic(chainId, committeeId);
    this.now = options.now ?? Date.now;
  }

  /** The topics this node's gossipsub scores (pass them to createP2PNode's scoredTopics). */
  static topics(chainId: bigint, committeeId: bigint): string[] {
    return [
      consensusTopic(chainId, committeeId),
      decidedTopic(chainId),
      txTopic(chainId),
      peerRecordsTopic(chainId),
      partialSigsTopic(chainId, committeeId),
    ];
  }

  /** Called with every accepted consensus or decided message, and the member that signed its envelope. */
  onConsensus(handler: (message: WireMessage, from: OperatorId) => void): void {
    this.consensusHandlers.push(handler);
  }

  /** Called with every transaction a member forwarded (members only). */
  onTransaction(handler: (raw: string) => void): void {
    this.txHandlers.push(handler);
  }

  /** Called with every rollup proposal or signature a member sent (members only). */
  onRollupMessage(handler: (message: RollupGossip, from: OperatorId) => void): void {
    this.rollupHandlers.push(handler);
  }

  /** Sends a rollup proposal or this member's signature to the committee (envelope height: the first batch). */
  sendRollupMessage(message: RollupGossip, firstBatchSeq: bigint): void {
    this.publish(this.partialSigsTopic, firstBatchSeq, encodeRollupGossip(message));
  }

  /** Subscribes to the topics and starts publishing this member's peer record. */
  start(): void {
    const { chainId, committeeId } = this.options;
    const p2p = {
      subscribe: (topic: string, validator: EnvelopeValidator, handler: (e: Envelope, origin: string) => void) =>
        this.options.p2p.subscribe(
          topic,
          (origin, data) => {
            const verdict = validator(origin, data);
            if (verdict.result !== "accept") {
              this.options.logger.debug({ topic, peer: origin, verdict }, "gossip message refused");
            }
            return verdict;
          },
          handler,
        ),
    };
    const addressOf = (id: bigint): string | undefined => this.options.members.get(Number(id));
    const common = { chainId, addressOf, peerRecords: this.peerRecords, now: this.now };
    const wireCheck =
      (requireSender: boolean) =>
      (envelope: Envelope): string | undefined => {
        const checked = checkWireEnvelope(envelope, requireSender);
        if (typeof checked === "string") return checked;
        this.decoded.set(envelope, checked);
        return undefined;
      };
    const deliver = (envelope: Envelope): void => {
      const message = this.decoded.get(envelope) ?? decodeWire(envelope.payload);
      for (const handler of this.consensusHandlers) handler(message, Number(envelope.operatorId));
    };
    p2p.subscribe(
      this.peerRecordsTopic,
      createEnvelopeValidator({
        ...common,
        peerRecords: undefined,
        topic: this.peerRecordsTopic,
        committeeId: 0n,
        check: (envelope, origin) => peerRecordProblem(envelope, origin),
      }),
      (envelope, origin) => {
        if (this.peerRecords.bind(envelope.operatorId, origin, envelope.height)) {
          this.options.logger.debug({ operator: Number(envelope.operatorId), peer: origin }, "peer record");
        }
      },
    );
    p2p.subscribe(
      this.consensusTopic,
      createEnvelopeValidator({
        ...common,
        topic: this.consensusTopic,
        committeeId,
        window: {
          current: () => BigInt(this.options.currentHeight()),
          behind: BigInt(Number.MAX_SAFE_INTEGER),
          ahead: BigInt(this.options.heightsAhead ?? 8),
        },
        check: wireCheck(true),
      }),
      deliver,
    );
    p2p.subscribe(
      this.decidedTopic,
      createEnvelopeValidator({
        ...common,
        topic: this.decidedTopic,
        committeeId,
        check: (envelope) => {
          const problem = wireCheck(false)(envelope);
          if (problem !== undefined) return problem;
          return this.decoded.get(envelope)?.kind === "decided" ? undefined : "not-a-decided-record";
        },
      }),
      deliver,
    );
    const txKey = this.options.txKey;
    if (txKey !== undefined) {
      p2p.subscribe(
        this.txTopic,
        createEnvelopeValidator({
          ...common,
          topic: this.txTopic,
          committeeId,
          openSenderId: OPEN_SENDER,
          check: (envelope) => {
            try {
              openPayload(txKey, this.txTopic, envelope.payload);
              return undefined;
            } catch (error) {
              if (error instanceof SealedPayloadError) return "tx-does-not-open";
              throw error;
            }
          },
        }),
        (envelope) => {
          const bundle = openPayload(txKey, this.txTopic, envelope.payload);
          let raws: string[];
          try {
            raws = decodeTxBundle(bundle);
          } catch {
            this.options.logger.warn({ operator: Number(envelope.operatorId) }, "a forwarded bundle is malformed");
            return;
          }
          for (const raw of raws) for (const handler of this.txHandlers) handler(raw);
        },
      );
    }
    if (this.rollupHandlersWanted()) {
      const decodedRollup = new WeakMap<Envelope, RollupGossip>();
      p2p.subscribe(
        this.partialSigsTopic,
        createEnvelopeValidator({
          ...common,
          topic: this.partialSigsTopic,
          committeeId,
          check: (envelope) => {
            try {
              decodedRollup.set(envelope, decodeRollupGossip(envelope.payload));
              return undefined;
            } catch (error) {
              if (error instanceof RollupWireError) return "malformed-rollup-message";
              throw error;
            }
          },
        }),
        (envelope) => {
          const message = decodedRollup.get(envelope) ?? decodeRollupGossip(envelope.payload);
          for (const handler of this.rollupHandlers) handler(message, Number(envelope.operatorId));
        },
      );
    }
    if (this.options.signer !== undefined && this.options.signer.operatorId !== OPEN_SENDER) {
      this.publishPeerRecord();
      this.recordTimer = setInterval(() => this.publishPeerRecord(), this.options.peerRecordIntervalMs ?? 5_000);
      this.recordTimer.unref();
    }
  }

  stop(): void {
    clearInterval(this.recordTimer);
    this.flushTxs();
  }

  /** Members (a signer that is an operator) take part in signing rollups. */
  private rollupHandlersWanted(): boolean {
    const signer = this.options.signer;
    return signer !== undefined && signer.operatorId !== OPEN_SENDER;
  }

  /** The driver's transport: decided records go to the decided topic, everything else to the committee. */
  send(message: WireMessage): void {
    const topic = message.kind === "decided" ? this.decidedTopic : this.consensusTopic;
    this.publish(topic, BigInt(wireHeight(message)), encodeWire(message));
  }

  /**
   * Forwards a user's transaction (signed, 0x-hex) to the committee, sealed. Transactions are sent in
   * bundles (at most every TX_BUNDLE_MS, or at TX_BUNDLE_BYTES): one gossip message per transaction
   * would exceed the peers' rate limits under load and get this node graylisted.
   */
  forwardTransaction(raw: string): void {
    if (this.options.txKey === undefined) {
      throw new Error("CommitteeGossip: no tx key (only members and validators forward transactions)");
    }
    this.pendingTxs.push(raw);
    this.pendingBytes += raw.length / 2;
    if (this.pendingBytes >= TX_BUNDLE_BYTES) this.flushTxs();
    else this.txTimer ??= setTimeout(() => this.flushTxs(), TX_BUNDLE_MS);
  }

  private flushTxs(): void {
    clearTimeout(this.txTimer);
    this.txTimer = undefined;
    const key = this.options.txKey;
    if (key === undefined || this.pendingTxs.length === 0) return;
    const bundle = encodeTxBundle(this.pendingTxs);
    this.pendingTxs = [];
    this.pendingBytes = 0;
    this.publish(this.txTopic, BigInt(this.options.currentHeight()), sealPayload(key, this.txTopic, bundle));
  }

  private publishPeerRecord(): void {
    this.publish(this.peerRecordsTopic, BigInt(this.now()), peerRecordPayload(this.options.p2p.peerId), 0n);
  }

  private publish(topic: string, height: bigint, payload: Uint8Array, committeeId = this.options.committeeId): void {
    const signer = this.options.signer;
    if (signer === undefined) return;
    const bytes = sealEnvelope(
      signer,
      { chainId: this.options.chainId, topic, committeeId, height, sentAtMs: BigInt(this.now()) },
      payload,
    );
    this.options.p2p.publish(topic, bytes).catch((error: unknown) => {
      this.options.logger.warn({ err: error, topic }, "gossip publish failed");
    });
  }
}
