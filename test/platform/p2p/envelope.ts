/**
 * platform/p2p: envelopes (round trip, every field bound by the signature, canonical form only), sealed
 * payloads, and the topic validator's every verdict, with a property test that random bytes are never
 * accepted.
 */
import { expect } from "chai";
import { SigningKey, Wallet, encodeRlp, getBytes, randomBytes } from "ethers";
import fc from "fast-check";

import {
  EnvelopeFormatError,
  PeerRecordBook,
  SealedPayloadError,
  consensusTopic,
  createEnvelopeValidator,
  decodeEnvelope,
  envelopeSigner,
  openPayload,
  sealEnvelope,
  sealPayload,
  secp256k1EnvelopeSigner,
} from "../../../platform/p2p/index.js";

const CHAIN = 31337n;
const TOPIC = consensusTopic(CHAIN, 1n);
const wallet = Wallet.createRandom();
const key = new SigningKey(wallet.privateKey);
const signer = secp256k1EnvelopeSigner(key, 3n);
const NOW = 1_800_000_000_000;

function envelope(
  over: Partial<{ chainId: bigint; topic: string; committeeId: bigint; height: bigint; sentAtMs: bigint }> = {},
  payload = new Uint8Array([1, 2, 3]),
  by = signer,
) {
  return sealEnvelope(
    by,
    { chainId: CHAIN, topic: TOPIC, committeeId: 1n, height: 10n, sentAtMs: BigInt(NOW), ...over },
    payload,
  );
}

function validator(extra: Partial<Parameters<typeof createEnvelopeValidator>[0]> = {}) {
  let now = NOW;
  const v = createEnvelopeValidator({
    chainId: CHAIN,
    topic: TOPIC,
    committeeId: 1n,
    addressOf: (id) => (id === 3n ? wallet.address : undefined),
    window: { current: () => 10n, behind: 2n, ahead: 3n },
    rateLimit: { perSecond: 5, burst: 5 },
    now: () => now,
    ...extra,
  });
  return { v, tick: (ms: number) => (now += ms) };
}

describe("p2p envelopes and validators", () => {
  it("an envelope round-trips and its signature recovers the operator's address", () => {
    const bytes = envelope();
    const e = decodeEnvelope(bytes);
    expect(e).to.include({ chainId: CHAIN, topic: TOPIC, committeeId: 1n, operatorId: 3n, height: 10n });
    expect(envelopeSigner(e)).to.equal(wallet.address);
  });

  it("refuses malformed envelopes by name", () => {
    const bytes = envelope();
    expect(() => decodeEnvelope(new Uint8Array([...bytes, 0]))).to.throw(EnvelopeFormatError);
    expect(() => decodeEnvelope(getBytes(encodeRlp(["0x01"])))).to.throw(EnvelopeFormatError, /9 byte strings/);
    expect(() =>
      decodeEnvelope(getBytes(encodeRlp(["0x02", "0x", "0x", "0x", "0x", "0x", "0x", "0x", "0x"]))),
    ).to.throw(EnvelopeFormatError, /version 2/);
  });

  it("accepts a member's envelope, and rejects or ignores each kind of bad one", () => {
    const { v, tick } = validator();
    expect(v("peerA", envelope()).result).to.equal("accept");
    const verdict = (bytes: Uint8Array, peer = "peerB") => {
      tick(1_000);
      const r = v(peer, bytes);
      return r.result === "accept" ? "accept" : `${r.result}:${r.reason}`;
    };
    expect(verdict(new Uint8Array([1, 2, 3]))).to.equal("reject:malformed");
    expect(verdict(envelope({ chainId: 1n }))).to.equal("reject:wrong-chain");
    expect(verdict(envelope({ topic: "/veilnet/31337/tx/1" }))).to.equal("reject:wrong-topic");
    expect(verdict(envelope({ committeeId: 2n }))).to.equal("reject:wrong-committee");
    const outsider = secp256k1EnvelopeSigner(new SigningKey(Wallet.createRandom().privateKey), 3n);
    expect(verdict(envelope({}, new Uint8Array([9]), outsider))).to.equal("reject:bad-signature");
    const unknown = secp256k1EnvelopeSigner(key, 4n);
    expect(verdict(envelope({}, new Uint8Array([9]), unknown))).to.equal("reject:unknown-operator");
    expect(verdict(envelope({ height: 14n }))).to.equal("ignore:height-too-far-ahead");
    expect(verdict(envelope({ height: 7n, sentAtMs: BigInt(NOW + 8_000) }))).to.equal("ignore:height-too-old");
    expect(verdict(envelope({ sentAtMs: BigInt(NOW + 120_000) }))).to.equal("reject:from-the-future");
    expect(verdict(envelope({ sentAtMs: BigInt(NOW - 120_000) }))).to.equal("ignore:stale");
    expect(verdict(envelope())).to.equal("reject:replay"); // the very first envelope, again
  });

  it("limits each origin peer's rate", () => {
    const { v } = validator();
    const results = Array.from({ length: 8 }, (_, i) => v("flooder", envelope({ height: 10n }, new Uint8Array([i]))));
    expect(results.filter((r) => r.result === "accept")).to.have.length(5);
    expect(results.at(-1)).to.deep.equal({ result: "reject", reason: "rate-limited" });
    expect(v("someone-else", envelope({}, new Uint8Array([42]))).result).to.equal("accept");
  });

  it("with peer records, only the operator's bound peer may speak for it", () => {
    const book = new PeerRecordBook();
    const { v } = validator({ peerRecords: book });
    expect(v("peerA", envelope({}, new Uint8Array([1]))).result).to.equal("ignore");
    expect(book.bind(3n, "peerA", 5n)).to.equal(true);
    expect(book.bind(3n, "peerX", 4n), "an older record").to.equal(false);
    expect(v("peerB", envelope({}, new Uint8Array([2])))).to.deep.equal({
      result: "reject",
      reason: "peer-not-bound-to-operator",
    });
    expect(v("peerA", envelope({}, new Uint8Array([3]))).result).to.equal("accept");
  });

  it("a sealed payload opens only with its key on its topic", () => {
    const k = randomBytes(32);
    const sealed = sealPayload(k, TOPIC, new Uint8Array([7, 7]));
    expect(openPayload(k, TOPIC, sealed)).to.deep.equal(new Uint8Array([7, 7]));
    expect(() => openPayload(randomBytes(32), TOPIC, sealed)).to.throw(SealedPayloadError);
    expect(() => openPayload(k, "/veilnet/31337/tx/1", sealed)).to.throw(SealedPayloadError);
  });

  it("random bytes are never accepted and never throw", () => {
    const { v } = validator({ rateLimit: { perSecond: 1e9, burst: 1e9 } });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(v("p", bytes).result).to.equal("reject");
      }),
      { numRuns: 300 },
    );
  });
});
