/**
 * An in-process network for the DKG (platform/dkg): n DkgParticipants with keys derived from a seed, a
 * seeded scheduler that delivers every broadcast to every other operator after a random delay (so out
 * of order), sometimes twice, and fires each round's deadline at fixed simulated times. Faults are
 * hooks on what a participant sends (`behaviours`: a cheating dealer re-signs what it changes with its
 * own key) and an adversary that adds messages to a delivery (forgeries, replays). It returns every
 * operator's result, the refusals, each operator's CPU time, and, for a completed key, the proof of
 * possession recovered from t partials. Tests and bench:dkg use it; it is not a transport.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { concat, getBytes, keccak256, toUtf8Bytes } from "ethers";
import { PrivateKey } from "eciesjs";

import type { Signature } from "../platform/bls/index.js";
import {
  type DkgMessage,
  type DkgOperator,
  type DkgRandom,
  type DkgResult,
  type DkgSigner,
  type Refusal,
  type Step,
  DkgParticipant,
  digestOf,
  partialProofOfPossession,
  recoverProofOfPossession,
  secp256k1Signer,
} from "../platform/dkg/index.js";

/** A deterministic DkgRandom: SHA-256 of (seed, label, counter) blocks. Tests only. */
export function seededRandom(seed: string | Uint8Array, label = ""): DkgRandom & { float(): number } {
  const base = typeof seed === "string" ? toUtf8Bytes(seed) : seed;
  const prefix = getBytes(concat([sha256(base), toUtf8Bytes(label)]));
  let counter = 0;
  const bytes = (length: number): Uint8Array => {
    const out = new Uint8Array(length);
    for (let off = 0; off < length; off += 32) {
      const block = sha256(getBytes(concat([prefix, new Uint8Array(new Uint32Array([counter++]).buffer)])));
      out.set(block.subarray(0, Math.min(32, length - off)), off);
    }
    return out;
  };
  const float = (): number => {
    const b = bytes(6);
    return b.reduce((acc, x) => acc * 256 + x, 0) / 2 ** 48;
  };
  return { bytes, float };
}

/** Operator k's keys in a simulation seeded with `seed`. */
export interface SimOperator extends DkgOperator {
  readonly signer: DkgSigner;
  readonly signingKey: string;
  readonly decryptionKey: Uint8Array;
}

/** n operators with secp256k1 signing and encryption keys derived from `seed`. */
export function simOperators(n: number, seed: string): SimOperator[] {
  return Array.from({ length: n }, (_, i) => {
    const signingKey = keccak256(toUtf8Bytes(`${seed}/sign/${i + 1}`));
    const decryption = new PrivateKey(getBytes(keccak256(toUtf8Bytes(`${seed}/encrypt/${i + 1}`))));
    return {
      index: i + 1,
      address: secp256k1Signer(signingKey).address,
      encryptionKey: decryption.publicKey.toBytes(false),
      signer: secp256k1Signer(signingKey),
      signingKey,
      decryptionKey: decryption.secret,
    };
  });
}

/** What a faulty operator sends `to` in place of `message`: a message, or undefined to drop it. */
export type Behaviour = (message: DkgMessage, to: number, ops: readonly SimOperator[]) => DkgMessage | undefined;

/** Options of a simulated ceremony. */
export interface SimOptions {
  readonly n: number;
  readonly seed: string;
  readonly ceremonyId?: Uint8Array;
  /** Simulated ms; each delivery waits uniformly in [0, maxDelay). Default 10. */
  readonly maxDelay?: number;
  /** The chance a delivery is repeated. Default 0.1. */
  readonly duplicateRate?: number;
  /** Round r's deadline is at r × roundDeadline simulated ms. Default 100. */
  readonly roundDeadline?: number;
  /** Faulty operators' outgoing filters, by index. */
  readonly behaviours?: ReadonlyMap<number, Behaviour>;
  /** Extra messages the adversary delivers to `to` just before `message`. */
  readonly adversary?: (message: DkgMessage, to: number) => unknown[];
  /** With an owner, the completed key's proof of possession is made by threshold. */
  readonly pop?: { readonly owner: string; readonly nonce: bigint };
}

/** A simulated ceremony's outcome. */
export interface SimRun {
  readonly operators: readonly SimOperator[];
  readonly participants: readonly DkgParticipant[];
  /** results.get(j): operator j's result (absent if it never reached one). */
  readonly results: ReadonlyMap<number, DkgResult>;
  readonly refusals: ReadonlyMap<Refusal, number>;
  /** Milliseconds each operator's participant spent computing (index − 1). */
  readonly cpuMs: readonly number[];
  readonly messagesDelivered: number;
  readonly proofOfPossession?: Signature;
}

/** The 32-byte ceremony id of a simulation seeded with `seed`. */
export const simCeremonyId = (seed: string): Uint8Array => getBytes(keccak256(toUtf8Bytes(`${seed}/ceremony`)));

interface Event {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
}

/** Runs one ceremony among n simulated operators. */
export function simulateCeremony(options: SimOptions): SimRun {
  const { n, seed } = options;
  const schedule = seededRandom(seed, "network");
  const maxDelay = options.maxDelay ?? 10;
  const duplicateRate = options.duplicateRate ?? 0.1;
  const deadline = options.roundDeadline ?? 100;
  const operators = simOperators(n, seed);
  const terms = {
    ceremonyId: options.ceremonyId ?? simCeremonyId(seed),
    operators: operators.map(({ index, address, encryptionKey }) => ({ index, address, encryptionKey })),
  };
  const participants = operators.map(
    (op) =>
      new DkgParticipant({
        terms,
        index: op.index,
        signer: op.signer,
        decryptionKey: op.decryptionKey,
        random: seededRandom(seed, `operator/${op.index}`),
      }),
  );
  const cpuMs = operators.map(() => 0);
  const results = new Map<number, DkgResult>();
  const queue: Event[] = [];
  let seq = 0;
  let now = 0;
  let delivered = 0;
  const at = (time: number, run: () => void): void => void queue.push({ at: time, seq: seq++, run });

  const timed = (j: number, call: () => Step): void => {
    const start = performance.now();
    const step = call();
    cpuMs[j - 1]! += performance.now() - start;
    if (step.result !== undefined && !results.has(j)) results.set(j, step.result);
    for (const message of step.messages) broadcast(j, message);
  };
  const deliver = (to: number, input: unknown): void => {
    delivered++;
    timed(to, () => participants[to - 1]!.receive(input));
  };
  function broadcast(from: number, message: DkgMessage): void {
    const behaviour = options.behaviours?.get(from);
    for (let to = 1; to <= n; to++) {
      if (to === from) continue;
      const sent = behaviour === undefined ? message : behaviour(message, to, operators);
      if (sent === undefined) continue;
      const copies = schedule.float() < duplicateRate ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        at(now + schedule.float() * maxDelay, () => {
          for (const extra of options.adversary?.(sent, to) ?? []) deliver(to, extra);
          deliver(to, sent);
        });
      }
    }
  }

  for (const round of [1, 2, 3] as const) {
    for (let j = 1; j <= n; j++) at(round * deadline, () => timed(j, () => participants[j - 1]!.timeout(round)));
  }
  for (let j = 1; j <= n; j++) timed(j, () => participants[j - 1]!.start());
  while (queue.length > 0) {
    queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const event = queue.shift()!;
    now = event.at;
    event.run();
  }

  const refusals = new Map<Refusal, number>();
  for (const p of participants) for (const [r, c] of p.refusals()) refusals.set(r, (refusals.get(r) ?? 0) + c);
  const run = { operators, participants, results, refusals, cpuMs, messagesDelivered: delivered };
  return options.pop === undefined ? run : { ...run, ...thresholdPop(run, options.pop) };
}

/** The proof of possession recovered from the first t completed operators' partials. */
function thresholdPop(
  run: Omit<SimRun, "proofOfPossession">,
  pop: NonNullable<SimOptions["pop"]>,
): { proofOfPossession?: Signature } {
  const completed = [...run.results.values()].flatMap((r) => (r.kind === "completed" ? [r] : []));
  const first = completed[0];
  if (first === undefined) return {};
  const partials = completed.slice(0, first.threshold).map((r) => partialProofOfPossession(r, pop.owner, pop.nonce));
  const proof = recoverProofOfPossession(first, partials, pop.owner, pop.nonce);
  return proof === undefined ? {} : { proofOfPossession: proof };
}

/** `message` re-signed by `signer` (a faulty operator signing what it changed). */
export function resigned<M extends DkgMessage>(message: M, signer: DkgSigner): M {
  return { ...message, signature: signer.sign(digestOf(message)) };
}
