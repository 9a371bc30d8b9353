/**
 * enclave/committee/decided-book.ts: a validator keeps a decided batch only with a valid commit
 * certificate, and then refuses a rollup batch that is not the decided one (another timestamp, L1
 * fields, or a transaction the proposal did not hold, or out of order), accepts one that left out a
 * proposed transaction, and says "unknown" for a height it has no certificate for.
 */
import { expect } from "chai";
import { SigningKey, Wallet, ZeroHash, hexlify, randomBytes } from "ethers";

import { DecidedBook } from "../../enclave/committee/decided-book.js";
import { ecdsaSigner, ecdsaVerifier } from "../../enclave/consensus/keys.js";
import { encodeProposal } from "../../enclave/consensus/proposal.js";
import { type Commit, type Signed, valueDigest } from "../../enclave/consensus/qbft/index.js";
import { sealValue } from "../../enclave/consensus/sealed-value.js";
import type { DecidedRecord } from "../../enclave/consensus/wire.js";

const IDS = [1, 2, 3, 4];
const keys = new Map(IDS.map((id) => [id, new SigningKey(Wallet.createRandom().privateKey)]));
const addresses = new Map(IDS.map((id) => [id, new Wallet(keys.get(id)!.privateKey).address]));
const valueKey = randomBytes(32);
const txs = [0, 1, 2].map(() => hexlify(randomBytes(100)));

function decided(height: number, signers: number[], override: Partial<Parameters<typeof encodeProposal>[0]> = {}) {
  const value = sealValue(
    valueKey,
    height,
    encodeProposal({
      seq: BigInt(height),
      parentHash: ZeroHash,
      timestamp: 1_700_000_000n,
      l1BaseFee: 9n,
      l1MessagesTo: 2n,
      l1Block: 0n,
      txs,
      ...override,
    }),
  );
  const certificate: Signed<Commit>[] = signers.map((sender) => {
    const message: Commit = { type: "commit", height, round: 2, sender, digest: valueDigest(value) };
    return { message, signature: ecdsaSigner(keys.get(sender)!).sign(message) };
  });
  const record: DecidedRecord = { height, round: 2, value, certificate };
  return record;
}

describe("the decided batches a validator checks rollups against", () => {
  const book = () => new DecidedBook({ committee: IDS, verifier: ecdsaVerifier((id) => addresses.get(id)), valueKey });
  const batch = { timestamp: 1_700_000_000n, l1BaseFee: 9n, l1MessagesTo: 2n, txs };

  it("keeps a record only with a quorum's certificate and a value that opens", () => {
    const b = book();
    expect(b.observe(decided(5, [1, 2]))).to.match(/2 commits, the quorum is 3/);
    const other = decided(5, [1, 2, 3]);
    expect(b.observe({ ...other, value: randomBytes(80) })).to.match(/commit is for another value/);
    expect(b.observe(decided(5, [1, 2, 3]))).to.equal(undefined);
    expect(b.size).to.equal(1);
    const wrongKey = new DecidedBook({
      committee: IDS,
      verifier: ecdsaVerifier((id) => addresses.get(id)),
      valueKey: randomBytes(32),
    });
    expect(wrongKey.observe(decided(6, [1, 2, 3]))).to.match(/does not open/);
  });

  it("accepts the decided batch (also without a proposed transaction), refuses another, knows nothing of other heights", () => {
    const b = book();
    b.observe(decided(7, [2, 3, 4]));
    expect(b.problem(7n, batch)).to.equal(undefined);
    expect(b.problem(7n, { ...batch, txs: [txs[0]!, txs[2]!] })).to.equal(undefined);
    expect(b.problem(7n, { ...batch, txs: [txs[1]!, txs[0]!] })).to.match(/not decided there \(or not in that order\)/);
    expect(b.problem(7n, { ...batch, txs: [...txs, hexlify(randomBytes(90))] })).to.match(/not decided there/);
    expect(b.problem(7n, { ...batch, timestamp: 1n })).to.match(/timestamp 1, the committee decided/);
    expect(b.problem(7n, { ...batch, l1BaseFee: 10n })).to.match(/L1 base fee/);
    expect(b.problem(7n, { ...batch, l1MessagesTo: 3n })).to.match(/L1 messages to/);
    expect(b.problem(8n, batch)).to.equal("unknown");
  });
});
