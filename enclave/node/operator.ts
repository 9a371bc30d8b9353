/**
 * `npx veilnet node --operator`: a committee member (DESIGN §9). It runs what a sequencer runs — the L2
 * chain, the mempool, the L2 JSON-RPC, the rollup-producer and the epoch-revealer — but its batches are
 * decided by the committee: the consensus driver (enclave/consensus) runs QBFT over the p2p network
 * (enclave/committee/gossip.ts), and every member executes and seals each decided batch. Transactions
 * a member admits are forwarded to the others, so whoever proposes next can include them. The member
 * whose turn it is posts each rollup; the others post only after ROLLUP_FAILOVER_MS per step of
 * distance, if it has not landed. A committee of one goes through the same path.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

import { type TypedDataDomain, TypedDataEncoder, getBytes, keccak256 } from "ethers";

import { type CommitteeThresholdKey, RollupCosigner } from "../committee/cosigner.js";
import { CommitteeGossip } from "../committee/gossip.js";
import { type OperatorConfig, operatorConfigSchema } from "../committee/config.js";
import { type KeyDealing, KeyDealingError, dealtShareKeys, parseKeyDealing } from "../committee/key-dealing.js";
import { membershipDrift, resolveMembership } from "../committee/membership.js";
import { CommitteeDriver } from "../consensus/driver.js";
import { ecdsaVerifier, messageDigest } from "../consensus/keys.js";
import { consensusMetrics } from "../consensus/metrics.js";
import { type OperatorId, proposerOf } from "../consensus/qbft/index.js";
import { sequencerApp } from "../consensus/sequencer-app.js";
import { ConsensusStore } from "../consensus/store.js";
import { DerivationLabels } from "../crypto/derive.js";
import { createEpochRevealerService } from "../epoch-revealer/index.js";
import { nodeEnclaveHost } from "../host/index.js";
import { createRollupProducerService } from "../rollup-producer/index.js";
import type { Enclave } from "../secret/enclave.js";
import { SequencerStore } from "../sequencer/store.js";
import { ROLLUP_HEADER_TYPES, type RollupHeader, rollupRegistryDomain } from "../../protocol/rollup.js";
import { hexOf } from "../../platform/bls/index.js";
import { RemoteShareSigner, SignerRefusedError, SlashingProtection } from "../../platform/signer/index.js";
import { ConfigError, parseConfig } from "../../platform/config.js";
import type { ServiceFactory, WorkerContext } from "../../platform/context.js";
import { counter, gauge } from "../../platform/metrics.js";
import { createP2PNode, loadOrCreatePeerKey } from "../../platform/p2p/index.js";
import type { Service } from "../../platform/service.js";
import { dataDirOf, loadNodeEnclave, nodeConfigSchema } from "./config.js";
import { checkSecret, openChain, openSequencer, sequencerRpc } from "./parts.js";

/** This node's operator id: OPERATOR_ID, or the member whose enclave this node runs. */
function selfOf(
  configured: number | undefined,
  members: ReadonlyMap<OperatorId, string>,
  enclave: Enclave,
): OperatorId {
  const mine = [...members].find(([, address]) => address.toLowerCase() === enclave.address.toLowerCase())?.[0];
  if (mine === undefined) {
    throw new ConfigError(
      `config: this node's enclave ${enclave.address} is not a member of the committee (${[...members.keys()].join(", ")})`,
    );
  }
  if (configured !== undefined && configured !== mine) {
    throw new ConfigError(`config: OPERATOR_ID ${configured}, but this node's enclave is operator ${mine}'s`);
  }
  return mine;
}

/** How many failover steps member `self` is from the member whose turn it is to post a rollup from `seq`. */
export function postingDistance(committee: readonly OperatorId[], self: OperatorId, seq: bigint): number {
  const sorted = [...committee].sort((a, b) => a - b);
  const leader = sorted.indexOf(proposerOf(sorted, Number(seq % BigInt(Number.MAX_SAFE_INTEGER)), 1));
  return (sorted.indexOf(self) - leader + sorted.length) % sorted.length;
}

/**
 * L1 blocks a committee can still be charged before the OperatorRegistry's liquidation rule applies to
 * it (below the minimum collateral, or fewer than the minimum blocks of burn left): 0 when it does.
 */
export function blocksBeforeLiquidation(
  balance: bigint,
  burnPerBlock: bigint,
  rule: { minimumBlocksBeforeLiquidation: bigint; minimumLiquidationCollateral: bigint },
): number {
  if (balance < rule.minimumLiquidationCollateral) return 0;
  if (burnPerBlock === 0n) return Number.POSITIVE_INFINITY;
  const byBlocks = balance / burnPerBlock - rule.minimumBlocksBeforeLiquidation;
  const byCollateral = (balance - rule.minimumLiquidationCollateral) / burnPerBlock;
  const left = byBlocks < byCollateral ? byBlocks : byCollateral;
  return left > 0n ? Number(left) : 0;
}

/**
 * The committee's threshold key from COMMITTEE_KEY_FILE: used once L1 has it registered for the
 * committee (RollupRegistry.committeeKeyHash, read until it is); before that, the committee signs with
 * ECDSA and this says so once. This member signs with its share either in its enclave (the share opened
 * there from the dealing), after the durable slashing-protection record in `<data dir>/slashing-protection`
 * (platform/signer: record, fsync, then sign), or through a remote signer (COMMITTEE_SIGNER_URL), which
 * keeps its own record. A signature that fails (refused, signer down) is a missed duty, counted in
 * veilnet_committee_share_signatures_total{result}.
 */
async function committeeThresholdKey(
  ctx: WorkerContext,
  enclave: Enclave,
  operator: OperatorConfig,
  committeeId: bigint,
  self: number,
  dataDir: string,
): Promise<CommitteeThresholdKey | undefined> {
  if (operator.COMMITTEE_KEY_FILE === undefined) return undefined;
  const remote = operator.COMMITTEE_SIGNER_URL;
  if (remote !== undefined && operator.COMMITTEE_SIGNER_TOKEN === undefined) {
    throw new ConfigError("config: COMMITTEE_SIGNER_URL needs COMMITTEE_SIGNER_TOKEN (the signer's SIGNER_AUTH_TOKEN)");
  }
  let dealing: KeyDealing;
  try {
    dealing = parseKeyDealing(readFileSync(operator.COMMITTEE_KEY_FILE, "utf8"));
    if (BigInt(dealing.committeeId) !== committeeId) {
      throw new KeyDealingError(`it is for committee ${dealing.committeeId}, this node runs committee ${committeeId}`);
    }
    // With a remote signer the share lives there; the enclave only needs the dealing's public parts.
    if (remote === undefined) enclave.loadCommitteeShare(dealing, self);
  } catch (error) {
    if (error instanceof KeyDealingError || (error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new ConfigError(`config: COMMITTEE_KEY_FILE: ${(error as Error).message}`);
    }
    throw error;
  }
  const expected = keccak256(dealing.publicKey).toLowerCase();
  let registered = false;
  let warned = false;
  const isRegistered = async (): Promise<boolean> => {
    if (registered) return true;
    registered = (await ctx.contracts.rollupRegistry.committeeKeyHash(committeeId)).toLowerCase() === expected;
    if (registered)
      ctx.logger.info({ committee: committeeId.toString() }, "signing rollups with the committee's threshold key");
    else if (!warned) {
      warned = true;
      ctx.logger.warn(
        { committee: committeeId.toString() },
        "COMMITTEE_KEY_FILE's key is not registered for the committee on L1 yet: signing rollups with ECDSA until it is (RollupRegistry.registerCommitteeKey)",
      );
    }
    return registered;
  };
  const shares = dealtShareKeys(dealing);
  const ownKey = shares.get(self)?.publicKey;
  if (ownKey === undefined) throw new ConfigError(`config: COMMITTEE_KEY_FILE: operator ${self} has no share in it`);
  const sharePublicKey = hexOf(ownKey.bytes);
  const registryId = { chainId: BigInt(ctx.chainId), address: await ctx.contracts.rollupRegistry.getAddress() };
  const outcomes = counter(ctx.metrics, {
    name: "veilnet_committee_share_signatures_total",
    help: "This member's share signatures of rollup headers by result (refused or signer-down: a missed duty)",
    labelNames: ["result"],
  });
  let signShare: (domain: TypedDataDomain, header: RollupHeader) => Promise<string>;
  if (remote !== undefined) {
    const signer = new RemoteShareSigner({
      url: remote,
      token: operator.COMMITTEE_SIGNER_TOKEN ?? "",
      metrics: ctx.metrics,
    });
    signShare = async (domain, header) =>
      (
        await signer.signRollupHeader(sharePublicKey, header, {
          chainId: registryId.chainId,
          verifyingContract: registryId.address,
        })
      ).signature;
  } else {
    const protection = SlashingProtection.open(path.join(dataDir, "slashing-protection"), registryId);
    signShare = async (domain, header) => {
      const root = TypedDataEncoder.hash(domain, ROLLUP_HEADER_TYPES, header);
      const decision = protection.checkAndRecord(sharePublicKey, header, root);
      if (!decision.ok) throw new SignerRefusedError(decision.reason, decision.detail);
      return enclave.signRollupShare(domain, header);
    };
  }
  return {
    publicKey: dealing.publicKey,
    shares,
    sign: async (domain, header) => {
      try {
        const signature = await signShare(domain, header);
        outcomes.inc({ result: "signed" });
        return signature;
      } catch (error) {
        outcomes.inc({ result: error instanceof SignerRefusedError ? "refused" : "failed" });
        throw error;
      }
    },
    registered: isRegistered,
  };
}

export const createOperatorNode: ServiceFactory = async (ctx) => {
  const settings = parseConfig(nodeConfigSchema, ctx.source);
  const operator = parseConfig(operatorConfigSchema, ctx.source);
  const enclave = loadNodeEnclave(settings.ENCLAVE_STATE_FILE);
  await checkSecret(ctx, enclave);
  const membership = await resolveMembership(ctx, operator, settings.L1_CONFIRMATIONS);
  const members = membership.members;
  const committee = [...members.keys()];
  const self = selfOf(operator.OPERATOR_ID, members, enclave);
  if (!(await ctx.contracts.enclaveRegistry.isSequencer(enclave.address))) {
    ctx.logger.warn({ enclave: enclave.address }, "the enclave is not a sequencer on L1: its rollups will be refused");
  }
  const dataDir = dataDirOf(settings);
  const { chain, l1 } = await openChain(ctx, settings);
  const store = new SequencerStore(dataDir);
  const sequencer = await openSequencer(ctx, settings, { enclave, chain, l1, store });
  const chainId = BigInt(ctx.chainId);
  const p2p = await createP2PNode({
    privateKey: await loadOrCreatePeerKey(path.join(dataDir, "p2p")),
    listen: operator.P2P_LISTEN,
    bootstrap: operator.P2P_BOOTSTRAP,
    dht: operator.P2P_DHT,
    mdns: operator.P2P_MDNS,
    scoredTopics: CommitteeGossip.topics(chainId, membership.committeeId),
    logger: ctx.logger,
    registry: ctx.metrics,
  });
  const consensusStore = new ConsensusStore(path.join(dataDir, "consensus"));
  const ref: { driver?: CommitteeDriver } = {};
  const gossip = new CommitteeGossip({
    p2p,
    chainId,
    committeeId: membership.committeeId,
    members,
    signer: { operatorId: BigInt(self), sign: (digest) => enclave.signGossipDigest(digest) },
    txKey: getBytes(enclave.derive(DerivationLabels.txGossip)),
    currentHeight: () => ref.driver?.status().height ?? sequencer.batchCount,
    logger: ctx.logger,
  });
  const consensus = new CommitteeDriver({
    self,
    committee,
    signer: { sign: (message) => enclave.signGossipDigest(messageDigest(message)) },
    verifier: ecdsaVerifier((id) => members.get(id)),
    store: consensusStore,
    app: sequencerApp(sequencer, { valueKey: getBytes(enclave.derive(DerivationLabels.consensusValue)) }),
    transport: gossip,
    logger: ctx.logger.child({ service: "consensus" }),
    batchIntervalMs: settings.BATCH_INTERVAL_MS,
    metrics: consensusMetrics(ctx.metrics),
  });
  ref.driver = consensus;
  gossip.onConsensus((message) => consensus.deliver(message));
  // Forward what this member admits; not what it admitted from the tx topic (its sender forwarded it).
  const fromGossip = new Set<string>();
  gossip.onTransaction((raw) => {
    fromGossip.add(raw);
    sequencer.mempool
      .add(raw)
      .catch(() => undefined)
      .finally(() => fromGossip.delete(raw));
  });
  sequencer.mempool.onAdmitted((raw) => {
    if (!fromGossip.has(raw) && committee.length > 1) gossip.forwardTransaction(raw);
  });

  const rpc = sequencerRpc(ctx, settings, { enclave, chain, l1, sequencer });
  const source = { sealedBatches: (from: bigint, max: number) => Promise.resolve(sequencer.sealedBatches(from, max)) };
  // Rollups carry a quorum of the members' signatures: each member checks a proposal against its own
  // batches and L1 before it signs (enclave/committee/cosigner.ts).
  const threshold = await committeeThresholdKey(ctx, enclave, operator, membership.committeeId, self, dataDir);
  const cosigner = new RollupCosigner({
    ...(threshold === undefined ? {} : { threshold }),
    gossip,
    self,
    members,
    enclave,
    batches: source,
    l1: ctx.provider,
    lastBatchHash: () => ctx.contracts.rollupRegistry.lastBatchHash(),
    domain: async () => rollupRegistryDomain(chainId, await ctx.contracts.rollupRegistry.getAddress()),
    logger: ctx.logger.child({ service: "cosigner" }),
  });
  cosigner.start();
  const producer = await createRollupProducerService(ctx, {
    source,
    enclave,
    turnDelayMs: (seq) => postingDistance(committee, self, seq) * operator.ROLLUP_FAILOVER_MS,
    ...(committee.length > 1 ? { cosign: (built, landed) => cosigner.collect(built, landed) } : {}),
  });
  const revealer = await createEpochRevealerService(ctx, { enclave });
  const host = nodeEnclaveHost(ctx, enclave, settings);
  const batches = gauge(ctx.metrics, { name: "veilnet_sequencer_batches", help: "Batches sealed by this sequencer" });
  const pool = gauge(ctx.metrics, {
    name: "veilnet_mempool_transactions",
    help: "Transactions waiting in the mempool",
  });
  const sizeGauge = gauge(ctx.metrics, {
    name: "veilnet_committee_size",
    help: "Members of this operator's committee (n; a quorum is 2f+1 with n = 3f+1)",
  });
  sizeGauge.set(committee.length);
  batches.set(sequencer.batchCount);
  const stale = Math.max(10_000, settings.BATCH_INTERVAL_MS * 20);
  // L1 watch: the committee this node runs is still the active one; its balance in blocks of burn.
  const balanceBlocks = gauge(ctx.metrics, {
    name: "veilnet_committee_balance_blocks",
    help: "L1 blocks the committee can still be charged (members' fees + network fee) before it is liquidatable (0: it is)",
    labelNames: ["committee"],
  });
  let drift: string | undefined;
  const registry = ctx.contracts.operatorRegistry;
  const watchL1 = async (): Promise<void> => {
    try {
      drift = await membershipDrift(membership);
      if (drift !== undefined) ctx.logger.error({ committee: membership.committeeId.toString() }, drift);
      const id = membership.committeeId;
      const [balance, burn, parameters] = await Promise.all([
        registry.committeeBalance(id),
        registry.burnRate(id),
        registry.parameters(),
      ]);
      balanceBlocks.set({ committee: id.toString() }, blocksBeforeLiquidation(balance, burn, parameters));
    } catch (error) {
      ctx.logger.warn({ err: error }, "reading the OperatorRegistry failed; next try in 15 s");
    }
  };
  let watchTimer: NodeJS.Timeout | undefined;
  return {
    name: "operator",
    async start() {
      await host.start();
      const url = await rpc.listen(settings.L2_RPC_PORT, settings.L2_RPC_HOST);
      gossip.start();
      await consensus.start();
      const s = consensus.status();
      ctx.logger.info(
        {
          url,
          operator: self,
          committee,
          committeeId: membership.committeeId.toString(),
          from: membership.source,
          enclave: enclave.address,
          peerId: p2p.peerId,
          p2p: p2p.multiaddrs(),
          height: s.height,
          leader: s.leader,
        },
        "committee member started (L2 JSON-RPC listening)",
      );
      await producer.start();
      await revealer.start();
      await watchL1();
      watchTimer = setInterval(() => void watchL1(), 15_000);
    },
    async stop() {
      clearInterval(watchTimer);
      await host.stop();
      await revealer.stop();
      await producer.stop();
      gossip.stop();
      await consensus.stop();
      await p2p.stop();
      consensusStore.close();
      await sequencer.stop();
      await rpc.close();
      store.close();
      await chain.close();
    },
    async health() {
      batches.set(sequencer.batchCount);
      pool.set(sequencer.mempool.size);
      const s = consensus.status();
      const problems: string[] = drift === undefined ? [] : [drift];
      const last = s.lastDecidedAtMs;
      if (committee.length > 1 && last !== undefined && Date.now() - last > stale) {
        problems.push(
          `no batch decided for ${Math.round((Date.now() - last) / 1000)} s (height ${s.height}, round ${s.round})`,
        );
      }
      const quorum = committee.length - Math.floor((committee.length - 1) / 3);
      const peers = p2p.subscribers(gossip.consensusTopic).length;
      if (peers + 1 < quorum)
        problems.push(`${peers} committee peers: fewer than a quorum (${quorum}) with this member`);
      const own = sequencer.health();
      if (!own.ok && own.detail !== undefined) problems.push(own.detail);
      const rollups = await producer.health();
      if (!rollups.ok && rollups.detail !== undefined) problems.push(rollups.detail);
      const reveals = await revealer.health();
      if (!reveals.ok && reveals.detail !== undefined) problems.push(reveals.detail);
      return problems.length === 0 ? { ok: true } : { ok: false, detail: problems.join("; ") };
    },
  } satisfies Service;
};
