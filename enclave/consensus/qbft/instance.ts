/**
 * One QBFT instance (Moniz 2020, Algorithms 1–4) for one height, as a deterministic state machine: inputs are
 * `start`, `receive` and `onTimeout`; outputs are actions (broadcast, schedule a timer, decide) the caller carries
 * out. It keeps no clock, does no I/O and throws only on a broken internal invariant; a bad message is rejected
 * with a reason and leaves the state as it was.
 */
import {
  type Commit,
  type Digest,
  type Message,
  type MessageType,
  type OperatorId,
  type PrePrepare,
  type Prepare,
  type RoundChange,
  type Signed,
  type Signer,
  type Verifier,
  encodeMessage,
  valueDigest,
} from "./messages.js";

/** Round timer t(r) (Algorithm 1): `quickMs` for rounds ≤ `quickRounds`, `slowMs` after. */
export interface RoundTimerConfig {
  readonly quickMs: number;
  readonly quickRounds: number;
  readonly slowMs: number;
}

/**
 * Defaults for a 1 s batch interval: a round that has not finished in 1.5 s has a faulty or slow proposer (a
 * committee of 4 on one 2-core machine under a burst of transfers decides in 594 ms at the median and 1.66 s at
 * p99, bench:committee: 750 ms made round changes of slow but honest rounds); after 6 quick rounds the network
 * itself is likely partitioned, so rounds slow to 5 s to let the members resynchronise (SSV's spec uses
 * 2 s / 8 rounds / 2 min for 12 s slots). A dead leader costs one quick timeout: failover stays under 3 s.
 */
export const DEFAULT_ROUND_TIMER: RoundTimerConfig = { quickMs: 1_500, quickRounds: 6, slowMs: 5_000 };

/** t(round) for `config`. */
export function roundTimeout(config: RoundTimerConfig, round: number): number {
  return round <= config.quickRounds ? config.quickMs : config.slowMs;
}

/** A PREPARE or COMMIT about to be signed: what durable storage records before it leaves the instance. */
export interface Vote {
  readonly height: number;
  readonly round: number;
  readonly type: "prepare" | "commit";
  readonly digest: Digest;
}

/** Configuration of one instance. */
export interface InstanceConfig {
  readonly height: number;
  readonly self: OperatorId;
  /** The committee's operator ids (any order; the instance sorts them). */
  readonly committee: readonly OperatorId[];
  readonly signer: Signer;
  readonly verifier: Verifier;
  readonly timer?: RoundTimerConfig;
  /** Messages more than this many rounds ahead of the current one are rejected (bounds a future-round flood). */
  readonly maxRoundsAhead?: number;
  /** External validity of a proposed value (the batch checks); a PRE-PREPARE failing it is rejected. */
  readonly isValidValue?: (value: Uint8Array) => boolean;
  /**
   * Called before a PREPARE or COMMIT is signed. Durable storage will record the vote here so that a restarted
   * member never votes twice differently in one (height, round); it may throw to stop the vote.
   */
  readonly onVote?: (vote: Vote) => void;
}

/** What the caller must do after an input. */
export type Action =
  | { readonly kind: "broadcast"; readonly message: Signed }
  /** Start the round timer, replacing the one running; on expiry call {@link Instance.onTimeout}(round). */
  | { readonly kind: "schedule-timer"; readonly round: number; readonly ms: number }
  | {
      readonly kind: "decide";
      readonly value: Uint8Array;
      readonly digest: Digest;
      readonly round: number;
      readonly certificate: readonly Signed<Commit>[];
    };

/** Why a message was rejected. */
export type RejectReason =
  | "wrong-height"
  | "unknown-sender"
  | "bad-round"
  | "round-too-far"
  | "bad-signature"
  | "duplicate"
  | "equivocation"
  | "wrong-proposer"
  | "digest-mismatch"
  | "invalid-justification"
  | "invalid-value";

/** The outcome of {@link Instance.receive}. */
export type ReceiveResult =
  | { readonly accepted: true; readonly actions: readonly Action[] }
  | { readonly accepted: false; readonly reason: RejectReason; readonly detail: string };

/** Fault tolerance f of a committee of n: the largest f with n ≥ 3f + 1. */
export function faultTolerance(n: number): number {
  return Math.floor((n - 1) / 3);
}

/** Quorum size ⌈(n + f + 1) / 2⌉ (2f + 1 when n = 3f + 1). */
export function quorumSize(n: number): number {
  return Math.ceil((n + faultTolerance(n) + 1) / 2);
}

/** leader(height, round) (Algorithm 1): round-robin over the sorted committee. */
export function proposerOf(committee: readonly OperatorId[], height: number, round: number): OperatorId {
  const sorted = [...committee].sort((a, b) => a - b);
  const id = sorted[(height + round) % sorted.length];
  if (id === undefined) throw new Error("proposerOf: empty committee");
  return id;
}

class Rejection extends Error {
  constructor(
    readonly reason: RejectReason,
    readonly detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}

function reject(reason: RejectReason, detail: string): never {
  throw new Rejection(reason, detail);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return a.every((byte, i) => byte === b[i]);
}

/** Messages of one type, by round then sender: the first message per (round, sender) is the one counted. */
class MessageStore<M extends Message> {
  private readonly rounds = new Map<number, Map<OperatorId, Signed<M>>>();

  get(round: number, sender: OperatorId): Signed<M> | undefined {
    return this.rounds.get(round)?.get(sender);
  }

  add(signed: Signed<M>): void {
    const { round, sender } = signed.message;
    let bySender = this.rounds.get(round);
    if (bySender === undefined) {
      bySender = new Map();
      this.rounds.set(round, bySender);
    }
    bySender.set(sender, signed);
  }

  inRound(round: number): Signed<M>[] {
    return [...(this.rounds.get(round)?.values() ?? [])];
  }

  roundsHeld(): number[] {
    return [...this.rounds.keys()];
  }
}

/** One QBFT instance for one height. */
export class Instance {
  readonly height: number;
  readonly self: OperatorId;
  readonly committee: readonly OperatorId[];
  readonly quorum: number;
  readonly f: number;
  private readonly members: ReadonlySet<OperatorId>;
  private readonly timer: RoundTimerConfig;
  private readonly maxRoundsAhead: number;

  private started = false;
  private round = 1;
  private inputValue: Uint8Array | undefined;
  private preparedRound: number | null = null;
  private preparedValue: Uint8Array | null = null;
  private preparedCertificate: readonly Signed<Prepare>[] = [];
  private decision: Extract<Action, { kind: "decide" }> | undefined;

  private readonly values = new Map<Digest, Uint8Array>();
  private readonly proposals = new MessageStore<PrePrepare>();
  private readonly prepares = new MessageStore<Prepare>();
  private readonly commits = new MessageStore<Commit>();
  /** At most one further, conflicting COMMIT per (round, sender), see {@link Instance.backedByOthers}. */
  private readonly secondCommits = new MessageStore<Commit>();
  private readonly roundChanges = new MessageStore<RoundChange>();
  /** Rounds in which this member voted, per vote type, with the digest: the one-vote-per-round invariant. */
  private readonly votes = { prepare: new Map<number, Digest>(), commit: new Map<number, Digest>() };
  private readonly proposedRounds = new Set<number>();

  constructor(private readonly config: InstanceConfig) {
    this.height = config.height;
    this.self = config.self;
    this.committee = [...config.committee].sort((a, b) => a - b);
    this.members = new Set(this.committee);
    if (this.members.size !== this.committee.length) throw new Error("Instance: committee has duplicate ids");
    if (!this.members.has(config.self)) throw new Error(`Instance: self ${config.self} is not in the committee`);
    this.f = faultTolerance(this.committee.length);
    this.quorum = quorumSize(this.committee.length);
    this.timer = config.timer ?? DEFAULT_ROUND_TIMER;
    this.maxRoundsAhead = config.maxRoundsAhead ?? 100;
  }

  /** The current round. */
  get currentRound(): number {
    return this.round;
  }

  /** The decision, once there is one. */
  get decided(): Extract<Action, { kind: "decide" }> | undefined {
    return this.decision;
  }

  /** Algorithm 1 Start: round 1, the round-1 proposal if this member leads it, and the round timer. */
  start(value?: Uint8Array): Action[] {
    if (this.started) throw new Error("Instance.start: already started");
    this.started = true;
    this.inputValue = value;
    if (value !== undefined) this.values.set(valueDigest(value), value);
    const actions: Action[] = [this.scheduleTimer()];
    if (this.isProposer(1) && value !== undefined) {
      this.proposedRounds.add(1);
      this.emit(actions, this.prePrepare(1, value, [], []));
    }
    return [...actions, ...this.evaluate()];
  }

  /** Algorithm 3, upon timer expiry: the next round and its ROUND-CHANGE. A stale or post-decision timer is ignored. */
  onTimeout(round: number): Action[] {
    if (!this.started || this.decision !== undefined || round !== this.round) return [];
    const actions: Action[] = [];
    this.enterRound(this.round + 1, actions);
    return [...actions, ...this.evaluate()];
  }

  /** Validates `signed` and, if it holds, records it and applies every upon-rule it enables. */
  receive(signed: Signed): ReceiveResult {
    try {
      this.validate(signed);
    } catch (error) {
      if (!(error instanceof Rejection)) throw error;
      if (error.reason === "equivocation" && this.learnDecidedValue(signed)) {
        return { accepted: true, actions: this.evaluate() };
      }
      return { accepted: false, reason: error.reason, detail: error.detail };
    }
    const actions = this.record(signed);
    return { accepted: true, actions: [...actions, ...this.evaluate()] };
  }

  /**
   * An equivocating proposer's second PRE-PREPARE is not counted, but if a COMMIT quorum already holds for its
   * digest it carries the value this member must decide (a decided member's proof after the proposer equivocated).
   * Its value is learned only if the PRE-PREPARE is otherwise valid and no value is known for that quorum.
   */
  private learnDecidedValue(signed: Signed): boolean {
    const message = signed.message;
    if (message.type !== "pre-prepare" || this.decision !== undefined || this.values.has(message.digest)) return false;
    const votes = this.commits.inRound(message.round).filter((c) => c.message.digest === message.digest);
    if (votes.length < this.quorum) return false;
    try {
      this.validatePrePrepare(message);
    } catch (error) {
      if (error instanceof Rejection) return false;
      throw error;
    }
    this.values.set(message.digest, message.value);
    return true;
  }

  private isProposer(round: number): boolean {
    return proposerOf(this.committee, this.height, round) === this.self;
  }

  private scheduleTimer(): Action {
    return { kind: "schedule-timer", round: this.round, ms: roundTimeout(this.timer, this.round) };
  }

  // ---- validation (never changes state) ----

  private validate(signed: Signed): void {
    const message = signed.message;
    this.checkEnvelope(signed, message.type, message.round);
    if (message.round > this.round + this.maxRoundsAhead) {
      reject("round-too-far", `round ${message.round} is more than ${this.maxRoundsAhead} ahead of ${this.round}`);
    }
    const held = this.storeOf(message.type).get(message.round, message.sender);
    if (held !== undefined) {
      const second = message.type === "commit" ? this.secondCommits.get(message.round, message.sender) : undefined;
      for (const counted of [held, second]) {
        if (counted !== undefined && sameBytes(encodeMessage(counted.message), encodeMessage(message))) {
          reject("duplicate", `${message.type} of round ${message.round} from ${message.sender} already counted`);
        }
      }
      if (message.type !== "commit" || second !== undefined || !this.backedByOthers(message)) {
        reject("equivocation", `a different ${message.type} of round ${message.round} from ${message.sender}`);
      }
    }
    if (message.type === "pre-prepare") this.validatePrePrepare(message);
    if (message.type === "round-change") this.validateRoundChange(message);
  }

  /**
   * A Byzantine member's second COMMIT of a round is still counted if f+1 other members (so at least one honest)
   * committed its digest: otherwise a member that first saw the other COMMIT could never complete a decided
   * member's certificate. Safe because two COMMIT quorums of one round share an honest member, who commits once.
   */
  private backedByOthers(commit: Commit): boolean {
    const others = this.commits
      .inRound(commit.round)
      .filter((c) => c.message.digest === commit.digest && c.message.sender !== commit.sender);
    return others.length >= this.f + 1;
  }

  /** Height, sender, round and signature of a message or of one inside a justification. */
  private checkEnvelope(signed: Signed, type: MessageType, round: number): void {
    const message = signed.message;
    if (message.type !== type) reject("invalid-justification", `expected a ${type}, got a ${message.type}`);
    if (message.height !== this.height) reject("wrong-height", `height ${message.height}, expected ${this.height}`);
    if (!this.members.has(message.sender)) reject("unknown-sender", `operator ${message.sender} is not a member`);
    if (!Number.isSafeInteger(message.round) || message.round < 1) reject("bad-round", `round ${message.round}`);
    if (message.round !== round) reject("invalid-justification", `round ${message.round}, expected ${round}`);
    if (!this.config.verifier.verify(signed, message.sender)) {
      reject("bad-signature", `${message.type} of round ${message.round} from ${message.sender}`);
    }
  }

  /** A quorum of distinct members' valid messages of `type` and `round` (nested failures become invalid-justification). */
  private checkQuorum(set: readonly Signed[], type: MessageType, round: number, what: string): void {
    const senders = new Set<OperatorId>();
    for (const signed of set) {
      try {
        this.checkEnvelope(signed, type, round);
      } catch (error) {
        if (error instanceof Rejection) reject("invalid-justification", `${what}: ${error.message}`);
        throw error;
      }
      senders.add(signed.message.sender);
    }
    if (senders.size !== set.length) reject("invalid-justification", `${what}: a sender appears twice`);
    if (senders.size < this.quorum) reject("invalid-justification", `${what}: ${senders.size} of ${this.quorum}`);
  }

  /** A prepared certificate: a PREPARE quorum of `round` for `digest`. */
  private checkPreparedCertificate(set: readonly Signed<Prepare>[], round: number, digest: Digest): void {
    this.checkQuorum(set, "prepare", round, `prepared certificate of round ${round}`);
    if (set.some((p) => p.message.digest !== digest)) {
      reject("invalid-justification", `prepared certificate of round ${round} votes for another digest`);
    }
  }

  private validateRoundChange(message: RoundChange): void {
    const { preparedRound, digest, preparedValue, prepareJustification } = message;
    if (preparedRound === null) {
      if (digest !== null || preparedValue !== null || prepareJustification.length > 0) {
        reject("invalid-justification", "a ROUND-CHANGE that prepared nothing carries a prepared value");
      }
      return;
    }
    if (digest === null || preparedValue === null) {
      reject("invalid-justification", `prepared round ${preparedRound} without a value`);
    }
    if (valueDigest(preparedValue) !== digest) reject("digest-mismatch", "prepared value does not match its digest");
    if (!Number.isSafeInteger(preparedRound) || preparedRound < 1 || preparedRound >= message.round) {
      reject("invalid-justification", `prepared round ${preparedRound} is not below round ${message.round}`);
    }
    this.checkPreparedCertificate(prepareJustification, preparedRound, digest);
  }

  /** JustifyPrePrepare (Algorithm 4) plus proposer, digest and external validity. */
  private validatePrePrepare(message: PrePrepare): void {
    const expected = proposerOf(this.committee, this.height, message.round);
    if (message.sender !== expected) {
      reject("wrong-proposer", `round ${message.round} is proposed by ${expected}, not ${message.sender}`);
    }
    if (valueDigest(message.value) !== message.digest) reject("digest-mismatch", "value does not match its digest");
    if (message.round === 1) {
      if (message.roundChangeJustification.length > 0 || message.prepareJustification.length > 0) {
        reject("invalid-justification", "a round-1 PRE-PREPARE carries justifications");
      }
    } else {
      this.justifyRoundChangeQuorum(message);
    }
    if (this.config.isValidValue !== undefined && !this.config.isValidValue(message.value)) {
      reject("invalid-value", `the proposed value of round ${message.round} fails the value check`);
    }
  }

  /** JustifyRoundChange over the PRE-PREPARE's ROUND-CHANGE quorum: the value is free or the highest prepared one. */
  private justifyRoundChangeQuorum(message: PrePrepare): void {
    const quorum = message.roundChangeJustification;
    this.checkQuorum(quorum, "round-change", message.round, `ROUND-CHANGE quorum of round ${message.round}`);
    for (const rc of quorum) {
      try {
        this.validateRoundChange(rc.message);
      } catch (error) {
        if (error instanceof Rejection) reject("invalid-justification", `ROUND-CHANGE in quorum: ${error.message}`);
        throw error;
      }
    }
    const highest = highestPrepared(quorum);
    if (highest === undefined) {
      if (message.prepareJustification.length > 0) {
        reject("invalid-justification", "a prepared certificate though no ROUND-CHANGE prepared");
      }
      return;
    }
    const { preparedRound, digest } = highest.message;
    if (preparedRound === null || digest === null) throw new Error("highestPrepared returned an unprepared message");
    if (message.digest !== digest) {
      reject("invalid-justification", `round ${preparedRound} prepared another value than the one proposed`);
    }
    this.checkPreparedCertificate(message.prepareJustification, preparedRound, digest);
  }

  // ---- state changes ----

  /** The store of `type`, viewed as holding any message (each store only ever receives its own type). */
  private storeOf(type: MessageType): MessageStore<Message> {
    const stores: Record<MessageType, unknown> = {
      "pre-prepare": this.proposals,
      prepare: this.prepares,
      commit: this.commits,
      "round-change": this.roundChanges,
    };
    return stores[type] as MessageStore<Message>;
  }

  /** Stores a validated message; a decided member answers a ROUND-CHANGE with its decision's proof. */
  private record(signed: Signed): Action[] {
    const message = signed.message;
    if (message.type === "commit" && this.commits.get(message.round, message.sender) !== undefined) {
      this.secondCommits.add(signed as Signed<Commit>);
    } else {
      this.storeOf(message.type).add(signed);
    }
    if (message.type === "pre-prepare") this.values.set(message.digest, message.value);
    if (message.type === "round-change" && message.preparedValue !== null && message.digest !== null) {
      this.values.set(message.digest, message.preparedValue);
    }
    if (message.type === "round-change" && this.decision !== undefined && message.sender !== this.self) {
      return this.decisionProof();
    }
    return [];
  }

  /** The decided round's COMMIT quorum and PRE-PREPARE (for its value, after the votes), re-broadcast for a member that lags. */
  private decisionProof(): Action[] {
    if (this.decision === undefined) return [];
    const { round, certificate } = this.decision;
    const proposal = this.proposals.get(round, proposerOf(this.committee, this.height, round));
    const messages: Signed[] = [...certificate, ...(proposal === undefined ? [] : [proposal])];
    return messages.map((message) => ({ kind: "broadcast", message }));
  }

  /** Signs, self-delivers and broadcasts one of this member's own messages. */
  private emit(actions: Action[], message: Message): void {
    const signed: Signed = { message, signature: this.config.signer.sign(message) };
    this.storeOf(message.type).add(signed);
    actions.push({ kind: "broadcast", message: signed });
  }

  /** Records a vote, refusing a second different vote of one type in one round (the invariant of §4). */
  private vote(actions: Action[], type: "prepare" | "commit", round: number, digest: Digest): void {
    const held = this.votes[type].get(round);
    if (held !== undefined) {
      if (held !== digest) throw new Error(`invariant: a second ${type} in round ${round} for another value`);
      return;
    }
    this.config.onVote?.({ height: this.height, round, type, digest });
    this.votes[type].set(round, digest);
    this.emit(actions, { type, height: this.height, round, sender: this.self, digest });
  }

  private prePrepare(
    round: number,
    value: Uint8Array,
    roundChangeJustification: readonly Signed<RoundChange>[],
    prepareJustification: readonly Signed<Prepare>[],
  ): PrePrepare {
    const digest = valueDigest(value);
    return {
      type: "pre-prepare",
      height: this.height,
      round,
      sender: this.self,
      digest,
      value,
      roundChangeJustification,
      prepareJustification,
    };
  }

  /** Moves to `round`, restarts the timer and broadcasts this member's ROUND-CHANGE for it. */
  private enterRound(round: number, actions: Action[]): void {
    this.round = round;
    actions.push(this.scheduleTimer());
    if (this.roundChanges.get(round, this.self) !== undefined) return;
    this.emit(actions, {
      type: "round-change",
      height: this.height,
      round,
      sender: this.self,
      preparedRound: this.preparedRound,
      digest: this.preparedValue === null ? null : valueDigest(this.preparedValue),
      preparedValue: this.preparedValue,
      prepareJustification: this.preparedCertificate,
    });
  }

  /**
   * Applies the upon-rules of Algorithms 2 and 3 until none fires. A decided member keeps following round changes,
   * proposals and votes (only its own timeouts stop), so that members which missed the decision can still form
   * quorums: with an equivocating proposer some honest members may decide while others cannot.
   */
  private evaluate(): Action[] {
    const actions: Action[] = [];
    if (!this.started) return actions;
    for (let fired = true; fired;) {
      const before = actions.length;
      if (this.decision === undefined) this.tryDecide(actions);
      this.tryJumpRound(actions);
      this.tryAcceptProposal(actions);
      this.tryCommit(actions);
      this.tryPropose(actions);
      fired = actions.length > before;
    }
    return actions;
  }

  /** Algorithm 2: a COMMIT quorum of any round for one digest decides (once the value is known). */
  private tryDecide(actions: Action[]): void {
    for (const round of this.commits.roundsHeld()) {
      const votes = [...this.commits.inRound(round), ...this.secondCommits.inRound(round)];
      for (const [digest, certificate] of byDigest(votes)) {
        const value = this.values.get(digest);
        if (certificate.length < this.quorum || value === undefined) continue;
        this.decision = { kind: "decide", value, digest, round, certificate: certificate.slice(0, this.quorum) };
        actions.push(this.decision);
        return;
      }
    }
  }

  /**
   * Algorithm 3: f+1 ROUND-CHANGEs for rounds above ours move us to the smallest round of such a set.
   * Of the sets that exist, the one of the f+1 highest senders' rounds (each sender counted at its
   * highest round) is taken, so a member that lags jumps as far as the algorithm allows: choosing the
   * lowest senders' rounds instead (also a valid Frc) left members spread over several rounds under
   * load, each timing out one round behind the next and never forming a quorum in one round.
   */
  private tryJumpRound(actions: Action[]): void {
    const highestAbove = new Map<OperatorId, number>();
    for (const round of this.roundChanges.roundsHeld()) {
      if (round <= this.round) continue;
      for (const rc of this.roundChanges.inRound(round)) {
        const seen = highestAbove.get(rc.message.sender);
        if (seen === undefined || round > seen) highestAbove.set(rc.message.sender, round);
      }
    }
    if (highestAbove.size < this.f + 1) return;
    const rounds = [...highestAbove.values()].sort((a, b) => b - a);
    const target = rounds[this.f];
    if (target !== undefined) this.enterRound(target, actions);
  }

  /** Algorithm 2: the current round's justified proposal (or a later one's, moving there) earns our PREPARE. */
  private tryAcceptProposal(actions: Action[]): void {
    const later = this.proposals
      .roundsHeld()
      .filter((round) => round > this.round)
      .sort((a, b) => b - a)[0];
    if (later !== undefined) {
      this.round = later;
      actions.push(this.scheduleTimer());
    }
    const proposal = this.proposals.get(this.round, proposerOf(this.committee, this.height, this.round));
    if (proposal === undefined || this.votes.prepare.has(this.round)) return;
    if (later === undefined) actions.push(this.scheduleTimer());
    this.vote(actions, "prepare", this.round, proposal.message.digest);
  }

  /** Algorithm 2: a PREPARE quorum in the current round prepares the value and earns our COMMIT. */
  private tryCommit(actions: Action[]): void {
    if (this.votes.commit.has(this.round)) return;
    for (const [digest, certificate] of byDigest(this.prepares.inRound(this.round))) {
      const value = this.values.get(digest);
      if (certificate.length < this.quorum || value === undefined) continue;
      this.preparedRound = this.round;
      this.preparedValue = value;
      this.preparedCertificate = certificate.slice(0, this.quorum);
      this.vote(actions, "commit", this.round, digest);
      return;
    }
  }

  /** Algorithm 3: the proposer of a later round with a ROUND-CHANGE quorum for it proposes the highest prepared value. */
  private tryPropose(actions: Action[]): void {
    const round = this.round;
    if (round === 1 || this.proposedRounds.has(round) || !this.isProposer(round)) return;
    const quorum = this.roundChanges.inRound(round);
    if (quorum.length < this.quorum) return;
    const highest = highestPrepared(quorum);
    const value = highest?.message.preparedValue ?? this.inputValue;
    if (value === undefined || value === null) return;
    this.proposedRounds.add(round);
    const certificate = highest?.message.prepareJustification ?? [];
    const justification = [...(highest === undefined ? [] : [highest]), ...quorum.filter((rc) => rc !== highest)];
    this.emit(actions, this.prePrepare(round, value, justification.slice(0, this.quorum), certificate));
  }
}

/** HighestPrepared (Algorithm 4): the ROUND-CHANGE with the highest prepared round, if any prepared. */
function highestPrepared(set: readonly Signed<RoundChange>[]): Signed<RoundChange> | undefined {
  let best: Signed<RoundChange> | undefined;
  for (const rc of set) {
    const round = rc.message.preparedRound;
    if (round !== null && (best === undefined || round > (best.message.preparedRound ?? 0))) best = rc;
  }
  return best;
}

function byDigest<M extends Prepare | Commit>(messages: readonly Signed<M>[]): Map<Digest, Signed<M>[]> {
  const groups = new Map<Digest, Signed<M>[]>();
  for (const signed of messages) {
    const group = groups.get(signed.message.digest) ?? [];
    group.push(signed);
    groups.set(signed.message.digest, group);
  }
  return groups;
}
