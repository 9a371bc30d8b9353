/**
 * Turning raw L1 logs of a Veilnet deployment into typed domain events (platform/events.ts), with the
 * TypeChain contract interfaces. Only the events listed there are decoded; every other log is ignored.
 * A log is decoded only when it comes from the contract that declares its event, and a decoder follows
 * only the contracts (`sources`) it is made for: the event-subscriber worker those its workers consume,
 * a node the OperatorRegistry.
 *
 * Speed matters (backfills decode tens of thousands of logs): the events' parameter layout is read from
 * the TypeChain interfaces' fragments and decoded straight from the hex (static words, bytes and strings),
 * with checksummed addresses cached; anything else, or any malformed log, goes through ethers'
 * `Interface.decodeEventLog`.
 */
import { type EventFragment, type Interface, getAddress } from "ethers";

import type { DeploymentAddresses } from "../../deploy/deployment-file.js";
import {
  Bridge__factory,
  CrossChainMessenger__factory,
  EnclaveRegistry__factory,
  MessageBus__factory,
  OperatorRegistry__factory,
  RollupRegistry__factory,
} from "../../types/ethers-contracts/index.js";
import type {
  DepositInitiatedEvent,
  TokenRegisteredEvent,
  WithdrawalFinalizedEvent,
} from "../../types/ethers-contracts/contracts/l1/Bridge.js";
import type {
  MessageRelayFailedEvent,
  MessageRelayedEvent,
} from "../../types/ethers-contracts/contracts/l1/CrossChainMessenger.js";
import type {
  NetworkSecretRequestedEvent,
  NetworkSecretRespondedEvent,
  SecretRequestCancelledEvent,
} from "../../types/ethers-contracts/contracts/l1/EnclaveRegistry.js";
import type { MessagePublishedEvent } from "../../types/ethers-contracts/contracts/l1/MessageBus.js";
import type {
  ActiveCommitteeChangedEvent,
  CommitteeCreatedEvent,
  CommitteeDepositedEvent,
  CommitteeLiquidatedEvent,
  CommitteeReactivatedEvent,
  CommitteeSignersUpdatedEvent,
  CommitteeWithdrawnEvent,
  FeeParametersSetEvent,
  LiquidationThresholdsSetEvent,
  NetworkEarningsWithdrawnEvent,
  NetworkFeeSetEvent,
  OperatorEnclaveSetEvent,
  OperatorFeeDeclarationCancelledEvent,
  OperatorFeeDeclaredEvent,
  OperatorFeeExecutedEvent,
  OperatorRegisteredEvent,
  OperatorRemovedEvent,
  OperatorWhitelistUpdatedEvent,
  OperatorWithdrawnEvent,
  PausedSetEvent,
  RewardsCollectedEvent,
  WhitelistEnabledSetEvent,
} from "../../types/ethers-contracts/contracts/l1/OperatorRegistry.js";
import type {
  RollupAddedEvent,
  RollupRejectedEvent,
} from "../../types/ethers-contracts/contracts/l1/RollupRegistry.js";
import type { DomainEvent, DomainEventType, EventJob, EventRef } from "../events.js";

/** A log as eth_getLogs returns it (quantities hex-encoded). */
export interface RawLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  logIndex: string;
  removed?: boolean;
}

/** The contracts whose logs carry domain events. */
export type EventSourceName =
  "EnclaveRegistry" | "RollupRegistry" | "MessageBus" | "CrossChainMessenger" | "Bridge" | "OperatorRegistry";

/** Every contract with domain events. */
export const EVENT_SOURCES: readonly EventSourceName[] = [
  "EnclaveRegistry",
  "RollupRegistry",
  "MessageBus",
  "CrossChainMessenger",
  "Bridge",
  "OperatorRegistry",
];

/** The addresses of the contracts `S` (a deployment's addresses will do: the others are ignored). */
export type EventSourceAddresses<S extends EventSourceName = EventSourceName> = Pick<DeploymentAddresses, S> &
  Partial<DeploymentAddresses>;

/** Turns the TypeChain output object of one event into its domain event. */
type Converter = (values: never) => DomainEvent;

interface EventDecoder {
  type: DomainEventType;
  iface: Interface;
  fragment: EventFragment;
  /** How to read the parameters straight from the log, when all their types allow it. */
  plan: ParamPlan[] | undefined;
  convert: Converter;
}

function decoder<O>(iface: Interface, type: DomainEventType, convert: (o: O) => DomainEvent): EventDecoder {
  const fragment = iface.getEvent(type)!;
  return { type, iface, fragment, plan: planOf(fragment), convert };
}

// --------------------------------------------------------------------------------------------------
// Fast decoding of the ABI types domain events use

type Kind = "uint" | "int" | "address" | "bool" | "fixedBytes" | "bytes" | "string";

interface ParamPlan {
  name: string;
  kind: Kind;
  indexed: boolean;
  /** Bits of a uint or int, bytes of a fixedBytes. */
  size: number;
}

function planOf(fragment: EventFragment): ParamPlan[] | undefined {
  const plan: ParamPlan[] = [];
  for (const p of fragment.inputs) {
    const t = p.type;
    let kind: Kind;
    let size = 0;
    let m: RegExpMatchArray | null;
    if ((m = /^uint(\d*)$/.exec(t)) !== null) {
      kind = "uint";
      size = m[1] === "" ? 256 : Number(m[1]);
    } else if ((m = /^int(\d*)$/.exec(t)) !== null) {
      kind = "int";
      size = m[1] === "" ? 256 : Number(m[1]);
    } else if (t === "address") kind = "address";
    else if (t === "bool") kind = "bool";
    else if ((m = /^bytes(\d+)$/.exec(t)) !== null) {
      kind = "fixedBytes";
      size = Number(m[1]);
    } else if (t === "bytes") kind = "bytes";
    else if (t === "string") kind = "string";
    else return undefined;
    // Indexed dynamic values are only a hash in the topic: leave them to ethers.
    if (p.indexed === true && (kind === "bytes" || kind === "string")) return undefined;
    plan.push({ name: p.name, kind, indexed: p.indexed === true, size });
  }
  return plan;
}

const checksummed = new Map<string, string>();

/** getAddress with a cache (checksumming hashes the address: too slow for every log). */
function checksum(lowerAddress: string): string {
  let a = checksummed.get(lowerAddress);
  if (a === undefined) {
    if (checksummed.size >= 100_000) checksummed.clear();
    a = getAddress(lowerAddress);
    checksummed.set(lowerAddress, a);
  }
  return a;
}

function word(hex: string, index: number): string {
  const w = hex.slice(index * 64, index * 64 + 64);
  if (w.length !== 64) throw new Error("log data too short");
  return w;
}

function staticValue(p: ParamPlan, w: string): unknown {
  switch (p.kind) {
    case "uint":
      return BigInt.asUintN(p.size, BigInt(`0x${w}`));
    case "int":
      return BigInt.asIntN(p.size, BigInt(`0x${w}`));
    case "address":
      if (!/^0{24}/.test(w)) throw new Error("bad address word");
      return checksum(`0x${w.slice(24)}`);
    case "bool":
      return /[^0]/.test(w);
    case "fixedBytes":
      return `0x${w.slice(0, p.size * 2)}`;
    default:
      throw new Error(`not a static type: ${p.kind}`);
  }
}

/** The parameters of a log laid out as `plan` (throws on anything malformed). */
function decodeFast(plan: ParamPlan[], topics: string[], data: string): Record<string, unknown> {
  const hex = (data.startsWith("0x") ? data.slice(2) : data).toLowerCase();
  const out: Record<string, unknown> = {};
  let topic = 1;
  let slot = 0;
  for (const p of plan) {
    if (p.indexed) {
      const t = topics[topic++];
      if (t === undefined || t.length !== 66) throw new Error("missing topic");
      out[p.name] = staticValue(p, t.slice(2).toLowerCase());
    } else if (p.kind === "bytes" || p.kind === "string") {
      const offset = Number(BigInt(`0x${word(hex, slot++)}`));
      if (offset % 32 !== 0) throw new Error("bad offset");
      const length = Number(BigInt(`0x${word(hex, offset / 32)}`));
      const start = offset * 2 + 64;
      const body = hex.slice(start, start + length * 2);
      if (body.length !== length * 2) throw new Error("log data too short");
      out[p.name] = p.kind === "bytes" ? `0x${body}` : Buffer.from(body, "hex").toString("utf8");
    } else {
      out[p.name] = staticValue(p, word(hex, slot++));
    }
  }
  if (topic !== topics.length) throw new Error("unexpected topic count");
  return out;
}

const str = (v: bigint) => v.toString();

/** The OperatorRegistry's events (platform/events.ts, OperatorRegistryEvent). */
function operatorRegistryDecoders(): EventDecoder[] {
  const r = OperatorRegistry__factory.createInterface();
  return [
    decoder<OperatorRegisteredEvent.OutputObject>(r, "OperatorRegistered", (o) => ({
      type: "OperatorRegistered",
      operatorId: str(o.operatorId),
      owner: o.owner,
      publicKey: o.publicKey,
      fee: str(o.fee),
    })),
    decoder<OperatorEnclaveSetEvent.OutputObject>(r, "OperatorEnclaveSet", (o) => ({
      type: "OperatorEnclaveSet",
      operatorId: str(o.operatorId),
      enclave: o.enclave,
    })),
    decoder<OperatorRemovedEvent.OutputObject>(r, "OperatorRemoved", (o) => ({
      type: "OperatorRemoved",
      operatorId: str(o.operatorId),
    })),
    decoder<OperatorFeeDeclaredEvent.OutputObject>(r, "OperatorFeeDeclared", (o) => ({
      type: "OperatorFeeDeclared",
      operatorId: str(o.operatorId),
      fee: str(o.fee),
      executableFrom: str(o.executableFrom),
      executableUntil: str(o.executableUntil),
    })),
    decoder<OperatorFeeDeclarationCancelledEvent.OutputObject>(r, "OperatorFeeDeclarationCancelled", (o) => ({
      type: "OperatorFeeDeclarationCancelled",
      operatorId: str(o.operatorId),
    })),
    decoder<OperatorFeeExecutedEvent.OutputObject>(r, "OperatorFeeExecuted", (o) => ({
      type: "OperatorFeeExecuted",
      operatorId: str(o.operatorId),
      fee: str(o.fee),
    })),
    decoder<OperatorWithdrawnEvent.OutputObject>(r, "OperatorWithdrawn", (o) => ({
      type: "OperatorWithdrawn",
      operatorId: str(o.operatorId),
      to: o.to,
      amount: str(o.amount),
    })),
    decoder<OperatorWhitelistUpdatedEvent.OutputObject>(r, "OperatorWhitelistUpdated", (o) => ({
      type: "OperatorWhitelistUpdated",
      account: o.account,
      whitelisted: o.whitelisted,
    })),
    decoder<WhitelistEnabledSetEvent.OutputObject>(r, "WhitelistEnabledSet", (o) => ({
      type: "WhitelistEnabledSet",
      enabled: o.enabled,
    })),
    decoder<CommitteeCreatedEvent.OutputObject>(r, "CommitteeCreated", (o) => ({
      type: "CommitteeCreated",
      committeeId: str(o.committeeId),
      owner: o.owner,
      operatorIds: Array.from(o.operatorIds, str),
      quorum: Number(o.quorum),
      balance: str(o.balance),
    })),
    decoder<CommitteeSignersUpdatedEvent.OutputObject>(r, "CommitteeSignersUpdated", (o) => ({
      type: "CommitteeSignersUpdated",
      committeeId: str(o.committeeId),
      signers: Array.from(o.signers, String),
      generation: str(o.generation),
    })),
    decoder<ActiveCommitteeChangedEvent.OutputObject>(r, "ActiveCommitteeChanged", (o) => ({
      type: "ActiveCommitteeChanged",
      previous: str(o.previous),
      next: str(o.next),
    })),
    decoder<CommitteeDepositedEvent.OutputObject>(r, "CommitteeDeposited", (o) => ({
      type: "CommitteeDeposited",
      committeeId: str(o.committeeId),
      from: o.from,
      amount: str(o.amount),
      balance: str(o.balance),
    })),
    decoder<CommitteeWithdrawnEvent.OutputObject>(r, "CommitteeWithdrawn", (o) => ({
      type: "CommitteeWithdrawn",
      committeeId: str(o.committeeId),
      owner: o.owner,
      amount: str(o.amount),
      balance: str(o.balance),
    })),
    decoder<CommitteeLiquidatedEvent.OutputObject>(r, "CommitteeLiquidated", (o) => ({
      type: "CommitteeLiquidated",
      committeeId: str(o.committeeId),
      liquidator: o.liquidator,
      amount: str(o.amount),
    })),
    decoder<CommitteeReactivatedEvent.OutputObject>(r, "CommitteeReactivated", (o) => ({
      type: "CommitteeReactivated",
      committeeId: str(o.committeeId),
      amount: str(o.amount),
      balance: str(o.balance),
    })),
    decoder<RewardsCollectedEvent.OutputObject>(r, "RewardsCollected", (o) => ({
      type: "RewardsCollected",
      committeeId: str(o.committeeId),
      amount: str(o.amount),
    })),
    decoder<NetworkEarningsWithdrawnEvent.OutputObject>(r, "NetworkEarningsWithdrawn", (o) => ({
      type: "NetworkEarningsWithdrawn",
      to: o.to,
      amount: str(o.amount),
    })),
    decoder<FeeParametersSetEvent.OutputObject>(r, "FeeParametersSet", (o) => ({
      type: "FeeParametersSet",
      maxOperatorFee: str(o.maxOperatorFee),
      declarePeriod: str(o.declarePeriod),
      executePeriod: str(o.executePeriod),
      maxIncreaseBps: Number(o.maxIncreaseBps),
    })),
    decoder<NetworkFeeSetEvent.OutputObject>(r, "NetworkFeeSet", (o) => ({ type: "NetworkFeeSet", fee: str(o.fee) })),
    decoder<LiquidationThresholdsSetEvent.OutputObject>(r, "LiquidationThresholdsSet", (o) => ({
      type: "LiquidationThresholdsSet",
      minimumBlocks: str(o.minimumBlocks),
      minimumCollateral: str(o.minimumCollateral),
    })),
    decoder<PausedSetEvent.OutputObject>(r, "PausedSet", (o) => ({ type: "PausedSet", paused: o.paused })),
  ];
}

/** For each contract, the domain events it declares and how to turn them into DomainEvents. */
function decoders(): Record<EventSourceName, EventDecoder[]> {
  const enclaveRegistry = EnclaveRegistry__factory.createInterface();
  const rollupRegistry = RollupRegistry__factory.createInterface();
  const messageBus = MessageBus__factory.createInterface();
  const messenger = CrossChainMessenger__factory.createInterface();
  const bridge = Bridge__factory.createInterface();
  return {
    OperatorRegistry: operatorRegistryDecoders(),
    EnclaveRegistry: [
      decoder<NetworkSecretRequestedEvent.OutputObject>(enclaveRegistry, "NetworkSecretRequested", (o) => ({
        type: "NetworkSecretRequested",
        requestId: str(o.requestId),
        enclaveId: o.enclaveId,
        enclavePubKey: o.enclavePubKey,
        bounty: str(o.bounty),
        payer: o.payer,
        createdAt: str(o.createdAt),
      })),
      decoder<NetworkSecretRespondedEvent.OutputObject>(enclaveRegistry, "NetworkSecretResponded", (o) => ({
        type: "NetworkSecretResponded",
        requestId: str(o.requestId),
        responder: o.responder,
        requester: o.requester,
        encryptedSecret: o.encryptedSecret,
      })),
      decoder<SecretRequestCancelledEvent.OutputObject>(enclaveRegistry, "SecretRequestCancelled", (o) => ({
        type: "SecretRequestCancelled",
        requestId: str(o.requestId),
        refund: str(o.refund),
      })),
    ],
    RollupRegistry: [
      decoder<RollupAddedEvent.OutputObject>(rollupRegistry, "RollupAdded", (o) => ({
        type: "RollupAdded",
        rollupHash: o.rollupHash,
        firstSeq: str(o.firstSeq),
        lastSeq: str(o.lastSeq),
        messageRoot: o.messageRoot,
        committeeId: str(o.committeeId),
        signerBitmap: str(o.signerBitmap),
      })),
      decoder<RollupRejectedEvent.OutputObject>(rollupRegistry, "RollupRejected", (o) => ({
        type: "RollupRejected",
        rollupHash: o.rollupHash,
        messageRoot: o.messageRoot,
        guardian: o.guardian,
      })),
    ],
    MessageBus: [
      decoder<MessagePublishedEvent.OutputObject>(messageBus, "MessagePublished", (o) => ({
        type: "MessagePublished",
        sender: o.sender,
        sequence: str(o.sequence),
        topic: Number(o.topic),
        payload: o.payload,
        consistencyLevel: Number(o.consistencyLevel),
      })),
    ],
    CrossChainMessenger: [
      decoder<MessageRelayedEvent.OutputObject>(messenger, "MessageRelayed", (o) => ({
        type: "MessageRelayed",
        leaf: o.leaf,
        sequence: str(o.sequence),
        target: o.target,
      })),
      decoder<MessageRelayFailedEvent.OutputObject>(messenger, "MessageRelayFailed", (o) => ({
        type: "MessageRelayFailed",
        leaf: o.leaf,
        sequence: str(o.sequence),
        target: o.target,
        reason: o.reason,
      })),
    ],
    Bridge: [
      decoder<DepositInitiatedEvent.OutputObject>(bridge, "DepositInitiated", (o) => ({
        type: "DepositInitiated",
        token: o.token,
        from: o.from,
        to: o.to,
        amount: str(o.amount),
        sequence: str(o.sequence),
      })),
      decoder<WithdrawalFinalizedEvent.OutputObject>(bridge, "WithdrawalFinalized", (o) => ({
        type: "WithdrawalFinalized",
        token: o.token,
        to: o.to,
        amount: str(o.amount),
      })),
      decoder<TokenRegisteredEvent.OutputObject>(bridge, "TokenRegistered", (o) => ({
        type: "TokenRegistered",
        token: o.token,
        name: o.name,
        symbol: o.symbol,
        decimals: Number(o.decimals),
      })),
    ],
  };
}

/** The domain event types the contracts `sources` declare, in declaration order. */
export function eventTypesOf(sources: readonly EventSourceName[]): DomainEventType[] {
  const all = decoders();
  return sources.flatMap((name) => all[name].map((d) => d.type));
}

export interface LogDecoderOptions {
  /** false: decode every log with ethers' Interface (the reference, for tests). Default true. */
  fast?: boolean;
  /** The contracts whose logs are decoded (default: every EVENT_SOURCES one); their addresses are required. */
  sources?: readonly EventSourceName[];
}

/** Decodes the logs of one deployment's contracts into event jobs. */
export class LogDecoder {
  /** Lower-case address of each source contract → its checksummed address and decoders by topic0. */
  readonly #byAddress = new Map<string, { address: string; byTopic: Map<string, EventDecoder> }>();

  readonly #fast: boolean;

  constructor(
    readonly chainId: number,
    addresses: Partial<Record<EventSourceName, string>>,
    options: LogDecoderOptions = {},
  ) {
    this.#fast = options.fast ?? true;
    const all = decoders();
    for (const name of options.sources ?? EVENT_SOURCES) {
      const list = all[name];
      const given = addresses[name];
      if (given === undefined) throw new Error(`LogDecoder: no address for ${name}`);
      const address = getAddress(given);
      this.#byAddress.set(address.toLowerCase(), {
        address,
        byTopic: new Map(list.map((d) => [d.fragment.topicHash, d])),
      });
    }
  }

  /** The addresses to ask eth_getLogs for (checksummed). */
  get addresses(): string[] {
    return [...this.#byAddress.values()].map((s) => s.address);
  }

  /** The event job of `log`, or undefined when the log is not a domain event of this deployment. */
  decode(log: RawLog): EventJob | undefined {
    const source = this.#byAddress.get(log.address.toLowerCase());
    const topic0 = log.topics[0];
    if (source === undefined || topic0 === undefined) return undefined;
    const d = source.byTopic.get(topic0.toLowerCase());
    if (d === undefined) return undefined;
    let values: Record<string, unknown> | undefined;
    if (this.#fast && d.plan !== undefined) {
      try {
        values = decodeFast(d.plan, log.topics, log.data);
      } catch {
        values = undefined; // malformed for the fast path: let ethers decode it (or explain why it cannot)
      }
    }
    values ??= d.iface.decodeEventLog(d.fragment, log.data, log.topics).toObject();
    const ref: EventRef = {
      chainId: this.chainId,
      blockNumber: Number(log.blockNumber),
      blockHash: log.blockHash,
      transactionHash: log.transactionHash,
      logIndex: Number(log.logIndex),
      address: source.address,
    };
    return { ref, event: d.convert(values as never), removed: false };
  }
}
