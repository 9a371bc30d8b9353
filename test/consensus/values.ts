/**
 * The committee's value: the batch proposal's canonical form (proposal.ts) and its sealing under the
 * network secret (sealed-value.ts). Round trips, every non-canonical or altered form refused by name, and a
 * property test that random bytes never decode or open.
 */
import { expect } from "chai";
import { encodeRlp, getBytes, hexlify, randomBytes } from "ethers";
import fc from "fast-check";

import { ProposalFormatError, decodeProposal, encodeProposal } from "../../enclave/consensus/proposal.js";
import { SealedValueError, openValue, sealValue } from "../../enclave/consensus/sealed-value.js";
import type { BatchProposal } from "../../enclave/sequencer/sequencer.js";

const PROPOSAL: BatchProposal = {
  seq: 42n,
  parentHash: hexlify(randomBytes(32)),
  timestamp: 1_800_000_000n,
  l1BaseFee: 7n,
  l1MessagesTo: 0n,
  l1Block: 0n,
  txs: [hexlify(randomBytes(120)), hexlify(randomBytes(90))],
};

describe("consensus values", () => {
  it("a proposal round-trips through its canonical form", () => {
    expect(decodeProposal(encodeProposal(PROPOSAL))).to.deep.equal(PROPOSAL);
    expect(decodeProposal(encodeProposal({ ...PROPOSAL, txs: [] })).txs).to.deep.equal([]);
  });

  it("refuses non-canonical and malformed proposals, naming what is wrong", () => {
    const bytes = encodeProposal(PROPOSAL);
    expect(() => decodeProposal(new Uint8Array([...bytes, 0]))).to.throw(ProposalFormatError, /not RLP|canonical/);
    expect(() => decodeProposal(getBytes(encodeRlp(["0x01"])))).to.throw(ProposalFormatError, /8 fields/);
    const tag = hexlify(new TextEncoder().encode("veilnet-batch-proposal-v1"));
    const fields = (overrides: Record<number, unknown>) => {
      const base: unknown[] = [tag, "0x2a", PROPOSAL.parentHash, "0x01", "0x07", "0x", "0x", []];
      for (const [i, v] of Object.entries(overrides)) base[Number(i)] = v;
      return getBytes(encodeRlp(base as string[]));
    };
    expect(() => decodeProposal(fields({ 0: "0x00" }))).to.throw(ProposalFormatError, /tag/);
    expect(() => decodeProposal(fields({ 2: "0x1234" }))).to.throw(ProposalFormatError, /parentHash/);
    expect(() => decodeProposal(fields({ 1: "0x002a" }))).to.throw(ProposalFormatError, /canonical/);
    expect(() => decodeProposal(fields({ 7: "0x01" }))).to.throw(ProposalFormatError, /txs/);
    expect(() => decodeProposal(fields({ 7: ["0x"] }))).to.throw(ProposalFormatError, /txs/);
  });

  it("a sealed value opens only with its key at its height, unaltered", () => {
    const key = randomBytes(32);
    const plain = encodeProposal(PROPOSAL);
    const sealed = sealValue(key, 42, plain);
    expect(openValue(key, 42, sealed)).to.deep.equal(plain);
    expect(() => openValue(randomBytes(32), 42, sealed)).to.throw(SealedValueError, /does not open/);
    expect(() => openValue(key, 43, sealed)).to.throw(SealedValueError, /height 43/);
    const altered = sealed.slice();
    altered[20] = (altered[20] ?? 0) ^ 1;
    expect(() => openValue(key, 42, altered)).to.throw(SealedValueError, /does not open/);
    expect(() => openValue(key, 42, sealed.subarray(0, 10))).to.throw(SealedValueError, /too short/);
    expect(() => openValue(key, 42, new Uint8Array([2, ...sealed.subarray(1)]))).to.throw(
      SealedValueError,
      /version 2/,
    );
  });

  it("random bytes never decode as a proposal nor open as a sealed value", () => {
    const key = randomBytes(32);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        expect(() => decodeProposal(bytes)).to.throw(ProposalFormatError);
        expect(() => openValue(key, 1, bytes)).to.throw(SealedValueError);
      }),
      { numRuns: 500 },
    );
  });
});
