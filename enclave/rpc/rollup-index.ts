/**
 * The rollups on L1 as the withdrawal methods need them: each RollupAdded of the RollupRegistry (hash,
 * batch range, message root, L1 transaction), read from the deployment block on, and the L1 state of a
 * message root (MessageBus.messageRoot at the L1 head). Nothing is persisted: a restarted node reads L1
 * again, so a sequencer and a validator that replayed from L1 know the same rollups. Reads are
 * unconfirmed on purpose: a rollup reorged away shows as `unregistered` in its root's live state.
 */
import type { Provider } from "ethers";

import type { RollupRef, RootState } from "../../protocol/withdrawals.js";
import { MessageBus__factory, RollupRegistry__factory } from "../../types/ethers-contracts/index.js";

const registryInterface = RollupRegistry__factory.createInterface();
const ROLLUP_ADDED = registryInterface.getEvent("RollupAdded").topicHash;

export interface RollupIndexOptions {
  provider: Provider;
  rollupRegistry: string;
  messageBus: string;
  /** First L1 block to read (the deployment block). */
  fromBlock: number;
  /** Blocks per eth_getLogs request (default 5,000). */
  range?: number;
}

/** First 12 bytes of a rollup hash, as MessageBus stores them with the root. */
function rollupTag(rollupHash: string): string {
  return rollupHash.toLowerCase().slice(0, 2 + 24);
}

export class RollupIndex {
  private readonly rollups: RollupRef[] = [];
  private next: number;
  private syncing?: Promise<void>;

  constructor(private readonly options: RollupIndexOptions) {
    this.next = options.fromBlock;
  }

  /** Reads the RollupAdded logs up to the L1 head; concurrent calls share one read. */
  sync(): Promise<void> {
    this.syncing ??= this.read().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  /** The rollups read so far, in L1 order. */
  all(): readonly RollupRef[] {
    return this.rollups;
  }

  /** The rollup with hash or message root `ref` (the newest in L1 order), after reading L1. */
  async find(ref: string): Promise<RollupRef | undefined> {
    await this.sync();
    const key = ref.toLowerCase();
    const byHash = this.rollups.find((r) => r.hash.toLowerCase() === key);
    return byHash ?? this.rollups.findLast((r) => r.messageRoot.toLowerCase() === key);
  }

  /** The newest rollup (in L1 order) carrying batch `seq`, after reading L1. */
  async covering(seq: bigint): Promise<RollupRef | undefined> {
    await this.sync();
    return this.rollups.findLast((r) => r.firstBatchSeq <= seq && seq <= r.lastBatchSeq);
  }

  /** The L1 state of `rollup`'s message root at the L1 head. */
  async rootState(rollup: RollupRef): Promise<RootState> {
    const { provider, messageBus } = this.options;
    const [info, head] = await Promise.all([
      MessageBus__factory.connect(messageBus, provider).messageRoot(rollup.messageRoot),
      provider.getBlock("latest"),
    ]);
    if (head === null) throw new Error("the L1 returned no latest block");
    const l1Time = BigInt(head.timestamp);
    if (info.activatesAt === 0n || info.rollupTag.toLowerCase() !== rollupTag(rollup.hash)) {
      return { status: "unregistered", activatesAt: 0n, l1Time };
    }
    const status = info.rejected ? "rejected" : l1Time >= info.activatesAt ? "active" : "pending";
    return { status, activatesAt: info.activatesAt, l1Time };
  }

  private async read(): Promise<void> {
    const { provider, rollupRegistry } = this.options;
    const range = this.options.range ?? 5_000;
    const head = await provider.getBlockNumber();
    while (this.next <= head) {
      const to = Math.min(head, this.next + range - 1);
      const logs = await provider.getLogs({
        address: rollupRegistry,
        topics: [ROLLUP_ADDED],
        fromBlock: this.next,
        toBlock: to,
      });
      for (const log of logs) {
        const e = registryInterface.parseLog(log);
        if (e === null) continue;
        this.rollups.push({
          hash: String(e.args.rollupHash).toLowerCase(),
          messageRoot: String(e.args.messageRoot).toLowerCase(),
          firstBatchSeq: e.args.firstSeq as bigint,
          lastBatchSeq: e.args.lastSeq as bigint,
          l1TxHash: log.transactionHash,
          l1BlockNumber: log.blockNumber,
        });
      }
      this.next = to + 1;
    }
  }
}
