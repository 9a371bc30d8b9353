/**
 * The table of in-flight intents (SenderState.flights): a flight is created for an intent about to be
 * broadcast (submission) or found pending in Redis (recovery), and tracked until its outcome (monitor).
 */
import type { Flight, SenderState } from "./state.js";
import type { IntentRecord } from "./store.js";
import { type TxOutcome, TxSenderStoppedError } from "./types.js";

/** A flight for `record`, not tracked yet. `adopted`: found in Redis, to be checked against the chain first. */
export function newFlight(
  record: IntentRecord,
  alreadyDone: (() => Promise<boolean>) | undefined,
  adopted: boolean,
): Flight {
  let resolve!: (outcome: TxOutcome) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<TxOutcome>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // adopted intents may have nobody awaiting them
  const first = record.txs[0]?.signedAt ?? Date.now();
  return {
    record,
    alreadyDone,
    promise,
    resolve,
    reject,
    adopted,
    needsCheck: adopted,
    firstSentAt: first,
    lastSentAt: Date.now(),
    lastDropCheckAt: Date.now(),
    lostPolls: 0,
    finished: false,
  };
}

/** Hands `flight` to the monitor (or rejects it when the sender is stopped). */
export function track(state: SenderState, flight: Flight): void {
  if (state.stopped) {
    flight.finished = true;
    flight.reject(new TxSenderStoppedError(flight.record.key));
    return;
  }
  state.flights.set(flight.record.key, flight);
  state.metrics.pending.set(state.labels, state.flights.size);
  state.wake();
}

/** Takes over an intent found pending in Redis: the monitor checks it against the chain first. */
export function adopt(state: SenderState, record: IntentRecord, alreadyDone?: () => Promise<boolean>): Flight {
  const existing = state.flights.get(record.key);
  if (existing !== undefined) return existing;
  const flight = newFlight(record, alreadyDone, true);
  state.nextNonce = Math.max(state.nextNonce, record.nonce + 1);
  track(state, flight);
  return flight;
}
