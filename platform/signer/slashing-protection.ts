/**
 * Slashing protection for committee key shares (DESIGN §9.4, docs/distributed-key.md): a durable record
 * of every rollup header each share signed, checked and written before a signature is made, so one
 * share never signs two conflicting headers — across restarts and a kill -9 at any instant.
 *
 * The rule, for a header covering batches [firstBatchSeq, lastBatchSeq] with signing root R (its EIP-712
 * digest), against the records of the same public key:
 *
 * - a record with the same root: the same header again, allowed (idempotent: the signer returns the same
 *   signature, BLS signing being deterministic);
 * - a record with another root and the same firstBatchSeq: refused, `double-sign`;
 * - a record with another root whose range intersects [firstBatchSeq, lastBatchSeq]: refused, `overlap`
 *   (EIP-3076's surround rule for rollups: no batch is ever covered by two different signed headers);
 * - otherwise allowed, and recorded (written and fsync'd) before the caller may sign.
 *
 * Headers below or between the recorded ones are allowed when they overlap none (a committee that
 * re-forms after a gap). The records of one key are therefore disjoint ranges, kept sorted, and a check
 * is a binary search.
 *
 * On disk, in the data directory: `registry.json` (the RollupRegistry the record is for: chain id and
 * address; a directory is never used for another), `signed.jsonl` (one JSON line per record, fsync'd;
 * a torn last line from a crash mid-write is ignored: its signature was never made) and `signer.lock`
 * (a pid file: two processes on one record would defeat it).
 *
 * Interchange: `exportInterchange` / `importInterchange` use EIP-3076's shape adapted to rollups (the
 * format is in docs/distributed-key.md). An import is validated whole (zod) and refused whole when
 * malformed, for another registry, or conflicting (with itself or with the record); otherwise it is
 * merged: the union of both records, which is the most restrictive.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import path from "node:path";

import { getAddress, isAddress } from "ethers";
import { z } from "zod";

import { AppendFile, JsonlFileError, readJsonLines } from "../jsonl-file.js";
import { acquirePidLock, fsyncDir } from "../pid-lock.js";
import { type RefusalReason, SlashingProtectionError } from "./errors.js";

/** The EIP-3076 interchange format version this store writes and reads. */
export const INTERCHANGE_FORMAT_VERSION = "5";

/** The RollupRegistry a record is for (EIP-3076's genesis_validators_root, for Veilnet). */
export interface RollupRegistryId {
  chainId: bigint;
  /** The RollupRegistry's address (checksummed on open). */
  address: string;
}

/** A header's batch range. */
export interface BatchRange {
  firstBatchSeq: bigint;
  lastBatchSeq: bigint;
}

/** One signed header of one key. */
export interface SignedRollup extends BatchRange {
  /** 0x-hex, 32 bytes, lower case. */
  signingRoot: string;
}

/** What checkAndRecord decided. */
export type ProtectionDecision =
  /** Sign: `repeat` when this very header was signed before (nothing new was written). */
  { ok: true; repeat: boolean } | { ok: false; reason: RefusalReason; detail: string; conflict: SignedRollup };

/** The interchange file (EIP-3076's shape for rollups; docs/distributed-key.md). */
export interface Interchange {
  metadata: {
    interchange_format_version: typeof INTERCHANGE_FORMAT_VERSION;
    rollup_registry: { chain_id: string; verifying_contract: string };
  };
  data: Array<{
    pubkey: string;
    signed_rollups: Array<{ first_batch_seq: string; last_batch_seq: string; signing_root: string }>;
  }>;
}

const UINT64_MAX = (1n << 64n) - 1n;
const REGISTRY_FILE = "registry.json";
const RECORD_FILE = "signed.jsonl";
const LOCK_FILE = "signer.lock";

const decimal = (what: string) =>
  z
    .string()
    .regex(/^(0|[1-9][0-9]*)$/, `${what} must be a decimal string`)
    .refine((s) => BigInt(s) <= UINT64_MAX, `${what} must fit in uint64`);
const root = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "signing_root must be 0x and 32 bytes of hex")
  .transform((s) => s.toLowerCase());
const pubkey = z
  .string()
  .regex(/^0x[0-9a-fA-F]{192}$/, "pubkey must be 0x and 96 bytes of hex (a compressed G2 public key)")
  .transform((s) => s.toLowerCase());
const address = z.string().refine((a) => isAddress(a), "verifying_contract must be an address");

const interchangeSchema = z.object({
  metadata: z.object({
    interchange_format_version: z.literal(INTERCHANGE_FORMAT_VERSION, {
      errorMap: () => ({ message: `interchange_format_version must be "${INTERCHANGE_FORMAT_VERSION}"` }),
    }),
    rollup_registry: z.object({ chain_id: decimal("chain_id"), verifying_contract: address }),
  }),
  data: z.array(
    z.object({
      pubkey,
      signed_rollups: z.array(
        z
          .object({
            first_batch_seq: decimal("first_batch_seq"),
            last_batch_seq: decimal("last_batch_seq"),
            signing_root: root,
          })
          .refine((r) => BigInt(r.last_batch_seq) >= BigInt(r.first_batch_seq), {
            message: "last_batch_seq is below first_batch_seq",
          }),
      ),
    }),
  ),
});

const lineSchema = z.object({ pk: pubkey, f: decimal("f"), l: decimal("l"), root });
const registrySchema = z.object({ chain_id: decimal("chain_id"), verifying_contract: address });

/** Writes `content` to `file` atomically (tmp, fsync, rename, fsync the directory). */
function writeAtomically(file: string, content: string): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}

/** The first issue of a zod error, as "path: message". */
function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join(".") || "(root)"}: ${issue.message}`;
}

const describe = (r: SignedRollup) =>
  `batches ${r.firstBatchSeq}..${r.lastBatchSeq} with signing root ${r.signingRoot}`;

/**
 * Where `candidate` stands against the disjoint sorted `records`: the index it would be inserted at, and
 * the first record whose range intersects it, if any. A candidate may intersect several records (it can
 * span two disjoint ones); the first is the one that decides, since a record starting at the candidate's
 * own first batch, when there is one, is always the first to intersect it (nothing before it can reach
 * that batch: the records are disjoint). Records are sorted by first batch and disjoint, so their last
 * batches are sorted too: a binary search finds the first record ending at or after the candidate's first.
 */
function locate(records: readonly SignedRollup[], candidate: BatchRange): { index: number; hit?: SignedRollup } {
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (records[mid]!.lastBatchSeq < candidate.firstBatchSeq) lo = mid + 1;
    else hi = mid;
  }
  const next = records[lo];
  if (next !== undefined && next.firstBatchSeq <= candidate.lastBatchSeq) return { index: lo, hit: next };
  return { index: lo };
}

/** The decision for `candidate` against `records` (no side effect). */
function decide(records: readonly SignedRollup[], candidate: SignedRollup): ProtectionDecision & { index: number } {
  const { index, hit } = locate(records, candidate);
  if (hit === undefined) return { ok: true, repeat: false, index };
  if (hit.signingRoot === candidate.signingRoot) {
    if (hit.firstBatchSeq === candidate.firstBatchSeq && hit.lastBatchSeq === candidate.lastBatchSeq) {
      return { ok: true, repeat: true, index };
    }
    // One root, two ranges: not one header. Only a corrupt caller gets here; refuse as an overlap.
  }
  const reason: RefusalReason = hit.firstBatchSeq === candidate.firstBatchSeq ? "double-sign" : "overlap";
  const detail =
    reason === "double-sign"
      ? `already signed another header at first batch ${hit.firstBatchSeq} (${describe(hit)})`
      : `batches ${candidate.firstBatchSeq}..${candidate.lastBatchSeq} overlap a header signed before (${describe(hit)})`;
  return { ok: false, reason, detail, conflict: hit, index };
}

/** Checks that a range is one a header may have: first ≤ last, both uint64. */
function checkRange(range: BatchRange): void {
  if (range.firstBatchSeq < 0n || range.lastBatchSeq > UINT64_MAX || range.lastBatchSeq < range.firstBatchSeq) {
    throw new SlashingProtectionError(
      `batch range ${range.firstBatchSeq}..${range.lastBatchSeq} is not a header's (0 ≤ first ≤ last < 2^64)`,
    );
  }
}

/** The slashing-protection record of one data directory (open it once per process; see the module doc). */
export class SlashingProtection {
  readonly registry: RollupRegistryId;
  readonly #dir: string;
  readonly #byKey = new Map<string, SignedRollup[]>();
  #file: AppendFile | undefined;
  #release: () => void = () => {};

  private constructor(dir: string, registry: RollupRegistryId) {
    this.#dir = dir;
    this.registry = registry;
  }

  /**
   * Opens (or creates) the record in `dir` for `registry`. Throws SlashingProtectionError when the
   * directory is another registry's, is used by another live process, or cannot be read back.
   */
  static open(dir: string, registry: RollupRegistryId): SlashingProtection {
    const resolved = path.resolve(dir);
    const id = { chainId: registry.chainId, address: getAddress(registry.address) };
    mkdirSync(resolved, { recursive: true, mode: 0o700 });
    const release = acquirePidLock(path.join(resolved, LOCK_FILE), (holder) =>
      holder.here
        ? new SlashingProtectionError(`${resolved}: the slashing-protection record is already open in this process`)
        : new SlashingProtectionError(
            `${resolved}: the slashing-protection record is used by another process (pid ${holder.pid}): stop it first`,
          ),
    );
    const store = new SlashingProtection(resolved, id);
    store.#release = release;
    try {
      store.#checkRegistry();
      const torn = store.#load();
      store.#file = new AppendFile(path.join(resolved, RECORD_FILE));
      // A torn last line would glue itself to the next append: rewrite the file without it first.
      if (torn) store.#file.rewrite(store.#lines());
    } catch (e) {
      store.close();
      throw e;
    }
    return store;
  }

  /** The directory of the record. */
  get dir(): string {
    return this.#dir;
  }

  #checkRegistry(): void {
    const file = path.join(this.#dir, REGISTRY_FILE);
    const mine = { chain_id: this.registry.chainId.toString(), verifying_contract: this.registry.address };
    if (!existsSync(file)) {
      writeAtomically(file, `${JSON.stringify(mine)}\n`);
      return;
    }
    let parsed: z.infer<typeof registrySchema>;
    try {
      parsed = registrySchema.parse(JSON.parse(readFileSync(file, "utf8")));
    } catch (e) {
      throw new SlashingProtectionError(`${file}: not a registry record (${(e as Error).message.split("\n")[0]})`);
    }
    if (parsed.chain_id !== mine.chain_id || getAddress(parsed.verifying_contract) !== mine.verifying_contract) {
      throw new SlashingProtectionError(
        `${this.#dir} is the slashing-protection record of RollupRegistry ${parsed.verifying_contract} on chain ` +
          `${parsed.chain_id}, not of ${mine.verifying_contract} on chain ${mine.chain_id}`,
      );
    }
  }

  /** Reads the record; true when the file ends in a torn line (a crash mid-write), which is dropped. */
  #load(): boolean {
    const file = path.join(this.#dir, RECORD_FILE);
    if (!existsSync(file)) return false;
    const content = readFileSync(file, "utf8");
    let lines: unknown[];
    try {
      lines = readJsonLines(file);
    } catch (e) {
      if (e instanceof JsonlFileError) throw new SlashingProtectionError(e.message);
      throw e;
    }
    for (const [i, json] of lines.entries()) {
      const parsed = lineSchema.safeParse(json);
      if (!parsed.success) throw new SlashingProtectionError(`${file}: record ${i + 1}: ${firstIssue(parsed.error)}`);
      const record = {
        firstBatchSeq: BigInt(parsed.data.f),
        lastBatchSeq: BigInt(parsed.data.l),
        signingRoot: parsed.data.root,
      };
      const records = this.#records(parsed.data.pk);
      const d = decide(records, record);
      if (!d.ok)
        throw new SlashingProtectionError(`${file}: record ${i + 1} conflicts with an earlier one: ${d.detail}`);
      if (!d.repeat) records.splice(d.index, 0, record);
    }
    return content.length > 0 && !content.endsWith("\n");
  }

  /** The record's lines, as the file holds them. */
  #lines(): string[] {
    return [...this.#byKey.entries()].flatMap(([pk, records]) => records.map((record) => this.#line(pk, record)));
  }

  #line(pk: string, record: SignedRollup): string {
    return JSON.stringify({
      pk,
      f: record.firstBatchSeq.toString(),
      l: record.lastBatchSeq.toString(),
      root: record.signingRoot,
    });
  }

  #records(publicKey: string): SignedRollup[] {
    let records = this.#byKey.get(publicKey);
    if (records === undefined) {
      records = [];
      this.#byKey.set(publicKey, records);
    }
    return records;
  }

  #append(entries: ReadonlyArray<{ pk: string; record: SignedRollup }>): void {
    if (this.#file === undefined) throw new SlashingProtectionError(`${this.#dir}: the record is closed`);
    this.#file.append(entries.map(({ pk, record }) => this.#line(pk, record)));
  }

  /** What checkAndRecord would decide, without recording anything. */
  check(publicKey: string, range: BatchRange, signingRoot: string): ProtectionDecision {
    checkRange(range);
    const pk = pubkey.parse(publicKey);
    const record = { ...range, signingRoot: root.parse(signingRoot) };
    const { index: _index, ...decision } = decide(this.#byKey.get(pk) ?? [], record);
    return decision;
  }

  /**
   * Decides whether `publicKey` may sign the header covering `range` whose signing root is
   * `signingRoot`; when it may (and the header is new), the record is written and fsync'd before this
   * returns: the caller signs only after. Synchronous, so two requests of one process never interleave.
   */
  checkAndRecord(publicKey: string, range: BatchRange, signingRoot: string): ProtectionDecision {
    checkRange(range);
    const pk = pubkey.parse(publicKey);
    const record = {
      firstBatchSeq: range.firstBatchSeq,
      lastBatchSeq: range.lastBatchSeq,
      signingRoot: root.parse(signingRoot),
    };
    const records = this.#records(pk);
    const { index, ...decision } = decide(records, record);
    if (decision.ok && !decision.repeat) {
      this.#append([{ pk, record }]);
      records.splice(index, 0, record);
    }
    return decision;
  }

  /** The headers `publicKey` signed, by first batch. */
  signed(publicKey: string): readonly SignedRollup[] {
    return [...(this.#byKey.get(pubkey.parse(publicKey)) ?? [])];
  }

  /** The whole record in the interchange format. */
  exportInterchange(): Interchange {
    return {
      metadata: {
        interchange_format_version: INTERCHANGE_FORMAT_VERSION,
        rollup_registry: { chain_id: this.registry.chainId.toString(), verifying_contract: this.registry.address },
      },
      data: [...this.#byKey.entries()]
        .filter(([, records]) => records.length > 0)
        .map(([pk, records]) => ({
          pubkey: pk,
          signed_rollups: records.map((r) => ({
            first_batch_seq: r.firstBatchSeq.toString(),
            last_batch_seq: r.lastBatchSeq.toString(),
            signing_root: r.signingRoot,
          })),
        })),
    };
  }

  /**
   * Merges an interchange file's records into this one (see the module doc). Throws
   * SlashingProtectionError, recording nothing, when `json` is malformed, for another registry, or
   * conflicts with itself or with the record. Resolves with how many records were new and how many
   * were already held.
   */
  importInterchange(json: unknown): { imported: number; known: number } {
    const parsed = interchangeSchema.safeParse(json);
    if (!parsed.success) throw new SlashingProtectionError(`interchange: ${firstIssue(parsed.error)}`);
    const { metadata, data } = parsed.data;
    const theirs = metadata.rollup_registry;
    if (
      BigInt(theirs.chain_id) !== this.registry.chainId ||
      getAddress(theirs.verifying_contract) !== this.registry.address
    ) {
      throw new SlashingProtectionError(
        `interchange: for RollupRegistry ${theirs.verifying_contract} on chain ${theirs.chain_id}, this record is ` +
          `for ${this.registry.address} on chain ${this.registry.chainId}`,
      );
    }
    // Merge into copies first: nothing changes unless the whole file fits.
    const merged = new Map<string, SignedRollup[]>();
    const added: Array<{ pk: string; record: SignedRollup }> = [];
    let known = 0;
    for (const entry of data) {
      const records = merged.get(entry.pubkey) ?? [...(this.#byKey.get(entry.pubkey) ?? [])];
      merged.set(entry.pubkey, records);
      for (const r of entry.signed_rollups) {
        const record = {
          firstBatchSeq: BigInt(r.first_batch_seq),
          lastBatchSeq: BigInt(r.last_batch_seq),
          signingRoot: r.signing_root,
        };
        const d = decide(records, record);
        if (!d.ok) {
          throw new SlashingProtectionError(
            `interchange: conflicting record for ${entry.pubkey}: ${describe(record)} against ${describe(d.conflict)}; ` +
              "nothing was imported",
          );
        }
        if (d.repeat) known += 1;
        else {
          records.splice(d.index, 0, record);
          added.push({ pk: entry.pubkey, record });
        }
      }
    }
    if (added.length > 0) this.#append(added);
    for (const [pk, records] of merged) this.#byKey.set(pk, records);
    return { imported: added.length, known };
  }

  /** Closes the record and releases the directory. */
  close(): void {
    this.#file?.close();
    this.#file = undefined;
    this.#release();
  }
}
