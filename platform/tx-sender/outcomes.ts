/**
 * How an intent ends: its outcome (mined, already-done) or its revert is persisted, counted, logged, and
 * handed to whoever awaits it. Used by every phase: submission (nothing to send), the monitor (receipts)
 * and recovery (a nonce taken elsewhere).
 */
import { type Flight, type SenderState, requireStore } from "./state.js";
import type { IntentRecord } from "./store.js";
import { type TxOutcome, TxRevertedError } from "./types.js";

/** Ends `flight` with an outcome or an error, persists it and settles its promise. */
export async function finish(
  state: SenderState,
  flight: Flight,
  result: TxOutcome | TxRevertedError,
  countRevert = true,
): Promise<void> {
  if (flight.finished) return;
  flight.finished = true;
  const record = flight.record;
  if (result instanceof TxRevertedError) {
    record.status = "reverted";
    record.outcome = { hash: result.hash, reason: result.reason, errorName: result.errorName };
    if (countRevert) state.metrics.reverted.inc(state.labels);
    state.log.error(
      { key: record.key, hash: result.hash, errorName: result.errorName, reason: result.reason },
      "transaction reverted",
    );
  } else if (result.status === "mined") {
    record.status = "mined";
    record.outcome = {
      hash: result.hash,
      blockNumber: result.blockNumber,
      gasUsed: result.gasUsed.toString(),
      attempts: result.attempts,
    };
    state.metrics.mined.inc(state.labels);
  } else {
    record.status = "already-done";
    record.outcome = { hash: result.hash };
    state.metrics.alreadyDone.inc(state.labels);
  }
  try {
    await requireStore(state).saveFinished(record);
  } catch (err) {
    // Left pending in Redis: the next process finds it and reads the same outcome from the chain.
    state.log.error({ err, key: record.key }, "could not persist the outcome");
  }
  // Removed only now, so a send() of the same key meanwhile joins this flight instead of reading Redis.
  state.flights.delete(record.key);
  state.metrics.pending.set(state.labels, state.flights.size);
  if (result instanceof TxRevertedError) flight.reject(result);
  else flight.resolve(result);
}

/** Ends an intent that was never broadcast because its effect is already on chain. */
export async function finishAlreadyDoneUnsent(state: SenderState, record: IntentRecord): Promise<TxOutcome> {
  record.status = "already-done";
  record.outcome = {};
  await requireStore(state).saveFinished(record);
  state.metrics.alreadyDone.inc(state.labels);
  state.log.info({ key: record.key }, "effect already on chain: nothing sent");
  return { status: "already-done", key: record.key };
}

/** The outcome of an intent that finished earlier (mined or already-done), as Redis holds it. */
export function storedOutcome(record: IntentRecord): TxOutcome {
  const o = record.outcome ?? {};
  if (record.status === "mined") {
    return {
      status: "mined",
      key: record.key,
      hash: o.hash ?? "",
      blockNumber: o.blockNumber ?? 0,
      gasUsed: BigInt(o.gasUsed ?? "0"),
      attempts: o.attempts ?? 1,
    };
  }
  return o.hash === undefined
    ? { status: "already-done", key: record.key }
    : { status: "already-done", key: record.key, hash: o.hash };
}
