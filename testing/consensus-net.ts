/**
 * An in-process committee for tests of enclave/consensus/driver.ts: members with real secp256k1 keys,
 * their durable stores in temporary directories, and a network that carries every message through the
 * wire encoding (as the p2p layer would), with a tap on all traffic and switches to cut a member off.
 * The application is a tiny replicated log: a value is JSON {height, proposer, nonce}.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { SigningKey, Wallet, computeAddress } from "ethers";
import pino from "pino";

import { type ConsensusApp, CommitteeDriver } from "../enclave/consensus/driver.js";
import { ecdsaSigner, ecdsaVerifier } from "../enclave/consensus/keys.js";
import type { OperatorId, RoundTimerConfig } from "../enclave/consensus/qbft/index.js";
import { ConsensusStore } from "../enclave/consensus/store.js";
import { type WireMessage, decodeWire, encodeWire } from "../enclave/consensus/wire.js";

export interface LogApp extends ConsensusApp {
  readonly values: string[];
  /** When set, this member proposes values its peers' checks refuse. */
  proposeInvalid: boolean;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** The replicated log: members check that a value names the height and a committee member. */
export function logApp(self: OperatorId, committee: readonly OperatorId[]): LogApp {
  const values: string[] = [];
  let nonce = 0;
  const app: LogApp = {
    values,
    proposeInvalid: false,
    nextHeight: () => values.length,
    propose: async (height) =>
      encoder.encode(
        JSON.stringify({ height: app.proposeInvalid ? height + 100 : height, proposer: self, nonce: nonce++ }),
      ),
    check: async (height, value) => {
      const v = JSON.parse(decoder.decode(value)) as { height: number; proposer: number };
      if (v.height !== height) return `value is for height ${v.height}, not ${height}`;
      if (!committee.includes(v.proposer)) return `proposer ${v.proposer} is not a member`;
      return undefined;
    },
    apply: async (decided) => {
      if (decided.height !== values.length) throw new Error(`apply ${decided.height} at ${values.length}`);
      values.push(decoder.decode(decided.value));
    },
  };
  return app;
}

export interface TestMember<A extends ConsensusApp> {
  readonly id: OperatorId;
  readonly dir: string;
  readonly app: A;
  /** The values this member decided or synced, by height, in hex (kept across its restarts). */
  readonly decided: string[];
  driver: CommitteeDriver | undefined;
  store: ConsensusStore | undefined;
}

export class TestCommittee<A extends ConsensusApp = LogApp> {
  readonly members = new Map<OperatorId, TestMember<A>>();
  readonly keys = new Map<OperatorId, SigningKey>();
  readonly addresses = new Map<OperatorId, string>();
  /** Every message sent, decoded from its wire bytes, with its sender. */
  readonly traffic: { from: OperatorId; message: WireMessage }[] = [];
  private readonly cut = new Set<OperatorId>();
  /** Called with every message after it was delivered (tests cut members off from here). */
  readonly taps: ((from: OperatorId, message: WireMessage) => void)[] = [];

  constructor(
    readonly committee: readonly OperatorId[],
    private readonly options: {
      batchIntervalMs: number;
      timer: RoundTimerConfig;
      /** The application of each member (default: the replicated log of {@link logApp}). */
      app?: (id: OperatorId, dir: string) => A;
      keys?: ReadonlyMap<OperatorId, SigningKey>;
    },
  ) {
    for (const id of committee) {
      const key = options.keys?.get(id) ?? new SigningKey(Wallet.createRandom().privateKey);
      this.keys.set(id, key);
      this.addresses.set(id, computeAddress(key.publicKey));
      const dir = mkdtempSync(path.join(tmpdir(), `veilnet-qbft-${id}-`));
      const app = options.app?.(id, dir) ?? (logApp(id, committee) as unknown as A);
      this.members.set(id, { id, dir, app, decided: [], driver: undefined, store: undefined });
    }
  }

  member(id: OperatorId): TestMember<A> {
    const m = this.members.get(id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  /** Starts (or restarts) member `id` from its data directory. */
  async start(id: OperatorId): Promise<void> {
    const m = this.member(id);
    const key = this.keys.get(id);
    if (key === undefined) throw new Error(`no key for ${id}`);
    const store = new ConsensusStore(path.join(m.dir, "consensus"));
    const driver = new CommitteeDriver({
      self: id,
      committee: this.committee,
      signer: ecdsaSigner(key),
      verifier: ecdsaVerifier((op) => this.addresses.get(op)),
      store,
      app: m.app,
      transport: { send: (message) => this.send(id, message) },
      logger: pino({ level: process.env.CONSENSUS_TEST_LOG ?? "silent" }),
      batchIntervalMs: this.options.batchIntervalMs,
      timer: this.options.timer,
    });
    driver.onDecided((record) => {
      m.decided[record.height] = Buffer.from(record.value).toString("hex");
    });
    m.driver = driver;
    m.store = store;
    this.cut.delete(id);
    await driver.start();
  }

  async startAll(): Promise<void> {
    for (const id of this.committee) await this.start(id);
  }

  /** Cuts member `id` off at once: nothing it sends from now on reaches anyone (then {@link kill} it). */
  isolate(id: OperatorId): void {
    this.cut.add(id);
  }

  /** Stops member `id` as a crash would (nothing more leaves it; its files stay). */
  async kill(id: OperatorId): Promise<void> {
    const m = this.member(id);
    this.cut.add(id);
    await m.driver?.stop();
    m.store?.close();
    m.driver = undefined;
    m.store = undefined;
  }

  async stopAll(): Promise<void> {
    for (const id of this.committee) await this.kill(id);
  }

  /** Stops every member and deletes their data directories. */
  async dispose(): Promise<void> {
    await this.stopAll();
    for (const m of this.members.values()) rmSync(m.dir, { recursive: true, force: true });
  }

  /** Waits until every running member has applied `height` values, or throws after `timeoutMs`. */
  async waitForHeight(height: number, timeoutMs: number, ids: readonly OperatorId[] = this.running()): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (ids.some((id) => this.member(id).app.nextHeight() < height)) {
      if (Date.now() > deadline) {
        const at = ids.map((id) => `${id}:${this.member(id).app.nextHeight()}`).join(" ");
        throw new Error(`members did not reach height ${height} in ${timeoutMs} ms (${at})`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  running(): OperatorId[] {
    return this.committee.filter((id) => this.member(id).driver !== undefined);
  }

  /** Throws if two members applied different values at one height, or a member voted twice differently. */
  checkSafety(): void {
    const longest = Math.max(...this.committee.map((id) => this.member(id).decided.length));
    for (let h = 0; h < longest; h++) {
      const seen = new Set(
        this.committee.map((id) => this.member(id).decided[h]).filter((v): v is string => v !== undefined),
      );
      if (seen.size > 1) throw new Error(`height ${h} decided differently: ${[...seen].join(" / ")}`);
    }
    const votes = new Map<string, string>();
    for (const { message } of this.traffic) {
      if (message.kind !== "qbft") continue;
      const m = message.signed.message;
      if (m.type !== "prepare" && m.type !== "commit") continue;
      const key = `${m.sender}/${m.height}/${m.round}/${m.type}`;
      const held = votes.get(key);
      if (held !== undefined && held !== m.digest) throw new Error(`operator ${m.sender} sent two ${key} votes`);
      votes.set(key, m.digest);
    }
  }

  private send(from: OperatorId, message: WireMessage): void {
    if (this.cut.has(from)) return;
    const bytes = encodeWire(message);
    this.traffic.push({ from, message: decodeWire(bytes) });
    for (const [id, m] of this.members) {
      if (id === from || this.cut.has(id) || m.driver === undefined) continue;
      const driver = m.driver;
      setImmediate(() => driver.deliver(decodeWire(bytes)));
    }
    for (const tap of this.taps) tap(from, message);
  }
}
