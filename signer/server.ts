/**
 * The remote signer's HTTP API (EIP-3030 at Web3Signer's paths, adapted to rollup headers;
 * docs/distributed-key.md), in front of a LocalShareSigner:
 *
 * - `GET /upcheck` → 200 `OK` (no credentials needed: a liveness probe);
 * - `GET /api/v1/eth2/publicKeys` → 200, a JSON array of the shares' public keys (96-byte compressed G2);
 * - `POST /api/v1/eth2/sign/{publicKey}` with `{ type: "ROLLUP_HEADER", signingRoot?, rollupHeader,
 *   domain }` → 200 `{ signature }` (48-byte compressed G1); 400 malformed or another registry's domain,
 *   404 unknown key, 412 refused by slashing protection (`reason`: double-sign or overlap), 413 too big.
 *
 * Every path but /upcheck needs `Authorization: Bearer <SIGNER_AUTH_TOKEN>` (401 otherwise), compared in
 * constant time. The check, the record and the signature of one request run in one turn of the event
 * loop, so two concurrent requests cannot both pass the check.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";

import type { Registry } from "prom-client";

import type { Logger } from "../platform/logger.js";
import { counter } from "../platform/metrics.js";
import {
  type ErrorResponse,
  type LocalShareSigner,
  SIGNER_PATHS,
  SignerInputError,
  SignerRefusedError,
  UnknownKeyError,
  normalizePublicKey,
  signRequestSchema,
} from "../platform/signer/index.js";

/** Largest request body accepted (a sign request is under 1 KiB). */
export const MAX_BODY_BYTES = 64 * 1024;

export interface SignerServerOptions {
  signer: LocalShareSigner;
  /** The shared secret clients must present. */
  token: string;
  host: string;
  port: number;
  metrics: Registry;
  logger: Logger;
}

export interface SignerServer {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** A request the server answers with `status` and `body` (thrown by the handlers). */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorResponse,
  ) {
    super(body.error);
  }
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/** A constant-time check of the `authorization` header against `Bearer <token>`. */
function authorized(req: IncomingMessage, expected: Buffer): boolean {
  const header = req.headers.authorization ?? "";
  const presented = header.startsWith("Bearer ") ? header.slice("Bearer ".length) : "";
  return timingSafeEqual(digest(presented), expected);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, { error: `the body is over ${MAX_BODY_BYTES} bytes` });
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    throw new HttpError(400, { error: "the body is not JSON" });
  }
}

function send(res: ServerResponse, status: number, body: unknown, contentType = "application/json"): void {
  const text = typeof body === "string" ? body : `${JSON.stringify(body)}\n`;
  res.writeHead(status, { "content-type": contentType, "cache-control": "no-store" });
  res.end(text);
}

/** Serves the API on `host:port`; rejects when the port cannot be bound. */
export async function startSignerServer(options: SignerServerOptions): Promise<SignerServer> {
  const { signer, logger, metrics } = options;
  const expected = digest(options.token);
  const signatures = counter(metrics, {
    name: "veilnet_signer_signatures_total",
    help: "Share signatures made, by kind (new: a header signed for the first time; repeat: the same header again)",
    labelNames: ["kind"] as const,
  });
  const refusals = counter(metrics, {
    name: "veilnet_signer_refusals_total",
    help: "Sign requests refused, by reason (double-sign, overlap: slashing protection; unknown-key, invalid, unauthorized)",
    labelNames: ["reason"] as const,
  });
  for (const kind of ["new", "repeat"]) signatures.inc({ kind }, 0);
  for (const reason of ["double-sign", "overlap", "unknown-key", "invalid", "unauthorized"])
    refusals.inc({ reason }, 0);

  const sign = async (req: IncomingMessage, identifier: string): Promise<unknown> => {
    const publicKey = normalizePublicKey(identifier);
    if (publicKey === undefined || !signer.has(publicKey)) {
      refusals.inc({ reason: "unknown-key" });
      throw new HttpError(404, { error: `no share with public key ${identifier}` });
    }
    const parsed = signRequestSchema.safeParse(await readBody(req));
    if (!parsed.success) {
      refusals.inc({ reason: "invalid" });
      const issue = parsed.error.issues[0]!;
      throw new HttpError(400, { error: `${issue.path.join(".") || "(body)"}: ${issue.message}` });
    }
    const { rollupHeader, domain, signingRoot } = parsed.data;
    try {
      const signed = signer.signNow(publicKey, rollupHeader, domain, signingRoot);
      signatures.inc({ kind: signed.repeat ? "repeat" : "new" });
      return { signature: signed.signature };
    } catch (e) {
      if (e instanceof SignerRefusedError) {
        refusals.inc({ reason: e.reason });
        logger.warn({ publicKey, firstBatchSeq: rollupHeader.firstBatchSeq.toString(), reason: e.reason }, e.message);
        throw new HttpError(412, { error: e.message, reason: e.reason });
      }
      if (e instanceof SignerInputError) {
        refusals.inc({ reason: "invalid" });
        throw new HttpError(400, { error: e.message });
      }
      if (e instanceof UnknownKeyError) {
        refusals.inc({ reason: "unknown-key" });
        throw new HttpError(404, { error: e.message });
      }
      throw e;
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (path === SIGNER_PATHS.upcheck) {
      if (req.method !== "GET") throw new HttpError(405, { error: "use GET" });
      send(res, 200, "OK", "text/plain; charset=utf-8");
      return;
    }
    const known = path === SIGNER_PATHS.publicKeys || path.startsWith(SIGNER_PATHS.sign);
    if (!known) throw new HttpError(404, { error: `no such path ${path}` });
    if (!authorized(req, expected)) {
      refusals.inc({ reason: "unauthorized" });
      res.setHeader("www-authenticate", 'Bearer realm="veilnet-signer"');
      throw new HttpError(401, { error: "missing or wrong `Authorization: Bearer <token>`" });
    }
    if (path === SIGNER_PATHS.publicKeys) {
      if (req.method !== "GET") throw new HttpError(405, { error: "use GET" });
      send(res, 200, await signer.publicKeys());
      return;
    }
    if (req.method !== "POST") throw new HttpError(405, { error: "use POST" });
    const before = process.hrtime.bigint();
    const body = await sign(req, decodeURIComponent(path.slice(SIGNER_PATHS.sign.length)));
    send(res, 200, body);
    logger.debug({ ms: Number(process.hrtime.bigint() - before) / 1e6 }, "signer: signed");
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (e instanceof HttpError) {
        if (!res.headersSent) send(res, e.status, e.body);
        else res.end();
        if (e.status === 413) req.destroy();
        return;
      }
      logger.error({ err: e }, "signer: request failed");
      if (!res.headersSent) send(res, 500, { error: "internal error" });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (err) => logger.error({ err }, "signer: server error"));
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    server,
    port,
    url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
