/**
 * Real libp2p nodes on 127.0.0.1 for tests: start n with fresh or given keys, connect them through a
 * bootstrap node or in a full mesh, wait (bounded) for gossipsub to know the topic's subscribers, stop.
 */
import { generateKeyPair } from "@libp2p/crypto/keys";
import type { PrivateKey } from "@libp2p/interface";
import pino from "pino";
import { Registry } from "prom-client";

import { type P2PNode, createP2PNode } from "../platform/p2p/index.js";

export async function startTestNode(options: {
  topics: readonly string[];
  bootstrap?: readonly string[];
  privateKey?: PrivateKey;
  registry?: Registry;
  dht?: boolean;
}): Promise<P2PNode> {
  return createP2PNode({
    privateKey: options.privateKey ?? (await generateKeyPair("Ed25519")),
    listen: ["/ip4/127.0.0.1/tcp/0"],
    bootstrap: options.bootstrap ?? [],
    dht: options.dht ?? false,
    scoredTopics: options.topics,
    logger: pino({ level: "silent" }),
    registry: options.registry ?? new Registry(),
  });
}

/** Dials every pair once (a full mesh of connections). */
export async function connectAll(nodes: readonly P2PNode[]): Promise<void> {
  for (const [i, a] of nodes.entries()) {
    for (const b of nodes.slice(i + 1)) await a.dial(b.multiaddrs()[0] ?? "");
  }
}

/** Waits until every node sees at least `min` subscribers of `topic`. */
export async function waitForSubscribers(
  nodes: readonly P2PNode[],
  topic: string,
  min: number,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (nodes.some((n) => n.subscribers(topic).length < min)) {
    if (Date.now() > deadline) {
      throw new Error(`gossipsub: not every node sees ${min} subscribers of ${topic} within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
