/**
 * The node's binary forms on a loaded rollup, in one process (no chain): what a busy node spends per
 * rollup, per batch proposal and per gossip envelope. Prints a table and writes bench/results/codec.json.
 *
 *   npm run bench:codec        (about 20 s)
 *
 * The content: 4 batches of 847 ETH transfers (3,388 transfers from 512 senders, signed EIP-1559
 * transactions of ~117 bytes: a full batch under the node's MAX_BATCH_BYTES of 100,000), as a devnet
 * under bench:committee's load seals them.
 * - RLP of the rollup content: platform/rlp.ts (@ethereumjs/rlp) against ethers' encodeRlp, which the
 *   codec used before; both give the same bytes (checked).
 * - brotli of that content at qualities 6, 9, 10 and 11 (the codec uses BROTLI_QUALITY): time and ratio.
 * - the whole seal (RLP, brotli in the thread pool, AES-GCM) and open.
 * - a batch proposal of 847 transfers (the QBFT value): encode, and decode (which re-encodes to check
 *   the canonical form).
 * - a gossip envelope holding that sealed proposal: seal (RLP, keccak, secp256k1 signature) and decode.
 * Each is the median of RUNS runs after a warm-up.
 */
import { brotliCompressSync, constants as zlib } from "node:zlib";

import { SigningKey, encodeRlp, hexlify, parseEther, randomBytes } from "ethers";

import { decodeProposal, encodeProposal } from "../enclave/consensus/proposal.js";
import { sealValue } from "../enclave/consensus/sealed-value.js";
import {
  BROTLI_QUALITY,
  type RollupContent,
  encodeRollupContent,
  openRollupPayload,
  sealRollupPayload,
} from "../enclave/rollup/codec.js";
import { decodeEnvelope, sealEnvelope, secp256k1EnvelopeSigner } from "../platform/p2p/envelope.js";
import { rlpEncode, toHex } from "../platform/rlp.js";
import { L2Account } from "./l2-account.js";
import { type Row, formatRows, writeResults } from "./report.js";

const SENDERS = 512;
const PER_BATCH = 847;
const BATCHES = 4;
const RUNS = 7;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function timeMs(fn: () => unknown, runs = RUNS): Promise<number> {
  await fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

const senders = Array.from({ length: SENDERS }, () => L2Account.random());
const txs: string[] = [];
while (txs.length < PER_BATCH * BATCHES) {
  for (const s of senders) txs.push(s.sign(L2Account.random().address, parseEther("0.0001")));
}
const content: RollupContent = {
  firstSeq: 7n,
  batches: Array.from({ length: BATCHES }, (_, i) => ({
    timestamp: 1_800_000_000n + BigInt(i),
    l1BaseFee: 7n,
    l1MessagesTo: 0n,
    txs: txs.slice(i * PER_BATCH, (i + 1) * PER_BATCH),
  })),
};
const ethersForm = () =>
  encodeRlp(["0x07", content.batches.map((b) => [`0x${b.timestamp.toString(16)}`, "0x07", "0x", b.txs])]);
const raw = encodeRollupContent(content);
if (toHex(raw) !== ethersForm()) throw new Error("platform/rlp and ethers encode the rollup differently");

const rows: Row[] = [];
const txCount = PER_BATCH * BATCHES;
rows.push({
  figure: "rollup content RLP, platform/rlp (@ethereumjs/rlp)",
  value: round(await timeMs(() => encodeRollupContent(content))),
  unit: "ms",
  note: `${txCount} transfers, ${raw.length} bytes`,
});
rows.push({
  figure: "rollup content RLP, ethers encodeRlp (before)",
  value: round(await timeMs(ethersForm, 3)),
  unit: "ms",
});
for (const quality of [6, 9, 10, 11]) {
  let size = 0;
  const ms = await timeMs(
    () =>
      (size = brotliCompressSync(raw, {
        params: {
          [zlib.BROTLI_PARAM_QUALITY]: quality,
          [zlib.BROTLI_PARAM_LGWIN]: 24,
          [zlib.BROTLI_PARAM_SIZE_HINT]: raw.length,
        },
      }).length),
    3,
  );
  rows.push({
    figure: `brotli quality ${quality}${quality === BROTLI_QUALITY ? " (the codec's)" : ""}`,
    value: round(ms),
    unit: "ms",
    note: `${raw.length} → ${size} bytes (${((100 * size) / raw.length).toFixed(1)}%)`,
  });
}
const key = hexlify(randomBytes(32));
let payload = "";
rows.push({
  figure: "seal a rollup payload (RLP, brotli in the thread pool, AES-GCM)",
  value: round(await timeMs(async () => (payload = await sealRollupPayload(content, key)))),
  unit: "ms",
});
rows.push({
  figure: "open a rollup payload (AES-GCM, brotli, RLP)",
  value: round(await timeMs(() => openRollupPayload(payload, key))),
  unit: "ms",
});

const proposal = {
  seq: 9n,
  parentHash: hexlify(randomBytes(32)),
  timestamp: 1_800_000_000n,
  l1BaseFee: 7n,
  l1MessagesTo: 0n,
  l1Block: 0n,
  txs: txs.slice(0, PER_BATCH),
};
const proposalBytes = encodeProposal(proposal);
rows.push({
  figure: "encode a batch proposal",
  value: round(await timeMs(() => encodeProposal(proposal)), 2),
  unit: "ms",
  note: `${PER_BATCH} transfers, ${proposalBytes.length} bytes`,
});
rows.push({
  figure: "decode a batch proposal (with the canonical re-encode)",
  value: round(await timeMs(() => decodeProposal(proposalBytes)), 2),
  unit: "ms",
});

const sealed = sealValue(randomBytes(32), 9, proposalBytes);
const signer = secp256k1EnvelopeSigner(new SigningKey(hexlify(randomBytes(32))), 1n);
const header = {
  chainId: 31337n,
  topic: "/veilnet/31337/committee/1/consensus",
  committeeId: 1n,
  height: 9n,
  sentAtMs: 1n,
};
const envelope = sealEnvelope(signer, header, sealed);
rows.push({
  figure: "seal a gossip envelope (pre-prepare of that proposal)",
  value: round(await timeMs(() => sealEnvelope(signer, header, sealed)), 2),
  unit: "ms",
  note: `${envelope.length} bytes`,
});
rows.push({
  figure: "decode a gossip envelope (with the canonical re-encode)",
  value: round(await timeMs(() => decodeEnvelope(envelope)), 2),
  unit: "ms",
});
// The tx bundle's RLP (a list of raw transactions), for scale.
rows.push({
  figure: "RLP of 847 raw transactions (a forwarded tx bundle)",
  value: round(await timeMs(() => rlpEncode(proposal.txs)), 2),
  unit: "ms",
});

for (const line of formatRows(rows, { value: 8, unit: 3 })) process.stdout.write(`${line}\n`);
const out = writeResults("codec", {
  measuredAt: new Date().toISOString(),
  settings: { transfers: txCount, batches: BATCHES, perBatch: PER_BATCH, runs: RUNS, brotliQuality: BROTLI_QUALITY },
  rows,
});
process.stdout.write(`\nwritten to ${out}\n`);
