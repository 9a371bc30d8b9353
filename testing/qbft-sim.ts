/**
 * A deterministic simulated network for the QBFT core (enclave/consensus/qbft): a virtual clock, a seeded
 * xorshift PRNG, random delays, drops, duplicates and a partition until a heal time, and up to f Byzantine members
 * that equivocate, forge and replay justifications, impersonate, sign from outside the committee and flood future
 * rounds. The same seed gives the same run.
 *
 * Signatures are HMAC-SHA256 over the message's canonical encoding with a per-operator key: a stand-in for the
 * enclave's signature (symmetric, so any verifier holding the keyring could forge; fine for a simulation whose
 * Byzantine members only use their own key).
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";

import {
  type Action,
  Instance,
  type Message,
  type OperatorId,
  type PrePrepare,
  type Prepare,
  type RejectReason,
  type RoundChange,
  type RoundTimerConfig,
  type Signed,
  type Signer,
  type Verifier,
  encodeMessage,
  faultTolerance,
  proposerOf,
  quorumSize,
  valueDigest,
} from "../enclave/consensus/qbft/index.js";

/** xorshift32: a small seeded PRNG, so a failing property prints a seed that replays the run. */
export class Xorshift {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }

  /** A uniform integer in [0, bound). */
  int(bound: number): number {
    return this.next() % bound;
  }

  /** true with probability `p`. */
  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }
}

/** The HMAC key of operator `id` (derived, so every test agrees on it). */
export function testKey(id: OperatorId): Uint8Array {
  return sha256(utf8ToBytes(`veilnet-qbft-test-key:${id}`));
}

/** A Signer signing with `id`'s test key. */
export function testSigner(id: OperatorId): Signer {
  const key = testKey(id);
  return { sign: (message: Message) => hmac(sha256, key, encodeMessage(message)) };
}

/** A Verifier holding the test keys of `ids`; a sender outside them never verifies. */
export function testVerifier(ids: readonly OperatorId[]): Verifier {
  const keys = new Map(ids.map((id) => [id, testKey(id)]));
  return {
    verify(signed: Signed, sender: OperatorId): boolean {
      const key = keys.get(sender);
      if (key === undefined) return false;
      const expected = hmac(sha256, key, encodeMessage(signed.message));
      return expected.length === signed.signature.length && expected.every((b, i) => b === signed.signature[i]);
    },
  };
}

/** `message` signed with `id`'s test key (whatever its sender field says). */
export function signAs<M extends Message>(id: OperatorId, message: M): Signed<M> {
  return { message, signature: testSigner(id).sign(message) };
}

/** Network faults before the heal time; after it messages arrive within `healedMaxDelayMs`, none dropped. */
export interface NetworkConfig {
  readonly maxDelayMs: number;
  readonly dropRate: number;
  readonly duplicateRate: number;
  /** Split the committee in two random groups that cannot talk until `healAtMs`. */
  readonly partition: boolean;
  readonly healAtMs: number;
  readonly healedMaxDelayMs: number;
}

/** One simulated run. */
export interface SimConfig {
  readonly seed: number;
  readonly n: number;
  readonly height?: number;
  /** Number of Byzantine members (≤ f), chosen at random. */
  readonly byzantine?: number;
  /** Members that never start and drop everything (a crash before the height). */
  readonly crashed?: readonly OperatorId[];
  readonly network: NetworkConfig;
  readonly timer: RoundTimerConfig;
  /** Stop the run at this virtual time. */
  readonly untilMs: number;
}

/** A member's decision and when it happened. */
export interface SimDecision {
  readonly digest: string;
  readonly round: number;
  readonly atMs: number;
}

/** What a run produced. */
export interface SimResult {
  readonly honest: readonly OperatorId[];
  readonly byzantine: readonly OperatorId[];
  readonly decisions: ReadonlyMap<OperatorId, SimDecision>;
  readonly rejections: ReadonlyMap<RejectReason, number>;
  readonly endMs: number;
  readonly deliveries: number;
  /** Each member's round when the run ended. */
  readonly rounds: ReadonlyMap<OperatorId, number>;
}

type Scheduled =
  | { readonly at: number; readonly kind: "deliver"; readonly to: OperatorId; readonly message: Signed }
  | {
      readonly at: number;
      readonly kind: "timer";
      readonly node: OperatorId;
      readonly round: number;
      readonly generation: number;
    };

type Event = Scheduled & { readonly seq: number };

/** A binary min-heap of events by (time, sequence): ties resolve in scheduling order, so runs are deterministic. */
class EventQueue {
  private readonly heap: Event[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(event: Event): void {
    const heap = this.heap;
    heap.push(event);
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      swap(heap, i, parent);
      i = parent;
    }
  }

  pop(): Event | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || last === undefined) return top;
    heap[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l], heap[m])) m = l;
      if (r < heap.length && before(heap[r], heap[m])) m = r;
      if (m === i) break;
      swap(heap, i, m);
      i = m;
    }
    return top;
  }
}

function before(a: Event | undefined, b: Event | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

function swap(list: Event[], i: number, j: number): void {
  const a = list[i];
  const b = list[j];
  if (a === undefined || b === undefined) return;
  list[i] = b;
  list[j] = a;
}

/** The input value member `id` proposes. */
export function inputValue(id: OperatorId, height: number): Uint8Array {
  return utf8ToBytes(`batch ${height} proposed by ${id}`);
}

/** The simulation of one height. */
export class QbftSim {
  readonly committee: readonly OperatorId[];
  readonly honest: readonly OperatorId[];
  readonly byzantine: readonly OperatorId[];
  private readonly crashed: ReadonlySet<OperatorId>;
  private readonly height: number;
  private readonly rng: Xorshift;
  private readonly queue = new EventQueue();
  private readonly nodes = new Map<OperatorId, Instance>();
  private readonly timerGeneration = new Map<OperatorId, number>();
  private readonly side = new Map<OperatorId, number>();
  private readonly decisions = new Map<OperatorId, SimDecision>();
  private readonly rejections = new Map<RejectReason, number>();
  /** Honest messages the Byzantine members have seen, to replay in forged justifications. */
  private readonly seen: Signed[] = [];
  private now = 0;
  private seq = 0;
  private deliveries = 0;

  constructor(private readonly config: SimConfig) {
    this.rng = new Xorshift(config.seed);
    this.height = config.height ?? 7;
    this.committee = Array.from({ length: config.n }, (_, i) => 10 + i);
    const byzantineCount = config.byzantine ?? 0;
    if (byzantineCount > faultTolerance(config.n)) throw new Error(`QbftSim: ${byzantineCount} Byzantine > f`);
    const shuffled = this.committee.map((id) => ({ id, key: this.rng.next() }));
    shuffled.sort((a, b) => a.key - b.key);
    this.byzantine = shuffled.slice(0, byzantineCount).map((s) => s.id);
    this.crashed = new Set(config.crashed ?? []);
    this.honest = this.committee.filter((id) => !this.byzantine.includes(id) && !this.crashed.has(id));
    for (const id of this.committee) this.side.set(id, this.rng.int(2));
    const verifier = testVerifier(this.committee);
    for (const id of this.committee) {
      const instance = new Instance({
        height: this.height,
        self: id,
        committee: this.committee,
        signer: testSigner(id),
        verifier,
        timer: config.timer,
      });
      this.nodes.set(id, instance);
    }
  }

  /** Starts every live member and runs the clock until every honest member decided (after the heal) or `untilMs`. */
  run(): SimResult {
    for (const id of this.committee) {
      if (this.crashed.has(id)) continue;
      this.perform(id, this.node(id).start(inputValue(id, this.height)));
    }
    while (this.queue.size > 0) {
      const event = this.queue.pop();
      if (event === undefined || event.at > this.config.untilMs) break;
      this.now = event.at;
      if (event.kind === "deliver") this.deliver(event.to, event.message);
      else if (this.timerGeneration.get(event.node) === event.generation) {
        this.perform(event.node, this.node(event.node).onTimeout(event.round));
      }
      if (this.now > this.config.network.healAtMs && this.honest.every((id) => this.decisions.has(id))) break;
    }
    return {
      honest: this.honest,
      byzantine: this.byzantine,
      decisions: this.decisions,
      rejections: this.rejections,
      endMs: this.now,
      deliveries: this.deliveries,
      rounds: new Map(this.committee.map((id) => [id, this.node(id).currentRound])),
    };
  }

  private node(id: OperatorId): Instance {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`QbftSim: no node ${id}`);
    return node;
  }

  private isByzantine(id: OperatorId): boolean {
    return this.byzantine.includes(id);
  }

  private deliver(to: OperatorId, message: Signed): void {
    if (this.crashed.has(to)) return;
    this.deliveries += 1;
    if (this.isByzantine(to) && !this.isByzantine(message.message.sender)) this.remember(message);
    const result = this.node(to).receive(message);
    if (!result.accepted) {
      this.rejections.set(result.reason, (this.rejections.get(result.reason) ?? 0) + 1);
      return;
    }
    this.perform(to, result.actions);
    if (this.isByzantine(to)) this.attack(to);
  }

  private remember(message: Signed): void {
    if (this.seen.length < 2_000) this.seen.push(message);
  }

  private perform(id: OperatorId, actions: readonly Action[]): void {
    for (const action of actions) {
      if (action.kind === "broadcast") {
        if (this.isByzantine(id)) this.byzantineBroadcast(id, action.message);
        else this.broadcast(id, action.message);
      } else if (action.kind === "schedule-timer") {
        const generation = (this.timerGeneration.get(id) ?? 0) + 1;
        this.timerGeneration.set(id, generation);
        this.push({ at: this.now + action.ms, kind: "timer", node: id, round: action.round, generation });
      } else if (!this.decisions.has(id)) {
        this.decisions.set(id, { digest: action.digest, round: action.round, atMs: this.now });
      }
    }
  }

  private push(event: Scheduled): void {
    this.queue.push({ ...event, seq: this.seq++ });
  }

  private broadcast(from: OperatorId, message: Signed): void {
    for (const to of this.committee) if (to !== from) this.send(from, to, message);
  }

  /** One message over the faulty network. */
  private send(from: OperatorId, to: OperatorId, message: Signed): void {
    const net = this.config.network;
    const faulty = this.now < net.healAtMs;
    if (faulty && net.partition && this.side.get(from) !== this.side.get(to)) return;
    if (faulty && this.rng.chance(net.dropRate)) return;
    const copies = this.rng.chance(net.duplicateRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = 1 + this.rng.int(faulty ? net.maxDelayMs : net.healedMaxDelayMs);
      this.push({ at: this.now + delay, kind: "deliver", to, message });
    }
  }

  // ---- Byzantine behaviour ----

  /** A Byzantine member's own message: PRE-PREPAREs and votes equivocate, half the members get a conflicting one. */
  private byzantineBroadcast(from: OperatorId, signed: Signed): void {
    const message = signed.message;
    const evil = inputValue(from + 1000, this.height);
    let conflicting: Signed | undefined;
    if (message.type === "pre-prepare") {
      conflicting = signAs(from, { ...message, value: evil, digest: valueDigest(evil) });
    } else if (message.type === "prepare" || message.type === "commit") {
      conflicting = signAs(from, { ...message, digest: valueDigest(evil) });
    }
    for (const to of this.committee) {
      if (to === from) continue;
      this.send(from, to, conflicting !== undefined && this.rng.chance(0.5) ? conflicting : signed);
    }
  }

  /** After each delivery a Byzantine member may try one attack. */
  private attack(id: OperatorId): void {
    if (!this.rng.chance(0.2)) return;
    const round = this.node(id).currentRound;
    const attacks = [
      () => this.floodFutureRounds(id, round),
      () => this.forgeProposal(id, round),
      () => this.impersonate(id, round),
      () => this.signAsOutsider(round),
      () => this.replayAtWrongRound(id),
    ];
    const pick = attacks[this.rng.int(attacks.length)];
    pick?.();
  }

  private roundChange(sender: OperatorId, round: number, height = this.height): RoundChange {
    const base = { type: "round-change", height, round, sender, preparedRound: null } as const;
    return { ...base, digest: null, preparedValue: null, prepareJustification: [] };
  }

  /** ROUND-CHANGEs for many future rounds (f senders cannot make anyone jump), some beyond the accepted window. */
  private floodFutureRounds(id: OperatorId, round: number): void {
    for (let r = round + 1; r <= round + 5; r++) this.broadcast(id, signAs(id, this.roundChange(id, r)));
    this.broadcast(id, signAs(id, this.roundChange(id, round + 500)));
  }

  /**
   * A PRE-PREPARE for the next round this member leads, for its own value, justified by replayed honest
   * ROUND-CHANGEs (of any round), their prepared certificates dropped, or a certificate from another round.
   */
  private forgeProposal(id: OperatorId, round: number): void {
    let target = round;
    while (proposerOf(this.committee, this.height, target) !== id) target += 1;
    if (target === 1) target += this.committee.length;
    const evil = inputValue(id + 2000, this.height);
    const rcs = this.seen.filter((s): s is Signed<RoundChange> => s.message.type === "round-change");
    const strip = this.rng.chance(0.5);
    const justification = rcs.slice(-quorumSize(this.committee.length)).map((rc) =>
      strip
        ? signAs(id, {
            ...rc.message,
            preparedRound: null,
            digest: null,
            preparedValue: null,
            prepareJustification: [],
          })
        : rc,
    );
    const prepares = this.seen.filter((s): s is Signed<Prepare> => s.message.type === "prepare");
    const proposal: PrePrepare = {
      type: "pre-prepare",
      height: this.height,
      round: target,
      sender: id,
      digest: valueDigest(evil),
      value: evil,
      roundChangeJustification: justification,
      prepareJustification: prepares.slice(-quorumSize(this.committee.length)),
    };
    this.broadcast(id, signAs(id, proposal));
  }

  /** A COMMIT claiming an honest sender, signed with this member's key. */
  private impersonate(id: OperatorId, round: number): void {
    const victim = this.honest[this.rng.int(Math.max(1, this.honest.length))] ?? id;
    const evil = valueDigest(inputValue(id + 3000, this.height));
    this.broadcast(id, signAs(id, { type: "commit", height: this.height, round, sender: victim, digest: evil }));
  }

  /** A COMMIT from an operator outside the committee, signed with its own key. */
  private signAsOutsider(round: number): void {
    const outsider = 999;
    const evil = valueDigest(inputValue(outsider, this.height));
    const commit = { type: "commit", height: this.height, round, sender: outsider, digest: evil } as const;
    this.broadcast(outsider, signAs(outsider, commit));
  }

  /** A seen honest message replayed, or re-signed by this member at another height. */
  private replayAtWrongRound(id: OperatorId): void {
    const seen = this.seen[this.rng.int(Math.max(1, this.seen.length))];
    if (seen !== undefined) this.broadcast(id, seen);
    this.broadcast(id, signAs(id, this.roundChange(id, 2, this.height + 1)));
  }
}

/** Runs one simulation. */
export function simulate(config: SimConfig): SimResult {
  return new QbftSim(config).run();
}
