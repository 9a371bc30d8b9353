/**
 * The secret-responder end to end: a Hardhat node in a child process (the code under test talks to it
 * by URL), the Veilnet deployment, the real Redis (a unique QUEUE_PREFIX per responder), real TxSenders,
 * and enclaves built with the Enclave class, each served by the real enclave host interface
 * (enclave/host, over HTTP on a loopback port) that the responder asks through its client. Jobs are
 * enqueued by the test (as the event-subscriber would) from the request receipts. The host interface
 * itself is tested too: what it refuses, and that no caller gets the secret or chooses the key.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import type { Queue } from "bullmq";
import {
  type JsonRpcApiProvider,
  Wallet,
  hexlify,
  id,
  keccak256,
  parseEther,
  parseUnits,
  randomBytes,
  verifyTypedData,
} from "ethers";
import type { Redis } from "ioredis";
import { pino } from "pino";
import { Registry } from "prom-client";

import type { Deployment } from "../../deploy/deployment-file.js";
import { DevAttestationService, Enclave } from "../../enclave/secret/index.js";
import { SECRET_RESPONSE_TYPES, enclaveRegistryDomain } from "../../protocol/secret.js";
import { type EnclaveRegistry, EnclaveRegistry__factory } from "../../types/ethers-contracts/index.js";
import { type L1Provider, type VeilnetContracts, bindContracts, connectL1 } from "../../platform/chain.js";
import { commonConfigSchema, parseConfig } from "../../platform/config.js";
import type { WorkerContext } from "../../platform/context.js";
import { type EventJob, type NetworkSecretRequested, eventJobId } from "../../platform/events.js";
import { type Logger, silentLogger } from "../../platform/logger.js";
import { QueueNames, UnrecoverableError, createQueue } from "../../platform/queues.js";
import { connectRedis } from "../../platform/redis.js";
import { queueSettings } from "../../platform/runtime.js";
import type { Service } from "../../platform/service.js";
import {
  EnclaveHostClient,
  EnclaveHostError,
  EnclaveHostUnreachableError,
  type L1Writer,
  type ResponderOutcome,
  SecretResponder,
  createSecretResponder,
} from "../../workers/secret-responder/index.js";
import { TxSender } from "../../platform/tx-sender/tx-sender.js";
import { type TxIntent, type TxOutcome, TxRevertedError } from "../../platform/tx-sender/types.js";
import { at, only } from "../../testing/defined.js";
import { type TestEnclaveHost, startEnclaveHost } from "../../testing/enclave-host.js";
import { type L1Node, freePort, startL1Node } from "../../testing/l1-node.js";
import { govern } from "../../testing/governance.js";
import { MEASUREMENT, type Veilnet, deployVeilnet } from "../../testing/veilnet.js";
import { deleteKeys, deploymentOf, eventJobOf, waitFor } from "../../testing/worker-process.js";
import { rejection } from "../../testing/rejection.js";
import { requestFields, requestReport } from "../../testing/secret-requests.js";

const REDIS_URL = "redis://127.0.0.1:6379";
const registryInterface = EnclaveRegistry__factory.createInterface();

/** A log line as pino writes it. */
interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A logger whose JSON lines the test can read. */
function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split("\n")) if (line.trim() !== "") lines.push(JSON.parse(line) as LogLine);
      callback();
    },
  });
  return { logger: pino({ level: "debug" }, stream), lines };
}

/** The NetworkSecretResponded log of the transaction `hash`. */
async function respondedEvent(
  provider: JsonRpcApiProvider,
  hash: string,
): Promise<{ requestId: bigint; responder: string; requester: string; encryptedSecret: string }> {
  const receipt = (await provider.getTransactionReceipt(hash))!;
  for (const log of receipt.logs) {
    const parsed = registryInterface.parseLog(log);
    if (parsed?.name === "NetworkSecretResponded") {
      return {
        requestId: parsed.args.requestId as bigint,
        responder: parsed.args.responder as string,
        requester: parsed.args.requester as string,
        encryptedSecret: parsed.args.encryptedSecret as string,
      };
    }
  }
  throw new Error(`no NetworkSecretResponded in ${hash}`);
}

/**
 * Wraps writers so that every wrapped responder reaches `send` (each has seen the request open and
 * verified the report) before any sends, and then they send one after the other: the outcome of the race
 * is decided on chain, never by two transactions in one block (a loser's transaction would then be mined
 * reverted; the writer would report that as a RequestNotOpen revert, also a lost race).
 */
function raceGate(count: number): (writer: L1Writer) => L1Writer {
  let arrived = 0;
  let everyoneThere!: () => void;
  const allArrived = new Promise<void>((resolve) => (everyoneThere = resolve));
  let turn: Promise<unknown> = Promise.resolve();
  return (writer) => ({
    async send(intent: TxIntent): Promise<TxOutcome> {
      arrived += 1;
      if (arrived === count) everyoneThere();
      await allArrived;
      const mine = turn.then(() => writer.send(intent));
      turn = mine.catch(() => undefined);
      return mine;
    },
  });
}

async function counterValue(metrics: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = metrics.getSingleMetric(name);
  if (metric === undefined) return 0;
  const { values } = await metric.get();
  const match = values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return match?.value ?? 0;
}

describe("secret-responder", function () {
  this.timeout(90_000);

  let node: L1Node;
  let v: Veilnet;
  let provider: L1Provider;
  let chainId: number;
  let redis: Redis;
  let registry: EnclaveRegistry;
  let registryAddress: string;
  let contracts: VeilnetContracts;
  let deployment: Deployment;
  let attestation: DevAttestationService;
  let genesis: Enclave;
  let genesisOperator: Wallet;
  let tmp: string;
  const prefixes: string[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];

  const newPrefix = () => {
    const prefix = `t-secret-${hexlify(randomBytes(4)).slice(2)}`;
    prefixes.push(prefix);
    return prefix;
  };

  const settingsOf = (prefix: string) =>
    queueSettings({ REDIS_URL, QUEUE_PREFIX: prefix, JOB_ATTEMPTS: 3, JOB_BACKOFF_MS: 100 });

  const fundedWallet = async (): Promise<Wallet> => {
    const wallet = new Wallet(Wallet.createRandom().privateKey, provider);
    await (await v.admin.sendTransaction({ to: wallet.address, value: parseEther("10") })).wait();
    return wallet;
  };

  const txSender = (wallet: Wallet, prefix: string): TxSender => {
    const sender = new TxSender({
      provider,
      signer: wallet.privateKey,
      redis,
      keyPrefix: prefix,
      logger: silentLogger(),
      maxFeePerGas: parseUnits("500", "gwei"),
      pollIntervalMs: 50,
    });
    cleanups.push(() => sender.stop());
    return sender;
  };

  const newEnclave = (measurement = MEASUREMENT) => Enclave.create({ measurement, attestation });

  /** The host interface of `enclave` (one per enclave), as its node serves it. */
  const hosts = new Map<Enclave, Promise<TestEnclaveHost>>();
  const hostOf = (enclave: Enclave): Promise<TestEnclaveHost> => {
    let host = hosts.get(enclave);
    if (host === undefined) {
      host = startEnclaveHost({ enclave, registry: contracts.enclaveRegistry, provider, chainId });
      hosts.set(enclave, host);
      cleanups.push(async () => (await host!).close());
    }
    return host;
  };
  const clientOf = async (enclave: Enclave) => new EnclaveHostClient((await hostOf(enclave)).url);

  /** `payer` asks the secret for `requester` with `bounty`; returns the job the subscriber would enqueue. */
  const requestSecret = async (
    requester: Enclave,
    payer: HardhatEthersSigner | Wallet,
    bounty: bigint,
  ): Promise<EventJob<NetworkSecretRequested>> => {
    const tx = await registry
      .connect(payer)
      .requestNetworkSecret(await requester.attestationReport(), { value: bounty });
    const receipt = (await provider.getTransactionReceipt((await tx.wait())!.hash))!;
    const log = receipt.logs.find((l) => registryInterface.parseLog(l)?.name === "NetworkSecretRequested");
    if (log === undefined) throw new Error(`no NetworkSecretRequested in ${receipt.hash}`);
    return eventJobOf(v, log, "NetworkSecretRequested");
  };

  const enqueue = async (prefix: string, job: EventJob, jobId = eventJobId(job.ref)): Promise<Queue<EventJob>> => {
    const queue = createQueue<EventJob>(QueueNames.secretRequests, settingsOf(prefix));
    cleanups.push(() => queue.close());
    await queue.add(job.event.type, job, { jobId });
    return queue;
  };

  /** Waits until job `jobId` completed (returns its outcome) or failed for good (throws). */
  const outcomeOf = async (queue: Queue<EventJob>, jobId: string): Promise<ResponderOutcome> =>
    waitFor(`job ${jobId} finished`, async () => {
      // The state first, then the job: read the other way round, a job finishing in between is seen
      // "completed" with the return value it did not have yet.
      const state = await queue.getJobState(jobId);
      if (state !== "completed" && state !== "failed") return undefined;
      const job = await queue.getJob(jobId);
      if (state === "failed") throw new Error(`job ${jobId} failed: ${job!.failedReason}`);
      return job!.returnvalue as ResponderOutcome;
    });

  const responder = async (
    enclave: Enclave,
    writer: L1Writer,
    prefix: string,
    logger: Logger = silentLogger(),
    metrics = new Registry(),
  ): Promise<SecretResponder> => {
    const r = new SecretResponder({
      enclave: await clientOf(enclave),
      contracts,
      provider,
      chainId,
      writer,
      queues: settingsOf(prefix),
      logger,
      metrics,
    });
    cleanups.push(() => r.stop());
    return r;
  };

  before(async function () {
    tmp = mkdtempSync(path.join(os.tmpdir(), "veilnet-secret-responder-"));
    node = await startL1Node();
    v = await deployVeilnet(await node.connect());
    ({ provider, chainId } = await connectL1(node.url));
    redis = await connectRedis(REDIS_URL);
    registryAddress = await v.enclaveRegistry.getAddress();
    deployment = await deploymentOf(v);
    contracts = bindContracts(deployment.addresses, provider);
    registry = EnclaveRegistry__factory.connect(registryAddress, v.admin);

    // The genesis enclave creates the secret; the admin records it on L1. Its operator (who receives its
    // bounties and sends its answers) is a fresh key, so balances and nonces are exact.
    attestation = new DevAttestationService({
      signer: v.attestationService,
      chainId: v.chainId,
      verifier: await v.verifier.getAddress(),
    });
    genesis = newEnclave();
    const commitment = genesis.initializeSecret();
    await (await registry.initializeNetworkSecret(await genesis.attestationReport(), commitment)).wait();
    genesisOperator = await fundedWallet();
    await (await govern(v, registry, "setEnclaveOperator", [genesis.address, genesisOperator.address])).wait();
  });

  after(async function () {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    for (const prefix of prefixes) await deleteKeys(REDIS_URL, prefix);
    await redis?.quit();
    provider?.destroy();
    await node?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("answers a new enclave's request: the requester gets exactly the secret, is attested, the bounty is paid", async function () {
    const prefix = newPrefix();
    const config = parseConfig(commonConfigSchema, {
      L1_RPC_URL: node.url,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      JOB_ATTEMPTS: 3,
      JOB_BACKOFF_MS: 100,
    });
    const source = {
      SIGNER_PRIVATE_KEY: genesisOperator.privateKey,
      ENCLAVE_HOST_URL: (await hostOf(genesis)).url,
      TX_POLL_INTERVAL_MS: "50",
    };
    const ctx: WorkerContext = {
      config,
      source,
      logger: silentLogger(),
      redis,
      queues: queueSettings(config),
      provider,
      chainId,
      deployment,
      contracts,
      metrics: new Registry(),
    };
    const service: Service = await createSecretResponder(ctx);
    cleanups.push(() => service.stop());
    await service.start();
    expect(await service.health()).to.deep.equal({ ok: true });

    const requester = newEnclave();
    const bounty = parseEther("0.5");
    const job = await requestSecret(requester, v.users[0], bounty);
    const balanceBefore = await provider.getBalance(genesisOperator.address);
    const nonceBefore = await provider.getTransactionCount(genesisOperator.address);

    const queue = await enqueue(prefix, job);
    const outcome = await outcomeOf(queue, eventJobId(job.ref));
    expect(outcome).to.include({ outcome: "answered", requestId: job.event.requestId });
    const hash = (outcome as { hash: string }).hash;

    // The answer on chain: genesis answered the requester, and the requester decrypts exactly the secret.
    const responded = await respondedEvent(provider, hash);
    expect(responded.requestId).to.equal(BigInt(job.event.requestId));
    expect(responded.responder).to.equal(genesis.address);
    expect(responded.requester).to.equal(requester.address);
    expect(requester.acceptSecret(responded.encryptedSecret, await registry.secretCommitment())).to.equal(
      genesis.secretCommitment,
    );
    expect(requester.derive("veilnet/test")).to.equal(genesis.derive("veilnet/test"));
    expect(await registry.isAttested(requester.address)).to.equal(true);
    expect(await registry.requestStatus(BigInt(job.event.requestId))).to.equal(2n);

    // The operator sent exactly one transaction and got the bounty, minus its gas.
    const receipt = (await provider.getTransactionReceipt(hash))!;
    expect(receipt.from).to.equal(genesisOperator.address);
    expect(await provider.getTransactionCount(genesisOperator.address)).to.equal(nonceBefore + 1);
    expect(await provider.getBalance(genesisOperator.address)).to.equal(
      balanceBefore + bounty - receipt.gasUsed * receipt.gasPrice,
    );
    expect(await counterValue(ctx.metrics, "veilnet_secret_requests_seen_total")).to.equal(1);
    expect(await counterValue(ctx.metrics, "veilnet_secret_requests_answered_total")).to.equal(1);

    // Delivered again (another job id): the request is no longer open, nothing is sent.
    await queue.add(job.event.type, job, { jobId: `${eventJobId(job.ref)}-again` });
    expect(await outcomeOf(queue, `${eventJobId(job.ref)}-again`)).to.deep.equal({
      outcome: "closed",
      requestId: job.event.requestId,
      status: "answered",
    });
    expect(await provider.getTransactionCount(genesisOperator.address)).to.equal(nonceBefore + 1);
    expect(await counterValue(ctx.metrics, "veilnet_secret_requests_closed_total")).to.equal(1);
  });

  it("two responders race: exactly one wins the bounty, the other loses gracefully without a transaction", async function () {
    // A second attested enclave, with its own operator: genesis hands it the secret.
    const second = newEnclave();
    const secondOperator = await fundedWallet();
    const secondJob = await requestSecret(second, secondOperator, 0n);
    const domain = enclaveRegistryDomain(v.chainId, registryAddress);
    const encrypted = genesis.encryptSecretFor(second.publicKey);
    const requestId = BigInt(secondJob.event.requestId);
    await (
      await registry.respondNetworkSecret(
        requestId,
        await requestFields(v, requestId),
        await requestReport(v, requestId),
        encrypted,
        await genesis.signSecretResponse(domain, requestId, encrypted),
      )
    ).wait();
    second.acceptSecret(encrypted, await registry.secretCommitment());
    expect(await registry.isAttested(second.address)).to.equal(true);

    // A third enclave asks, with a bounty; both responders get the same event on their own queues.
    const requester = newEnclave();
    const bounty = parseEther("1");
    const job = await requestSecret(requester, v.users[1], bounty);

    const gate = raceGate(2);
    const sides = [
      {
        enclave: genesis,
        operator: genesisOperator,
        prefix: newPrefix(),
        metrics: new Registry(),
        log: capturingLogger(),
      },
      {
        enclave: second,
        operator: secondOperator,
        prefix: newPrefix(),
        metrics: new Registry(),
        log: capturingLogger(),
      },
    ];
    const before = await Promise.all(
      sides.map(async (s) => ({
        balance: await provider.getBalance(s.operator.address),
        nonce: await provider.getTransactionCount(s.operator.address),
      })),
    );
    const queues = await Promise.all(sides.map((s) => enqueue(s.prefix, job)));
    await Promise.all(
      sides.map((s) =>
        responder(s.enclave, gate(txSender(s.operator, s.prefix)), s.prefix, s.log.logger, s.metrics).then((r) =>
          r.start(),
        ),
      ),
    );
    const outcomes = await Promise.all(queues.map((q) => outcomeOf(q, eventJobId(job.ref))));

    const results = sides.map((side, i) => ({
      side,
      before: at(before, i, "balance and nonce before"),
      queue: at(queues, i, "queue"),
      outcome: at(outcomes, i, "outcome"),
    }));
    const winners = results.filter((r) => r.outcome.outcome === "answered");
    const losers = results.filter((r) => r.outcome.outcome === "lost-race");
    expect(winners, JSON.stringify(outcomes)).to.have.length(1);
    expect(losers, JSON.stringify(outcomes)).to.have.length(1);
    const won = only(winners, "winner");
    const lost = only(losers, "loser");
    const winner = won.side;
    const loser = lost.side;
    expect(lost.outcome).to.deep.equal({
      outcome: "lost-race",
      requestId: job.event.requestId,
      winner: winner.enclave.address,
    });

    // The winner's answer is on chain and pays its operator; the requester is attested.
    const hash = (won.outcome as { hash: string }).hash;
    const responded = await respondedEvent(provider, hash);
    expect(responded.responder).to.equal(winner.enclave.address);
    expect(responded.requester).to.equal(requester.address);
    expect(await registry.isAttested(requester.address)).to.equal(true);
    const receipt = (await provider.getTransactionReceipt(hash))!;
    expect(receipt.from).to.equal(winner.operator.address);
    expect(await provider.getBalance(winner.operator.address)).to.equal(
      won.before.balance + bounty - receipt.gasUsed * receipt.gasPrice,
    );

    // The loser sent nothing at all (so no reverted transaction) and its job completed.
    expect(await provider.getTransactionCount(loser.operator.address)).to.equal(lost.before.nonce);
    expect(await provider.getBalance(loser.operator.address)).to.equal(lost.before.balance);
    const loserJob = await lost.queue.getJob(eventJobId(job.ref));
    expect(await loserJob!.getState()).to.equal("completed");
    expect(loserJob!.attemptsMade).to.equal(1);
    const lostLine = loser.log.lines.find((line) => line.msg === "another responder answered first: lost the race");
    expect(lostLine, "lost-race log line").to.not.equal(undefined);
    expect(lostLine!.level).to.equal(30); // info, not a warning or an error
    expect(lostLine!.winner).to.equal(winner.enclave.address);
    expect(loser.log.lines.filter((line) => line.level >= 40)).to.deep.equal([]);

    expect(await counterValue(winner.metrics, "veilnet_secret_requests_answered_total")).to.equal(1);
    expect(await counterValue(winner.metrics, "veilnet_secret_requests_lost_races_total")).to.equal(0);
    expect(await counterValue(loser.metrics, "veilnet_secret_requests_answered_total")).to.equal(0);
    expect(await counterValue(loser.metrics, "veilnet_secret_requests_lost_races_total")).to.equal(1);
  });

  it("refuses a request whose report no longer verifies: logs the reason, sends nothing", async function () {
    const requester = newEnclave();
    const job = await requestSecret(requester, v.users[2], parseEther("0.1"));
    // After the request, the admin withdraws the attestation service's key. (Withdrawing the measurement
    // would revoke this responder too: it runs the same code, and measurements revoke live.)
    await (await govern(v, v.verifier, "setAttestationService", [v.attestationService.address, false])).wait();
    try {
      const prefix = newPrefix();
      const { logger, lines } = capturingLogger();
      const metrics = new Registry();
      const nonceBefore = await provider.getTransactionCount(genesisOperator.address);
      const queue = await enqueue(prefix, job);
      await (await responder(genesis, txSender(genesisOperator, prefix), prefix, logger, metrics)).start();

      const reason = `the attestation verifier refused the report: UnknownAttestationService(${v.attestationService.address})`;
      expect(await outcomeOf(queue, eventJobId(job.ref))).to.deep.equal({
        outcome: "refused",
        requestId: job.event.requestId,
        code: "verifier-rejected",
        reason,
      });
      const refusal = lines.find((line) => line.msg === `secret request refused: ${reason}`);
      expect(refusal, "refusal log line").to.not.equal(undefined);
      expect(refusal).to.include({ level: 40, code: "verifier-rejected", reason, requestId: job.event.requestId });
      expect(refusal!.requester).to.equal(requester.address);

      expect(await provider.getTransactionCount(genesisOperator.address)).to.equal(nonceBefore);
      expect(await registry.requestStatus(BigInt(job.event.requestId))).to.equal(1n);
      expect(await registry.isAttested(requester.address)).to.equal(false);
      expect(
        await counterValue(metrics, "veilnet_secret_requests_refused_total", { reason: "verifier-rejected" }),
      ).to.equal(1);
      expect(await counterValue(metrics, "veilnet_secret_requests_answered_total")).to.equal(0);
    } finally {
      await (await govern(v, v.verifier, "setAttestationService", [v.attestationService.address, true])).wait();
    }
  });

  describe("handling one delivery (no queue)", function () {
    /** A writer that records intents and answers with `reply`. */
    const stubWriter = (reply: (intent: TxIntent) => Promise<TxOutcome>) => {
      const intents: TxIntent[] = [];
      const writer: L1Writer = {
        send: async (intent) => {
          intents.push(intent);
          return reply(intent);
        },
      };
      return { writer, intents };
    };
    const never = async (): Promise<TxOutcome> => {
      throw new Error("must not send");
    };

    it("refuses a peer running another measurement, even one the verifier allows", async function () {
      const other = id("veilnet-enclave-v2");
      await (await govern(v, v.verifier, "setMeasurement", [other, true])).wait();
      const requester = newEnclave(other);
      const job = await requestSecret(requester, v.users[3], 0n);
      const { logger, lines } = capturingLogger();
      const { writer, intents } = stubWriter(never);
      const outcome = await (await responder(genesis, writer, newPrefix(), logger)).handle(job);
      expect(outcome).to.deep.equal({
        outcome: "refused",
        requestId: job.event.requestId,
        code: "measurement-mismatch",
        reason: `the peer's measurement ${other} is not this enclave's ${MEASUREMENT.toLowerCase()}`,
      });
      expect(intents).to.deep.equal([]);
      expect(lines.some((line) => line.level === 40 && line.code === "measurement-mismatch")).to.equal(true);
    });

    it("refuses when the report cannot be read back from the request transaction", async function () {
      const job = await requestSecret(newEnclave(), v.users[3], 0n);
      // Point the delivery at a transaction that is not a requestNetworkSecret call.
      const other = await (await govern(v, v.verifier, "setMeasurement", [id("unrelated"), false])).wait();
      const { writer, intents } = stubWriter(never);
      const outcome = await (
        await responder(genesis, writer, newPrefix())
      ).handle({
        ...job,
        ref: { ...job.ref, transactionHash: other!.hash },
      });
      expect(outcome).to.deep.equal({
        outcome: "refused",
        requestId: job.event.requestId,
        code: "report-unavailable",
        // The admin call went through the timelock: that is the transaction's `to`.
        reason: `the request was made through ${await v.timelock.getAddress()}, not a direct call`,
      });
      expect(intents).to.deep.equal([]);
    });

    it("sends the intent keyed by chain and request, and treats RequestNotOpen / EnclaveAlreadyAttested as a lost race", async function () {
      const requester = newEnclave();
      const job = await requestSecret(requester, v.users[3], 0n);
      const requestId = BigInt(job.event.requestId);
      const domain = enclaveRegistryDomain(v.chainId, registryAddress);
      for (const errorName of ["RequestNotOpen", "EnclaveAlreadyAttested"]) {
        const metrics = new Registry();
        const { writer, intents } = stubWriter(async (intent) => {
          throw new TxRevertedError(intent.key, `${errorName}(${requestId})`, errorName);
        });
        const outcome = await (await responder(genesis, writer, newPrefix(), silentLogger(), metrics)).handle(job);
        expect(outcome).to.deep.equal({ outcome: "lost-race", requestId: job.event.requestId, winner: undefined });
        expect(await counterValue(metrics, "veilnet_secret_requests_lost_races_total")).to.equal(1);

        // The intent the writer got: respondNetworkSecret with a response signed by genesis.
        expect(intents).to.have.length(1);
        const intent = only(intents, "intent");
        expect(intent.key).to.equal(`respond-secret-${chainId}-${requestId}`);
        expect(intent.to).to.equal(registryAddress);
        const call = registryInterface.parseTransaction({ data: intent.data })!;
        expect(call.name).to.equal("respondNetworkSecret");
        const [calledId, , report, encryptedSecret, signature] = call.args as unknown as [
          bigint,
          unknown,
          string,
          string,
          string,
        ];
        expect(calledId).to.equal(requestId);
        // the requester's report goes back to the registry, which verifies it then
        expect(report).to.equal(await requestReport(v, requestId));
        const response = { requestId, encryptedSecretHash: keccak256(encryptedSecret) };
        expect(verifyTypedData(domain, SECRET_RESPONSE_TYPES, response, signature)).to.equal(genesis.address);
        expect(requester.acceptSecret(encryptedSecret, await registry.secretCommitment())).to.equal(
          genesis.secretCommitment,
        );
        expect(await intent.alreadyDone!()).to.equal(false); // the request is still open
      }
    });

    it("fails for good on another revert, and retries transport errors", async function () {
      const job = await requestSecret(newEnclave(), v.users[3], 0n);
      const reverting = stubWriter(async (intent) => {
        throw new TxRevertedError(intent.key, "InvalidSignature()", "InvalidSignature");
      });
      await expect((await responder(genesis, reverting.writer, newPrefix())).handle(job)).to.be.rejectedWith(
        UnrecoverableError,
        "reverts with InvalidSignature()",
      );
      const flaky = stubWriter(async () => {
        throw new Error("socket hang up");
      });
      const error = await (await responder(genesis, flaky.writer, newPrefix())).handle(job).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(Error);
      expect(error).to.not.be.instanceOf(UnrecoverableError);
      expect((error as Error).message).to.equal("socket hang up");
    });

    it("refuses to answer for an enclave that is not attested (dead-letter, not a silent drop)", async function () {
      const job = await requestSecret(newEnclave(), v.users[3], 0n);
      const outsider = newEnclave();
      outsider.acceptSecret(genesis.encryptSecretFor(outsider.publicKey), await registry.secretCommitment());
      const { writer, intents } = stubWriter(never);
      await expect((await responder(outsider, writer, newPrefix())).handle(job)).to.be.rejectedWith(
        UnrecoverableError,
        `enclave ${outsider.address} is not attested on L1`,
      );
      expect(intents).to.deep.equal([]);
    });

    it("ignores other events and has nothing to undo for a reorged request", async function () {
      const job = await requestSecret(newEnclave(), v.users[3], 0n);
      const { logger, lines } = capturingLogger();
      const { writer, intents } = stubWriter(never);
      const r = await responder(genesis, writer, newPrefix(), logger);
      expect(await r.handle({ ...job, removed: true })).to.deep.equal({
        outcome: "removed",
        requestId: job.event.requestId,
      });
      expect(lines.some((line) => line.level === 30 && line.msg.includes("nothing to undo"))).to.equal(true);
      const cancelled: EventJob = { ...job, event: { type: "SecretRequestCancelled", requestId: "1", refund: "0" } };
      expect(await r.handle(cancelled)).to.deep.equal({ outcome: "ignored", type: "SecretRequestCancelled" });
      expect(intents).to.deep.equal([]);
    });
  });

  describe("the enclave host interface", function () {
    it("refuses a requester whose report no attestation service signed, and sends nothing", async function () {
      // An enclave that vouches for itself: its report is signed by a key the verifier does not list.
      const forger = Wallet.createRandom();
      const selfAttested = Enclave.create({
        measurement: MEASUREMENT,
        attestation: new DevAttestationService({
          signer: forger,
          chainId: v.chainId,
          verifier: await v.verifier.getAddress(),
        }),
      });
      const job = await requestSecret(selfAttested, v.users[4], 0n);
      const locator = { requestId: job.event.requestId, transactionHash: job.ref.transactionHash };
      const reason = `the attestation verifier refused the report: UnknownAttestationService(${forger.address})`;
      expect(await (await clientOf(genesis)).answerSecretRequest(locator)).to.deep.equal({
        outcome: "refused",
        requestId: job.event.requestId,
        code: "verifier-rejected",
        reason,
      });
      // Through the worker: the same refusal, nothing sent, the requester not attested.
      const intents: TxIntent[] = [];
      const writer: L1Writer = {
        send: async (intent) => {
          intents.push(intent);
          throw new Error("must not send");
        },
      };
      expect(await (await responder(genesis, writer, newPrefix())).handle(job)).to.deep.equal({
        outcome: "refused",
        requestId: job.event.requestId,
        code: "verifier-rejected",
        reason,
      });
      expect(intents).to.deep.equal([]);
      expect(await registry.isAttested(selfAttested.address)).to.equal(false);
    });

    it("gives no caller the secret, nor an answer encrypted to a key of its choosing", async function () {
      const client = await clientOf(genesis);
      const requester = newEnclave();
      const job = await requestSecret(requester, v.users[4], 0n);
      const other = await requestSecret(newEnclave(), v.users[4], 0n);
      const locator = { requestId: job.event.requestId, transactionHash: job.ref.transactionHash };
      const attacker = Enclave.create({ measurement: MEASUREMENT });

      // A key (or a report) of the caller's is not accepted at all: the enclave reads them from L1.
      const withKey = await rejection(
        client.answerSecretRequest({ ...locator, pubKey: attacker.publicKey } as typeof locator),
      );
      expect(withKey).to.be.instanceOf(EnclaveHostError);
      expect(withKey.message).to.equal(
        `the enclave host at ${client.url} answered enclave_answerSecretRequest with error -32602: ` +
          `invalid params: (params[0]): Unrecognized key(s) in object: 'pubKey'`,
      );
      // Naming another request's transaction does not redirect the answer to that requester.
      expect(
        await client.answerSecretRequest({
          requestId: job.event.requestId,
          transactionHash: other.ref.transactionHash,
        }),
      ).to.deep.equal({
        outcome: "refused",
        requestId: job.event.requestId,
        code: "report-unavailable",
        reason: `transaction ${other.ref.transactionHash} did not make request ${job.event.requestId}`,
      });
      // No other method is served (no secret, no signing, no L2).
      for (const method of ["enclave_secret", "eth_sign", "eth_chainId"]) {
        const body = (await (
          await fetch(client.url, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: [] }),
          })
        ).json()) as { error: { code: number; message: string } };
        expect(body.error.code, method).to.equal(-32601);
      }
      // Browsers are kept out: no CORS, only JSON bodies, only POST.
      const plain = await fetch(client.url, { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" });
      expect(plain.status).to.equal(415);
      expect(plain.headers.get("access-control-allow-origin")).to.equal(null);
      expect((await fetch(client.url)).status).to.equal(405);

      // The answer opens with the requester's key only, and holds the secret nowhere in the clear.
      const answer = await client.answerSecretRequest(locator);
      if (answer.outcome !== "answered") throw new Error(`not answered: ${JSON.stringify(answer)}`);
      expect(answer.responder).to.equal(genesis.address);
      expect(answer.request.enclaveId).to.equal(requester.address);
      expect(() => attacker.acceptSecret(answer.encryptedSecret, genesis.secretCommitment!)).to.throw(
        /cannot decrypt the secret/,
      );
      expect(requester.acceptSecret(answer.encryptedSecret, await registry.secretCommitment())).to.equal(
        genesis.secretCommitment,
      );
      const stateFile = path.join(tmp, "genesis-state.json");
      genesis.save(stateFile);
      const secret = (JSON.parse(readFileSync(stateFile, "utf8")) as { secret: string }).secret;
      const status = await client.status();
      for (const reply of [JSON.stringify(answer), JSON.stringify(status)]) {
        expect(reply.toLowerCase()).to.not.contain(secret.slice(2).toLowerCase());
      }
      expect(status).to.deep.equal({
        address: genesis.address,
        measurement: MEASUREMENT.toLowerCase(),
        hasSecret: true,
        secretCommitment: genesis.secretCommitment,
      });
    });

    it("an unreachable ENCLAVE_HOST_URL: the worker starts, names the URL, and retries until the host answers", async function () {
      const prefix = newPrefix();
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const config = parseConfig(commonConfigSchema, {
        L1_RPC_URL: node.url,
        REDIS_URL,
        QUEUE_PREFIX: prefix,
        JOB_ATTEMPTS: 8,
        JOB_BACKOFF_MS: 400,
      });
      const { logger, lines } = capturingLogger();
      const ctx: WorkerContext = {
        config,
        source: { SIGNER_PRIVATE_KEY: genesisOperator.privateKey, ENCLAVE_HOST_URL: url, TX_POLL_INTERVAL_MS: "50" },
        logger,
        redis,
        queues: queueSettings(config),
        provider,
        chainId,
        deployment,
        contracts,
        metrics: new Registry(),
      };
      const service = await createSecretResponder(ctx);
      cleanups.push(() => service.stop());
      await service.start();
      const unreachable = `the enclave host at ${url} does not answer: ECONNREFUSED`;
      const warning = lines.find((line) => line.level === 40 && line.msg.startsWith(unreachable));
      expect(warning, "start-up warning naming the URL").to.not.equal(undefined);
      expect(await service.health()).to.deep.equal({ ok: true });

      const requester = newEnclave();
      const job = await requestSecret(requester, v.users[4], 0n);
      const jobId = eventJobId(job.ref);
      const queue = createQueue<EventJob>(QueueNames.secretRequests, queueSettings(config));
      cleanups.push(() => queue.close());
      await queue.add(job.event.type, job, { jobId });
      const failed = await waitFor("a failed attempt", async () => {
        const j = await queue.getJob(jobId);
        return j !== undefined && j.attemptsMade >= 1 && j.failedReason !== undefined ? j : undefined;
      });
      expect(failed.failedReason).to.equal(unreachable);
      expect(await failed.getState()).to.not.equal("failed"); // retried, not dead-lettered

      // The node comes up on that port: a retry is answered.
      const host = await startEnclaveHost({
        enclave: genesis,
        registry: contracts.enclaveRegistry,
        provider,
        chainId,
        port,
      });
      cleanups.push(() => host.close());
      expect(await outcomeOf(queue, jobId)).to.include({ outcome: "answered", requestId: job.event.requestId });
      expect((await queue.getJob(jobId))!.attemptsMade).to.be.greaterThan(1);
      expect(await registry.isAttested(requester.address)).to.equal(true);
      // The client's own error is typed and names the URL.
      const nowhere = `http://127.0.0.1:${await freePort()}`;
      const error = await rejection(new EnclaveHostClient(nowhere).status());
      expect(error).to.be.instanceOf(EnclaveHostUnreachableError);
      expect(error.message).to.equal(`the enclave host at ${nowhere} does not answer: ECONNREFUSED`);
    });
  });
});
