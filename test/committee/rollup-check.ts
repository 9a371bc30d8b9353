/**
 * enclave/rollup/check.ts: a member signs another member's rollup only if it is the rollup of its own
 * batches. A rollup built from the same batches passes (whatever its nonce); one whose payload, range,
 * last batch hash, message root, epoch or key commitment differs is refused, naming what differs.
 */
import { expect } from "chai";
import { Wallet, ZeroHash, hexlify, keccak256, randomBytes } from "ethers";

import { derive } from "../../enclave/crypto/derive.js";
import type { SealedBatch } from "../../enclave/rollup/batch.js";
import { type BuiltRollup, buildRollup, epochKey } from "../../enclave/rollup/builder.js";
import { rollupProblem } from "../../enclave/rollup/check.js";
import { sealRollupPayload } from "../../enclave/rollup/codec.js";
import type { CrossChainMessage } from "../../protocol/messages.js";
import { type RollupHeader, rollupRegistryDomain, signRollupHeader } from "../../protocol/rollup.js";

const SECRET = hexlify(randomBytes(32));
const wallet = Wallet.createRandom();
const enclave = {
  address: wallet.address,
  derive: (label: string) => derive(SECRET, label),
  signRollupHeader: (domain: Parameters<typeof signRollupHeader>[1], header: RollupHeader) =>
    signRollupHeader(wallet, domain, header),
};
const domain = rollupRegistryDomain(31337n, Wallet.createRandom().address);

function batches(count: number, messages: CrossChainMessage[] = []): SealedBatch[] {
  return Array.from({ length: count }, (_, i) => ({
    seq: BigInt(10 + i),
    hash: hexlify(randomBytes(32)),
    timestamp: 1_700_000_000n + BigInt(i),
    l1BaseFee: 7n,
    l1MessagesTo: BigInt(i),
    l1Block: 0n,
    txs: [hexlify(randomBytes(110)), hexlify(randomBytes(90))],
    messages: i === 0 ? messages : [],
  }));
}

async function built(from: readonly SealedBatch[]): Promise<BuiltRollup> {
  return buildRollup({
    enclave,
    batches: from,
    binding: { number: 7300n, hash: keccak256("0x01") },
    domain,
    previousBatchHash: ZeroHash,
  });
}

describe("checking a member's rollup against one's own batches", () => {
  const message: CrossChainMessage = {
    sender: Wallet.createRandom().address,
    sequence: 0n,
    nonce: 0n,
    topic: 1,
    payload: "0x1234",
    consistencyLevel: 0,
  };

  it("passes the rollup of the same batches, built by another member (another nonce)", async () => {
    const mine = batches(3);
    const theirs = await built(mine);
    expect(rollupProblem(enclave, theirs.header, theirs.payload, mine)).to.equal(undefined);
  });

  it("refuses another payload, range, last batch hash, epoch or key commitment", async () => {
    const mine = batches(3);
    const r = await built(mine);
    const other = batches(3);
    const key = epochKey(enclave, r.header.revelationEpoch);
    const forgedPayload = await sealRollupPayload(
      {
        firstSeq: 10n,
        batches: other.map((b) => ({
          timestamp: b.timestamp,
          l1BaseFee: b.l1BaseFee,
          l1MessagesTo: b.l1MessagesTo,
          txs: b.txs,
        })),
      },
      key,
    );
    const check = (h: Partial<RollupHeader>, payload = r.payload) =>
      rollupProblem(enclave, { ...r.header, ...h }, payload, mine);
    expect(check({ payloadHash: keccak256(forgedPayload) }, forgedPayload)).to.match(/content differs/);
    expect(check({}, forgedPayload)).to.match(/payload hash/);
    expect(check({ lastBatchSeq: 13n })).to.match(/covers batches 10…13/);
    expect(check({ lastBatchHash: keccak256("0x02") })).to.match(/last batch hash/);
    expect(check({ revelationEpoch: 7n })).to.match(/epoch 7/);
    expect(check({ keyCommitment: keccak256("0x03") })).to.match(/key commitment/);
    expect(check({ messageRoot: keccak256("0x04") })).to.match(/message root/);
    const wrongKey = await sealRollupPayload({ firstSeq: 10n, batches: [] }, hexlify(randomBytes(32)));
    expect(check({ payloadHash: keccak256(wrongKey) }, wrongKey)).to.match(/does not decrypt/);
  });

  it("refuses a message root that is not its batches' messages", async () => {
    const mine = batches(2, [message]);
    // The same batches, but without the withdrawal: a rollup that would drop it from L1.
    const dropped = await built(mine.map((b) => ({ ...b, messages: [] })));
    expect(rollupProblem(enclave, dropped.header, dropped.payload, mine)).to.match(/message root/);
    const same = await built(mine);
    expect(same.header.messageRoot).to.not.equal(ZeroHash);
    expect(rollupProblem(enclave, same.header, same.payload, mine)).to.equal(undefined);
  });

  it("uses the network secret: another network's enclave refuses", async () => {
    const mine = batches(1);
    const r = await built(mine);
    const stranger = { derive: (label: string) => derive(hexlify(randomBytes(32)), label) };
    expect(rollupProblem(stranger, r.header, r.payload, mine)).to.match(/key commitment/);
  });
});
