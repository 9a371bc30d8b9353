/**
 * Recovery: what the sender does when its view and the chain's differ.
 *
 * - At start (initSender) it rebuilds the in-flight intents from Redis and continues from the chain's
 *   pending nonce; recoverPending waits for the intents a previous process left.
 * - When an intent's nonce was used by a transaction that is not ours (nonceTaken), the action did not
 *   happen: it ends already-done, or is simulated again and sent with a new nonce.
 * - Replacements: the same signed transaction broadcast again (rebroadcast), a replacement at higher fees
 *   (bump), or a cancellation that takes the nonce when the effect is already on chain (cancel).
 */
import { bumpedFees } from "./fees.js";
import { broadcast } from "./broadcast.js";
import { adopt } from "./flights.js";
import { chainNonce } from "./nonces.js";
import { finish } from "./outcomes.js";
import { type Flight, type SenderState, exclusive, requireStore } from "./state.js";
import { type IntentRecord, IntentStore } from "./store.js";
import { currentFees, sign, simulate, submitWithNewNonce } from "./submission.js";
import { type TxOutcome, TxRevertedError } from "./types.js";

/** Resolves the on-chain check of an intent found in Redis after a restart (alreadyDone is not stored). */
export type AlreadyDoneResolver = (record: IntentRecord) => (() => Promise<boolean>) | undefined;

/** Loads the sender: chain id, its IntentStore, the chain's pending nonce, and adopts the pending intents. */
export async function initSender(state: SenderState): Promise<void> {
  const network = await state.provider.getNetwork();
  state.chainId = network.chainId;
  const { redis, keyPrefix, finishedTtlSeconds } = state.storage;
  const store = new IntentStore(redis, keyPrefix, state.chainId, state.address, finishedTtlSeconds);
  const [pendingNonce, records] = await Promise.all([chainNonce(state, "pending"), store.pending()]);
  state.store = store;
  state.nextNonce = Math.max(state.nextNonce, pendingNonce);
  for (const record of records) adopt(state, record);
  state.log.info(
    { chainId: Number(state.chainId), nextNonce: state.nextNonce, adopted: records.length },
    "tx sender ready",
  );
}

/**
 * Waits for the intents a previous process left pending (adopting any not adopted yet); `resolve` may
 * supply each one's `alreadyDone` check. The outcomes of those that ended mined or already-done.
 */
export async function recoverPending(state: SenderState, resolve?: AlreadyDoneResolver): Promise<TxOutcome[]> {
  for (const record of await requireStore(state).pending()) {
    if (!state.flights.has(record.key) && !state.starting.has(record.key)) adopt(state, record);
  }
  const adopted = [...state.flights.values()].filter((f) => f.adopted);
  if (resolve !== undefined) for (const f of adopted) f.alreadyDone ??= resolve(f.record);
  const settled = await Promise.allSettled(adopted.map((f) => f.promise));
  return settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
}

/** Our nonce was used by a transaction that is not ours: the action did not happen. */
export async function nonceTaken(state: SenderState, flight: Flight): Promise<void> {
  const record = flight.record;
  const cancelling = record.txs.at(-1)?.cancel === true;
  if (cancelling || (flight.alreadyDone !== undefined && (await flight.alreadyDone()))) {
    state.log.warn({ key: record.key, nonce: record.nonce }, "nonce used elsewhere; effect already on chain");
    await finish(state, flight, { status: "already-done", key: record.key });
    return;
  }
  state.log.warn(
    { key: record.key, nonce: record.nonce },
    "nonce used by another transaction of this key: sending again with a new nonce",
  );
  let gas: bigint | "already-done";
  try {
    gas = await simulate(state, record, BigInt(record.gasLimit), flight.alreadyDone);
  } catch (e) {
    if (e instanceof TxRevertedError) {
      await finish(state, flight, e, false);
      return;
    }
    throw e;
  }
  if (gas === "already-done") {
    await finish(state, flight, { status: "already-done", key: record.key });
    return;
  }
  await submitWithNewNonce(state, flight);
}

/** Broadcasts the latest signed transaction of `flight` again (same nonce, same hash). */
export async function rebroadcast(state: SenderState, flight: Flight, why: string): Promise<void> {
  const last = flight.record.txs.at(-1);
  if (last === undefined) return;
  await exclusive(state, async () => {
    const result = await broadcast(state, last.raw);
    flight.lastDropCheckAt = Date.now();
    state.log.info(
      { key: flight.record.key, nonce: last.nonce, hash: last.hash, result: result.kind },
      `re-broadcast: ${why}`,
    );
  });
}

/** Replaces the pending transaction with the same one (or the cancellation) at higher fees. */
export async function bump(
  state: SenderState,
  flight: Flight,
  cancel = flight.record.txs.at(-1)?.cancel === true,
): Promise<void> {
  const record = flight.record;
  const last = record.txs.at(-1);
  if (last === undefined) return;
  const current = await currentFees(state);
  const old = { maxFeePerGas: BigInt(last.maxFeePerGas), maxPriorityFeePerGas: BigInt(last.maxPriorityFeePerGas) };
  const cap = state.policy.maxFeePerGas;
  const fees = bumpedFees(old, current, state.policy.feeBumpPercent, cap);
  if (fees === undefined) {
    state.log.warn(
      { key: record.key, nonce: last.nonce, maxFeePerGas: last.maxFeePerGas, cap: cap.toString() },
      "fee cap reached: not bumping, waiting and re-broadcasting",
    );
    flight.lastSentAt = Date.now();
    await rebroadcast(state, flight, "waiting at the fee cap");
    return;
  }
  await exclusive(state, async () => {
    if (flight.finished || state.stopped) return;
    const signed = sign(state, record, last.nonce, fees, cancel);
    record.txs.push(signed);
    await requireStore(state).savePending(record);
    const result = await broadcast(state, signed.raw);
    flight.lastSentAt = Date.now();
    flight.lastDropCheckAt = flight.lastSentAt;
    if (result.kind === "underpriced" || result.kind === "rejected") {
      record.txs.pop();
      await requireStore(state).savePending(record);
      state.log.warn({ key: record.key, nonce: last.nonce, reason: result.message }, "replacement refused");
      return;
    }
    state.metrics.resent.inc(state.labels);
    state.log.warn(
      {
        key: record.key,
        nonce: last.nonce,
        hash: signed.hash,
        replaces: last.hash,
        maxFeePerGas: signed.maxFeePerGas,
        maxPriorityFeePerGas: signed.maxPriorityFeePerGas,
        cancel,
        result: result.kind,
      },
      cancel && !last.cancel ? "effect already on chain: cancelling the pending transaction" : "fees bumped",
    );
  });
}

/** Takes the intent's nonce with a 0-value self-transfer, so the pending action can never be mined. */
export async function cancel(state: SenderState, flight: Flight): Promise<void> {
  await bump(state, flight, true);
}
