/**
 * Peer records: an operator binds its libp2p identity to its operator id by publishing, on the
 * peer-records topic, an envelope signed with its operator key whose payload is its PeerId and whose
 * height is a sequence number (its clock in ms). The book keeps the highest record per operator; the
 * validator accepts a record only from the very peer it names (gossipsub's signed origin), so nobody can
 * bind an operator to another peer.
 */
import { toUtf8Bytes, toUtf8String } from "ethers";

import type { Envelope } from "./envelope.js";

export class PeerRecordBook {
  private readonly byOperator = new Map<bigint, { peerId: string; seq: bigint }>();
  private readonly byPeer = new Map<string, bigint>();

  /** Records a verified record; false when older than the one held. */
  bind(operatorId: bigint, peerId: string, seq: bigint): boolean {
    const held = this.byOperator.get(operatorId);
    if (held !== undefined && held.seq >= seq) return held.peerId === peerId && held.seq === seq;
    if (held !== undefined) this.byPeer.delete(held.peerId);
    this.byOperator.set(operatorId, { peerId, seq });
    this.byPeer.set(peerId, operatorId);
    return true;
  }

  peerOf(operatorId: bigint): string | undefined {
    return this.byOperator.get(operatorId)?.peerId;
  }

  operatorOf(peerId: string): bigint | undefined {
    return this.byPeer.get(peerId);
  }

  get size(): number {
    return this.byOperator.size;
  }
}

export function peerRecordPayload(peerId: string): Uint8Array {
  return toUtf8Bytes(peerId);
}

/** The reason a record envelope from `origin` is refused, or undefined (its signature is checked already). */
export function peerRecordProblem(envelope: Envelope, origin: string): string | undefined {
  let peerId: string;
  try {
    peerId = toUtf8String(envelope.payload);
  } catch {
    return "record-malformed";
  }
  return peerId === origin ? undefined : "record-for-another-peer";
}
