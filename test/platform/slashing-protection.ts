/**
 * platform/signer/slashing-protection.ts: the rule (same first batch with another root refused, an
 * overlapping range with another root refused, the same header allowed again), its durability across a
 * reopen, the registry binding and the lock, the interchange round trip, and imports that are malformed,
 * for another registry or conflicting (refused whole) or overlapping the record (merged). A fast-check
 * property compares the store with a plain model: it never accepts two headers of one key that cover a
 * common batch with different roots.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import fc from "fast-check";

import { signingRootOf } from "../../platform/signer/api.js";
import { SlashingProtectionError } from "../../platform/signer/errors.js";
import { type Interchange, SlashingProtection } from "../../platform/signer/slashing-protection.js";
import { TEST_DOMAIN, TEST_REGISTRY, headerAt, testShares } from "../../testing/signer.js";

const [alice, bob] = testShares(2).map((s) => s.publicKey) as [string, string];
const rootAt = (first: bigint, last: bigint = first, variant = 0) =>
  signingRootOf(headerAt(first, last, variant), TEST_DOMAIN);
const range = (first: bigint, last: bigint = first) => ({ firstBatchSeq: first, lastBatchSeq: last });

describe("slashing protection", () => {
  let dir: string;
  let store: SlashingProtection;
  let n = 0;
  const fresh = () => path.join(dir, `record-${(n += 1)}`);

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "veilnet-slashing-"));
  });
  beforeEach(() => {
    store = SlashingProtection.open(fresh(), TEST_REGISTRY);
  });
  afterEach(() => store.close());
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses another header at a first batch it signed, and allows the same one again", () => {
    expect(store.checkAndRecord(alice, range(10n, 12n), rootAt(10n, 12n))).to.deep.equal({ ok: true, repeat: false });
    expect(store.checkAndRecord(alice, range(10n, 12n), rootAt(10n, 12n))).to.deep.equal({ ok: true, repeat: true });
    const refused = store.checkAndRecord(alice, range(10n, 12n), rootAt(10n, 12n, 1));
    expect(refused.ok).to.equal(false);
    if (refused.ok) return;
    expect(refused.reason).to.equal("double-sign");
    expect(refused.detail).to.include("first batch 10");
    // Same first batch, another range: still an equivocation.
    expect(store.checkAndRecord(alice, range(10n, 11n), rootAt(10n, 11n))).to.include({
      ok: false,
      reason: "double-sign",
    });
    expect(store.signed(alice)).to.have.length(1);
  });

  it("refuses a header whose range overlaps a signed one (surround or partial), allows the next and earlier gaps", () => {
    store.checkAndRecord(alice, range(10n, 20n), rootAt(10n, 20n));
    for (const [f, l] of [
      [15n, 25n],
      [5n, 10n],
      [12n, 14n],
      [0n, 100n],
      [20n, 20n],
    ] as const) {
      expect(store.checkAndRecord(alice, range(f, l), rootAt(f, l)), `${f}..${l}`).to.include({
        ok: false,
        reason: "overlap",
      });
    }
    expect(store.checkAndRecord(alice, range(21n, 30n), rootAt(21n, 30n))).to.include({ ok: true });
    expect(store.checkAndRecord(alice, range(1n, 9n), rootAt(1n, 9n))).to.include({ ok: true });
    expect(store.signed(alice).map((r) => r.firstBatchSeq)).to.deep.equal([1n, 10n, 21n]);
  });

  it("keeps the keys apart, and check() records nothing", () => {
    store.checkAndRecord(alice, range(1n), rootAt(1n));
    expect(store.check(bob, range(1n), rootAt(1n, 1n, 1))).to.deep.equal({ ok: true, repeat: false });
    expect(store.signed(bob)).to.deep.equal([]);
    expect(store.checkAndRecord(bob, range(1n), rootAt(1n, 1n, 1))).to.include({ ok: true, repeat: false });
  });

  it("refuses malformed input: a range with last < first, a key or root that is not hex of its size", () => {
    expect(() => store.checkAndRecord(alice, range(5n, 4n), rootAt(5n))).to.throw(SlashingProtectionError, /5\.\.4/);
    expect(() => store.checkAndRecord("0x12", range(5n), rootAt(5n))).to.throw(/pubkey/);
    expect(() => store.checkAndRecord(alice, range(5n), "0x12")).to.throw(/signing_root/);
  });

  it("survives a reopen: the record is on disk before checkAndRecord returns", () => {
    const where = store.dir;
    store.checkAndRecord(alice, range(3n, 4n), rootAt(3n, 4n));
    store.close();
    store = SlashingProtection.open(where, TEST_REGISTRY);
    expect(store.checkAndRecord(alice, range(3n, 4n), rootAt(3n, 4n, 1))).to.include({ reason: "double-sign" });
    expect(store.checkAndRecord(alice, range(3n, 4n), rootAt(3n, 4n))).to.deep.equal({ ok: true, repeat: true });
  });

  it("ignores a torn last line (a crash mid-write) and refuses a corrupt line before the last", () => {
    const where = store.dir;
    store.checkAndRecord(alice, range(3n), rootAt(3n));
    store.close();
    const file = path.join(where, "signed.jsonl");
    writeFileSync(file, readFileSync(file, "utf8") + '{"pk":"0x', { flag: "w" });
    store = SlashingProtection.open(where, TEST_REGISTRY);
    expect(store.signed(alice)).to.have.length(1);
    // The next record does not glue onto the torn line: it is there after another reopen.
    store.checkAndRecord(alice, range(4n), rootAt(4n));
    store.close();
    store = SlashingProtection.open(where, TEST_REGISTRY);
    expect(store.signed(alice)).to.have.length(2);
    store.close();
    writeFileSync(file, "garbage\n" + readFileSync(file, "utf8"));
    expect(() => (store = SlashingProtection.open(where, TEST_REGISTRY))).to.throw(SlashingProtectionError, /line 1/);
    store = SlashingProtection.open(fresh(), TEST_REGISTRY);
  });

  it("is bound to one RollupRegistry and one process at a time", () => {
    const where = store.dir;
    expect(() => SlashingProtection.open(where, TEST_REGISTRY)).to.throw(SlashingProtectionError, /already open/);
    store.close();
    expect(() => SlashingProtection.open(where, { ...TEST_REGISTRY, chainId: 1n })).to.throw(
      SlashingProtectionError,
      /not of .* on chain 1$/,
    );
    writeFileSync(path.join(where, "signer.lock"), "1\n"); // pid 1 is alive
    expect(() => SlashingProtection.open(where, TEST_REGISTRY)).to.throw(SlashingProtectionError, /pid 1/);
    writeFileSync(path.join(where, "signer.lock"), "999999999\n"); // a dead pid: a stale lock
    store = SlashingProtection.open(where, TEST_REGISTRY);
  });

  it("exports the record as EIP-3076-shaped JSON and imports it back into an empty record", () => {
    store.checkAndRecord(alice, range(1n, 2n), rootAt(1n, 2n));
    store.checkAndRecord(alice, range(3n, 9n), rootAt(3n, 9n));
    store.checkAndRecord(bob, range(1n, 2n), rootAt(1n, 2n, 7));
    const exported = store.exportInterchange();
    expect(exported.metadata).to.deep.equal({
      interchange_format_version: "5",
      rollup_registry: { chain_id: "31337", verifying_contract: TEST_REGISTRY.address },
    });
    expect(exported.data[0]).to.deep.equal({
      pubkey: alice,
      signed_rollups: [
        { first_batch_seq: "1", last_batch_seq: "2", signing_root: rootAt(1n, 2n) },
        { first_batch_seq: "3", last_batch_seq: "9", signing_root: rootAt(3n, 9n) },
      ],
    });
    const other = SlashingProtection.open(fresh(), TEST_REGISTRY);
    try {
      expect(other.importInterchange(JSON.parse(JSON.stringify(exported)))).to.deep.equal({ imported: 3, known: 0 });
      expect(other.exportInterchange()).to.deep.equal(exported);
      expect(other.importInterchange(exported)).to.deep.equal({ imported: 0, known: 3 });
      expect(other.checkAndRecord(alice, range(5n), rootAt(5n))).to.include({ reason: "overlap" });
      const where = other.dir;
      other.close();
      const reopened = SlashingProtection.open(where, TEST_REGISTRY);
      expect(reopened.exportInterchange()).to.deep.equal(exported);
      reopened.close();
    } finally {
      other.close();
    }
  });

  it("merges an import with the record: the union of both, the most restrictive", () => {
    store.checkAndRecord(alice, range(1n, 2n), rootAt(1n, 2n));
    const incoming: Interchange = {
      metadata: store.exportInterchange().metadata,
      data: [
        {
          pubkey: alice,
          signed_rollups: [
            { first_batch_seq: "1", last_batch_seq: "2", signing_root: rootAt(1n, 2n) },
            { first_batch_seq: "10", last_batch_seq: "10", signing_root: rootAt(10n) },
          ],
        },
        { pubkey: bob, signed_rollups: [{ first_batch_seq: "4", last_batch_seq: "6", signing_root: rootAt(4n, 6n) }] },
      ],
    };
    expect(store.importInterchange(incoming)).to.deep.equal({ imported: 2, known: 1 });
    expect(store.checkAndRecord(alice, range(10n), rootAt(10n, 10n, 1))).to.include({ reason: "double-sign" });
    expect(store.checkAndRecord(bob, range(5n), rootAt(5n))).to.include({ reason: "overlap" });
    expect(store.checkAndRecord(alice, range(3n, 9n), rootAt(3n, 9n))).to.include({ ok: true });
  });

  it("refuses a conflicting import whole, naming the conflict, and writes nothing", () => {
    store.checkAndRecord(alice, range(1n, 2n), rootAt(1n, 2n));
    const metadata = store.exportInterchange().metadata;
    const before = store.exportInterchange();
    const against = (rollups: Interchange["data"][number]["signed_rollups"]): Interchange => ({
      metadata,
      data: [
        { pubkey: bob, signed_rollups: [{ first_batch_seq: "7", last_batch_seq: "7", signing_root: rootAt(7n) }] },
        { pubkey: alice, signed_rollups: rollups },
      ],
    });
    // Against the record: another root at first batch 1.
    expect(() =>
      store.importInterchange(
        against([{ first_batch_seq: "1", last_batch_seq: "2", signing_root: rootAt(1n, 2n, 1) }]),
      ),
    ).to.throw(SlashingProtectionError, /conflicting record for 0x[0-9a-f]+: batches 1\.\.2 .*nothing was imported/);
    // Within the file: two overlapping headers.
    expect(() =>
      store.importInterchange(
        against([
          { first_batch_seq: "5", last_batch_seq: "8", signing_root: rootAt(5n, 8n) },
          { first_batch_seq: "8", last_batch_seq: "9", signing_root: rootAt(8n, 9n) },
        ]),
      ),
    ).to.throw(SlashingProtectionError, /batches 8\.\.9/);
    expect(store.exportInterchange()).to.deep.equal(before);
    expect(store.signed(bob)).to.deep.equal([]);
  });

  it("refuses a malformed import or another registry's, with the field at fault", () => {
    const good = (): Interchange => ({
      metadata: store.exportInterchange().metadata,
      data: [
        { pubkey: alice, signed_rollups: [{ first_batch_seq: "1", last_batch_seq: "1", signing_root: rootAt(1n) }] },
      ],
    });
    const cases: Array<[string, (i: Interchange) => unknown, RegExp]> = [
      [
        "version",
        (i) => ({ ...i, metadata: { ...i.metadata, interchange_format_version: "4" } }),
        /version must be "5"/,
      ],
      [
        "registry",
        (i) => ({
          ...i,
          metadata: { ...i.metadata, rollup_registry: { chain_id: "1", verifying_contract: TEST_REGISTRY.address } },
        }),
        /on chain 1, this record/,
      ],
      [
        "number",
        (i) => {
          i.data[0]!.signed_rollups[0]!.first_batch_seq = "0x1";
          return i;
        },
        /data\.0\.signed_rollups\.0\.first_batch_seq: first_batch_seq must be a decimal string/,
      ],
      [
        "a number, not a string",
        (i) => {
          (i.data[0]!.signed_rollups[0] as unknown as { last_batch_seq: number }).last_batch_seq = 1;
          return i;
        },
        /last_batch_seq/,
      ],
      [
        "uint64",
        (i) => {
          i.data[0]!.signed_rollups[0]!.last_batch_seq = (1n << 64n).toString();
          return i;
        },
        /fit in uint64/,
      ],
      [
        "order",
        (i) => {
          i.data[0]!.signed_rollups[0]!.first_batch_seq = "2";
          return i;
        },
        /last_batch_seq is below first_batch_seq/,
      ],
      [
        "root",
        (i) => {
          i.data[0]!.signed_rollups[0]!.signing_root = "0x1234";
          return i;
        },
        /signing_root must be/,
      ],
      [
        "pubkey",
        (i) => {
          i.data[0]!.pubkey = "0xab";
          return i;
        },
        /data\.0\.pubkey/,
      ],
      ["no data", (i) => ({ metadata: i.metadata }), /^interchange: data: Required$/],
    ];
    for (const [what, spoil, error] of cases) {
      expect(() => store.importInterchange(spoil(good())), what).to.throw(SlashingProtectionError, error);
    }
    expect(store.signed(alice)).to.deep.equal([]);
  });

  it("accepts exactly what a plain model accepts, and never two conflicting headers (property)", () => {
    const request = fc.record({
      key: fc.constantFrom(alice, bob),
      first: fc.bigInt({ min: 0n, max: 30n }),
      span: fc.bigInt({ min: 0n, max: 4n }),
      variant: fc.integer({ min: 0, max: 1 }),
    });
    fc.assert(
      fc.property(fc.array(request, { maxLength: 40 }), (requests) => {
        const s = SlashingProtection.open(fresh(), TEST_REGISTRY);
        try {
          const accepted: Array<{ key: string; f: bigint; l: bigint; root: string }> = [];
          for (const { key, first, span, variant } of requests) {
            const last = first + span;
            const root = rootAt(first, last, variant);
            const conflict = accepted.find((a) => a.key === key && a.f <= last && a.l >= first && a.root !== root);
            const got = s.checkAndRecord(key, range(first, last), root);
            expect(got.ok).to.equal(conflict === undefined);
            if (got.ok && !got.repeat) accepted.push({ key, f: first, l: last, root });
            // The documented rule: another header from the same first batch is a double-sign, whatever
            // else the request overlaps; otherwise an overlap.
            const sameFirst = accepted.some((a) => a.key === key && a.f === first && a.root !== root);
            if (!got.ok) expect(got.reason).to.equal(sameFirst ? "double-sign" : "overlap");
          }
          for (const a of accepted) {
            for (const b of accepted) {
              if (a !== b && a.key === b.key) expect(a.l < b.f || b.l < a.f).to.equal(true);
            }
          }
        } finally {
          s.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});
