/**
 * The BLS12-381 libraries issue 13 names, measured on what the committee key does: sign a 32-byte
 * rollup digest, verify, aggregate 9 signatures (n = 13's quorum), recover a threshold signature from
 * 2f + 1 partials (3 of n = 4, 9 of n = 13), split a key into 13 shares with their commitments, and
 * check one share against its commitments. Prints operations per second (one thread; each figure the
 * best of 3 rounds, the rounds interleaved across all figures) and writes
 * bench/results/bls.json. docs/distributed-key.md ("Library") quotes it and gives the choice.
 *
 *   npm run bench:bls        (about 30 s; BLS_BENCH_MS sets the time per figure, 900 ms by default)
 *
 * Veilnet needs the "short signatures" variant, min-sig: signature in G1, public key in G2 (L1 hashes
 * to G1 for 2 × 5,500 gas against 2 × 23,800 to G2).
 * - @noble/curves does both variants: min-sig (`shortSignatures`, under Veilnet's rollup tag, through
 *   platform/bls — which is noble plus input checks and the EIP-2537 forms) and min-pk
 *   (`longSignatures`, Ethereum's), for comparison with the two others on equal terms.
 * - bls-eth-wasm (herumi's mcl, WebAssembly) is built with BLS_ETH: min-pk only. It has share and
 *   recover built in.
 * - @chainsafe/blst (supranational's blst, native) is min-pk only, with Ethereum's tag fixed, and
 *   exposes no multiplication of a point by a chosen scalar: no recovery, no share check. Its split is
 *   the polynomial in noble's Fr, then blst's keys and public keys.
 * Every figure takes its inputs as bytes, as a node receives them (signatures compressed, checked to be
 * in the subgroup). Before measuring, the bench checks the libraries agree: the three min-pk signers
 * give the same bytes, and each recovery gives the full key's signature.
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";

import * as blst from "@chainsafe/blst";
import { pippenger } from "@noble/curves/abstract/curve.js";
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { bytesToNumberBE, equalBytes, numberToBytesBE, randomBytes } from "@noble/curves/utils.js";
import herumi from "bls-eth-wasm";

import {
  Fr,
  lagrangeAtZero,
  publicKeyOf,
  recoverSignature,
  sign,
  splitSecret,
  verify,
  verifyShare,
} from "../platform/bls/index.js";
import { type Row, formatRows, writeResults } from "./report.js";

const MS = Number(process.env.BLS_BENCH_MS ?? 900);
const ROUNDS = 3;
/** Ethereum's min-pk tag, which bls-eth-wasm and blst use; noble's min-pk rows use it too. */
const ETH_DST = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
const QUORUMS = [
  { n: 4, t: 3 },
  { n: 13, t: 9 },
] as const;
const SPLIT = { n: 13, t: 9 };

/** The installed version of `pkg` (@noble/curves exports no ./package.json: read the file). */
const versionOf = (pkg: string): string =>
  (
    JSON.parse(readFileSync(new URL(`../node_modules/${pkg}/package.json`, import.meta.url), "utf8")) as {
      version: string;
    }
  ).version;
const LIBRARIES = {
  noble: `@noble/curves ${versionOf("@noble/curves")}`,
  herumi: `bls-eth-wasm ${versionOf("bls-eth-wasm")}`,
  blst: `@chainsafe/blst ${versionOf("@chainsafe/blst")}`,
} as const;
type Library = keyof typeof LIBRARIES;

/** Operations per second of `fn` over `ms`: a warm-up call, then calls until `ms` have passed (at least 2). */
function perSecond(fn: () => unknown, ms: number): number {
  fn();
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms || count < 2) {
    fn();
    count++;
    elapsed = performance.now() - start;
  }
  return (1000 * count) / elapsed;
}

/** The figures to measure, in order; run() measures them all in turn, ROUNDS times. */
const tasks: { library: Library; variant: string; op: string; fn: () => unknown; best: number }[] = [];
function measure(library: Library, variant: string, op: string, fn: () => unknown): void {
  tasks.push({ library, variant, op, fn, best: 0 });
}

/**
 * Measures every figure in turn, ROUNDS times, MS / ROUNDS each time, and keeps each one's best rate:
 * interleaved so that a change of the machine's load hits every library alike, and the best of the
 * rounds is the least disturbed by other processes.
 */
function run(): Row[] {
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of tasks) t.best = Math.max(t.best, perSecond(t.fn, MS / ROUNDS));
  }
  return tasks.map((t) => ({
    figure: `${t.library} ${t.variant}: ${t.op}`,
    value: t.best >= 100 ? Math.round(t.best) : Number(t.best.toFixed(1)),
    unit: "/s",
    note: `${(1000 / t.best).toFixed(2)} ms each`,
  }));
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`bench:bls consistency check failed: ${what}`);
}

/** Random secret keys as 32 bytes big-endian (valid for every library). */
const secretKey = (): Uint8Array => bls12_381.utils.randomSecretKey();
/** f(x) for coefficients a_0..a_{t-1}, in Fr. */
const evaluate = (coefficients: readonly bigint[], x: bigint): bigint =>
  coefficients.reduceRight((acc, a) => Fr.add(Fr.mul(acc, x), a), Fr.ZERO);
const randomPolynomial = (sk: Uint8Array, t: number): bigint[] => [
  bytesToNumberBE(sk),
  ...Array.from({ length: t - 1 }, () => bytesToNumberBE(secretKey())),
];
const shareKeys = (coefficients: readonly bigint[], n: number): Uint8Array[] =>
  Array.from({ length: n }, (_, i) => numberToBytesBE(evaluate(coefficients, BigInt(i + 1)), 32));

const digest = randomBytes(32);
const sk = secretKey();
const nine = Array.from({ length: 9 }, secretKey);
/** Per quorum: the share keys of a split of sk, and the indices of the t partials used (the last t). */
const quorums = QUORUMS.map(({ n, t }) => {
  const shares = shareKeys(randomPolynomial(sk, t), n);
  const indices = Array.from({ length: t }, (_, i) => n - t + 1 + i);
  return { n, t, shares, indices };
});

// ---- @noble/curves, min-sig, through platform/bls (Veilnet's suite) ----
{
  const variant = "min-sig";
  const pk = publicKeyOf(sk);
  const sig = sign(sk, digest);
  measure("noble", variant, "sign", () => sign(sk, digest));
  measure("noble", variant, "verify", () => verify(pk.bytes, digest, sig.bytes));
  const sigs = nine.map((k) => sign(k, digest).bytes);
  measure("noble", variant, "aggregate 9", () =>
    bls12_381.shortSignatures.Signature.toBytes(bls12_381.shortSignatures.aggregateSignatures(sigs)),
  );
  for (const q of quorums) {
    const partials = q.indices.map((index) => ({ index, signature: sign(q.shares[index - 1]!, digest).bytes }));
    check(equalBytes(recoverSignature(partials).bytes, sig.bytes), `noble min-sig recover ${q.t} of ${q.n}`);
    measure("noble", variant, `recover ${q.t} of ${q.n}`, () => recoverSignature(partials));
  }
  measure("noble", variant, `split into ${SPLIT.n} (t = ${SPLIT.t})`, () => splitSecret(sk, SPLIT.n, SPLIT.t));
  const split = splitSecret(sk, SPLIT.n, SPLIT.t);
  const share = split.shares[SPLIT.n - 1]!;
  const commitments = split.commitments.map((c) => c.bytes);
  measure("noble", variant, `verify a share (${SPLIT.t} commitments)`, () =>
    verifyShare(share.index, share.secretKey, commitments),
  );
}

// ---- @noble/curves, min-pk ----
{
  const variant = "min-pk";
  const L = bls12_381.longSignatures;
  const signPk = (k: Uint8Array): Uint8Array => L.Signature.toBytes(L.sign(L.hash(digest, ETH_DST), k));
  const pk = L.getPublicKey(sk);
  const sig = signPk(sk);
  measure("noble", variant, "sign", () => signPk(sk));
  measure("noble", variant, "verify", () => L.verify(L.Signature.fromBytes(sig), L.hash(digest, ETH_DST), pk));
  const sigs = nine.map(signPk);
  measure("noble", variant, "aggregate 9", () => L.Signature.toBytes(L.aggregateSignatures(sigs)));
  for (const q of quorums) {
    const partials = q.indices.map((index) => signPk(q.shares[index - 1]!));
    const recover = (): Uint8Array =>
      L.Signature.toBytes(
        pippenger(
          bls12_381.G2.Point,
          partials.map((s) => L.Signature.fromBytes(s)),
          lagrangeAtZero(q.indices),
        ),
      );
    check(equalBytes(recover(), sig), `noble min-pk recover ${q.t} of ${q.n}`);
    measure("noble", variant, `recover ${q.t} of ${q.n}`, recover);
  }
  const G1 = bls12_381.G1.Point;
  measure("noble", variant, `split into ${SPLIT.n} (t = ${SPLIT.t})`, () => {
    const coefficients = randomPolynomial(sk, SPLIT.t);
    return [shareKeys(coefficients, SPLIT.n), coefficients.map((a) => G1.BASE.multiply(a).toBytes())];
  });
  const coefficients = randomPolynomial(sk, SPLIT.t);
  const share = shareKeys(coefficients, SPLIT.n)[SPLIT.n - 1]!;
  const commitments = coefficients.map((a) => G1.BASE.multiply(a).toBytes());
  const powers = coefficients.map((_, j) => Fr.pow(BigInt(SPLIT.n), BigInt(j)));
  const verifyShareG1 = (): boolean =>
    G1.BASE.multiply(bytesToNumberBE(share)).equals(
      pippenger(
        G1,
        commitments.map((c) => G1.fromBytes(c)),
        powers,
      ),
    );
  check(verifyShareG1(), "noble min-pk share check");
  measure("noble", variant, `verify a share (${SPLIT.t} commitments)`, verifyShareG1);
}

// ---- bls-eth-wasm (herumi), min-pk only ----
interface HerumiId {
  setInt(x: number): void;
}
{
  await herumi.init(herumi.BLS12_381);
  herumi.verifySignatureOrder(true);
  herumi.verifyPublicKeyOrder(true);
  const Id = (herumi as unknown as { Id: new () => HerumiId }).Id;
  const idOf = (i: number): HerumiId => {
    const id = new Id();
    id.setInt(i);
    return id;
  };
  const keyOf = (bytes: Uint8Array) => {
    const k = new herumi.SecretKey();
    k.deserialize(bytes);
    return k;
  };
  const sigOf = (bytes: Uint8Array) => {
    const s = new herumi.Signature();
    s.deserialize(bytes);
    return s;
  };
  const variant = "min-pk";
  const key = keyOf(sk);
  const pk = key.getPublicKey();
  const sig = key.sign(digest).serialize();
  const L = bls12_381.longSignatures;
  check(equalBytes(sig, L.Signature.toBytes(L.sign(L.hash(digest, ETH_DST), sk))), "bls-eth-wasm signs as noble");
  measure("herumi", variant, "sign", () => key.sign(digest).serialize());
  measure("herumi", variant, "verify", () => pk.verify(sigOf(sig), digest));
  const sigs = nine.map((k) => keyOf(k).sign(digest).serialize());
  measure("herumi", variant, "aggregate 9", () => {
    const agg = sigOf(sigs[0]!);
    agg.aggregate(sigs.slice(1).map(sigOf));
    return agg.serialize();
  });
  for (const q of quorums) {
    const partials = q.indices.map((index) =>
      keyOf(q.shares[index - 1]!)
        .sign(digest)
        .serialize(),
    );
    const ids = q.indices.map(idOf);
    const recover = (): Uint8Array => {
      const s = new herumi.Signature();
      s.recover(partials.map(sigOf), ids as never[]);
      return s.serialize();
    };
    check(equalBytes(recover(), sig), `bls-eth-wasm recover ${q.t} of ${q.n}`);
    measure("herumi", variant, `recover ${q.t} of ${q.n}`, recover);
  }
  const ids = Array.from({ length: SPLIT.n }, (_, i) => idOf(i + 1));
  const dealHerumi = () => {
    const msk = [key, ...Array.from({ length: SPLIT.t - 1 }, () => keyOf(secretKey()))];
    const mpk = msk.map((k) => k.getPublicKey());
    const shares = ids.map((id) => {
      const s = new herumi.SecretKey();
      s.share(msk, id as never);
      return s;
    });
    return { mpk, shares, commitments: mpk.map((p) => p.serialize()) };
  };
  measure("herumi", variant, `split into ${SPLIT.n} (t = ${SPLIT.t})`, dealHerumi);
  const dealt = dealHerumi();
  const share = dealt.shares[SPLIT.n - 1]!;
  const shareId = ids[SPLIT.n - 1]!;
  const verifyShareHerumi = (): boolean => {
    const mpk = dealt.commitments.map((c) => {
      const p = new herumi.PublicKey();
      p.deserialize(c);
      return p;
    });
    const expected = new herumi.PublicKey();
    expected.share(mpk, shareId as never);
    return expected.isEqual(share.getPublicKey());
  };
  check(verifyShareHerumi(), "bls-eth-wasm share check");
  measure("herumi", variant, `verify a share (${SPLIT.t} commitments)`, verifyShareHerumi);
}

// ---- @chainsafe/blst, min-pk only, no point-by-scalar: no recover, no share check ----
{
  const variant = "min-pk";
  const key = blst.SecretKey.fromBytes(sk);
  const pk = key.toPublicKey();
  const sig = key.sign(digest).toBytes();
  const L = bls12_381.longSignatures;
  check(equalBytes(sig, L.Signature.toBytes(L.sign(L.hash(digest, ETH_DST), sk))), "blst signs as noble");
  measure("blst", variant, "sign", () => key.sign(digest).toBytes());
  measure("blst", variant, "verify", () => blst.verify(digest, pk, blst.Signature.fromBytes(sig, true)));
  const sigs = nine.map((k) => blst.SecretKey.fromBytes(k).sign(digest).toBytes());
  measure("blst", variant, "aggregate 9", () => blst.aggregateSerializedSignatures(sigs, true).toBytes());
  measure("blst", variant, `split into ${SPLIT.n} (t = ${SPLIT.t}), Fr by noble`, () => {
    const coefficients = randomPolynomial(sk, SPLIT.t);
    return [
      shareKeys(coefficients, SPLIT.n).map((s) => blst.SecretKey.fromBytes(s)),
      coefficients.map((a) => blst.SecretKey.fromBytes(numberToBytesBE(a, 32)).toPublicKey().toBytes()),
    ];
  });
}

const supports: Record<Library, { minSig: boolean; minPk: boolean; dst: string; sharing: string }> = {
  noble: { minSig: true, minPk: true, dst: "any", sharing: "Fr and multi-scalar multiplication (pippenger)" },
  herumi: { minSig: false, minPk: true, dst: "settable", sharing: "built in (share, recover)" },
  blst: { minSig: false, minPk: true, dst: "Ethereum's, fixed", sharing: "none (no point-by-scalar in its API)" },
};
const load = loadavg().map((l) => l.toFixed(2));
process.stdout.write(
  `BLS12-381, operations per second on one thread (${cpus()[0]?.model ?? "?"}, Node ${process.version}, ` +
    `load average ${load.join(" ")} on ${cpus().length} cores)\n`,
);
for (const [library, s] of Object.entries(supports)) {
  process.stdout.write(
    `  ${library} = ${LIBRARIES[library as Library]}: min-sig ${s.minSig ? "yes" : "NO"}, min-pk ${s.minPk ? "yes" : "no"}, ` +
      `tag ${s.dst}, sharing ${s.sharing}\n`,
  );
}
process.stdout.write(
  "  noble min-sig is platform/bls (noble, input checks, both byte forms), under Veilnet's rollup tag\n",
);
process.stdout.write(`  each figure: the best of ${ROUNDS} interleaved rounds of ${MS / ROUNDS} ms\n\n`);
const rows = run();
for (const line of formatRows(rows, { value: 6, unit: 2 })) process.stdout.write(`${line}\n`);
const out = writeResults("bls", {
  measuredAt: new Date().toISOString(),
  settings: {
    msPerFigure: MS,
    rounds: ROUNDS,
    node: process.version,
    cpu: cpus()[0]?.model,
    loadAverage: load,
    split: SPLIT,
    quorums: QUORUMS,
  },
  libraries: LIBRARIES,
  supports,
  rows,
});
process.stdout.write(`\nwritten to ${out}\n`);
