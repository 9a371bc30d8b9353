/**
 * The monitor: one loop per sender, running while intents are in flight. Each poll reads the account's
 * mined nonce and the head; an intent whose nonce got used is settled from its receipts (after
 * `confirmations` blocks), or found taken by another transaction; an open one is checked (adopted after a
 * restart), re-sent with bumped fees when not mined within `resendAfterMs`, or re-broadcast when dropped.
 */
import { toQuantity } from "ethers";

import { type DecodedRevert, decodeRevertError, isRevert } from "../revert.js";
import { chainNonce } from "./nonces.js";
import { finish } from "./outcomes.js";
import { bump, cancel, nonceTaken, rebroadcast } from "./recovery.js";
import type { Flight, SenderState } from "./state.js";
import type { IntentRecord } from "./store.js";
import { type TxOutcome, TxRevertedError } from "./types.js";

interface RpcReceipt {
  transactionHash: string;
  blockNumber: string;
  blockHash: string;
  status: string;
  gasUsed: string;
}

/** The poll loop of one sender; idle while nothing is in flight. */
export class Monitor {
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;

  constructor(private readonly state: SenderState) {}

  /** Schedules the next poll, unless one is pending or running, the sender stopped, or nothing is in flight. */
  schedule(): void {
    const state = this.state;
    if (state.stopped || this.timer !== undefined || this.ticking !== undefined || state.flights.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.ticking = tick(state)
        .catch((err: unknown) => state.log.warn({ err }, "tx monitor: poll failed; retrying"))
        .finally(() => {
          this.ticking = undefined;
          this.schedule();
        });
    }, state.policy.pollIntervalMs);
  }

  /** Cancels the next poll and waits for a running one (call after setting `state.stopped`). */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking?.catch(() => undefined);
  }
}

async function tick(state: SenderState): Promise<void> {
  if (state.flights.size === 0) return;
  const [minedNonce, headHex] = await Promise.all([
    chainNonce(state, "latest"),
    state.provider.send("eth_blockNumber", []) as Promise<string>,
  ]);
  const head = Number(BigInt(headHex));
  const flights = [...state.flights.values()]
    .filter((f) => !f.finished)
    .sort((a, b) => a.record.nonce - b.record.nonce);
  const used = flights.filter((f) => f.record.nonce < minedNonce);
  const open = flights.filter((f) => f.record.nonce >= minedNonce);

  await Promise.all(used.map((f) => guard(state, f, () => settle(state, f, head))));

  // Decide what the open ones need (in parallel), then broadcast in nonce order.
  const now = Date.now();
  const actions = await Promise.all(
    open.map(async (flight) => ({ flight, action: await guard(state, flight, () => openAction(state, flight, now)) })),
  );
  for (const { flight, action } of actions) {
    if (action === undefined || flight.finished || state.stopped) continue;
    await guard(state, flight, () => action());
  }
}

/** Runs a monitor step of `flight`; a failure is logged and retried next poll. */
async function guard<T>(state: SenderState, flight: Flight, step: () => Promise<T>): Promise<T | undefined> {
  try {
    return await step();
  } catch (err) {
    state.log.warn({ err, key: flight.record.key }, "tx monitor: step failed; retrying next poll");
    return undefined;
  }
}

/** The nonce of `flight` was used: find which transaction took it. */
async function settle(state: SenderState, flight: Flight, head: number): Promise<void> {
  const record = flight.record;
  const confirmations = state.policy.confirmations;
  if (flight.minedAt !== undefined && head - flight.minedAt + 1 < confirmations) return;
  const receipts = await Promise.all(
    record.txs.map((t) => state.provider.send("eth_getTransactionReceipt", [t.hash]) as Promise<RpcReceipt | null>),
  );
  const receipt = receipts.find((r): r is RpcReceipt => r !== null);
  if (receipt === undefined) {
    flight.minedAt = undefined;
    // One more poll before concluding (a node behind a load balancer may lag on receipts).
    if (++flight.lostPolls < 2) return;
    flight.lostPolls = 0;
    await nonceTaken(state, flight);
    return;
  }
  flight.lostPolls = 0;
  flight.needsCheck = false;
  const blockNumber = Number(BigInt(receipt.blockNumber));
  if (flight.minedAt === undefined) {
    state.metrics.timeToMine.observe(state.labels, (Date.now() - flight.firstSentAt) / 1000);
  }
  flight.minedAt = blockNumber;
  if (head - blockNumber + 1 < confirmations) return;

  const tx = record.txs.find((t) => t.hash.toLowerCase() === receipt.transactionHash.toLowerCase());
  if (tx?.cancel === true) {
    state.log.info({ key: record.key, hash: receipt.transactionHash }, "cancellation mined: effect already on chain");
    await finish(state, flight, { status: "already-done", key: record.key });
    return;
  }
  if (BigInt(receipt.status) === 1n) {
    const attempts = record.txs.filter((t) => !t.cancel).length;
    const outcome: TxOutcome = {
      status: "mined",
      key: record.key,
      hash: receipt.transactionHash,
      blockNumber,
      gasUsed: BigInt(receipt.gasUsed),
      attempts,
    };
    state.log.info({ key: record.key, hash: outcome.hash, blockNumber, attempts }, "transaction mined");
    await finish(state, flight, outcome);
    return;
  }
  const decoded = await replayRevert(state, record, blockNumber);
  if (flight.alreadyDone !== undefined && (await flight.alreadyDone())) {
    state.log.info(
      { key: record.key, hash: receipt.transactionHash, reason: decoded.reason },
      "transaction reverted, but the effect is on chain",
    );
    await finish(state, flight, { status: "already-done", key: record.key });
    return;
  }
  await finish(state, flight, new TxRevertedError(record.key, decoded.reason, decoded.name, receipt.transactionHash));
}

/** The revert reason of a mined failed transaction: replayed at its block (then at the one before). */
async function replayRevert(state: SenderState, record: IntentRecord, blockNumber: number): Promise<DecodedRevert> {
  const tx = {
    from: record.from,
    to: record.to,
    data: record.data,
    value: toQuantity(BigInt(record.value)),
    gas: toQuantity(BigInt(record.gasLimit)),
  };
  for (const block of [blockNumber, blockNumber - 1]) {
    try {
      await state.provider.send("eth_call", [tx, toQuantity(block)]);
    } catch (e) {
      if (isRevert(e)) return decodeRevertError(e, state.interfaces);
    }
  }
  return { name: undefined, reason: "reverted on chain (not reproducible by eth_call)", data: undefined };
}

/** What an unmined intent needs now (adoption check, fee bump, re-broadcast), if anything. */
async function openAction(state: SenderState, flight: Flight, now: number): Promise<(() => Promise<void>) | undefined> {
  const record = flight.record;
  const last = record.txs.at(-1);
  if (last === undefined) return undefined;
  flight.lostPolls = 0;
  flight.minedAt = undefined;
  if (flight.needsCheck) {
    const done = last.cancel !== true && flight.alreadyDone !== undefined && (await flight.alreadyDone());
    flight.needsCheck = false;
    if (done) return () => cancel(state, flight);
    return () => rebroadcast(state, flight, "resuming an intent of a previous run");
  }
  if (now - flight.lastSentAt >= state.policy.resendAfterMs) return () => bump(state, flight);
  if (now - flight.lastDropCheckAt >= state.policy.dropCheckMs) {
    flight.lastDropCheckAt = now;
    const known = await state.provider.send("eth_getTransactionByHash", [last.hash]);
    if (known !== null) return undefined;
    if (last.cancel !== true && flight.alreadyDone !== undefined && (await flight.alreadyDone())) {
      return () => cancel(state, flight);
    }
    return () => rebroadcast(state, flight, "transaction dropped by the node");
  }
  return undefined;
}
