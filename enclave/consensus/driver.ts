/**
 * The committee driver: runs one QBFT instance per batch height over a transport, with the durable log
 * of store.ts, and hands each decided value to the application (the sequencer, which executes and seals
 * the batch). A committee of one goes through the same path and decides at once.
 *
 * Height h is the number of batches the application has sealed: a member never starts a height before
 * the previous one is decided and applied. Each height starts `batchIntervalMs` after the previous one
 * started (the batch interval, as a single sequencer keeps it; at once when deciding and applying took
 * longer); its round-1 proposer proposes, the others wait for it, and the instance's round timers take
 * over if it does not come.
 *
 * Inputs are handled one at a time, in order. Before any message leaves, the inputs that produced it are
 * fsync'd to the log, so a member restarted from its data directory replays into the very state it was
 * in and never contradicts what it sent. A member that lags learns the decided values with their commit
 * certificates: from `decided` announcements, by asking (`sync-request`), or as the answer to a message
 * of a height its peers have decided already.
 */
import type { Logger } from "pino";

import { certificateProblem } from "./certificate.js";
import type { ConsensusMetrics } from "./metrics.js";
import {
  type Action,
  Instance,
  type OperatorId,
  type RoundTimerConfig,
  type Signed,
  type Signer,
  type Verifier,
  proposerOf,
  valueDigest,
} from "./qbft/index.js";
import type { ConsensusStore } from "./store.js";
import type { DecidedRecord, WireMessage } from "./wire.js";

/** What the driver decides for: the sequencer, in production. */
export interface ConsensusApp {
  /** The height to decide next: the number of values applied so far. */
  nextHeight(): number;
  /** This member's value for `height` (its proposal, used if it leads a round). */
  propose(height: number): Promise<Uint8Array>;
  /** Why `value` cannot be decided at `height` by this member's checks, or undefined when it can. */
  check(height: number, value: Uint8Array): Promise<string | undefined>;
  /** Applies the decided value of the next height (durably, before it resolves). */
  apply(decided: DecidedRecord): Promise<void>;
}

/** Sends to every other member (and, for `decided`, to any follower). */
export interface ConsensusTransport {
  send(message: WireMessage): void;
}

/** Timers and time, so tests can drive a virtual clock. */
export interface DriverClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const SYSTEM_CLOCK: DriverClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface DriverConfig {
  self: OperatorId;
  committee: readonly OperatorId[];
  signer: Signer;
  verifier: Verifier;
  store: ConsensusStore;
  app: ConsensusApp;
  transport: ConsensusTransport;
  logger: Logger;
  batchIntervalMs: number;
  timer?: RoundTimerConfig;
  metrics?: ConsensusMetrics;
  clock?: DriverClock;
  /** Messages for heights further ahead than this are dropped (default 8). */
  maxHeightsAhead?: number;
  /** Messages buffered per future height (default 256). */
  maxBufferedPerHeight?: number;
  /** Decided records sent per sync request (default 32). */
  syncBatch?: number;
}

/** The driver's state, for the node's status and the devnet's banner. */
export interface DriverStatus {
  height: number;
  round: number;
  leader: OperatorId;
  committee: readonly OperatorId[];
  self: OperatorId;
  decided: number;
  lastDecidedAtMs: number | undefined;
}

type DecideAction = Extract<Action, { kind: "decide" }>;

export class CommitteeDriver {
  private readonly clock: DriverClock;
  private readonly maxHeightsAhead: number;
  private readonly maxBufferedPerHeight: number;
  private readonly syncBatch: number;
  private instance: Instance | undefined;
  private height = 0;
  private started = false;
  private replaying = false;
  private stopped = false;
  private queue: Promise<void> = Promise.resolve();
  private roundTimer: unknown;
  private startTimer: unknown;
  private heightStartedAt = 0;
  private lastDecidedAt: number | undefined;
  private decidedCount = 0;
  /** Digest → this member's verdict on the value (values are checked asynchronously, before the instance sees them). */
  private readonly verdicts = new Map<string, string | undefined>();
  /** QBFT messages of heights not started yet. */
  private readonly future = new Map<number, Signed[]>();
  /** Decided records of heights above the next one, waiting for the heights before them. */
  private readonly decidedAhead = new Map<number, DecidedRecord>();
  private lastSyncRequestAt = Number.NEGATIVE_INFINITY;
  private readonly lastAnswerAt = new Map<OperatorId, number>();
  private readonly decidedListeners: ((record: DecidedRecord) => void)[] = [];

  constructor(private readonly config: DriverConfig) {
    this.clock = config.clock ?? SYSTEM_CLOCK;
    this.maxHeightsAhead = config.maxHeightsAhead ?? 8;
    this.maxBufferedPerHeight = config.maxBufferedPerHeight ?? 256;
    this.syncBatch = config.syncBatch ?? 32;
    if (!config.committee.includes(config.self)) {
      throw new Error(`CommitteeDriver: operator ${config.self} is not in the committee ${config.committee.join(",")}`);
    }
  }

  /** Called with every record this member decides or syncs, after the application applied it. */
  onDecided(listener: (record: DecidedRecord) => void): void {
    this.decidedListeners.push(listener);
  }

  /** Recovers from the store (replaying the logged height) and starts deciding. */
  async start(): Promise<void> {
    this.started = true;
    await this.enqueue(() => this.recover());
  }

  /** Stops timers and waits for the input being handled; the log is flushed. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.roundTimer);
    this.clock.clearTimeout(this.startTimer);
    await this.queue;
    this.config.store.flush();
  }

  /** A message from the transport (any sender; everything is checked). */
  deliver(message: WireMessage): void {
    if (this.stopped) return;
    void this.enqueue(() => this.handle(message));
  }

  status(): DriverStatus {
    const round = this.instance?.currentRound ?? 1;
    return {
      height: this.height,
      round,
      leader: proposerOf(this.config.committee, this.height, round),
      committee: this.config.committee,
      self: this.config.self,
      decided: this.decidedCount,
      lastDecidedAtMs: this.lastDecidedAt,
    };
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(async () => {
      if (this.stopped && this.started) return;
      try {
        await task();
      } catch (error) {
        this.config.logger.error({ err: error, height: this.height }, "consensus input failed");
      }
    });
    this.queue = run;
    return run;
  }

  // ---- heights ------------------------------------------------------------------------------------

  private async recover(): Promise<void> {
    const { store, app } = this.config;
    // A crash between recording a decision and applying it: apply it now.
    for (let next = store.decided(app.nextHeight()); next !== undefined; next = store.decided(app.nextHeight())) {
      await app.apply(next);
    }
    this.height = app.nextHeight();
    const logged = store.entriesOf(this.height);
    this.newInstance();
    if (logged.length === 0) {
      this.scheduleStart(0);
      return;
    }
    this.replaying = true;
    const actions: Action[] = [];
    try {
      for (const entry of logged) {
        const instance = this.current();
        if (entry.kind === "start") actions.push(...instance.start(entry.value ?? undefined));
        else if (entry.kind === "timeout") actions.push(...instance.onTimeout(entry.round));
        else if (entry.kind === "message") {
          const result = instance.receive(entry.message.signed);
          if (result.accepted) actions.push(...result.actions);
          else this.config.logger.warn({ reason: result.reason }, "a logged message no longer applies");
        }
      }
    } finally {
      this.replaying = false;
    }
    this.heightStartedAt = this.clock.now();
    this.config.logger.info(
      { height: this.height, round: this.current().currentRound, inputs: logged.length },
      "consensus state restored from the log",
    );
    // Re-send this member's messages (the same bytes: signatures are deterministic) and keep only the last timer.
    await this.execute(actions, { resend: true });
    this.flushFuture();
  }

  private newInstance(): void {
    const { config } = this;
    config.store.beginHeight(this.height);
    this.verdicts.clear();
    this.instance = new Instance({
      height: this.height,
      self: config.self,
      committee: config.committee,
      signer: config.signer,
      verifier: config.verifier,
      timer: config.timer,
      isValidValue: (value) => this.replaying || this.verdicts.get(valueDigest(value)) === undefined,
      onVote: (vote) => {
        const held = config.store.voteAt(vote.height, vote.round, vote.type);
        if (held !== undefined && held !== vote.digest) {
          throw new Error(
            `refusing a second ${vote.type} at height ${vote.height} round ${vote.round}: the log holds one for ${held}`,
          );
        }
        if (held === undefined) config.store.append({ kind: "vote", vote });
      },
    });
    this.config.metrics?.height.set(this.height);
    this.config.metrics?.round.set(1);
    this.updateLeader();
  }

  private current(): Instance {
    if (this.instance === undefined) throw new Error("CommitteeDriver: no instance");
    return this.instance;
  }

  private scheduleStart(delayMs: number): void {
    const height = this.height;
    this.clock.clearTimeout(this.startTimer);
    this.startTimer = this.clock.setTimeout(
      () => void this.enqueue(() => this.startHeight(height)),
      Math.max(0, delayMs),
    );
  }

  private async startHeight(height: number): Promise<void> {
    if (height !== this.height || this.instance === undefined || this.config.store.entriesOf(height).length > 0) return;
    const value = await this.config.app.propose(height);
    if (height !== this.height) return; // synced past it meanwhile
    this.verdicts.set(valueDigest(value), undefined);
    this.config.store.append({ kind: "start", height, value });
    this.heightStartedAt = this.clock.now();
    await this.execute(this.current().start(value));
    this.flushFuture();
  }

  /** Delivers the messages buffered for the current height. */
  private flushFuture(): void {
    const buffered = this.future.get(this.height);
    this.future.delete(this.height);
    for (const [h] of this.future) if (h < this.height) this.future.delete(h);
    for (const signed of buffered ?? []) void this.enqueue(() => this.onQbft(signed));
  }

  // ---- actions --------------------------------------------------------------------------------------

  private async execute(actions: readonly Action[], options: { resend?: boolean } = {}): Promise<void> {
    const broadcasts = actions.filter((a) => a.kind === "broadcast");
    // The write-ahead rule: what produced a message is on disk before the message leaves.
    this.config.store.flush();
    for (const a of broadcasts) this.config.transport.send({ kind: "qbft", signed: a.message });
    let timer: Extract<Action, { kind: "schedule-timer" }> | undefined;
    let decide: DecideAction | undefined;
    for (const a of actions) {
      if (a.kind === "schedule-timer") timer = a;
      if (a.kind === "decide") decide = a;
    }
    if (decide !== undefined) {
      await this.decided({
        height: this.height,
        round: decide.round,
        value: decide.value,
        certificate: decide.certificate,
      });
      return;
    }
    if (timer !== undefined) this.setRoundTimer(timer.round, timer.ms);
    if (options.resend === true || timer !== undefined) {
      this.config.metrics?.round.set(this.current().currentRound);
      this.updateLeader();
    }
  }

  private setRoundTimer(round: number, ms: number): void {
    const height = this.height;
    this.clock.clearTimeout(this.roundTimer);
    this.roundTimer = this.clock.setTimeout(() => void this.enqueue(() => this.onTimeout(height, round)), ms);
  }

  private async onTimeout(height: number, round: number): Promise<void> {
    if (height !== this.height || this.instance === undefined) return;
    const actions = this.instance.onTimeout(round);
    if (actions.length === 0) return;
    this.config.store.append({ kind: "timeout", height, round });
    this.config.metrics?.roundChanges.inc();
    this.config.logger.info({ height, round: this.instance.currentRound }, "round timer expired: round change");
    await this.execute(actions);
  }

  private updateLeader(): void {
    const round = this.instance?.currentRound ?? 1;
    this.config.metrics?.isLeader.set(
      proposerOf(this.config.committee, this.height, round) === this.config.self ? 1 : 0,
    );
  }

  // ---- decisions ------------------------------------------------------------------------------------

  private async decided(record: DecidedRecord): Promise<void> {
    const { store, app, metrics, logger } = this.config;
    store.recordDecided(record);
    this.clock.clearTimeout(this.roundTimer);
    await app.apply(record);
    const now = this.clock.now();
    metrics?.decided.inc();
    metrics?.decideSeconds.observe((now - this.heightStartedAt) / 1000);
    logger.debug({ height: record.height, round: record.round }, "height decided");
    this.lastDecidedAt = now;
    this.decidedCount++;
    this.config.transport.send({ kind: "decided", decided: record });
    for (const listener of this.decidedListeners) listener(record);
    this.height = app.nextHeight();
    this.newInstance();
    const ahead = this.decidedAhead.get(this.height);
    if (ahead !== undefined) {
      this.decidedAhead.delete(this.height);
      await this.onDecidedRecord(ahead);
      return;
    }
    // A fixed cadence, as L1 and OP Stack chains keep a block time: the next height starts one interval
    // after this one started (at once when deciding took longer), not one interval after the decision.
    this.scheduleStart(this.config.batchIntervalMs - (now - this.heightStartedAt));
  }

  // ---- inputs ---------------------------------------------------------------------------------------

  private async handle(message: WireMessage): Promise<void> {
    switch (message.kind) {
      case "qbft":
        return this.onQbft(message.signed);
      case "decided":
        return this.onDecidedRecord(message.decided);
      case "sync-request":
        return this.onSyncRequest(message.sender, message.fromHeight);
    }
  }

  private async onQbft(signed: Signed): Promise<void> {
    const { message } = signed;
    const metrics = this.config.metrics;
    if (message.height < this.height) {
      // A peer is behind: answer its round change with the decided record it needs (QBFT's decided proof).
      if (message.type === "round-change") this.answer(message.sender, message.height);
      metrics?.messages.inc({ type: message.type, result: "old-height" });
      return;
    }
    const startedHeight = this.config.store.entriesOf(this.height).length > 0;
    if (message.height > this.height || !startedHeight) {
      if (message.height > this.height + this.maxHeightsAhead) {
        metrics?.messages.inc({ type: message.type, result: "too-far-ahead" });
        return;
      }
      const list = this.future.get(message.height) ?? [];
      if (list.length < this.maxBufferedPerHeight) list.push(signed);
      this.future.set(message.height, list);
      if (message.height > this.height + 1) this.requestSync();
      return;
    }
    const value =
      message.type === "pre-prepare" ? message.value : message.type === "round-change" ? message.preparedValue : null;
    if (value !== null) await this.judge(value);
    const result = this.current().receive(signed);
    if (!result.accepted) {
      metrics?.messages.inc({ type: message.type, result: result.reason });
      if (result.reason === "invalid-value") {
        this.config.logger.warn(
          {
            height: message.height,
            round: message.round,
            from: message.sender,
            reason: this.verdicts.get(valueDigest(value ?? new Uint8Array())),
          },
          "refused a proposal",
        );
      }
      return;
    }
    metrics?.messages.inc({ type: message.type, result: "accepted" });
    this.config.store.append({ kind: "message", height: this.height, message: { kind: "qbft", signed } });
    await this.execute(result.actions);
  }

  /** Checks a value once (asynchronously) and remembers the verdict for the instance's synchronous check. */
  private async judge(value: Uint8Array): Promise<void> {
    const digest = valueDigest(value);
    if (this.verdicts.has(digest)) return;
    let problem: string | undefined;
    try {
      problem = await this.config.app.check(this.height, value);
    } catch (error) {
      problem = `check failed: ${(error as Error).message}`;
    }
    if (problem !== undefined) this.config.metrics?.invalidProposals.inc();
    this.verdicts.set(digest, problem);
  }

  private async onDecidedRecord(record: DecidedRecord): Promise<void> {
    if (record.height < this.height) return;
    const problem = certificateProblem(record, this.config.committee, this.config.verifier);
    if (problem !== undefined) {
      this.config.logger.warn({ height: record.height, problem }, "refused a decided record");
      this.config.metrics?.messages.inc({ type: "decided", result: "invalid-certificate" });
      return;
    }
    if (record.height > this.height) {
      if (record.height <= this.height + 1024 && this.decidedAhead.size < 1024)
        this.decidedAhead.set(record.height, record);
      this.requestSync();
      return;
    }
    // The certificate proves a quorum committed it: no other value can be decided at this height.
    this.config.metrics?.synced.inc();
    this.config.logger.info(
      { height: record.height, round: record.round },
      "applying a decided batch from its certificate",
    );
    await this.decided(record);
  }

  private requestSync(): void {
    const now = this.clock.now();
    if (now - this.lastSyncRequestAt < 1_000) return;
    this.lastSyncRequestAt = now;
    this.config.transport.send({ kind: "sync-request", sender: this.config.self, fromHeight: this.height });
  }

  private async onSyncRequest(sender: OperatorId, fromHeight: number): Promise<void> {
    this.answer(sender, fromHeight);
  }

  /** Sends decided records from `fromHeight` on (at most one answer per peer per second). */
  private answer(peer: OperatorId, fromHeight: number): void {
    const now = this.clock.now();
    if (now - (this.lastAnswerAt.get(peer) ?? Number.NEGATIVE_INFINITY) < 1_000) return;
    this.lastAnswerAt.set(peer, now);
    for (let h = fromHeight; h < fromHeight + this.syncBatch && h < this.height; h++) {
      const record = this.config.store.decided(h);
      if (record !== undefined) this.config.transport.send({ kind: "decided", decided: record });
    }
  }
}
