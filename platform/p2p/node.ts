/**
 * A Veilnet p2p node (DESIGN §9.2): js-libp2p with TCP, noise, yamux, identify and gossipsub; discovery by a
 * bootstrap list plus kad-dht (on a private protocol id, LAN addresses kept), mdns optional. Gossipsub
 * signs messages with the libp2p key (StrictSign), so a validator knows the origin peer of every message
 * and can check it against the operator's peer record; the envelope inside carries the operator's own
 * signature. Every topic has a validator; a rejected message counts as an invalid delivery in the
 * sender's topic score (weight −1 per message, squared), so a peer that keeps sending bad messages is
 * graylisted after about ten.
 */
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { bootstrap } from "@libp2p/bootstrap";
import { type GossipSub, type GossipsubOpts, TopicValidatorResult, gossipsub } from "@libp2p/gossipsub";
import { createTopicScoreParams } from "@libp2p/gossipsub/score";
import { identify } from "@libp2p/identify";
import type { PeerId, PeerInfo, PrivateKey } from "@libp2p/interface";
import { kadDHT } from "@libp2p/kad-dht";
import { mdns } from "@libp2p/mdns";
import { ping } from "@libp2p/ping";
import { tcp } from "@libp2p/tcp";
import { multiaddr } from "@multiformats/multiaddr";
import { type Libp2p, createLibp2p } from "libp2p";
import type { Registry } from "prom-client";

import type { Logger } from "../logger.js";
import type { Envelope } from "./envelope.js";
import { p2pMetrics } from "./metrics.js";
import type { EnvelopeValidator } from "./validation.js";

export interface P2PNodeOptions {
  privateKey: PrivateKey;
  /** Multiaddrs to listen on, e.g. /ip4/127.0.0.1/tcp/0. */
  listen: readonly string[];
  /** Multiaddrs (with /p2p/<id>) of peers to dial first. */
  bootstrap?: readonly string[];
  /** Find further peers through kad-dht (default true). */
  dht?: boolean;
  /** Find peers on the LAN through mdns (default false). */
  mdns?: boolean;
  /** The topics whose validators feed the peer score (invalid deliveries penalised). */
  scoredTopics: readonly string[];
  logger: Logger;
  registry: Registry;
}

export type EnvelopeHandler = (envelope: Envelope, originPeer: string) => void;

export interface P2PNode {
  readonly peerId: string;
  multiaddrs(): string[];
  /** Subscribes with a validator; the handler gets only accepted envelopes. */
  subscribe(topic: string, validator: EnvelopeValidator, handler: EnvelopeHandler): void;
  /** Publishes; resolves with the number of peers it went to (0 without peers, no error). */
  publish(topic: string, data: Uint8Array): Promise<number>;
  /** Connected peers' ids. */
  peers(): string[];
  /** Peers subscribed to `topic`. */
  subscribers(topic: string): string[];
  /** The gossipsub score this node gives `peerId`. */
  score(peerId: string): number;
  /** Called with every raw gossip message received (before validation): the wire as a peer sees it. */
  onRaw(listener: (topic: string, data: Uint8Array) => void): void;
  /** Dials a peer's multiaddr. */
  dial(address: string): Promise<void>;
  stop(): Promise<void>;
}

/** A short label for a topic: its kind (tx, consensus, partial-sigs, decided, peer-records). */
export function topicLabel(topic: string): string {
  return /^\/veilnet\/[0-9]+\/([a-z-]+)\//.exec(topic)?.[1] ?? "other";
}

const identityMapper = (peer: PeerInfo): PeerInfo => peer;

export async function createP2PNode(options: P2PNodeOptions): Promise<P2PNode> {
  const metrics = p2pMetrics(options.registry);
  const topics = Object.fromEntries(
    options.scoredTopics.map((t) => [
      t,
      createTopicScoreParams({
        topicWeight: 1,
        timeInMeshWeight: 0.01,
        timeInMeshQuantum: 1_000,
        timeInMeshCap: 100,
        firstMessageDeliveriesWeight: 0.5,
        firstMessageDeliveriesDecay: 0.9,
        firstMessageDeliveriesCap: 20,
        meshMessageDeliveriesWeight: 0,
        meshFailurePenaltyWeight: 0,
        invalidMessageDeliveriesWeight: -1,
        invalidMessageDeliveriesDecay: 0.99,
      }),
    ]),
  );
  const pubsubOptions: Partial<GossipsubOpts> = {
    globalSignaturePolicy: "StrictSign",
    allowPublishToZeroTopicPeers: true,
    ignoreDuplicatePublishError: true,
    emitSelf: false,
    // Small committees: keep the mesh dense enough that 4 nodes form one.
    D: 6,
    Dlo: 2,
    Dhi: 12,
    heartbeatInterval: 500,
    scoreParams: { topics, IPColocationFactorWeight: 0, behaviourPenaltyWeight: -1 },
    scoreThresholds: { gossipThreshold: -10, publishThreshold: -50, graylistThreshold: -80 },
  };
  const peerDiscovery = [];
  if ((options.bootstrap ?? []).length > 0) {
    peerDiscovery.push(bootstrap({ list: [...(options.bootstrap ?? [])], timeout: 100 }));
  }
  if (options.mdns === true) peerDiscovery.push(mdns());
  const node: Libp2p<{ pubsub: GossipSub; identify: unknown; ping: unknown; dht?: unknown }> = await createLibp2p({
    privateKey: options.privateKey,
    addresses: { listen: [...options.listen] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery,
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub(pubsubOptions),
      ...(options.dht === false
        ? {}
        : {
            dht: kadDHT({
              protocol: "/veilnet/kad/1.0.0",
              clientMode: false,
              peerInfoMapper: identityMapper,
            }),
          }),
    },
  });
  const pubsub = node.services.pubsub;
  // The GossipSub class has getScore; the service's interface type does not declare it.
  const scoreOf = (peerId: string): number =>
    (pubsub as unknown as { getScore(peerId: string): number }).getScore(peerId);
  const handlers = new Map<string, EnvelopeHandler>();
  const accepted = new WeakMap<Uint8Array, { envelope: Envelope; origin: string }>();
  const rawListeners: ((topic: string, data: Uint8Array) => void)[] = [];
  const log = options.logger;

  const refreshPeers = (): void => {
    metrics.peers.set(node.getPeers().length);
  };
  node.addEventListener("peer:connect", refreshPeers);
  node.addEventListener("peer:disconnect", refreshPeers);
  const scoreTimer = setInterval(() => {
    const scores = node.getPeers().map((p) => scoreOf(p.toString()));
    if (scores.length === 0) return;
    metrics.peerScore.set({ stat: "min" }, Math.min(...scores));
    metrics.peerScore.set({ stat: "max" }, Math.max(...scores));
    metrics.peerScore.set({ stat: "avg" }, scores.reduce((a, b) => a + b, 0) / scores.length);
  }, 2_000);
  scoreTimer.unref();

  pubsub.addEventListener("message", (event) => {
    const msg = event.detail;
    const handler = handlers.get(msg.topic);
    const ok = accepted.get(msg.data);
    if (handler === undefined || ok === undefined) return;
    try {
      handler(ok.envelope, ok.origin);
    } catch (error) {
      log.error({ err: error, topic: msg.topic }, "p2p: message handler failed");
    }
  });

  return {
    peerId: node.peerId.toString(),
    multiaddrs: () => node.getMultiaddrs().map((a) => a.toString()),
    subscribe(topic, validator, handler) {
      const label = topicLabel(topic);
      pubsub.topicValidators.set(topic, (peer: PeerId, msg) => {
        for (const listener of rawListeners) listener(topic, msg.data);
        const origin = msg.type === "signed" ? msg.from.toString() : peer.toString();
        const end = metrics.validationSeconds.startTimer();
        let verdict;
        try {
          verdict = validator(origin, msg.data);
        } finally {
          end();
        }
        if (verdict.result === "accept") {
          accepted.set(msg.data, { envelope: verdict.envelope, origin });
          metrics.received.inc({ topic: label });
          return TopicValidatorResult.Accept;
        }
        if (verdict.result === "reject") {
          metrics.rejected.inc({ topic: label, reason: verdict.reason });
          log.debug({ topic: label, peer: peer.toString(), reason: verdict.reason }, "p2p: message rejected");
          return TopicValidatorResult.Reject;
        }
        metrics.ignored.inc({ topic: label, reason: verdict.reason });
        return TopicValidatorResult.Ignore;
      });
      handlers.set(topic, handler);
      pubsub.subscribe(topic);
    },
    async publish(topic, data) {
      const result = await pubsub.publish(topic, data);
      metrics.published.inc({ topic: topicLabel(topic) });
      return result.recipients.length;
    },
    peers: () => node.getPeers().map((p) => p.toString()),
    subscribers: (topic) => pubsub.getSubscribers(topic).map((p) => p.toString()),
    score: scoreOf,
    onRaw(listener) {
      rawListeners.push(listener);
    },
    async dial(address) {
      await node.dial(multiaddr(address));
    },
    async stop() {
      clearInterval(scoreTimer);
      await node.stop();
    },
  };
}
