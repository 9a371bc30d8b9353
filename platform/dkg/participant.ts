/**
 * One operator's side of the Joint-Feldman DKG (Pedersen, "A threshold cryptosystem without a trusted
 * party", EUROCRYPT 1991; the JF-DKG of Gennaro, Jarecki, Krawczyk and Rabin, "Secure distributed key
 * generation for discrete-log based cryptosystems", EUROCRYPT 1999), as a pure state machine: it does
 * no I/O and keeps no clock. The caller delivers messages (`receive`), tells it when a round's deadline
 * has passed (`timeout`), broadcasts what it returns, and writes `snapshot()` durably before any of it
 * leaves.
 *
 * 1. Deal: operator i draws f_i of degree t − 1 over Fr, broadcasts C_i = [a_ik·G2] and f_i(j) for
 *    every j, ECIES-encrypted to j's key under an ephemeral key it keeps.
 * 2. Complaints: once it has every deal (or at round 1's deadline), each j opens its shares and checks
 *    each against its dealer's commitments (`verifyShare`), then broadcasts its complaints ("bad-share",
 *    or "missing" for a deal that never came) with an echo of every deal it accepted.
 * 3. Justification: an accused dealer broadcasts its deal again and the ephemeral secret of each
 *    accuser's ciphertext; everyone opens that ciphertext and checks the share. A share that verifies
 *    answers a "missing" complaint (the accuser takes it) and shows a "bad-share" complaint false (the
 *    accuser is the culprit); one that does not, or no answer by the deadline, makes the dealer the
 *    culprit. Two different signed deals of one dealer (seen directly or in the echoes) make it a
 *    culprit too, as does silence in round 2.
 * Any culprit aborts the ceremony without a key: `{ kind: "aborted", culprits, reason }`. Otherwise
 * x_j = Σ_i f_i(j), PK = Σ_i C_i0, and x_j is checked against the summed commitments.
 *
 * Every incoming message is checked (shape, ceremony, sender, signature, round, duplicates, points) and
 * refused with a reason otherwise; nothing a peer sends makes it throw. A participant rebuilt from a
 * snapshot of an unfinished ceremony never continues it (`resumeCeremony`): its polynomial and the
 * shares it received were never written, so the ceremony aborts.
 */
import {
  type PublicKey,
  type Share,
  Fr,
  publicKeyFromPoint,
  publicKeyPoint,
  secretKeyOf,
  sharePublicKey,
  splitSecret,
  verifyShare,
} from "../bls/index.js";
import { bytesToNumberBE } from "@noble/curves/utils.js";
import { hexlify } from "ethers";

import { type Ceremony, type CeremonyTerms, type DkgAborted, type DkgResult, ceremonyOf } from "./ceremony.js";
import { SEALED_SHARE_LENGTH, ephemeralSecret, openRevealed, openShare, sealShare, shareAad } from "./ecies.js";
import {
  type ComplaintReason,
  type ComplaintsMessage,
  type DealMessage,
  type DkgMessage,
  type JustificationMessage,
  type Unsigned,
  digestOf,
  parseMessage,
  payloadHash,
  signingDigest,
} from "./messages.js";
import { type DkgRandom, randomScalar, systemRandom } from "./random.js";
import { type DkgSigner, signedBy } from "./signer.js";

/** Why a message was refused. */
export type Refusal =
  | "malformed"
  | "wrong ceremony"
  | "unknown sender"
  | "wrong round"
  | "bad signature"
  | "duplicate"
  | "invalid content"
  | "finished";

/** What a participant returns for each event: messages to broadcast, its result once it has one. */
export interface Step {
  readonly messages: readonly DkgMessage[];
  readonly result?: DkgResult;
  readonly refused?: { readonly reason: Refusal; readonly detail: string };
}

/** Where a participant is. */
export type Phase = "new" | "dealt" | "complained" | "justifying" | "done";

/** What a participant exposes for the caller to write durably (no secret: the result's share is not in it). */
export interface DkgSnapshot {
  readonly version: 1;
  readonly ceremonyId: string;
  readonly index: number;
  readonly phase: Phase;
  readonly outcome?:
    | { readonly kind: "completed"; readonly publicKey: string }
    | { readonly kind: "aborted"; readonly culprits: readonly number[]; readonly reason: string };
}

/** How a participant is made. */
export interface ParticipantOptions {
  readonly terms: CeremonyTerms;
  /** This operator's index in terms.operators. */
  readonly index: number;
  readonly signer: DkgSigner;
  /** The secp256k1 secret key of terms.operators[index − 1].encryptionKey (32 bytes). */
  readonly decryptionKey: Uint8Array;
  /** The CSPRNG by default; inject a seeded one for reproducible tests. */
  readonly random?: DkgRandom;
}

/** A deal accepted, with this operator's share from it once checked. */
interface DealState {
  readonly message: DealMessage;
  readonly hash: string;
  readonly commitments: readonly PublicKey[];
  share?: bigint;
  problem?: string;
}

/** A complaint with its author. */
interface Accusation {
  readonly accuser: number;
  readonly dealer: number;
  readonly reason: ComplaintReason;
}

class Refused extends Error {
  constructor(
    readonly reason: Refusal,
    detail: string,
  ) {
    super(detail);
  }
}

/** The sum of `values` in Fr. */
const sumFr = (values: readonly bigint[]): bigint => values.reduce((a, b) => Fr.add(a, b), Fr.ZERO);

/** One operator in one DKG ceremony. */
export class DkgParticipant {
  readonly ceremony: Ceremony;
  readonly index: number;
  private readonly signer: DkgSigner;
  private readonly decryptionKey: Uint8Array;
  private readonly random: DkgRandom;
  private phase: Phase = "new";
  private result: DkgResult | undefined;
  private readonly ephemerals = new Map<number, Uint8Array>();
  private readonly deals = new Map<number, DealState>();
  /** Every validly signed deal payload hash seen per dealer (more than one: it equivocated). */
  private readonly dealHashes = new Map<number, Set<string>>();
  private readonly complaints = new Map<number, ComplaintsMessage>();
  private readonly justifications = new Map<number, JustificationMessage>();
  private accusations: Accusation[] = [];
  private readonly refusalCounts = new Map<Refusal, number>();

  constructor(options: ParticipantOptions) {
    this.ceremony = ceremonyOf(options.terms);
    const me = this.ceremony.operators[options.index - 1];
    if (me === undefined) throw new Error(`DKG: no operator ${options.index}`);
    this.index = options.index;
    this.signer = options.signer;
    this.decryptionKey = options.decryptionKey;
    this.random = options.random ?? systemRandom;
  }

  /** Messages refused so far, by reason. */
  refusals(): ReadonlyMap<Refusal, number> {
    return this.refusalCounts;
  }

  /** Where the participant is, for the caller to write durably before sending what a step returned. */
  snapshot(): DkgSnapshot {
    const base = { version: 1 as const, ceremonyId: this.ceremony.id, index: this.index, phase: this.phase };
    if (this.result === undefined) return base;
    const outcome =
      this.result.kind === "completed"
        ? { kind: "completed" as const, publicKey: hexlify(this.result.publicKey.bytes) }
        : { kind: "aborted" as const, culprits: this.result.culprits, reason: this.result.reason };
    return { ...base, outcome };
  }

  /** Round 1: draws the polynomial and returns the deal to broadcast. */
  start(): Step {
    if (this.phase !== "new") return { messages: [] };
    const { n, threshold, operators, ceremonyId } = this.ceremony;
    const split = splitSecret(secretKeyOf(randomScalar(this.random)), n, threshold, {
      randomScalar: () => randomScalar(this.random),
    });
    const ciphertexts = split.shares.map((share) => {
      const ephemeral = ephemeralSecret(this.random);
      this.ephemerals.set(share.index, ephemeral);
      const recipient = operators[share.index - 1]!;
      return sealShare(
        recipient.encryptionKey,
        share.secretKey,
        ephemeral,
        shareAad(ceremonyId, this.index, share.index),
      );
    });
    const deal = this.signed<DealMessage>({
      ceremonyId,
      round: 1,
      sender: this.index,
      commitments: split.commitments.map((c) => c.bytes),
      ciphertexts,
    });
    this.storeDeal(deal);
    this.phase = "dealt";
    return this.advance([deal]);
  }

  /** A message from a peer: refused with a reason, or taken (and maybe the next round's messages, or the result). */
  receive(input: unknown): Step {
    if (this.phase === "done") return this.refuse(new Refused("finished", "the ceremony is over"));
    try {
      const message = this.validate(input);
      this.accept(message);
    } catch (e) {
      if (e instanceof Refused) return this.refuse(e);
      return this.refuse(new Refused("invalid content", (e as Error).message));
    }
    return this.advance([]);
  }

  /** Round `round`'s deadline has passed: what was not received by now counts as never sent. */
  timeout(round: 1 | 2 | 3): Step {
    if (round === 1 && this.phase === "dealt") return this.advance([this.sendComplaints()]);
    if (round === 2 && this.phase === "complained") return this.advance(this.evaluateComplaints(true));
    if (round === 3 && this.phase === "justifying") return this.advance(this.evaluateJustifications(true));
    return { messages: [], ...(this.result === undefined ? {} : { result: this.result }) };
  }

  private refuse(e: Refused): Step {
    this.refusalCounts.set(e.reason, (this.refusalCounts.get(e.reason) ?? 0) + 1);
    return { messages: [], refused: { reason: e.reason, detail: e.message } };
  }

  private signed<M extends DkgMessage>(unsigned: Unsigned<M>): M {
    return { ...unsigned, signature: this.signer.sign(digestOf(unsigned)) } as unknown as M;
  }

  /** Runs the rounds as far as what has been received allows. */
  private advance(messages: DkgMessage[]): Step {
    for (;;) {
      if (this.phase === "dealt" && this.deals.size === this.ceremony.n) messages.push(this.sendComplaints());
      else if (this.phase === "complained" && this.complaints.size === this.ceremony.n) {
        messages.push(...this.evaluateComplaints(false));
      } else if (this.phase === "justifying" && this.accusedDealers().every((d) => this.justifications.has(d))) {
        messages.push(...this.evaluateJustifications(false));
      } else break;
    }
    return { messages, ...(this.result === undefined ? {} : { result: this.result }) };
  }

  // ---- validation ----

  /** The header checks every message (and a justification's inner deal) passes. */
  private checkHeader(message: DkgMessage): void {
    if (message.ceremonyId.length !== 32 || hexlify(message.ceremonyId) !== this.ceremony.id) {
      throw new Refused("wrong ceremony", `ceremony ${hexlify(message.ceremonyId)}`);
    }
    const sender = this.ceremony.operators[message.sender - 1];
    if (sender === undefined) throw new Refused("unknown sender", `no operator ${message.sender}`);
    if (!signedBy(sender.address, digestOf(message), message.signature)) {
      throw new Refused("bad signature", `round ${message.round} from ${message.sender}`);
    }
  }

  /** `input` as a message of this ceremony, signed by its sender, with well-formed content. */
  private validate(input: unknown): DkgMessage {
    const round = (input as { round?: unknown } | null)?.round;
    if (typeof input === "object" && input !== null && round !== 1 && round !== 2 && round !== 3) {
      throw new Refused("wrong round", `round ${String(round)}`);
    }
    const parsed = parseMessage(input);
    if ("problem" in parsed) throw new Refused("malformed", parsed.problem);
    const message = parsed.message;
    this.checkHeader(message);
    if (message.round === 1) this.dealCommitments(message);
    if (message.round === 2) this.checkComplaints(message);
    if (message.round === 3) this.checkJustification(message);
    return message;
  }

  /** A deal's commitments parsed: t points of G2 (not infinity), and n ciphertexts of the right length. */
  private dealCommitments(deal: DealMessage): PublicKey[] {
    const { threshold, n } = this.ceremony;
    if (deal.commitments.length !== threshold) {
      throw new Refused("invalid content", `${deal.commitments.length} commitments, expected t = ${threshold}`);
    }
    if (deal.ciphertexts.length !== n)
      throw new Refused("invalid content", `${deal.ciphertexts.length} shares, expected ${n}`);
    if (deal.ciphertexts.some((c) => c.length !== SEALED_SHARE_LENGTH)) {
      throw new Refused("invalid content", `an encrypted share is not ${SEALED_SHARE_LENGTH} bytes`);
    }
    return deal.commitments.map((c, k) => {
      if (c.length !== 96) throw new Refused("invalid content", `commitment ${k} is not 96 bytes`);
      try {
        return publicKeyFromPoint(publicKeyPoint(c));
      } catch (e) {
        throw new Refused("invalid content", `commitment ${k}: ${(e as Error).message}`);
      }
    });
  }

  private checkComplaints(message: ComplaintsMessage): void {
    const distinct = (xs: readonly number[]): boolean => new Set(xs).size === xs.length;
    const inRange = (d: number): boolean => d >= 1 && d <= this.ceremony.n;
    if (!distinct(message.echoes.map((e) => e.dealer)) || !message.echoes.every((e) => inRange(e.dealer))) {
      throw new Refused("invalid content", "echoes name a dealer twice or an unknown dealer");
    }
    const accused = message.complaints.map((c) => c.dealer);
    if (!distinct(accused) || !accused.every(inRange) || accused.includes(message.sender)) {
      throw new Refused("invalid content", "complaints name a dealer twice, an unknown dealer or the sender");
    }
    for (const echo of message.echoes) {
      const dealer = this.ceremony.operators[echo.dealer - 1]!;
      const digest = signingDigest(this.ceremony.ceremonyId, 1, echo.dealer, echo.payloadHash);
      if (echo.payloadHash.length !== 32 || !signedBy(dealer.address, digest, echo.signature)) {
        throw new Refused("invalid content", `the echo of dealer ${echo.dealer}'s deal is not signed by it`);
      }
    }
  }

  private checkJustification(message: JustificationMessage): void {
    if (message.deal.sender !== message.sender) throw new Refused("invalid content", "the deal is another dealer's");
    try {
      this.checkHeader(message.deal);
      this.dealCommitments(message.deal);
    } catch (e) {
      throw new Refused("invalid content", `its deal: ${(e as Error).message}`);
    }
    const accusers = message.answers.map((a) => a.accuser);
    if (new Set(accusers).size !== accusers.length)
      throw new Refused("invalid content", "an accuser is answered twice");
    if (this.phase === "justifying" && !this.accusedDealers().includes(message.sender)) {
      throw new Refused("wrong round", `operator ${message.sender} is not accused`);
    }
  }

  // ---- state ----

  private accept(message: DkgMessage): void {
    if (message.round === 1) {
      const hash = hexlify(payloadHash(message));
      const known = this.deals.get(message.sender);
      this.noteDealHash(message.sender, hash);
      if (known !== undefined) {
        throw new Refused("duplicate", known.hash === hash ? "deal" : `dealer ${message.sender} sent two deals`);
      }
      this.storeDeal(message);
    } else if (message.round === 2) {
      if (this.complaints.has(message.sender)) throw new Refused("duplicate", `complaints of ${message.sender}`);
      this.complaints.set(message.sender, message);
      for (const echo of message.echoes) this.noteDealHash(echo.dealer, hexlify(echo.payloadHash));
    } else {
      if (this.justifications.has(message.sender)) throw new Refused("duplicate", `justification of ${message.sender}`);
      this.justifications.set(message.sender, message);
      this.noteDealHash(message.sender, hexlify(payloadHash(message.deal)));
    }
  }

  private noteDealHash(dealer: number, hash: string): void {
    const hashes = this.dealHashes.get(dealer) ?? new Set<string>();
    hashes.add(hash);
    this.dealHashes.set(dealer, hashes);
  }

  /** Stores a valid deal and checks this operator's share in it. */
  private storeDeal(deal: DealMessage): void {
    const commitments = this.dealCommitments(deal);
    const state: DealState = { message: deal, hash: hexlify(payloadHash(deal)), commitments };
    this.noteDealHash(deal.sender, state.hash);
    try {
      const aad = shareAad(this.ceremony.ceremonyId, deal.sender, this.index);
      const share = openShare(this.decryptionKey, deal.ciphertexts[this.index - 1]!, aad);
      if (share.length === 32 && verifyShare(this.index, share, commitments)) state.share = bytesToNumberBE(share);
      else state.problem = "the share does not match the commitments";
    } catch (e) {
      state.problem = `the share does not open or parse (${(e as Error).message})`;
    }
    this.deals.set(deal.sender, state);
  }

  /** Dealers seen to sign two deals; never this operator itself (it knows its deal, and still answers). */
  private equivocators(): number[] {
    return [...this.dealHashes]
      .filter(([dealer, hashes]) => hashes.size > 1 && dealer !== this.index)
      .map(([dealer]) => dealer);
  }

  private accusedDealers(): number[] {
    return [...new Set(this.accusations.map((a) => a.dealer))].sort((a, b) => a - b);
  }

  // ---- rounds ----

  /** Round 2: this operator's echoes and complaints. */
  private sendComplaints(): ComplaintsMessage {
    const echoes = [...this.deals.values()]
      .map((d) => ({ dealer: d.message.sender, payloadHash: payloadHash(d.message), signature: d.message.signature }))
      .sort((a, b) => a.dealer - b.dealer);
    const complaints: { dealer: number; reason: ComplaintReason }[] = [];
    for (let dealer = 1; dealer <= this.ceremony.n; dealer++) {
      const deal = this.deals.get(dealer);
      if (deal === undefined) complaints.push({ dealer, reason: "missing" });
      else if (deal.share === undefined) complaints.push({ dealer, reason: "bad-share" });
    }
    const message = this.signed<ComplaintsMessage>({
      ceremonyId: this.ceremony.ceremonyId,
      round: 2,
      sender: this.index,
      echoes,
      complaints,
    });
    this.complaints.set(this.index, message);
    this.phase = "complained";
    return message;
  }

  /** After round 2: abort on equivocation or silence, finish with no complaint, else justify. */
  private evaluateComplaints(deadlinePassed: boolean): DkgMessage[] {
    const silent = deadlinePassed ? this.missingFrom(this.complaints) : [];
    const equivocators = this.equivocators();
    if (silent.length > 0 || equivocators.length > 0) {
      this.abort(
        [...silent, ...equivocators],
        [
          ...(silent.length > 0 ? [`no complaint-round message from ${silent.join(", ")} by the deadline`] : []),
          ...(equivocators.length > 0 ? [`two different signed deals from ${equivocators.join(", ")}`] : []),
        ],
      );
      return [];
    }
    this.accusations = [...this.complaints.values()].flatMap((m) =>
      m.complaints.map((c) => ({ accuser: m.sender, dealer: c.dealer, reason: c.reason })),
    );
    if (this.accusations.length === 0) {
      this.finish();
      return [];
    }
    this.phase = "justifying";
    for (const [sender, j] of this.justifications) {
      if (!this.accusedDealers().includes(sender)) {
        this.justifications.delete(sender);
        this.refuse(new Refused("wrong round", `operator ${j.sender} is not accused`));
      }
    }
    if (!this.accusedDealers().includes(this.index)) return [];
    const mine = this.deals.get(this.index)!.message;
    const answers = this.accusations
      .filter((a) => a.dealer === this.index)
      .map((a) => ({ accuser: a.accuser, ephemeralSecret: this.ephemerals.get(a.accuser)! }));
    const justification = this.signed<JustificationMessage>({
      ceremonyId: this.ceremony.ceremonyId,
      round: 3,
      sender: this.index,
      deal: mine,
      answers,
    });
    this.justifications.set(this.index, justification);
    return [justification];
  }

  /** Operators with no entry in `received`. */
  private missingFrom(received: ReadonlyMap<number, unknown>): number[] {
    return this.ceremony.operators.map((o) => o.index).filter((i) => !received.has(i));
  }

  /** After round 3: each complaint settled by opening the revealed ciphertext. */
  private evaluateJustifications(deadlinePassed: boolean): DkgMessage[] {
    const culprits = new Map<number, string>();
    for (const dealer of this.equivocators()) culprits.set(dealer, `dealer ${dealer} signed two different deals`);
    for (const dealer of this.accusedDealers()) {
      const justification = this.justifications.get(dealer);
      if (justification === undefined) {
        if (deadlinePassed) culprits.set(dealer, `dealer ${dealer} did not answer its complaints by the deadline`);
        continue;
      }
      this.settle(justification, culprits);
    }
    if (culprits.size > 0) this.abort([...culprits.keys()], [...culprits.values()]);
    else this.finish();
    return [];
  }

  /** Settles every complaint against `justification.sender`, adding whom each shows wrong to `culprits`. */
  private settle(justification: JustificationMessage, culprits: Map<number, string>): void {
    const dealer = justification.sender;
    const deal = justification.deal;
    const commitments = this.dealCommitments(deal);
    for (const { accuser, reason } of this.accusations.filter((a) => a.dealer === dealer)) {
      const answer = justification.answers.find((a) => a.accuser === accuser);
      if (answer === undefined) {
        culprits.set(dealer, `dealer ${dealer} did not answer ${accuser}'s complaint`);
        continue;
      }
      const share = this.openAnswered(deal, accuser, answer.ephemeralSecret, commitments);
      if (share === undefined) {
        culprits.set(dealer, `dealer ${dealer} dealt ${accuser} a share that does not match its commitments`);
      } else if (reason === "bad-share") {
        culprits.set(accuser, `operator ${accuser} complained of dealer ${dealer}'s valid share`);
      } else if (accuser === this.index) {
        this.deals.set(dealer, { message: deal, hash: hexlify(payloadHash(deal)), commitments, share });
      }
    }
  }

  /** The share `dealer` sent `accuser`, opened with the revealed ephemeral secret, if it verifies. */
  private openAnswered(
    deal: DealMessage,
    accuser: number,
    ephemeral: Uint8Array,
    commitments: readonly PublicKey[],
  ): bigint | undefined {
    const recipient = this.ceremony.operators[accuser - 1];
    const sealed = deal.ciphertexts[accuser - 1];
    if (recipient === undefined || sealed === undefined) return undefined;
    try {
      const aad = shareAad(this.ceremony.ceremonyId, deal.sender, accuser);
      const share = openRevealed(ephemeral, recipient.encryptionKey, sealed, aad);
      return share.length === 32 && verifyShare(accuser, share, commitments) ? bytesToNumberBE(share) : undefined;
    } catch {
      return undefined;
    }
  }

  private abort(culprits: readonly number[], reasons: readonly string[]): void {
    const sorted = [...new Set(culprits)].sort((a, b) => a - b);
    this.done({ kind: "aborted", culprits: sorted, reason: reasons.join("; ") });
  }

  private done(result: DkgResult): void {
    this.result = result;
    this.phase = "done";
    this.ephemerals.clear();
  }

  /** x_j = Σ_i f_i(j), PK = Σ_i C_i0, and x_j checked against the summed commitments. */
  private finish(): void {
    const { n, threshold, operators } = this.ceremony;
    const deals = operators.map((o) => this.deals.get(o.index));
    if (deals.some((d) => d?.share === undefined)) {
      this.abort([], ["a deal or a share is missing without a complaint (internal)"]);
      return;
    }
    const accepted = deals as DealState[];
    const summed = Array.from({ length: threshold }, (_, k) =>
      publicKeyFromPoint(accepted.map((d) => publicKeyPoint(d.commitments[k]!)).reduce((acc, p) => acc.add(p))),
    );
    const x = sumFr(accepted.map((d) => d.share!));
    if (x === 0n || !verifyShare(this.index, secretKeyOf(x), summed)) {
      this.abort([], ["the summed share does not match the summed commitments"]);
      return;
    }
    const share: Share = { index: this.index, secretKey: secretKeyOf(x) };
    const sharePublicKeys = Array.from({ length: n }, (_, j) => sharePublicKey(j + 1, summed));
    this.done({
      kind: "completed",
      ceremonyId: this.ceremony.id,
      threshold,
      publicKey: summed[0]!,
      commitments: summed,
      share,
      sharePublicKeys,
    });
  }
}

/** What a restarted operator makes of its snapshot. */
export type DkgResumed =
  DkgAborted | { readonly kind: "finished"; readonly outcome: NonNullable<DkgSnapshot["outcome"]> };

/**
 * A participant restarted from `saved`: a ceremony it had finished stays finished (its share was
 * handed to the caller to seal then); one it had not is aborted, naming no one — the polynomial and
 * the shares received lived only in memory, so it cannot go on, and it never produces a key from part
 * of a ceremony. The initiator starts a new ceremony (a new id).
 */
export function resumeCeremony(saved: DkgSnapshot): DkgResumed {
  if (saved.phase === "done" && saved.outcome !== undefined) return { kind: "finished", outcome: saved.outcome };
  return {
    kind: "aborted",
    culprits: [],
    reason: `operator ${saved.index} restarted in phase "${saved.phase}" of ceremony ${saved.ceremonyId}: an unfinished DKG is never resumed`,
  };
}
