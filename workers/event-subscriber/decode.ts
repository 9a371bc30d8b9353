/**
 * The contracts the event-subscriber worker follows, and its LogDecoder: platform/l1-events/decode.ts's,
 * limited to them. Every event source but the OperatorRegistry: no worker consumes its events, and the
 * nodes, which need them to know who may sign, follow it themselves in-process (so that membership never
 * comes from Redis, which the host controls).
 */
import {
  type EventSourceAddresses,
  type EventSourceName,
  LogDecoder as L1LogDecoder,
  type LogDecoderOptions,
  eventTypesOf,
} from "../../platform/l1-events/decode.js";

export type { RawLog } from "../../platform/l1-events/decode.js";

/** The contracts the worker reads logs of. */
export const WORKER_EVENT_SOURCES = [
  "EnclaveRegistry",
  "RollupRegistry",
  "MessageBus",
  "CrossChainMessenger",
  "Bridge",
] as const satisfies readonly EventSourceName[];

/** The addresses the worker's decoder needs (a deployment's addresses will do). */
export type WorkerEventSourceAddresses = EventSourceAddresses<(typeof WORKER_EVENT_SOURCES)[number]>;

/** The domain event types the worker delivers: those of WORKER_EVENT_SOURCES. */
export const DOMAIN_EVENT_TYPES = eventTypesOf(WORKER_EVENT_SOURCES);

/** The worker's decoder: the platform's, over WORKER_EVENT_SOURCES. */
export class LogDecoder extends L1LogDecoder {
  constructor(
    chainId: number,
    addresses: WorkerEventSourceAddresses,
    options: Omit<LogDecoderOptions, "sources"> = {},
  ) {
    super(chainId, addresses, { ...options, sources: WORKER_EVENT_SOURCES });
  }
}
