/**
 * platform/rlp.ts replaced ethers' RLP in the node's wire and payload formats: the bytes must not change
 * (rollups on L1, envelopes between nodes of two versions). Property test against ethers' encodeRlp and
 * decodeRlp over random nested byte strings and integers, and the refusals.
 */
import { expect } from "chai";
import { type RlpStructuredData, decodeRlp, encodeRlp, hexlify, toBeHex } from "ethers";
import fc from "fast-check";

import { type RlpInput, type RlpItem, RlpError, hexBytes, rlpDecode, rlpEncode, toHex } from "../../platform/rlp.js";

type Tree = { bytes: Uint8Array } | { int: bigint } | { list: Tree[] };

const tree: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.uint8Array({ maxLength: 80 }).map((bytes) => ({ bytes })),
    fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }).map((int) => ({ int })),
    fc.array(tie("tree"), { maxLength: 5 }).map((list) => ({ list })),
  ),
})).tree;

const ours = (t: Tree): RlpInput => ("bytes" in t ? t.bytes : "int" in t ? t.int : t.list.map(ours));
const ethers = (t: Tree): RlpStructuredData =>
  "bytes" in t ? hexlify(t.bytes) : "int" in t ? (t.int === 0n ? "0x" : toBeHex(t.int)) : t.list.map(ethers);
const asHex = (item: RlpItem): RlpStructuredData => (item instanceof Uint8Array ? toHex(item) : item.map(asHex));

describe("platform/rlp", () => {
  it("encodes exactly as ethers' encodeRlp, and decodes what it encodes", () => {
    fc.assert(
      fc.property(tree, (t) => {
        const bytes = rlpEncode(ours(t));
        expect(toHex(bytes)).to.equal(encodeRlp(ethers(t)));
        expect(asHex(rlpDecode(bytes))).to.deep.equal(decodeRlp(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it("takes 0x-hex byte strings, and refuses bad hex and negative numbers by name", () => {
    expect(toHex(rlpEncode(["0xabCD", 5n]))).to.equal(encodeRlp(["0xabcd", "0x05"]));
    expect(() => rlpEncode("0xabc")).to.throw(RlpError, /hex/);
    expect(() => rlpEncode("abcd")).to.throw(RlpError, /0x-hex/);
    expect(() => rlpEncode(-1n)).to.throw(RlpError, /negative/);
    expect(hexBytes("0x")).to.deep.equal(new Uint8Array());
  });

  it("refuses trailing bytes, truncation and non-canonical length prefixes", () => {
    const good = rlpEncode([new Uint8Array(60).fill(1)]);
    expect(() => rlpDecode(new Uint8Array([...good, 0]))).to.throw(RlpError);
    expect(() => rlpDecode(good.subarray(0, good.length - 1))).to.throw(RlpError);
    expect(() => rlpDecode(Uint8Array.of(0x81, 0x05))).to.throw(RlpError, /single byte/);
    expect(() => rlpDecode(Uint8Array.of(0xb8, 0x01, 0x05))).to.throw(RlpError);
  });
});
