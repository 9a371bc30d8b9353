/**
 * A node's view of the operators and committees, built from the OperatorRegistry's events alone (as
 * ssv nodes sync from contract events; DESIGN §9.1): operators with their owners, keys, fees and
 * enclaves; committees with their members, signers (enclave addresses in member order) and liquidation
 * state; and which committee is active.
 *
 * The events come through the event-subscriber's reading path, run in this process
 * (platform/l1-events/: confirmation depth, block ranges, reorg detection by parent hash), with its
 * checkpoint in memory: at start the node re-reads from the deployment block. Not through the worker's
 * Redis queues: who may sign must not be something the host's Redis can forge.
 *
 * The view is the follower's sink and a reducer over the typed domain events (platform/events.ts). It
 * keeps the events it applied, in chain order (a registry has few); a compensation (`removed: true`,
 * after a reorg) takes the event it compensates out of that list, and the state is recomputed from the
 * remaining events. `sync()` reads up to `confirmations` below the head and returns.
 */
import { getAddress } from "ethers";

import {
  type DomainEvent,
  type EventJob,
  type EventRef,
  type OperatorRegistryEvent,
  eventJobId,
} from "../../platform/events.js";
import { MemoryCheckpointStore } from "../../platform/l1-events/checkpoint.js";
import { LogDecoder, eventTypesOf } from "../../platform/l1-events/decode.js";
import { type EventSink, L1EventFollower } from "../../platform/l1-events/follower.js";
import type { JsonRpcSender } from "../../platform/l1-events/rpc.js";
import { type Logger, silentLogger } from "../../platform/logger.js";

export interface OperatorView {
  id: number;
  owner: string;
  publicKey: string;
  fee: bigint;
  enclave: string | undefined;
  removed: boolean;
}

export interface CommitteeView {
  id: number;
  owner: string;
  operatorIds: number[];
  quorum: number;
  /** The members' enclaves in member order, as last recorded (CommitteeSignersUpdated). */
  signers: string[];
  /** Every enclave ever recorded as a signer of it (lower case): rollups signed before a refresh stay valid. */
  everSigners: Set<string>;
  liquidated: boolean;
}

/** Where the view reads the registry's events from. */
export interface RegistrySource {
  /** L1 JSON-RPC (an ethers JsonRpcProvider, Hardhat's provider). */
  provider: JsonRpcSender;
  /** The OperatorRegistry. */
  address: string;
  /** First block to read (the deployment block). */
  fromBlock: number;
  /** Blocks on top of a block before its events count (default 0). */
  confirmations?: number;
  /** The L1's chain id, for the events' refs (asked of the provider when not given). */
  chainId?: number;
  logger?: Logger;
}

const REGISTRY_EVENT_TYPES: ReadonlySet<string> = new Set(eventTypesOf(["OperatorRegistry"]));

const isRegistryEvent = (e: DomainEvent): e is OperatorRegistryEvent => REGISTRY_EVENT_TYPES.has(e.type);

/** Chain order of two refs. */
const byPosition = (a: EventRef, b: EventRef) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex;

export class OperatorRegistryView implements EventSink {
  readonly operators = new Map<number, OperatorView>();
  readonly committees = new Map<number, CommitteeView>();
  activeId: number | undefined;
  /** The applied events, in chain order, and their delivery ids. */
  readonly #events: EventJob<OperatorRegistryEvent>[] = [];
  readonly #ids = new Set<string>();
  #follower: Promise<L1EventFollower> | undefined;

  constructor(private readonly source?: RegistrySource) {}

  /** The active committee, if one is set. */
  active(): CommitteeView | undefined {
    return this.activeId === undefined ? undefined : this.committees.get(this.activeId);
  }

  /** The active committee's members as operator id → enclave address (what a node's gossip checks). */
  activeMembers(): Map<number, string> | undefined {
    const c = this.active();
    if (c === undefined || c.signers.length !== c.operatorIds.length) return undefined;
    return new Map(c.operatorIds.map((id, i) => [id, c.signers[i] ?? ""]));
  }

  /** How many events the view's state is made of. */
  get eventCount(): number {
    return this.#events.length;
  }

  /** Reads the registry's events up to `confirmations` below the head; returns how many new events it took. */
  async sync(): Promise<number> {
    this.#follower ??= this.#makeFollower();
    const follower = await this.#follower.catch((e: unknown) => {
      this.#follower = undefined;
      throw e;
    });
    return (await follower.pollOnce()).events;
  }

  /**
   * Takes deliveries of the follower (EventSink): events in chain order, compensations of reorged ones.
   * Idempotent: an event already applied, or a compensation of one the view does not hold, changes nothing.
   */
  async deliver(jobs: EventJob[]): Promise<void> {
    let rebuild = false;
    for (const job of jobs) {
      if (!isRegistryEvent(job.event)) continue;
      const id = eventJobId(job.ref);
      if (job.removed) {
        const i = this.#events.findIndex((e) => eventJobId(e.ref) === id);
        if (i < 0) continue;
        this.#events.splice(i, 1);
        this.#ids.delete(id);
        rebuild = true;
        continue;
      }
      if (this.#ids.has(id)) continue;
      const applied = { ref: job.ref, event: job.event, removed: false };
      this.#ids.add(id);
      const last = this.#events.at(-1);
      if (last === undefined || byPosition(last.ref, job.ref) < 0) {
        this.#events.push(applied);
        if (!rebuild) this.#apply(job.event);
      } else {
        // Out of chain order (not what the follower delivers): keep the list sorted and recompute.
        this.#events.push(applied);
        this.#events.sort((a, b) => byPosition(a.ref, b.ref));
        rebuild = true;
      }
    }
    if (rebuild) this.#recompute();
  }

  async #makeFollower(): Promise<L1EventFollower> {
    const s = this.source;
    if (s === undefined) throw new Error("OperatorRegistryView: no L1 source to sync from");
    const logger = s.logger ?? silentLogger();
    const chainId = s.chainId ?? Number(await s.provider.send("eth_chainId", []));
    return new L1EventFollower({
      provider: s.provider,
      decoder: new LogDecoder(chainId, { OperatorRegistry: s.address }, { sources: ["OperatorRegistry"] }),
      store: new MemoryCheckpointStore(),
      sink: this,
      startBlock: s.fromBlock,
      logger,
      name: "operator-registry-view",
      // Ranges of at most 10,000 blocks (what public RPC providers allow per eth_getLogs; halved if refused).
      options: { blockRange: 10_000, confirmations: s.confirmations ?? 0 },
    });
  }

  #recompute(): void {
    this.operators.clear();
    this.committees.clear();
    this.activeId = undefined;
    for (const { event } of this.#events) this.#apply(event);
  }

  /** Applies one event to the state (events the view does not track change nothing). */
  #apply(e: OperatorRegistryEvent): void {
    switch (e.type) {
      case "OperatorRegistered":
        this.operators.set(Number(e.operatorId), {
          id: Number(e.operatorId),
          owner: getAddress(e.owner),
          publicKey: e.publicKey,
          fee: BigInt(e.fee),
          enclave: undefined,
          removed: false,
        });
        break;
      case "OperatorEnclaveSet": {
        const o = this.operators.get(Number(e.operatorId));
        if (o !== undefined) o.enclave = getAddress(e.enclave);
        break;
      }
      case "OperatorRemoved": {
        // As the contract does (without other events): its fee becomes zero and its enclave is dropped.
        const o = this.operators.get(Number(e.operatorId));
        if (o !== undefined) Object.assign(o, { removed: true, fee: 0n, enclave: undefined });
        break;
      }
      case "OperatorFeeExecuted": {
        const o = this.operators.get(Number(e.operatorId));
        if (o !== undefined) o.fee = BigInt(e.fee);
        break;
      }
      case "CommitteeCreated":
        this.committees.set(Number(e.committeeId), {
          id: Number(e.committeeId),
          owner: getAddress(e.owner),
          operatorIds: e.operatorIds.map(Number),
          quorum: e.quorum,
          signers: [],
          everSigners: new Set(),
          liquidated: false,
        });
        break;
      case "CommitteeSignersUpdated": {
        const c = this.committees.get(Number(e.committeeId));
        if (c !== undefined) {
          c.signers = e.signers.map((s) => getAddress(s));
          for (const signer of c.signers) c.everSigners.add(signer.toLowerCase());
        }
        break;
      }
      case "CommitteeLiquidated": {
        const c = this.committees.get(Number(e.committeeId));
        if (c !== undefined) c.liquidated = true;
        break;
      }
      case "CommitteeReactivated": {
        const c = this.committees.get(Number(e.committeeId));
        if (c !== undefined) c.liquidated = false;
        break;
      }
      case "ActiveCommitteeChanged":
        this.activeId = e.next === "0" ? undefined : Number(e.next);
        break;
      default:
        break;
    }
  }
}
