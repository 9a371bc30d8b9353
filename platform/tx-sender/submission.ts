/**
 * Submission: an intent's way from send() to its first broadcast. Intake deduplicates by idempotency
 * key (a key in flight is joined, a completed one returns its stored outcome, a pending one is resumed);
 * a new intent is simulated, then gets the next nonce and is signed, persisted and broadcast in one
 * critical section, so many intents are in flight at once and each is awaited independently.
 */
import { Transaction, getAddress, parseUnits, toQuantity } from "ethers";

import { decodeRevertError, isRevert } from "../revert.js";
import { broadcast } from "./broadcast.js";
import { type Fees, suggestedFees } from "./fees.js";
import { adopt, newFlight, track } from "./flights.js";
import { reconcileIdleNonce, skipUsedNonce } from "./nonces.js";
import { finishAlreadyDoneUnsent, storedOutcome } from "./outcomes.js";
import { type Flight, type SenderState, exclusive, requireStore } from "./state.js";
import type { IntentRecord, SignedTx } from "./store.js";
import { type TxIntent, type TxOutcome, TxRevertedError, TxSenderStoppedError } from "./types.js";

const DEFAULT_PRIORITY_FEE = parseUnits("1", "gwei");
const GAS_MARGIN_PERCENT = 20n;
const MAX_NONCE_RETRIES = 8;

/**
 * Performs `intent` once (see TxSender.send). `ready` loads the sender's state from Redis and the chain
 * (recovery's initSender) before the first intent is looked at.
 */
export function submit(state: SenderState, intent: TxIntent, ready: () => Promise<void>): Promise<TxOutcome> {
  if (state.stopped) return Promise.reject(new TxSenderStoppedError(intent.key));
  const flight = state.flights.get(intent.key);
  if (flight !== undefined) {
    flight.alreadyDone ??= intent.alreadyDone;
    return flight.promise;
  }
  const started = state.starting.get(intent.key);
  if (started !== undefined) return started;
  const promise = start(state, intent, ready).finally(() => state.starting.delete(intent.key));
  state.starting.set(intent.key, promise);
  return promise;
}

async function start(state: SenderState, intent: TxIntent, ready: () => Promise<void>): Promise<TxOutcome> {
  await ready();
  const store = requireStore(state);
  const inFlight = state.flights.get(intent.key);
  if (inFlight !== undefined) {
    inFlight.alreadyDone ??= intent.alreadyDone;
    return inFlight.promise;
  }
  const stored = await store.get(intent.key);
  if (stored !== undefined) {
    if (stored.status === "mined" || stored.status === "already-done") {
      state.log.debug({ key: intent.key, status: stored.status }, "intent already completed");
      return storedOutcome(stored);
    }
    if (stored.status === "pending") {
      state.log.info({ key: intent.key, nonce: stored.nonce }, "intent found pending in Redis: resuming it");
      return adopt(state, stored, intent.alreadyDone).promise;
    }
    // A reverted intent left no effect: it may be tried again.
  }

  const now = Date.now();
  const record: IntentRecord = {
    key: intent.key,
    from: state.address,
    to: getAddress(intent.to),
    data: intent.data,
    value: (intent.value ?? 0n).toString(),
    gasLimit: "0",
    nonce: -1,
    status: "pending",
    txs: [],
    createdAt: now,
    updatedAt: now,
  };
  if (intent.alreadyDone !== undefined && (await intent.alreadyDone())) {
    return finishAlreadyDoneUnsent(state, record);
  }
  const gas = await simulate(state, record, intent.gasLimit, intent.alreadyDone);
  if (gas === "already-done") return finishAlreadyDoneUnsent(state, record);
  record.gasLimit = gas.toString();

  const flight = newFlight(record, intent.alreadyDone, false);
  await submitWithNewNonce(state, flight);
  return flight.promise;
}

/** Simulates the intent; returns its gas limit, or "already-done", or throws TxRevertedError. */
export async function simulate(
  state: SenderState,
  record: IntentRecord,
  gasLimit: bigint | undefined,
  alreadyDone: (() => Promise<boolean>) | undefined,
): Promise<bigint | "already-done"> {
  const tx = { from: record.from, to: record.to, data: record.data, value: toQuantity(BigInt(record.value)) };
  try {
    if (gasLimit !== undefined) {
      await state.provider.send("eth_call", [{ ...tx, gas: toQuantity(gasLimit) }, state.simulateBlockTag]);
      return gasLimit;
    }
    const estimate = BigInt((await state.provider.send("eth_estimateGas", [tx, state.simulateBlockTag])) as string);
    return (estimate * (100n + GAS_MARGIN_PERCENT)) / 100n;
  } catch (e) {
    if (!isRevert(e)) throw e;
    const decoded = decodeRevertError(e, state.interfaces);
    if (alreadyDone !== undefined && (await alreadyDone())) {
      state.log.info({ key: record.key, reason: decoded.reason }, "would revert, but the effect is already on chain");
      return "already-done";
    }
    state.metrics.reverted.inc(state.labels);
    state.log.warn(
      { key: record.key, errorName: decoded.name, reason: decoded.reason },
      "transaction would revert: not sent",
    );
    throw new TxRevertedError(record.key, decoded.reason, decoded.name);
  }
}

/** Signs the intent's transaction (or its cancellation: a 0-value self-transfer) at `nonce` with `fees`. */
export function sign(state: SenderState, record: IntentRecord, nonce: number, fees: Fees, cancel: boolean): SignedTx {
  const tx = Transaction.from({
    type: 2,
    chainId: state.chainId,
    nonce,
    to: cancel ? record.from : record.to,
    data: cancel ? "0x" : record.data,
    value: cancel ? 0n : BigInt(record.value),
    gasLimit: cancel ? 21_000n : BigInt(record.gasLimit),
    maxFeePerGas: fees.maxFeePerGas,
    maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
  });
  tx.signature = state.wallet.signingKey.sign(tx.unsignedHash);
  return {
    hash: tx.hash!,
    raw: tx.serialized,
    nonce,
    maxFeePerGas: fees.maxFeePerGas.toString(),
    maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString(),
    cancel,
    signedAt: Date.now(),
  };
}

/** The node's fee suggestion (cached for one poll interval), capped. */
export async function currentFees(state: SenderState): Promise<Fees> {
  const now = Date.now();
  if (state.feeCache === undefined || now - state.feeCache.at > Math.max(state.policy.pollIntervalMs, 200)) {
    const fees = (async () => {
      const [block, tip] = await Promise.all([
        state.provider.send("eth_getBlockByNumber", ["latest", false]) as Promise<{ baseFeePerGas?: string }>,
        (state.provider.send("eth_maxPriorityFeePerGas", []) as Promise<string>).catch(() => undefined),
      ]);
      const baseFee = block.baseFeePerGas === undefined ? 0n : BigInt(block.baseFeePerGas);
      return suggestedFees(baseFee, tip === undefined ? DEFAULT_PRIORITY_FEE : BigInt(tip), state.policy.maxFeePerGas);
    })();
    state.feeCache = { at: now, fees };
    fees.catch(() => (state.feeCache = undefined));
  }
  return state.feeCache.fees;
}

/**
 * Assigns the next nonce to `flight`, signs, persists and broadcasts (in the critical section). A nonce
 * used behind our back is refreshed from the chain and the transaction signed again.
 */
export async function submitWithNewNonce(state: SenderState, flight: Flight): Promise<void> {
  const record = flight.record;
  const store = requireStore(state);
  const fees = await currentFees(state);
  await exclusive(state, async () => {
    if (state.stopped) throw new TxSenderStoppedError(record.key);
    const previousNonce = record.nonce;
    /** Gives the nonce back (nothing was broadcast with it). */
    const release = (nonce: number) => {
      record.txs.pop();
      record.nonce = previousNonce;
      if (state.nextNonce === nonce + 1) state.nextNonce = nonce;
    };
    await reconcileIdleNonce(state, record.key);
    for (let attempt = 0; ; attempt++) {
      const nonce = state.nextNonce++;
      const signed = sign(state, record, nonce, fees, false);
      record.nonce = nonce;
      record.txs.push(signed);
      try {
        await store.savePending(record);
        await state.testHooks?.beforeBroadcast?.(record);
      } catch (e) {
        release(nonce);
        throw e;
      }
      const result = await broadcast(state, signed.raw);
      if (result.kind === "ok" || result.kind === "known" || result.kind === "unknown") {
        if (result.kind === "unknown") {
          state.log.warn({ key: record.key, nonce, reason: result.message }, "broadcast failed: will retry");
        }
        state.metrics.sent.inc(state.labels);
        state.log.info({ key: record.key, nonce, hash: signed.hash, to: record.to }, "transaction broadcast");
        flight.lastSentAt = Date.now();
        flight.lastDropCheckAt = flight.lastSentAt;
        if (!state.flights.has(record.key)) flight.firstSentAt = flight.lastSentAt;
        await state.testHooks?.afterBroadcast?.(record);
        track(state, flight);
        return;
      }
      release(nonce);
      if ((result.kind === "nonce-too-low" || result.kind === "underpriced") && attempt < MAX_NONCE_RETRIES) {
        await skipUsedNonce(state, record.key, nonce, result.message);
        continue;
      }
      if (record.txs.length === 0) await store.delete(record.key);
      else await store.savePending(record);
      throw new Error(`${record.key}: transaction refused by the node: ${result.message}`);
    }
  });
}
