/**
 * The secret-responder (DESIGN §4): consumes the `secret-requests` queue and, for every open
 * NetworkSecretRequested, has its enclave check the requester's attestation report and answer with the
 * network secret encrypted to the requester, through respondNetworkSecret. Any attested enclave may
 * answer and the first valid answer wins the bounty, so several responders race: losing is normal and
 * ends the job quietly (no failure, no retry).
 *
 * Outcomes of a job (its BullMQ return value):
 * - `answered`   our respondNetworkSecret was mined (or an earlier run of ours had answered);
 * - `lost-race`  another responder answered between our check and our transaction;
 * - `closed`     the request was already answered or cancelled when we looked: nothing sent;
 * - `refused`    the requester's report failed verification or this enclave's policy: nothing sent;
 * - `removed`    compensation of a reorged event: a responder has nothing to undo;
 * - `ignored`    another event type of the queue.
 * Anything else (RPC down, a revert that says our own setup is wrong) throws: retried with backoff, then
 * dead-lettered.
 */
import type { Job, Worker } from "bullmq";
import type { Provider, TypedDataDomain } from "ethers";
import type { Registry } from "prom-client";

import type { Enclave } from "../../enclave/secret/enclave.js";
import { enclaveRegistryDomain, secretRequestFields } from "../../protocol/secret.js";
import { IAttestationVerifier__factory } from "../../types/ethers-contracts/index.js";
import type { VeilnetContracts } from "../../platform/chain.js";
import type { EventJob, NetworkSecretRequested } from "../../platform/events.js";
import type { Logger } from "../../platform/logger.js";
import { QueueNames, type QueueSettings, UnrecoverableError, createConsumer } from "../../platform/queues.js";
import type { Service } from "../../platform/service.js";
import { TxRevertedError, type TxIntent, type TxOutcome } from "../../platform/tx-sender/types.js";
import { type SecretResponderMetrics, secretResponderMetrics } from "./metrics.js";

/** What the responder needs to write to L1: the TxSender's `send` (one nonce owner per key). */
export type L1Writer = { send(intent: TxIntent): Promise<TxOutcome> };

/** The part of the Enclave the responder uses. */
export type ResponderEnclave = Pick<
  Enclave,
  "address" | "hasSecret" | "verifyPeerReport" | "encryptSecretFor" | "signSecretResponse"
>;

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

/** Why a request was refused: the enclave's refusal codes, plus a report the responder cannot find. */
export type RefusalReason =
  | "report-unavailable"
  | "requester-mismatch"
  | Exclude<Awaited<ReturnType<Enclave["verifyPeerReport"]>>, { ok: true }>["code"];

export type ResponderOutcome =
  | { outcome: "answered"; requestId: string; hash?: string; earlierRun?: boolean }
  | { outcome: "lost-race"; requestId: string; winner?: string }
  | { outcome: "closed"; requestId: string; status: "answered" | "cancelled" }
  | { outcome: "refused"; requestId: string; code: RefusalReason; reason: string }
  | { outcome: "removed"; requestId: string }
  | { outcome: "ignored"; type: string };

export interface SecretResponderDeps {
  enclave: ResponderEnclave;
  /** The deployment's contracts (read-only; only the EnclaveRegistry is used). */
  contracts: Pick<VeilnetContracts, "enclaveRegistry">;
  /** Reads transactions (to recover the requester's report) and backs the verifier calls. */
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
  #domain: TypedDataDomain | undefined;

  constructor(deps: SecretResponderDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ service: this.name, enclave: deps.enclave.address });
    this.#metrics = secretResponderMetrics(deps.metrics);
  }

  /** The BullMQ worker consuming `secret-requests` (once started). */
  get worker(): Worker<EventJob> | undefined {
    return this.#consumer?.worker;
  }

  async start(): Promise<void> {
    if (this.#consumer !== undefined) return;
    if (!this.#deps.enclave.hasSecret) {
      throw new Error(`enclave ${this.#deps.enclave.address} does not hold the network secret: it cannot answer`);
    }
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
    // The registry stores only the hash of the request's fields: the event's must match it.
    const fields = secretRequestFields(event);
    const [stored, expected] = await Promise.all([
      registry.requestCommitment(requestId),
      registry.hashSecretRequest(requestId, fields),
    ]);
    if (stored !== expected) {
      return this.#refuse(log, event, "requester-mismatch", `the request on chain is not the one of the event`);
    }
    if (!(await registry.isAttested(this.#deps.enclave.address))) {
      throw new UnrecoverableError(
        `this responder's enclave ${this.#deps.enclave.address} is not attested on L1: it cannot answer`,
      );
    }

    const report = await this.#requestReport(data);
    if (typeof report !== "string") return this.#refuse(log, event, "report-unavailable", report.problem);

    const verifier = IAttestationVerifier__factory.connect(await registry.attestationVerifier(), this.#deps.provider);
    const verdict = await this.#deps.enclave.verifyPeerReport(report, verifier, event.enclavePubKey);
    if (!verdict.ok) return this.#refuse(log, event, verdict.code, verdict.reason);

    const encryptedSecret = this.#deps.enclave.encryptSecretFor(event.enclavePubKey);
    const signature = await this.#deps.enclave.signSecretResponse(
      await this.#registryDomain(),
      requestId,
      encryptedSecret,
    );
    const intent: TxIntent = {
      key: respondIntentKey(this.#deps.chainId, requestId),
      to: await registry.getAddress(),
      // The registry verifies the report in full now (it was not verified at request time); we checked it
      // above with the same verifier, so a bad report is never answered.
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

  /**
   * The report the requester submitted: events do not carry it, so it is read back from the input of the
   * request transaction (a direct call of requestNetworkSecret). A request made through another contract
   * (a multisig, a wrapper) cannot be re-verified here: it is refused.
   */
  async #requestReport(data: EventJob): Promise<string | { problem: string }> {
    const { enclaveRegistry: registry } = this.#deps.contracts;
    const tx = await this.#deps.provider.getTransaction(data.ref.transactionHash);
    if (tx === null) throw new Error(`request transaction ${data.ref.transactionHash} is unknown to the L1 node`);
    const registryAddress = await registry.getAddress();
    if (tx.to === null || tx.to.toLowerCase() !== registryAddress.toLowerCase()) {
      return { problem: `the request was made through ${tx.to ?? "a contract creation"}, not a direct call` };
    }
    const call = registry.interface.parseTransaction({ data: tx.data, value: tx.value });
    if (call === null || call.name !== "requestNetworkSecret") {
      return { problem: `transaction ${tx.hash} does not call requestNetworkSecret` };
    }
    return call.args[0] as string;
  }

  async #lostRace(log: Logger, event: NetworkSecretRequested, data: EventJob, why: string): Promise<ResponderOutcome> {
    // "Already done" may also be our own answer from an earlier run (crash after mining): ask the chain.
    const { enclaveRegistry: registry } = this.#deps.contracts;
    const answers = await registry.queryFilter(
      registry.filters.NetworkSecretResponded(BigInt(event.requestId)),
      data.ref.blockNumber,
    );
    const winner = answers[0]?.args.responder;
    if (winner !== undefined && winner.toLowerCase() === this.#deps.enclave.address.toLowerCase()) {
      this.#metrics.answered.inc();
      log.info({ tx: answers[0].transactionHash }, "secret request answered (by an earlier run)");
      return { outcome: "answered", requestId: event.requestId, hash: answers[0].transactionHash, earlierRun: true };
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

  async #registryDomain(): Promise<TypedDataDomain> {
    this.#domain ??= enclaveRegistryDomain(
      BigInt(this.#deps.chainId),
      await this.#deps.contracts.enclaveRegistry.getAddress(),
    );
    return this.#domain;
  }
}
