/**
 * The L2 chain of one enclave: a real EVM (Hardhat's EDR, created in-process) that only mines when
 * the enclave seals a batch. Sequencer and validators run the same code: `executeBatch` applies a
 * batch's L1 messages (as system transactions), its user transactions in the given order, and the L1
 * data fees, then mines one block with the batch's timestamp and entropy. The same inputs give the
 * same block hash on every enclave, which is how validators check a sequencer.
 */
import { AbiCoder, Transaction, ZeroHash, getAddress, keccak256, toBeHex, toQuantity } from "ethers";

import type { CrossChainMessage, L1Message } from "../../protocol/messages.js";
import {
  L2_ETH_SUPPLY,
  L2_GENESIS_BLOCKS,
  L2_GENESIS_TIMESTAMP,
  L2_SYSTEM_ADDRESS,
  L2Predeploys,
} from "../../protocol/predeploys.js";
import { L2MessageBus__factory } from "../../types/ethers-contracts/index.js";
import { DEFAULT_L1_FEE_MODEL, type L1FeeCharge, type L1FeeModel, l1DataFee, l1DataGas } from "./l1-fee.js";

/** What EDR's provider is to us: an EIP-1193 request function. */
export interface L2Provider {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

/** What the genesis depends on besides the constants of protocol/predeploys.ts. */
export interface GenesisParams {
  /** The L1 bridge: the L2 bridge accepts its messages and sends withdrawals to it. */
  l1Bridge: string;
  /** Where the fee collector sends the L2 fees on L1 (the L1 FeeVault). */
  l1FeeRecipient: string;
}

/** One batch to execute: everything that determines its block. */
export interface BatchInput {
  /** Block timestamp, seconds; strictly greater than the parent's. */
  timestamp: bigint;
  /** The batch's entropy (`block.prevrandao`), derived from the network secret. */
  prevrandao: string;
  /** L1 base fee the batch's L1 data fees are priced at. */
  l1BaseFee: bigint;
  /** L1 messages to deliver, contiguous from the L2 MessageBus's `nextL1Sequence`. */
  l1Messages: readonly L1Message[];
  /** Signed user transactions (0x hex), in execution order. */
  txs: readonly string[];
}

/** A user transaction the EVM refused to take into the block (bad nonce, funds, gas …). */
export interface RejectedTx {
  raw: string;
  hash: string;
  reason: string;
}

export interface ExecutedBatch {
  number: bigint;
  hash: string;
  stateRoot: string;
  timestamp: bigint;
  /** The user transactions in the block, in order (a reverted transaction is included, status 0). */
  txs: string[];
  /** Transactions refused before execution; not in the block. */
  rejected: RejectedTx[];
  /** L2→L1 messages the block published (L2 MessageBus `MessagePublished`). */
  messages: CrossChainMessage[];
  /** `nextL1Sequence` of the L2 MessageBus after the block. */
  l1MessagesTo: bigint;
  /** L1 data fees charged to the block's senders. */
  l1Fees: bigint;
}

export class BatchExecutionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BatchExecutionError";
  }
}

/** Gas of a system transaction delivering one L1 message (generous and fixed: it is part of consensus). */
const SYSTEM_TX_GAS = 3_000_000n;
const GENESIS_TX_GAS = 15_000_000n;

/** The L2MessageBus predeploy's interface: the system calls the chain makes to it and the event it reads. */
export const l2MessageBusInterface = L2MessageBus__factory.createInterface();

/** The L2→L1 message of an L2MessageBus `MessagePublished` log (its address and topic checked by the caller). */
export function publishedMessage(log: { topics: readonly string[]; data: string }): CrossChainMessage {
  const e = l2MessageBusInterface.parseLog(log);
  if (e === null) throw new Error("not an L2MessageBus log");
  return {
    sender: getAddress(e.args.sender as string),
    sequence: e.args.sequence as bigint,
    nonce: e.args.nonce as bigint,
    topic: Number(e.args.topic),
    payload: e.args.payload as string,
    consistencyLevel: Number(e.args.consistencyLevel),
  };
}
const messagePublishedTopic = l2MessageBusInterface.getEvent("MessagePublished").topicHash;

interface RpcBlock {
  number: string;
  hash: string;
  stateRoot: string;
  timestamp: string;
  transactions: { hash: string; from: string }[];
}

interface RpcLog {
  topics: string[];
  data: string;
}

/** The user transactions of a mined block, in order, with the L1 data fee each one owes. */
interface OwedL1Fee {
  hash: string;
  sender: string;
  fee: bigint;
  l1GasUsed: bigint;
}

function errorText(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const end = message.indexOf("\n");
  return end === -1 ? message : message.slice(0, end);
}

export class L2Chain {
  /**
   * The chain as the RPC endpoint reads it: every request waits for the batch being executed, so that
   * no reader sees a block before its L1 data fees are charged, nor the pending block of a batch being
   * built (its `prevrandao` is the batch's secret entropy). The enclave's own calls use `engine`.
   */
  readonly provider: L2Provider;
  /** The L1 data fee charged to each user transaction, by hash (receipts carry it). */
  private readonly l1Fees = new Map<string, L1FeeCharge>();
  private executing: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly engine: L2Provider,
    private readonly feeModel: L1FeeModel,
    private readonly close_: () => Promise<void>,
  ) {
    this.provider = {
      request: async (args) => {
        await this.executing;
        return this.engine.request(args);
      },
    };
  }

  /**
   * A new L2 chain at its genesis: the system contracts deployed (block 1) by the system account.
   * Needs the compiled artifacts (`npx hardhat compile`).
   */
  static async create(genesis: GenesisParams, feeModel: L1FeeModel = DEFAULT_L1_FEE_MODEL): Promise<L2Chain> {
    const { network, artifacts } = (await import("hardhat")).default;
    const connection = await network.create("veilnetL2");
    const chain = new L2Chain(connection.provider as L2Provider, feeModel, () => connection.close());
    const bytecode = async (name: string): Promise<string> => (await artifacts.readArtifact(name)).bytecode;
    const coder = AbiCoder.defaultAbiCoder();
    const l1Bridge = getAddress(genesis.l1Bridge);
    const deployments = [
      (await bytecode("L2MessageBus")) +
        coder.encode(["address", "address"], [L2_SYSTEM_ADDRESS, L2_SYSTEM_ADDRESS]).slice(2),
      (await bytecode("L2Bridge")) + coder.encode(["address", "address"], [L2Predeploys.messageBus, l1Bridge]).slice(2),
      (await bytecode("L2FeeCollector")) +
        coder.encode(["address", "address"], [L2Predeploys.bridge, getAddress(genesis.l1FeeRecipient)]).slice(2),
    ];
    await chain.rpc("hardhat_impersonateAccount", [L2_SYSTEM_ADDRESS]);
    await chain.rpc("hardhat_setBalance", [L2_SYSTEM_ADDRESS, toQuantity(L2_ETH_SUPPLY)]);
    await chain.prepareBlock(L2_GENESIS_TIMESTAMP + 1n, toBeHex(0, 32));
    for (const [i, data] of deployments.entries()) {
      await chain.systemTx(undefined, data, GENESIS_TX_GAS, i === 1 ? L2_ETH_SUPPLY : 0n);
    }
    await chain.systemTx(
      L2Predeploys.messageBus,
      l2MessageBusInterface.encodeFunctionData("setReceiver", [l1Bridge, L2Predeploys.bridge]),
      GENESIS_TX_GAS,
    );
    await chain.rpc("evm_mine", []);
    await chain.hidePendingEntropy();
    const head = await chain.block("latest");
    if (BigInt(head.number) !== L2_GENESIS_BLOCKS - 1n || head.transactions.length !== 4) {
      throw new BatchExecutionError(
        `L2 genesis: block ${head.number} holds ${head.transactions.length} of 4 transactions`,
      );
    }
    for (const [name, address] of Object.entries(L2Predeploys)) {
      const code = (await chain.rpc("eth_getCode", [address, "latest"])) as string;
      if (code === "0x") throw new BatchExecutionError(`L2 genesis: no ${name} at ${address}`);
    }
    return chain;
  }

  async close(): Promise<void> {
    await this.close_();
  }

  rpc(method: string, params: unknown[] = []): Promise<unknown> {
    return this.engine.request({ method, params });
  }

  /** The L1 data fee transaction `hash` was charged (undefined: not a user transaction of this chain). */
  l1FeeOf(hash: string): L1FeeCharge | undefined {
    return this.l1Fees.get(hash.toLowerCase());
  }

  /** The latest block: number, hash, timestamp. */
  async head(): Promise<{ number: bigint; hash: string; timestamp: bigint; stateRoot: string }> {
    const b = await this.block("latest");
    return { number: BigInt(b.number), hash: b.hash, timestamp: BigInt(b.timestamp), stateRoot: b.stateRoot };
  }

  /** Sequence of the next L1 message the L2 MessageBus expects. */
  async nextL1Sequence(): Promise<bigint> {
    const data = (await this.rpc("eth_call", [
      { to: L2Predeploys.messageBus, data: l2MessageBusInterface.encodeFunctionData("nextL1Sequence") },
      "latest",
    ])) as string;
    return BigInt(data);
  }

  async balance(address: string): Promise<bigint> {
    return BigInt((await this.rpc("eth_getBalance", [address, "latest"])) as string);
  }

  async nonce(address: string): Promise<bigint> {
    return BigInt((await this.rpc("eth_getTransactionCount", [address, "latest"])) as string);
  }

  /** Saves the state (to undo a batch a validator refuses). */
  async snapshot(): Promise<string> {
    return (await this.rpc("evm_snapshot")) as string;
  }

  async revert(snapshot: string): Promise<void> {
    await this.rpc("evm_revert", [snapshot]);
  }

  /**
   * Executes one batch and mines its block. With `strict` (replaying someone else's batch) a
   * transaction the EVM refuses is an error; otherwise it is left out and reported in `rejected`.
   */
  executeBatch(input: BatchInput, strict = false): Promise<ExecutedBatch> {
    const run = this.executing.then(() => this.execute(input, strict));
    this.executing = run.catch(() => undefined);
    return run;
  }

  private async execute(input: BatchInput, strict: boolean): Promise<ExecutedBatch> {
    const parent = await this.head();
    if (input.timestamp <= parent.timestamp) {
      throw new BatchExecutionError(`batch timestamp ${input.timestamp} is not after its parent's ${parent.timestamp}`);
    }
    const expectedL1 = input.l1Messages.length > 0 ? await this.nextL1Sequence() : 0n;
    for (const [i, m] of input.l1Messages.entries()) {
      if (m.sequence !== expectedL1 + BigInt(i)) {
        throw new BatchExecutionError(`L1 message ${m.sequence} is out of order: expected ${expectedL1 + BigInt(i)}`);
      }
    }
    await this.prepareBlock(input.timestamp, input.prevrandao);
    for (const m of input.l1Messages) {
      await this.systemTx(
        L2Predeploys.messageBus,
        l2MessageBusInterface.encodeFunctionData("deliverMessage", [m]),
        SYSTEM_TX_GAS,
      );
    }
    const rejected: RejectedTx[] = [];
    const submitted = new Map<string, string>();
    for (const raw of input.txs) {
      const hash = keccak256(raw);
      try {
        await this.rpc("eth_sendRawTransaction", [raw]);
        submitted.set(hash, raw);
      } catch (e) {
        if (strict) throw new BatchExecutionError(`transaction ${hash} refused: ${errorText(e)}`);
        rejected.push({ raw, hash, reason: errorText(e) });
      }
    }
    await this.rpc("evm_mine", []);
    const block = await this.block("latest", true);
    const number = BigInt(block.number);
    if (number !== BigInt(parent.number) + 1n)
      throw new BatchExecutionError(`mined block ${number} after ${parent.number}`);
    const txs: string[] = [];
    const owed: OwedL1Fee[] = [];
    for (const tx of block.transactions) {
      const raw = submitted.get(tx.hash);
      if (raw === undefined) continue; // a system transaction
      submitted.delete(tx.hash);
      txs.push(raw);
      const length = (raw.length - 2) / 2;
      owed.push({
        hash: tx.hash,
        sender: getAddress(tx.from),
        fee: l1DataFee(length, input.l1BaseFee, this.feeModel),
        l1GasUsed: l1DataGas(length, this.feeModel),
      });
    }
    for (const [hash, raw] of submitted) {
      // Accepted by the pool but not mined (e.g. a nonce gap): never carried into another batch.
      await this.rpc("hardhat_dropTransaction", [hash]);
      if (strict) throw new BatchExecutionError(`transaction ${hash} was not mined`);
      rejected.push({ raw, hash, reason: "not executable in this batch (nonce gap or block full)" });
    }
    const l1Fees = await this.chargeL1Fees(owed, input.l1BaseFee);
    await this.hidePendingEntropy();
    const messages = await this.publishedMessages(block.hash);
    return {
      number,
      hash: block.hash,
      stateRoot: block.stateRoot,
      timestamp: BigInt(block.timestamp),
      txs,
      rejected,
      messages,
      l1MessagesTo: await this.nextL1Sequence(),
      l1Fees,
    };
  }

  /** The sender of a signed transaction, as the EVM recovers it (from a mined block). */
  static senderOf(raw: string): string {
    const from = Transaction.from(raw).from;
    if (from === null) throw new BatchExecutionError("unsigned transaction");
    return from;
  }

  /**
   * Charges each sender the L1 data fees of its transactions in the block just mined (what it can
   * pay, at most, transaction by transaction in block order), records each charge for the receipts,
   * and credits the fee collector. The balances change before the next block, so the charge shows in
   * the next block's state root, identically on every enclave.
   */
  private async chargeL1Fees(owed: readonly OwedL1Fee[], l1BaseFee: bigint): Promise<bigint> {
    const left = new Map<string, bigint>();
    let total = 0n;
    for (const { hash, sender, fee, l1GasUsed } of owed) {
      const balance = fee === 0n ? 0n : (left.get(sender) ?? (await this.balance(sender)));
      const l1Fee = fee < balance ? fee : balance;
      if (fee !== 0n) left.set(sender, balance - l1Fee);
      total += l1Fee;
      this.l1Fees.set(hash.toLowerCase(), {
        l1Fee,
        l1GasUsed,
        l1GasPrice: l1BaseFee,
        scalarPercent: this.feeModel.scalarPercent,
      });
    }
    if (total === 0n) return 0n;
    for (const [sender, balance] of left) await this.rpc("hardhat_setBalance", [sender, toQuantity(balance)]);
    const collector = await this.balance(L2Predeploys.feeCollector);
    await this.rpc("hardhat_setBalance", [L2Predeploys.feeCollector, toQuantity(collector + total)]);
    return total;
  }

  /**
   * Sets a public `prevrandao` (zero) for the pending block, until the next batch sets its own: calls
   * run in the pending block's context (eth_call, eth_estimateGas), and the entropy of a batch is
   * set only while the batch executes, when no reader gets through (`provider`).
   */
  private async hidePendingEntropy(): Promise<void> {
    await this.rpc("hardhat_setPrevRandao", [ZeroHash]);
  }

  private async publishedMessages(blockHash: string): Promise<CrossChainMessage[]> {
    const logs = (await this.rpc("eth_getLogs", [
      { blockHash, address: L2Predeploys.messageBus, topics: [messagePublishedTopic] },
    ])) as RpcLog[];
    return logs.map(publishedMessage);
  }

  private async prepareBlock(timestamp: bigint, prevrandao: string): Promise<void> {
    await this.rpc("evm_setNextBlockTimestamp", [toQuantity(timestamp)]);
    await this.rpc("hardhat_setPrevRandao", [prevrandao]);
    await this.rpc("hardhat_setNextBlockBaseFeePerGas", ["0x0"]);
  }

  private async systemTx(to: string | undefined, data: string, gas: bigint, value = 0n): Promise<void> {
    await this.rpc("eth_sendTransaction", [
      {
        from: L2_SYSTEM_ADDRESS,
        ...(to === undefined ? {} : { to }),
        data,
        gas: toQuantity(gas),
        value: toQuantity(value),
        maxFeePerGas: "0x0",
        maxPriorityFeePerGas: "0x0",
      },
    ]);
  }

  private async block(tag: string, full = false): Promise<RpcBlock> {
    const b = (await this.rpc("eth_getBlockByNumber", [tag, full])) as RpcBlock | null;
    if (b === null) throw new BatchExecutionError(`no L2 block ${tag}`);
    return b;
  }
}
