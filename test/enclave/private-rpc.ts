/**
 * The gateway–enclave channel (protocol/private-rpc.ts) on its own: who can read what, tampering,
 * wrong keys and versions, viewing-key bindings and RPC key announcements.
 */
import { expect } from "chai";
import { Wallet, getBytes, hexlify } from "ethers";

import {
  ChannelKey,
  ChannelKeys,
  PRIVATE_RPC_VERSION,
  PrivateRpcError,
  announceRpcKey,
  announcementSigner,
  envelopeViewingKey,
  parsePrivateRequest,
  parsePrivateResponse,
  peekViewingKey,
  signViewingKey,
  verifyViewingKeyBinding,
} from "../../protocol/private-rpc.js";
import { flipBit } from "../../testing/defined.js";

describe("private RPC channel", () => {
  const rpcKey = ChannelKey.generate();
  const viewer = ChannelKey.generate();
  const gatewaySide = ChannelKeys.forViewer(viewer, rpcKey.publicKey);

  it("a request opens only at the enclave, its answer only with the viewing key", () => {
    const request = { method: "eth_getBalance", params: ["0x" + "11".repeat(20), "latest"], bindings: [] };
    const envelope = gatewaySide.seal("request", request);
    expect(envelope).to.not.include("eth_getBalance");
    const viewingKey = envelopeViewingKey(envelope);
    expect(viewingKey).to.equal(viewer.publicKey);

    const enclaveSide = ChannelKeys.forEnclave(rpcKey, viewingKey);
    expect(parsePrivateRequest(enclaveSide.open("request", envelope))).to.deep.equal(request);
    const answer = enclaveSide.seal("response", { result: "0x10" });
    expect(parsePrivateResponse(gatewaySide.open("response", answer))).to.deep.equal({ result: "0x10" });

    // Someone else's RPC key cannot read the request, another viewing key cannot read the answer.
    const impostor = ChannelKeys.forEnclave(ChannelKey.generate(), viewingKey);
    expect(() => impostor.open("request", envelope)).to.throw(PrivateRpcError, /does not decrypt/);
    const otherViewer = ChannelKeys.forViewer(ChannelKey.generate(), rpcKey.publicKey);
    expect(() => otherViewer.open("response", answer)).to.throw(PrivateRpcError, /another viewing key/);
    // A request cannot be passed off as a response (the direction is bound).
    expect(() => gatewaySide.open("response", envelope)).to.throw(PrivateRpcError, /does not decrypt/);
  });

  it("refuses tampered, truncated and other-version envelopes with what is wrong", () => {
    const envelope = gatewaySide.seal("request", { method: "eth_chainId", params: [], bindings: [] });
    const enclaveSide = ChannelKeys.forEnclave(rpcKey, viewer.publicKey);
    const bytes = getBytes(envelope);
    const flipped = Uint8Array.from(bytes);
    flipBit(flipped, -20);
    expect(() => enclaveSide.open("request", hexlify(flipped))).to.throw(PrivateRpcError, /tampered/);
    expect(() => enclaveSide.open("request", hexlify(bytes.subarray(0, 40)))).to.throw(PrivateRpcError, /too short/);
    const otherVersion = Uint8Array.from(bytes);
    otherVersion[0] = PRIVATE_RPC_VERSION + 1;
    expect(() => enclaveSide.open("request", hexlify(otherVersion))).to.throw(
      PrivateRpcError,
      `envelope version ${PRIVATE_RPC_VERSION + 1} is not supported`,
    );
    expect(() => enclaveSide.open("request", "not hex")).to.throw(PrivateRpcError, /hex/);
    // A non-hex character anywhere (Buffer would silently stop decoding there) is refused too.
    const broken = envelope.slice(0, envelope.length - 10) + "zz" + envelope.slice(envelope.length - 8);
    expect(() => enclaveSide.open("request", broken)).to.throw(PrivateRpcError, "the envelope must be 0x-prefixed hex");
    expect(peekViewingKey(envelope)).to.equal(viewer.publicKey);
    expect(peekViewingKey("0x01zz")).to.equal(undefined);
  });

  it("checks the shape of what decrypts", () => {
    expect(() => parsePrivateRequest({ method: "", params: [], bindings: [] })).to.throw(PrivateRpcError, /method/);
    expect(() => parsePrivateRequest({ method: "eth_call", params: {}, bindings: [] })).to.throw(
      PrivateRpcError,
      /params/,
    );
    expect(() =>
      parsePrivateRequest({ method: "eth_call", params: [], bindings: [{ account: "0x12", signature: "0x" }] }),
    ).to.throw(PrivateRpcError, /bindings\.0\.account: expected an address/);
    expect(() => parsePrivateResponse({ result: 1, extra: 2 })).to.throw(PrivateRpcError);
  });

  it("binds an account to a viewing key only with the account's own signature", async () => {
    const alice = Wallet.createRandom();
    const mallory = Wallet.createRandom();
    const binding = await signViewingKey(alice, viewer.publicKey);
    expect(binding.account).to.equal(alice.address);
    expect(verifyViewingKeyBinding(binding, viewer.publicKey)).to.equal(true);
    // The same signature does not bind another viewing key, nor another account.
    expect(verifyViewingKeyBinding(binding, ChannelKey.generate().publicKey)).to.equal(false);
    expect(verifyViewingKeyBinding({ ...binding, account: mallory.address }, viewer.publicKey)).to.equal(false);
    // Mallory signing "alice binds this key" is not alice's binding.
    const forged = await signViewingKey(mallory, viewer.publicKey);
    expect(verifyViewingKeyBinding({ account: alice.address, signature: forged.signature }, viewer.publicKey)).to.equal(
      false,
    );
    expect(verifyViewingKeyBinding({ account: alice.address, signature: "0x1234" }, viewer.publicKey)).to.equal(false);
  });

  it("an RPC key announcement names its signing enclave, and a swapped key is caught", async () => {
    const enclave = Wallet.createRandom();
    const announcement = await announceRpcKey(enclave, rpcKey.publicKey);
    expect(announcementSigner(announcement)).to.equal(enclave.address);
    const swapped = { ...announcement, publicKey: ChannelKey.generate().publicKey };
    expect(() => announcementSigner(swapped)).to.throw(PrivateRpcError, /not by/);
  });

  it("keys round-trip through their stored form and refuse what is not a key", () => {
    const again = ChannelKey.fromPrivateKey(viewer.exportPrivateKey());
    expect(again.publicKey).to.equal(viewer.publicKey);
    expect(() => ChannelKey.fromPrivateKey("0x" + "00".repeat(32))).to.throw(PrivateRpcError, /private key/);
    expect(() => ChannelKeys.forEnclave(rpcKey, "0x02" + "00".repeat(32))).to.throw(PrivateRpcError, /public key/);
  });
});
