/**
 * `npx veilnet node`: the enclave node as a service of the worker runtime (config, logs, Redis,
 * /healthz and /metrics come from there). The sequencer runs the L2 chain, the sequencer loop, the L2
 * JSON-RPC endpoint, the rollup-producer and the epoch-revealer (which publishes each revelation epoch's
 * key on L1 once the revelation period is over); a validator runs the L2 chain, replays rollups from L1
 * and serves read-only L2 JSON-RPC. Both serve the rollups' messages and withdrawal proofs from their
 * own chain (rpc/withdrawals.ts), so withdrawing needs no particular node.
 */
import { rollupHeads } from "../l1/safe-heads.js";
import { epochKey } from "../rollup/builder.js";
import { L2RpcServer } from "../rpc/server.js";
import { SequencerStore } from "../sequencer/store.js";
import { Validator } from "../validator/validator.js";
import { parseConfig } from "../../platform/config.js";
import path from "node:path";

import { getBytes } from "ethers";

import { CommitteeGossip, OPEN_SENDER } from "../committee/gossip.js";
import { OperatorRegistryView } from "../committee/registry-view.js";
import { resolveMembership } from "../committee/membership.js";
import { DecidedBook } from "../committee/decided-book.js";
import { ecdsaVerifier } from "../consensus/keys.js";
import { followerConfigSchema } from "../committee/config.js";
import { DerivationLabels } from "../crypto/derive.js";
import type { Enclave } from "../secret/enclave.js";
import { type P2PNode, createP2PNode, loadOrCreatePeerKey } from "../../platform/p2p/index.js";
import type { ServiceFactory, WorkerContext } from "../../platform/context.js";
import { gauge } from "../../platform/metrics.js";
import type { Service } from "../../platform/service.js";
import { createRollupProducerService } from "../rollup-producer/index.js";
import { createEpochRevealerService } from "../epoch-revealer/index.js";
import { nodeEnclaveHost } from "../host/index.js";
import { type NodeConfig, dataDirOf, loadNodeEnclave, nodeConfigSchema } from "./config.js";
import {
  CLIENT_VERSION,
  checkSecret,
  entropyOf,
  openChain,
  openSequencer,
  sequencerRpc,
  rollupIndexOf,
} from "./parts.js";

export const createSequencerNode: ServiceFactory = async (ctx) => {
  const settings = parseConfig(nodeConfigSchema, ctx.source);
  const enclave = loadNodeEnclave(settings.ENCLAVE_STATE_FILE);
  await checkSecret(ctx, enclave);
  if (!(await ctx.contracts.enclaveRegistry.isSequencer(enclave.address))) {
    ctx.logger.warn({ enclave: enclave.address }, "the enclave is not a sequencer on L1: its rollups will be refused");
  }
  const { chain, l1 } = await openChain(ctx, settings);
  const store = new SequencerStore(dataDirOf(settings));
  const sequencer = await openSequencer(ctx, settings, { enclave, chain, l1, store });
  const rpc = sequencerRpc(ctx, settings, { enclave, chain, l1, sequencer });
  const producer = await createRollupProducerService(ctx, {
    source: { sealedBatches: (from, max) => Promise.resolve(sequencer.sealedBatches(from, max)) },
    enclave,
  });
  // Publishes the epoch keys once RollupRegistry allows it (same TxSender as the producer).
  const revealer = await createEpochRevealerService(ctx, { enclave });
  const host = nodeEnclaveHost(ctx, enclave, settings);
  const batches = gauge(ctx.metrics, { name: "veilnet_sequencer_batches", help: "Batches sealed by this sequencer" });
  const pool = gauge(ctx.metrics, {
    name: "veilnet_mempool_transactions",
    help: "Transactions waiting in the mempool",
  });
  batches.set(sequencer.batchCount);
  return {
    name: "sequencer",
    async start() {
      await host.start();
      const url = await rpc.listen(settings.L2_RPC_PORT, settings.L2_RPC_HOST);
      sequencer.start();
      ctx.logger.info({ url, enclave: enclave.address, batches: sequencer.batchCount }, "L2 JSON-RPC listening");
      await producer.start();
      await revealer.start();
    },
    async stop() {
      await host.stop();
      await revealer.stop();
      await producer.stop();
      await sequencer.stop();
      await rpc.close();
      store.close();
      await chain.close();
    },
    async health() {
      batches.set(sequencer.batchCount);
      pool.set(sequencer.mempool.size);
      const own = sequencer.health();
      const rollups = await producer.health();
      const reveals = await revealer.health();
      const ok = own.ok && rollups.ok && reveals.ok;
      const detail = [own.detail, rollups.detail, reveals.detail].filter((d) => d !== undefined).join("; ");
      return ok ? { ok } : { ok, detail };
    },
  } satisfies Service;
};

/**
 * A validator's link to the committee's gossip when COMMITTEE_MEMBERS is set: it forwards its users'
 * transactions on the sealed tx topic, signed by its enclave under the open sender id.
 */
async function committeeLink(
  ctx: WorkerContext,
  enclave: Enclave,
  settings: NodeConfig,
): Promise<{ p2p: P2PNode; gossip: CommitteeGossip; decided: DecidedBook; committee: number[] } | undefined> {
  const follow = parseConfig(followerConfigSchema, ctx.source);
  if (follow.COMMITTEE_MEMBERS === undefined && follow.P2P_BOOTSTRAP.length === 0 && !follow.P2P_MDNS) return undefined;
  const membership = await resolveMembership(ctx, follow, settings.L1_CONFIRMATIONS);
  const members = membership.members;
  const chainId = BigInt(ctx.chainId);
  const p2p = await createP2PNode({
    privateKey: await loadOrCreatePeerKey(path.join(dataDirOf(settings), "p2p")),
    listen: follow.P2P_LISTEN,
    bootstrap: follow.P2P_BOOTSTRAP,
    dht: follow.P2P_DHT,
    mdns: follow.P2P_MDNS,
    scoredTopics: CommitteeGossip.topics(chainId, membership.committeeId),
    logger: ctx.logger,
    registry: ctx.metrics,
  });
  const gossip = new CommitteeGossip({
    p2p,
    chainId,
    committeeId: membership.committeeId,
    members,
    signer: { operatorId: OPEN_SENDER, sign: (digest) => enclave.signGossipDigest(digest) },
    txKey: getBytes(enclave.derive(DerivationLabels.txGossip)),
    currentHeight: () => 0,
    logger: ctx.logger,
  });
  // Decided batches with their certificates, to check each rollup's batches against.
  const decided = new DecidedBook({
    committee: [...members.keys()],
    verifier: ecdsaVerifier((id) => members.get(id)),
    valueKey: getBytes(enclave.derive(DerivationLabels.consensusValue)),
  });
  gossip.onConsensus((message) => {
    if (message.kind !== "decided") return;
    const problem = decided.observe(message.decided);
    if (problem !== undefined) ctx.logger.warn({ height: message.decided.height, problem }, "decided record refused");
  });
  return { p2p, gossip, decided, committee: [...members.keys()] };
}

export const createValidatorNode: ServiceFactory = async (ctx) => {
  const settings = parseConfig(nodeConfigSchema, ctx.source);
  const enclave = loadNodeEnclave(settings.ENCLAVE_STATE_FILE);
  await checkSecret(ctx, enclave);
  const { chain, l1 } = await openChain(ctx, settings);
  const logger = ctx.logger;
  const link = await committeeLink(ctx, enclave, settings);
  // Who may sign rollups, from the OperatorRegistry's events (checked again on top of L1's check),
  // followed in-process with reorg handling; at the head (0 confirmations): L1 accepted these rollups.
  const operators = new OperatorRegistryView({
    provider: ctx.provider,
    address: ctx.deployment.addresses.OperatorRegistry,
    fromBlock: ctx.deployment.deploymentBlock,
    confirmations: 0,
    chainId: ctx.chainId,
    logger: ctx.logger,
  });
  const validator = new Validator({
    chain,
    l1,
    entropy: entropyOf(enclave),
    epochKey: (epoch) => epochKey(enclave, epoch),
    logger,
    ...(link === undefined ? {} : { decided: (seq, batch) => link.decided.problem(seq, batch) }),
    committee: async (id) => {
      await operators.sync();
      const c = operators.committees.get(Number(id));
      return c === undefined ? undefined : { signers: c.everSigners, quorum: c.quorum };
    },
  });
  const rpc = new L2RpcServer({
    ...(link === undefined ? {} : { forward: (raw: string) => link.gossip.forwardTransaction(raw) }),
    provider: chain.provider,
    l1Fees: chain,
    // A validator's safe blocks are those it has replayed from L1.
    heads: rollupHeads(
      () => validator.replayedRollups(),
      () => l1.l1Timestamp,
    ),
    minPriorityFee: settings.MIN_PRIORITY_FEE_WEI,
    clientVersion: CLIENT_VERSION,
    enclave,
    unfiltered: settings.L2_RPC_UNFILTERED,
    rollups: rollupIndexOf(ctx),
  });
  const host = nodeEnclaveHost(ctx, enclave, settings);
  const verified = gauge(ctx.metrics, {
    name: "veilnet_validator_rollups_verified",
    help: "Rollups this validator replayed and found right",
  });
  const refused = gauge(ctx.metrics, {
    name: "veilnet_validator_refused",
    help: "1 when the validator refused a rollup and stopped following",
  });
  const certified = gauge(ctx.metrics, {
    name: "veilnet_validator_batches",
    help: "Replayed batches checked against the committee's decided record and certificate (checked), or without one (none)",
    labelNames: ["certificate"],
  });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  let lastError: string | undefined;
  const tick = (): void => {
    running = validator
      .step()
      .then((n) => {
        lastError = undefined;
        if (n > 0) logger.info({ verified: n, ...validator.status, refused: undefined }, "rollups verified");
      })
      .catch((e: unknown) => {
        lastError = (e as Error).message;
        logger.error({ err: e }, "validator step failed; retrying");
      })
      .finally(() => {
        verified.set(validator.status.rollupsVerified);
        certified.set({ certificate: "checked" }, validator.certified);
        certified.set({ certificate: "none" }, validator.uncertified);
        refused.set(validator.refused === undefined ? 0 : 1);
        if (!stopped) timer = setTimeout(tick, settings.VALIDATOR_POLL_MS);
      });
  };
  return {
    name: "validator",
    async start() {
      await host.start();
      const url = await rpc.listen(settings.L2_RPC_PORT, settings.L2_RPC_HOST);
      link?.gossip.start();
      tick();
      logger.info(
        { url, enclave: enclave.address, forwardsTo: link?.committee },
        link === undefined
          ? "L2 JSON-RPC listening (read-only validator)"
          : "L2 JSON-RPC listening (validator; forwards users' transactions to the committee)",
      );
    },
    async stop() {
      await host.stop();
      stopped = true;
      clearTimeout(timer);
      await running;
      link?.gossip.stop();
      await link?.p2p.stop();
      await rpc.close();
      await chain.close();
    },
    health() {
      const r = validator.refused;
      if (r !== undefined) return Promise.resolve({ ok: false, detail: `refused rollup ${r.hash}: ${r.reason}` });
      return Promise.resolve(lastError === undefined ? { ok: true } : { ok: false, detail: lastError });
    },
  } satisfies Service;
};
