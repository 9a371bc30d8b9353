/**
 * The sequencer's mempool. Admission checks everything that can be checked before execution and
 * refuses with a clear error: encoding, signature (recovered natively), chain id, type, size, fee
 * floor, nonce, and whether the sender can pay value + gas + the L1 data fee for this and all its
 * other pending transactions. Selection orders by fee (priority fee; the L2 base fee is 0) then
 * arrival, one sender's transactions in nonce order. A transaction that fails or becomes invalid is
 * removed with a reason its sender can query (`status`), never retried forever.
 */
import { Transaction, getAddress, getBytes, keccak256 } from "ethers";
import secp256k1 from "secp256k1";

import { L2_CHAIN_ID } from "../../protocol/predeploys.js";
import { DEFAULT_L1_FEE_MODEL, type L1FeeModel, l1DataFee } from "../execution/l1-fee.js";
import { MAX_INITCODE_SIZE, MAX_TX_GAS, intrinsicGas } from "./intrinsic-gas.js";

export type MempoolErrorCode =
  | "malformed"
  | "unsigned"
  | "wrong-chain"
  | "unsupported-type"
  | "oversized"
  | "gas-limit"
  | "intrinsic-gas"
  | "initcode-size"
  | "tip-above-fee-cap"
  | "underpriced"
  | "nonce-too-low"
  | "nonce-too-high"
  | "already-known"
  | "replacement-underpriced"
  | "insufficient-funds"
  | "pool-full";

/** A refused transaction; `message` says what is wrong in the words wallets expect. */
export class MempoolError extends Error {
  constructor(
    readonly code: MempoolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "MempoolError";
  }
}

export interface PendingTx {
  hash: string;
  raw: string;
  sender: string;
  nonce: bigint;
  /** What the sequencer earns per gas (min(maxPriorityFeePerGas, maxFeePerGas), or gasPrice). */
  fee: bigint;
  gasLimit: bigint;
  /** value + gasLimit × max fee + L1 data fee: what the sender must hold for it. */
  cost: bigint;
  arrival: number;
}

export type TxStatus =
  | { status: "pending"; sender: string; nonce: bigint }
  | { status: "included"; batch: bigint }
  | { status: "dropped"; reason: string };

/** What admission needs to know about the L2 state and L1 price. */
export interface MempoolState {
  nonce(address: string): Promise<bigint>;
  balance(address: string): Promise<bigint>;
  /** The L1 base fee new transactions' L1 data fees are estimated at. */
  l1BaseFee(): bigint;
}

export interface MempoolOptions {
  minPriorityFee: bigint;
  blockGasLimit: bigint;
  maxTxBytes?: number;
  maxPending?: number;
  /** How far ahead of the account nonce a transaction may be. */
  maxNonceGap?: bigint;
  /** Margin on the current L1 base fee for admission (the batch may be priced higher), percent. */
  l1FeeMarginPercent?: bigint;
  feeModel?: L1FeeModel;
  /** How many statuses of finished transactions are remembered. */
  statusMemory?: number;
}

/**
 * Journal of the pool (for restarts): called on every admission and on every drop. Inclusions are
 * not journaled: the sealed batch holds the transaction, and recovery leaves out what a batch holds.
 */
export interface MempoolJournal {
  /** Resolves once the admission is durable (the caller answers only then). */
  accepted(raw: string): Promise<void> | void;
  removed(hash: string, reason: string): void;
}

const REPLACEMENT_BUMP_PERCENT = 10n;

/** Decodes a signed transaction and recovers its sender (libsecp256k1, ~10× faster than pure JS). */
export function decodeSigned(raw: string): { tx: Transaction; sender: string } {
  let tx: Transaction;
  try {
    tx = Transaction.from(raw);
  } catch (e) {
    throw new MempoolError("malformed", `malformed transaction: ${(e as Error).message.split(" (")[0]}`);
  }
  const sig = tx.signature;
  if (sig === null) throw new MempoolError("unsigned", "transaction is not signed");
  let pub: Uint8Array;
  try {
    pub = secp256k1.ecdsaRecover(getBytes(sig.r + sig.s.slice(2)), sig.yParity, getBytes(tx.unsignedHash), false);
  } catch {
    throw new MempoolError("unsigned", "invalid signature: no sender recovers from it");
  }
  return { tx, sender: getAddress("0x" + keccak256(pub.subarray(1)).slice(26)) };
}

/**
 * Refuses what the EVM would refuse for its gas alone, whatever the state: below the intrinsic gas or
 * the EIP-7623 floor, above the transaction gas cap (EIP-7825) or the block's gas, oversized initcode.
 */
function checkGas(tx: Transaction, blockGasLimit: bigint): void {
  if (tx.gasLimit > MAX_TX_GAS) {
    throw new MempoolError("gas-limit", `transaction gas limit too high (cap: ${MAX_TX_GAS}, tx: ${tx.gasLimit})`);
  }
  if (tx.gasLimit > blockGasLimit) {
    throw new MempoolError("gas-limit", `exceeds block gas limit: gas ${tx.gasLimit}, limit ${blockGasLimit}`);
  }
  const size = (tx.data.length - 2) / 2;
  if (tx.to === null && size > MAX_INITCODE_SIZE) {
    throw new MempoolError(
      "initcode-size",
      `max initcode size exceeded: code size ${size}, limit ${MAX_INITCODE_SIZE}`,
    );
  }
  const { intrinsic, floor } = intrinsicGas(tx);
  if (tx.gasLimit < intrinsic) {
    throw new MempoolError("intrinsic-gas", `intrinsic gas too low: have ${tx.gasLimit}, want ${intrinsic}`);
  }
  if (tx.gasLimit < floor) {
    throw new MempoolError(
      "intrinsic-gas",
      `insufficient gas for floor data gas cost: have ${tx.gasLimit}, want ${floor}`,
    );
  }
}

export class Mempool {
  private readonly byHash = new Map<string, PendingTx>();
  private readonly bySender = new Map<string, Map<bigint, PendingTx>>();
  private readonly finished = new Map<string, TxStatus>();
  /**
   * Account nonces of the senders with pending transactions. Only the sender's own transactions move
   * its nonce, and they all pass through here (`included`), so the L2 state is read once per sender
   * rather than once per sender per batch. Forgotten when the sender has nothing pending.
   */
  private readonly accountNonces = new Map<string, bigint>();
  private arrivals = 0;
  /** Admissions in flight, per sender (chained: one at a time). */
  private readonly admitting = new Map<string, Promise<void>>();
  /** Moves whenever transactions are settled (included or dropped), which moves or forgets nonces. */
  private nonceEpoch = 0;
  private readonly admittedListeners: ((raw: string, hash: string) => void)[] = [];
  private readonly feeModel: L1FeeModel;

  constructor(
    private readonly state: MempoolState,
    private readonly options: MempoolOptions,
    private readonly journal?: MempoolJournal,
  ) {
    this.feeModel = options.feeModel ?? DEFAULT_L1_FEE_MODEL;
  }

  get size(): number {
    return this.byHash.size;
  }

  /** Admits a signed transaction; returns its hash or throws MempoolError. */
  async add(raw: string): Promise<string> {
    const maxBytes = this.options.maxTxBytes ?? 128 * 1024;
    if (typeof raw !== "string" || !/^0x[0-9a-fA-F]*$/.test(raw) || raw.length % 2 !== 0) {
      throw new MempoolError("malformed", "malformed transaction: expected 0x-prefixed hex bytes");
    }
    const length = (raw.length - 2) / 2;
    if (length > maxBytes) throw new MempoolError("oversized", `transaction of ${length} bytes exceeds ${maxBytes}`);
    const { tx, sender } = decodeSigned(raw);
    const hash = keccak256(raw);
    if (this.byHash.has(hash)) throw new MempoolError("already-known", `already known: ${hash}`);
    // One admission per sender at a time: each reads the sender's queue and nonce across awaits (the
    // state's nonce and balance), so concurrent ones (several requests, forwarded transactions) would
    // each start from a queue the other is about to replace.
    const previous = this.admitting.get(sender) ?? Promise.resolve();
    const turn = previous.then(() => this.admit(raw, tx, sender, hash, length));
    const done = turn.then(
      () => undefined,
      () => undefined,
    );
    this.admitting.set(sender, done);
    try {
      return await turn;
    } finally {
      if (this.admitting.get(sender) === done) this.admitting.delete(sender);
    }
  }

  private async admit(raw: string, tx: Transaction, sender: string, hash: string, length: number): Promise<string> {
    if (this.byHash.has(hash)) throw new MempoolError("already-known", `already known: ${hash}`);
    if (tx.type !== 0 && tx.type !== 1 && tx.type !== 2) {
      throw new MempoolError("unsupported-type", `transaction type ${tx.type} is not supported on Veilnet L2`);
    }
    if (tx.chainId !== L2_CHAIN_ID) {
      throw new MempoolError(
        "wrong-chain",
        tx.chainId === 0n
          ? "transactions without replay protection (EIP-155 chain id) are refused"
          : `wrong chain id ${tx.chainId}: Veilnet L2 is ${L2_CHAIN_ID}`,
      );
    }
    checkGas(tx, this.options.blockGasLimit);
    const maxFee = tx.type === 2 ? tx.maxFeePerGas! : tx.gasPrice!;
    if (tx.type === 2 && tx.maxPriorityFeePerGas! > maxFee) {
      throw new MempoolError(
        "tip-above-fee-cap",
        `max priority fee per gas higher than max fee per gas: tip ${tx.maxPriorityFeePerGas}, cap ${maxFee}`,
      );
    }
    const fee = tx.type === 2 ? (tx.maxPriorityFeePerGas! < maxFee ? tx.maxPriorityFeePerGas! : maxFee) : maxFee;
    if (fee < this.options.minPriorityFee) {
      throw new MempoolError(
        "underpriced",
        `transaction underpriced: priority fee ${fee} wei/gas is below the minimum ${this.options.minPriorityFee}`,
      );
    }
    if (this.byHash.size >= (this.options.maxPending ?? 100_000)) {
      throw new MempoolError("pool-full", "mempool is full; try again later");
    }
    const epoch = this.nonceEpoch;
    const accountNonce = await this.accountNonce(sender);
    if (tx.nonce < accountNonce) {
      throw new MempoolError(
        "nonce-too-low",
        `nonce too low: account ${sender} is at nonce ${accountNonce}, got ${tx.nonce}`,
      );
    }
    const maxGap = this.options.maxNonceGap ?? 64n;
    if (BigInt(tx.nonce) > accountNonce + maxGap) {
      throw new MempoolError(
        "nonce-too-high",
        `nonce too high: account ${sender} is at nonce ${accountNonce}, got ${tx.nonce} (at most ${maxGap} ahead)`,
      );
    }
    const margin = this.options.l1FeeMarginPercent ?? 125n;
    const l1Fee = (l1DataFee(length, this.state.l1BaseFee(), this.feeModel) * margin) / 100n;
    const cost = tx.value + tx.gasLimit * maxFee + l1Fee;
    const queue = this.bySender.get(sender) ?? new Map<bigint, PendingTx>();
    const replaced = queue.get(BigInt(tx.nonce));
    if (replaced !== undefined && fee * 100n < replaced.fee * (100n + REPLACEMENT_BUMP_PERCENT)) {
      throw new MempoolError(
        "replacement-underpriced",
        `replacement transaction underpriced: nonce ${tx.nonce} is pending with fee ${replaced.fee}; a replacement needs +${REPLACEMENT_BUMP_PERCENT}%`,
      );
    }
    let committed = cost;
    for (const other of queue.values()) if (other !== replaced) committed += other.cost;
    const balance = await this.state.balance(sender);
    if (committed > balance) {
      throw new MempoolError(
        "insufficient-funds",
        `insufficient funds for gas * price + value + L1 data fee: have ${balance} want ${committed} (L1 data fee ${l1Fee})`,
      );
    }
    // Checked again after the reads above: a batch may have included it meanwhile (a committee member
    // applies batches holding transactions forwarded to it late).
    const done = this.finished.get(hash);
    if (done?.status === "included") {
      throw new MempoolError("already-known", `already included in batch ${done.batch}: ${hash}`);
    }
    if (this.byHash.has(hash)) throw new MempoolError("already-known", `already known: ${hash}`);
    if (replaced !== undefined) this.remove(replaced.hash, { status: "dropped", reason: `replaced by ${hash}` });
    const pending: PendingTx = {
      hash,
      raw,
      sender,
      nonce: BigInt(tx.nonce),
      fee,
      gasLimit: tx.gasLimit,
      cost,
      arrival: this.arrivals++,
    };
    this.byHash.set(hash, pending);
    queue.set(pending.nonce, pending);
    this.bySender.set(sender, queue);
    // Not when a batch settled transactions meanwhile: the nonce read before may be stale (read again).
    if (!this.accountNonces.has(sender) && epoch === this.nonceEpoch) this.accountNonces.set(sender, accountNonce);
    this.finished.delete(hash);
    await this.journal?.accepted(raw);
    for (const listener of this.admittedListeners) listener(raw, hash);
    return hash;
  }

  /**
   * Calls `listener` with every transaction admitted from now on (after it is journaled): a committee
   * node forwards them to the other members, so whoever proposes next can include them.
   */
  onAdmitted(listener: (raw: string, hash: string) => void): void {
    this.admittedListeners.push(listener);
  }

  get(hash: string): PendingTx | undefined {
    return this.byHash.get(hash.toLowerCase());
  }

  status(hash: string): TxStatus | undefined {
    const pending = this.byHash.get(hash.toLowerCase());
    if (pending !== undefined) return { status: "pending", sender: pending.sender, nonce: pending.nonce };
    return this.finished.get(hash.toLowerCase());
  }

  /** The next nonce of `sender` counting its pending transactions (for `eth_getTransactionCount(pending)`). */
  pendingNonce(sender: string, accountNonce: bigint): bigint {
    const address = getAddress(sender);
    const queue = this.bySender.get(address);
    let n = this.accountNonces.get(address) ?? accountNonce;
    while (queue?.has(n) === true) n++;
    return n;
  }

  /**
   * The transactions of the next batch: highest fee first, then arrival, each sender's in nonce
   * order from its account nonce, within `gasBudget`, `maxCount` and `maxBytes` (raw encoded bytes,
   * so that the batch fits an L1 transaction once compressed). A transaction too big for what is
   * left is skipped, and its sender's later ones with it, for this batch.
   */
  async select(gasBudget: bigint, maxCount: number, maxBytes = Number.MAX_SAFE_INTEGER): Promise<PendingTx[]> {
    const heads: PendingTx[] = [];
    for (const [sender, queue] of this.bySender) {
      const head = queue.get(await this.accountNonce(sender));
      if (head !== undefined) heads.push(head);
    }
    const better = (a: PendingTx, b: PendingTx): boolean => a.fee > b.fee || (a.fee === b.fee && a.arrival < b.arrival);
    const chosen: PendingTx[] = [];
    let gas = 0n;
    let bytes = 0;
    // Small pools: a sorted array re-sorted on insert is simpler than a heap and fast enough per batch.
    heads.sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
    while (heads.length > 0 && chosen.length < maxCount) {
      const best = heads.shift()!;
      const size = (best.raw.length - 2) / 2;
      if (gas + best.gasLimit > gasBudget || bytes + size > maxBytes) continue;
      chosen.push(best);
      gas += best.gasLimit;
      bytes += size;
      const following = this.bySender.get(best.sender)?.get(best.nonce + 1n);
      if (following !== undefined) {
        const at = heads.findIndex((h) => better(following, h));
        heads.splice(at < 0 ? heads.length : at, 0, following);
      }
    }
    return chosen;
  }

  /** Marks transactions as included in batch `batch` (their senders' nonces move past them). */
  included(hashes: readonly string[], batch: bigint): void {
    this.nonceEpoch++;
    for (const hash of hashes) {
      const tx = this.byHash.get(hash);
      if (tx === undefined) continue;
      if (this.accountNonces.has(tx.sender)) this.accountNonces.set(tx.sender, tx.nonce + 1n);
      this.remove(hash, { status: "included", batch });
    }
  }

  /**
   * Settles a sealed batch's transactions, given whole: those pending here are marked included; for the
   * others (a committee member's batch holds transactions this pool never saw) their senders' remembered
   * nonces are forgotten, since those nonces have moved.
   */
  includedRaw(raws: readonly string[], batch: bigint): void {
    const hashes: string[] = [];
    for (const raw of raws) {
      const hash = keccak256(raw);
      if (this.byHash.has(hash)) hashes.push(hash);
      else {
        // Its status for the sender, and a refusal if it arrives late (an admission in flight meanwhile).
        this.remember(hash, { status: "included", batch });
        try {
          this.accountNonces.delete(decodeSigned(raw).sender);
        } catch {
          // not decodable: it cannot be in the block (execution would have rejected it)
        }
      }
    }
    this.included(hashes, batch);
  }

  /**
   * Removes a transaction for good, with the reason its sender will see. The sender's nonce is read
   * from the state again next time: a drop is where a remembered nonce could have gone stale.
   */
  drop(hash: string, reason: string): void {
    this.nonceEpoch++;
    const tx = this.byHash.get(hash);
    if (tx !== undefined) this.accountNonces.delete(tx.sender);
    this.remove(hash, { status: "dropped", reason });
  }

  /** Records the reason of a transaction dropped before a restart. */
  rememberDropped(hash: string, reason: string): void {
    if (!this.byHash.has(hash)) this.finished.set(hash, { status: "dropped", reason });
  }

  /**
   * Drops what can no longer execute: nonces the account has used (replaced or invalid) and, after
   * `maxAge` further arrivals, transactions still waiting behind a nonce gap.
   */
  async prune(maxAgeArrivals: number): Promise<void> {
    for (const [sender, queue] of [...this.bySender]) {
      const nonce = await this.accountNonce(sender);
      for (const tx of [...queue.values()]) {
        if (tx.nonce < nonce) this.drop(tx.hash, `nonce ${tx.nonce} was used by another transaction of ${sender}`);
        else if (tx.nonce > nonce && !queue.has(nonce) && this.arrivals - tx.arrival > maxAgeArrivals) {
          this.drop(tx.hash, `nonce gap: account ${sender} is at nonce ${nonce}, this transaction has ${tx.nonce}`);
        }
      }
    }
  }

  /** Every pending transaction, in arrival order (for the journal's compaction). */
  pending(): PendingTx[] {
    return [...this.byHash.values()].sort((a, b) => a.arrival - b.arrival);
  }

  /** The sender's account nonce: remembered while it has pending transactions, else read from the state. */
  private async accountNonce(sender: string): Promise<bigint> {
    let nonce = this.accountNonces.get(sender);
    if (nonce === undefined) {
      nonce = await this.state.nonce(sender);
      // Remembered only once the sender has a queue; `add` may still refuse the transaction.
      if (this.bySender.has(sender)) this.accountNonces.set(sender, nonce);
    }
    return nonce;
  }

  private remove(hash: string, status: TxStatus): void {
    const tx = this.byHash.get(hash);
    if (tx === undefined) return;
    this.byHash.delete(hash);
    const queue = this.bySender.get(tx.sender);
    queue?.delete(tx.nonce);
    if (queue !== undefined && queue.size === 0) {
      this.bySender.delete(tx.sender);
      this.accountNonces.delete(tx.sender);
    }
    this.remember(hash, status);
    if (status.status === "dropped") this.journal?.removed(hash, status.reason);
  }

  private remember(hash: string, status: TxStatus): void {
    this.finished.set(hash, status);
    const memory = this.options.statusMemory ?? 100_000;
    while (this.finished.size > memory) this.finished.delete(this.finished.keys().next().value!);
  }
}
