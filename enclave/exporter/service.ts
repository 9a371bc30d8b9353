/**
 * `npx veilnet node --exporter` (SSV's exporter, read-only): joins the committee's gossip without an
 * enclave key or the network secret, follows consensus messages and decided batches (signatures and
 * commit certificates checked), and exports per height the proposer, the round, the signers and the
 * missed duties — as `veilnet_exporter_*` Prometheus metrics on /metrics and as a JSON HTTP API:
 *
 *   GET /v1/status                 highest height, votes followed, equivocations, peers
 *   GET /v1/heights?from=&limit=   decided heights from `from` (default: the last `limit`, at most 1000)
 *   GET /v1/heights/<h>            one height
 *   GET /v1/operators              duties per operator (proposed, signed, missed, last signed height)
 *   GET /v1/equivocations          two different signed votes by one operator for one (height, round)
 */
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { z } from "zod";

import { CommitteeGossip } from "../committee/gossip.js";
import { operatorConfigSchema } from "../committee/config.js";
import { resolveMembership } from "../committee/membership.js";
import { ecdsaVerifier } from "../consensus/keys.js";
import { parseConfig } from "../../platform/config.js";
import type { ServiceFactory } from "../../platform/context.js";
import { createP2PNode, loadOrCreatePeerKey } from "../../platform/p2p/index.js";
import type { Service } from "../../platform/service.js";
import { DutyTracker } from "./duties.js";

export const exporterConfigSchema = operatorConfigSchema.omit({ OPERATOR_ID: true, ROLLUP_FAILOVER_MS: true }).extend({
  EXPORTER_DATA_DIR: z.string().min(1).default("exporter-data").describe("Directory of the exporter's p2p key"),
  EXPORTER_API_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(8800)
    .describe("Port of the exporter's JSON API (0: any free port)"),
  EXPORTER_API_HOST: z.string().min(1).default("127.0.0.1").describe("Interface the exporter's JSON API binds"),
});

function reply(res: import("node:http").ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(`${JSON.stringify(body)}\n`);
}

export const createExporterNode: ServiceFactory = async (ctx) => {
  const settings = parseConfig(exporterConfigSchema, ctx.source);
  const membership = await resolveMembership(ctx, settings, 0);
  const members = membership.members;
  const committee = [...members.keys()];
  const chainId = BigInt(ctx.chainId);
  const p2p = await createP2PNode({
    privateKey: await loadOrCreatePeerKey(settings.EXPORTER_DATA_DIR),
    listen: settings.P2P_LISTEN,
    bootstrap: settings.P2P_BOOTSTRAP,
    dht: settings.P2P_DHT,
    mdns: settings.P2P_MDNS,
    scoredTopics: CommitteeGossip.topics(chainId, membership.committeeId),
    logger: ctx.logger,
    registry: ctx.metrics,
  });
  const tracker = new DutyTracker({
    committee,
    verifier: ecdsaVerifier((id) => members.get(id)),
    registry: ctx.metrics,
  });
  const gossip = new CommitteeGossip({
    p2p,
    chainId,
    committeeId: membership.committeeId,
    members,
    currentHeight: () => tracker.highestHeight + 1,
    logger: ctx.logger,
  });
  gossip.onConsensus((message) => {
    if (message.kind === "qbft") tracker.observeMessage(message.signed);
    else if (message.kind === "decided") {
      const problem = tracker.observeDecided(message.decided);
      if (problem !== undefined) ctx.logger.warn({ height: message.decided.height, problem }, "decided record refused");
    }
  });
  let server: Server | undefined;
  const handle = (url: URL): [number, unknown] => {
    const parts = url.pathname.split("/").filter((p) => p !== "");
    if (parts[0] !== "v1") return [404, { error: "not found (try /v1/status)" }];
    switch (parts[1]) {
      case "status":
        return [
          200,
          {
            committeeId: membership.committeeId.toString(),
            committee,
            height: tracker.highestHeight,
            votesFollowed: tracker.votesSeen,
            equivocations: tracker.equivocations().length,
            peers: p2p.peers().length,
          },
        ];
      case "operators":
        return [200, tracker.operatorDuties()];
      case "equivocations":
        return [200, tracker.equivocations()];
      case "heights": {
        if (parts[2] !== undefined) {
          const h = Number(parts[2]);
          const d = Number.isInteger(h) ? tracker.height(h) : undefined;
          return d === undefined ? [404, { error: `height ${parts[2]} not decided (or not seen)` }] : [200, d];
        }
        const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get("limit") ?? 100) || 100));
        const fromParam = url.searchParams.get("from");
        const from = fromParam === null ? Math.max(0, tracker.highestHeight - limit + 1) : Number(fromParam);
        if (!Number.isInteger(from) || from < 0) return [400, { error: `from must be a height, got ${fromParam}` }];
        return [200, tracker.range(from, limit)];
      }
      default:
        return [404, { error: `unknown resource /v1/${parts[1] ?? ""}` }];
    }
  };
  return {
    name: "exporter",
    async start() {
      gossip.start();
      server = createServer((req, res) => {
        if (req.method !== "GET") return reply(res, 405, { error: "GET only" });
        const [status, body] = handle(new URL(req.url ?? "/", "http://exporter"));
        reply(res, status, body);
      });
      const s = server;
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.listen(settings.EXPORTER_API_PORT, settings.EXPORTER_API_HOST, () => resolve());
      });
      const { port } = s.address() as AddressInfo;
      ctx.logger.info(
        { api: `http://${settings.EXPORTER_API_HOST}:${port}/v1/status`, committee, peerId: p2p.peerId },
        "exporter following the committee's gossip",
      );
    },
    async stop() {
      gossip.stop();
      await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
      await p2p.stop();
    },
    health() {
      return Promise.resolve(
        p2p.peers().length > 0 ? { ok: true } : { ok: false, detail: "no p2p peers: not following the committee" },
      );
    },
  } satisfies Service;
};
