/**
 * The secret-responder (DESIGN §4): consumes the `secret-requests` queue and, for every open
 * NetworkSecretRequested, asks its enclave node (the host interface, through EnclaveHostClient) to answer:
 * the enclave reads the request from L1, checks the requester's attestation report and returns the
 * network secret encrypted to the requester with its signature, which the responder sends through
 * respondNetworkSecret. The worker never holds the enclave's key or secret. Any attested enclave may
 * answer and the first valid answer wins the bounty, so several responders race: losing is normal and
 * ends the job quietly (no failure, no retry).
 *
 * Outcomes of a job (its BullMQ return value):
 * - `answered`   our respondNetworkSecret was mined (or an earlier run of ours had answered);
 * - `lost-race`  another responder answered between our check and our transaction;
 * - `closed`     the request was already answered or cancelled when we looked: nothing sent;
 * - `refused`    the enclave refused: the report failed verification or its policy, or cannot be read: nothing sent;
 * - `removed`    compensation of a reorged event: a responder has nothing to undo;
 * - `ignored`    another event type of the queue.
 * Anything else (RPC down, the enclave host unreachable, a revert that says our own setup is wrong) throws:
 * retried with backoff, then dead-lettered.
 */
import type { Job, Worker } from "bullmq";
import type { Provider } from "ethers";
import type { Registry } from "prom-client";

import type {
  EnclaveStatus,
  SecretRefusalCode,
  SecretRequestAnswer,
  SecretRequestLocator,
} from "../../protocol/enclave-host.js";
import { secretRequestFields } from "../../protocol/secret.js";
import type { VeilnetContracts } from "../../platform/chain.js";
import type { EventJob, NetworkSecretRequested } from "../../platform/events.js";
import type { Logger } from "../../platform/logger.js";
import { QueueNames, type QueueSettings, UnrecoverableError, createConsumer } from "../../platform/queues.js";
import type { Service } from "../../platform/service.js";
import { TxRevertedError, type TxIntent, type TxOutcome } from "../../platform/tx-sender/types.js";
import { type SecretResponderMetrics, secretResponderMetrics } from "./metrics.js";

/** What the responder needs to write to L1: the TxSender's `send` (one nonce owner per key). */
export type L1Writer = { send(intent: TxIntent): Promise<TxOutcome> };

/** The enclave as the responder asks it: its node's host interface (EnclaveHostClient). */
export interface ResponderEnclave {
  /** Where the enclave host answers (named in errors and logs). */
  readonly url: string;
  status(): Promise<EnclaveStatus>;
  answerSecretRequest(locator: SecretRequestLocator): Promise<SecretRequestAnswer>;
}

/** Key of the TxSender intent answering `requestId` (parsed back after a restart: RESPOND_INTENT_KEY). */
export function respondIntentKey(chainId: number, requestId: bigint | string): string {
  return `respond-secret-${chainId}-${requestId.toString()}`;
}

/** Matches `respondIntentKey`: groups chain id and request id. */
export const RESPOND_INTENT_KEY = /^respond-secret-(\d+)-(\d+)$/;

/** EnclaveRegistry.RequestStatus. */
const RequestStatus = { None: 0n, Open: 1n, Answered: 2n, Cancelled: 3n } as const;

/** Reverts of respondNetworkSecret that mean another responder got there first. */
const LOST_RACE_ERRORS = new Set(["RequestNotOpen", "EnclaveAlreadyAttested"]);
/** Reverts that may pass by themselves (the registry is paused): retry later. */
const TRANSIENT_ERRORS = new Set(["EnforcedPause"]);

/** Why a request was refused: the enclave's refusal codes (protocol/enclave-host.ts). */
export type RefusalReason = SecretRefusalCode;

/**
 * What is wrong with answering with the enclave of `status` on a network whose secret L1 commits to
 * `onChainCommitment` (undefined: nothing).
 */
export function enclaveProblem(status: EnclaveStatus, onChainCommitment: string): string | undefined {
  if (!status.hasSecret) return `enclave ${status.address} does not hold the network secret: it cannot answer`;
  if (status.secretCommitment?.toLowerCase() !== onChainCommitment.toLowerCase()) {
    return (
      `enclave ${status.address} holds a secret committed as ${status.secretCommitment}, ` +
      `but L1 commits to ${onChainCommitment} (another network's enclave?)`
    );
  }
  return undefined;
}

export type ResponderOutcome =
  | { outcome: "answered"; requestId: string; hash?: string; earlierRun?: boolean }
  | { outcome: "lost-race"; requestId: string; winner?: string }
  | { outcome: "closed"; requestId: string; status: "answered" | "cancelled" }
  | { outcome: "refused"; requestId: string; code: RefusalReason; reason: string }
  | { outcome: "removed"; requestId: string }
  | { outcome: "ignored"; type: string };

export interface SecretResponderDeps {
  /** The enclave node's host interface (EnclaveHostClient). */
  enclave: ResponderEnclave;
  /** The deployment's contracts (read-only; only the EnclaveRegistry is used). */
  contracts: Pick<VeilnetContracts, "enclaveRegistry">;
  /** Reads the registry's answers (the winner of a race). */
  provider: Provider;
  chainId: number;
  /** Sends respondNetworkSecret (the TxSender of the operator key). */
  writer: L1Writer;
  queues: QueueSettings;
  logger: Logger;
  metrics: Registry;
  /** Jobs handled at once (default 1). */
  concurrency?: number;
}

export class SecretResponder implements Service {
  readonly name = "secret-responder";
  readonly #deps: SecretResponderDeps;
  readonly #log: Logger;
  readonly #metrics: SecretResponderMetrics;
  #consumer: ReturnType<typeof createConsumer<EventJob>> | undefined;
  #running: Promise<void> | undefined;
  /** The enclave's address, once its status was read and found fit to answer. */
  #address: string | undefined;

  constructor(deps: SecretResponderDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ service: this.name, enclaveHost: deps.enclave.url });
    this.#metrics = secretResponderMetrics(deps.metrics);
  }

  /** The BullMQ worker consuming `secret-requests` (once started). */
  get worker(): Worker<EventJob> | undefined {
    return this.#consumer?.worker;
  }

  async start(): Promise<void> {
    if (this.#consumer !== undefined) return;
    this.#consumer = createConsumer<EventJob>(
      QueueNames.secretRequests,
      (job) => this.#handleJob(job),
      this.#deps.queues,
      { logger: this.#log, concurrency: this.#deps.concurrency ?? 1 },
    );
    const worker = this.#consumer.worker;
    this.#running = worker.run().catch((err: unknown) => this.#log.error({ err }, "secret-responder stopped"));
    await worker.waitUntilReady();
    this.#log.info({ queue: QueueNames.secretRequests }, "secret-responder started");
  }

  async stop(): Promise<void> {
    const consumer = this.#consumer;
    if (consumer === undefined) return;
    this.#consumer = undefined;
    await consumer.worker.close();
    await this.#running;
    await consumer.deadLetters.close();
    this.#log.info("secret-responder stopped");
  }

  async health(): Promise<{ ok: boolean; detail?: string }> {
    const worker = this.#consumer?.worker;
    if (worker === undefined) return { ok: false, detail: "not started" };
    if (!worker.isRunning()) return { ok: false, detail: "queue worker is not running" };
    return { ok: true };
  }

  async #handleJob(job: Job<EventJob>): Promise<ResponderOutcome> {
    return this.handle(job.data, job.id);
  }

  /** Handles one delivery of the `secret-requests` queue (also callable directly, without a queue). */
  async handle(data: EventJob, jobId?: string): Promise<ResponderOutcome> {
    const { event, ref, removed } = data;
    if (event.type !== "NetworkSecretRequested") {
      this.#log.debug({ jobId, type: event.type }, "not a secret request: ignored");
      return { outcome: "ignored", type: event.type };
    }
    const log = this.#log.child({ jobId, requestId: event.requestId, requester: event.enclaveId });
    if (removed) {
      log.info({ block: ref.blockHash }, "secret request removed by a reorg: nothing to undo");
      return { outcome: "removed", requestId: event.requestId };
    }
    this.#metrics.seen.inc();
    return this.#respond(event, data, log);
  }

  async #respond(event: NetworkSecretRequested, data: EventJob, log: Logger): Promise<ResponderOutcome> {
    const { enclaveRegistry: registry } = this.#deps.contracts;
    const requestId = BigInt(event.requestId);

    const status = await registry.requestStatus(requestId);
    if (status === RequestStatus.None) {
      // Our node does not know the request yet (it lags the subscriber's) or a reorg took it: retry.
      throw new Error(`request ${requestId} is unknown to the L1 node`);
    }
    if (status !== RequestStatus.Open) {
      const closed = status === RequestStatus.Answered ? "answered" : "cancelled";
      log.info({ status: closed }, `request already ${closed}: nothing to do`);
      this.#metrics.closed.inc();
      return { outcome: "closed", requestId: event.requestId, status: closed };
    }
    const address = await this.#enclaveAddress();
    if (!(await registry.isAttested(address))) {
      throw new UnrecoverableError(`this responder's enclave ${address} is not attested on L1: it cannot answer`);
    }

    // The enclave reads the request, its report and the requester's key from L1 itself: we only name it.
    const answer = await this.#deps.enclave.answerSecretRequest({
      requestId: event.requestId,
      transactionHash: data.ref.transactionHash,
    });
    if (answer.outcome === "closed") {
      log.info({ status: answer.status }, `request already ${answer.status}: nothing to do`);
      this.#metrics.closed.inc();
      return { outcome: "closed", requestId: event.requestId, status: answer.status };
    }
    if (answer.outcome === "refused") return this.#refuse(log, event, answer.code, answer.reason);
    if (answer.responder.toLowerCase() !== address.toLowerCase()) {
      throw new UnrecoverableError(
        `the enclave host at ${this.#deps.enclave.url} answered as ${answer.responder}, not as its enclave ${address}`,
      );
    }
    const { encryptedSecret, signature, report } = answer;
    const fields = secretRequestFields(answer.request);
    const intent: TxIntent = {
      key: respondIntentKey(this.#deps.chainId, requestId),
      to: await registry.getAddress(),
      // The registry verifies the report in full now (it was not verified at request time); the enclave
      // checked it with the same verifier, so a bad report is never answered.
      data: registry.interface.encodeFunctionData("respondNetworkSecret", [
        requestId,
        fields,
        report,
        encryptedSecret,
        signature,
      ]),
      // Done when the request is no longer open (answered by anyone, or cancelled).
      alreadyDone: async () => (await registry.requestStatus(requestId)) !== RequestStatus.Open,
    };

    let outcome: TxOutcome;
    try {
      outcome = await this.#deps.writer.send(intent);
    } catch (e) {
      if (e instanceof TxRevertedError && e.errorName !== undefined && LOST_RACE_ERRORS.has(e.errorName)) {
        return this.#lostRace(log, event, data, e.reason);
      }
      if (e instanceof TxRevertedError && !(e.errorName !== undefined && TRANSIENT_ERRORS.has(e.errorName))) {
        throw new UnrecoverableError(`respondNetworkSecret(${requestId}) reverts with ${e.reason}`);
      }
      throw e;
    }
    if (outcome.status === "already-done") return this.#lostRace(log, event, data, "request no longer open");

    this.#metrics.answered.inc();
    log.info({ tx: outcome.hash, block: outcome.blockNumber }, "secret request answered");
    return { outcome: "answered", requestId: event.requestId, hash: outcome.hash };
  }

  async #lostRace(log: Logger, event: NetworkSecretRequested, data: EventJob, why: string): Promise<ResponderOutcome> {
    // "Already done" may also be our own answer from an earlier run (crash after mining): ask the chain.
    const { enclaveRegistry: registry } = this.#deps.contracts;
    const answers = await registry.queryFilter(
      registry.filters.NetworkSecretResponded(BigInt(event.requestId)),
      data.ref.blockNumber,
    );
    const [answer] = answers;
    const winner = answer?.args.responder;
    if (answer !== undefined && winner?.toLowerCase() === (await this.#enclaveAddress()).toLowerCase()) {
      this.#metrics.answered.inc();
      log.info({ tx: answer.transactionHash }, "secret request answered (by an earlier run)");
      return { outcome: "answered", requestId: event.requestId, hash: answer.transactionHash, earlierRun: true };
    }
    if (winner === undefined) {
      if ((await registry.requestStatus(BigInt(event.requestId))) === RequestStatus.Cancelled) {
        log.info("request cancelled before we could answer: nothing to do");
        this.#metrics.closed.inc();
        return { outcome: "closed", requestId: event.requestId, status: "cancelled" };
      }
    }
    this.#metrics.lostRaces.inc();
    log.info({ winner, why }, "another responder answered first: lost the race");
    return { outcome: "lost-race", requestId: event.requestId, winner };
  }

  #refuse(log: Logger, event: NetworkSecretRequested, code: RefusalReason, reason: string): ResponderOutcome {
    this.#metrics.refused.inc({ reason: code });
    log.warn({ code, reason, requesterPubKey: event.enclavePubKey }, `secret request refused: ${reason}`);
    return { outcome: "refused", requestId: event.requestId, code, reason };
  }

  /**
   * The enclave's address, read from its status the first time it answers (the host may start after
   * this worker). An enclave without this network's secret cannot answer: that fails for good.
   */
  async #enclaveAddress(): Promise<string> {
    if (this.#address !== undefined) return this.#address;
    const [status, onChain] = await Promise.all([
      this.#deps.enclave.status(),
      this.#deps.contracts.enclaveRegistry.secretCommitment(),
    ]);
    const problem = enclaveProblem(status, onChain);
    if (problem !== undefined)
      throw new UnrecoverableError(`the enclave host at ${this.#deps.enclave.url}: ${problem}`);
    this.#address = status.address;
    return status.address;
  }
}
