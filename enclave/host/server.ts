/**
 * The enclave host interface (protocol/enclave-host.ts) over HTTP: the node's endpoint for its operator's
 * own processes (the secret-responder), on ENCLAVE_HOST_PORT, bound to the loopback interface unless
 * ENCLAVE_HOST_ADDRESS says otherwise. It serves exactly two methods:
 * - `enclave_status`: the enclave's address, measurement and secret commitment;
 * - `enclave_answerSecretRequest`: the answer to one request on L1 (secret-answers.ts).
 * Nothing it answers is secret (an answer is encrypted to a key L1 names and ends up on L1 anyway), so
 * the port needs no authentication; it stays off the public interface so that strangers cannot make the
 * enclave work. Browsers are kept out: no CORS headers, and only `application/json` bodies (which a web
 * page can send cross-origin only after a preflight this endpoint never grants).
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";

import {
  ANSWER_SECRET_REQUEST_METHOD,
  ENCLAVE_STATUS_METHOD,
  type EnclaveStatus,
  secretRequestLocatorSchema,
} from "../../protocol/enclave-host.js";
import { JsonRpcErrorCodes, type JsonRpcResponse, RpcError, errorObjectOf } from "../../protocol/jsonrpc.js";
import type { Logger } from "../../platform/logger.js";
import type { Enclave } from "../secret/enclave.js";
import { type AnsweringEnclave, SecretAnswers, type SecretAnswersDeps } from "./secret-answers.js";

/** Largest request body accepted: the two methods take a few hundred bytes. */
const MAX_BODY = 16 * 1024;

/** The part of the Enclave the host interface uses. */
export type HostedEnclave = AnsweringEnclave & Pick<Enclave, "measurement" | "hasSecret" | "secretCommitment">;

export interface EnclaveHostDeps extends Omit<SecretAnswersDeps, "enclave"> {
  enclave: HostedEnclave;
}

function invalidParams(message: string): RpcError {
  return new RpcError(JsonRpcErrorCodes.invalidParams, `invalid params: ${message}`);
}

export class EnclaveHostServer {
  readonly #enclave: HostedEnclave;
  readonly #answers: SecretAnswers;
  readonly #log: Logger;
  #server: Server | undefined;

  constructor(deps: EnclaveHostDeps) {
    this.#enclave = deps.enclave;
    this.#answers = new SecretAnswers(deps);
    this.#log = deps.logger.child({ service: "enclave-host" });
  }

  /** Listens on `host:port` (0: any free port) and returns the URL. */
  async listen(port: number, host = "127.0.0.1"): Promise<string> {
    const server = createServer((req, res) => void this.#serve(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    this.#server = server;
    const { port: bound } = server.address() as AddressInfo;
    return `http://${host.includes(":") ? `[${host}]` : host}:${bound}`;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Answers one JSON-RPC request object (any JSON value: it is checked here). */
  async handle(request: unknown): Promise<JsonRpcResponse> {
    const r = (typeof request === "object" && request !== null ? request : {}) as {
      id?: unknown;
      method?: unknown;
      params?: unknown;
    };
    const id = typeof r.id === "string" || typeof r.id === "number" ? r.id : null;
    try {
      if (typeof r.method !== "string") {
        throw new RpcError(JsonRpcErrorCodes.invalidRequest, "invalid request: method must be a string");
      }
      const params = r.params ?? [];
      if (!Array.isArray(params)) throw invalidParams("expected an array");
      return { jsonrpc: "2.0", id, result: await this.#dispatch(r.method, params as unknown[]) };
    } catch (e) {
      if (e instanceof RpcError) return { jsonrpc: "2.0", id, error: e.toObject() };
      this.#log.error({ err: e, method: r.method }, "enclave host request failed");
      return { jsonrpc: "2.0", id, error: errorObjectOf(JsonRpcErrorCodes.internal, (e as Error).message) };
    }
  }

  async #dispatch(method: string, params: unknown[]): Promise<unknown> {
    switch (method) {
      case ENCLAVE_STATUS_METHOD:
        if (params.length !== 0) throw invalidParams(`${method} takes no params`);
        return this.#status();
      case ANSWER_SECRET_REQUEST_METHOD: {
        if (params.length !== 1) throw invalidParams(`${method} takes one object: { requestId, transactionHash }`);
        const parsed = secretRequestLocatorSchema.safeParse(params[0]);
        if (!parsed.success) {
          const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(params[0])"}: ${i.message}`);
          throw invalidParams(issues.join("; "));
        }
        return this.#answers.answer(parsed.data);
      }
      default:
        throw new RpcError(
          JsonRpcErrorCodes.methodNotFound,
          `method ${method} is not served by the enclave host interface (only ${ENCLAVE_STATUS_METHOD}, ${ANSWER_SECRET_REQUEST_METHOD})`,
        );
    }
  }

  #status(): EnclaveStatus {
    return {
      address: this.#enclave.address,
      measurement: this.#enclave.measurement,
      hasSecret: this.#enclave.hasSecret,
      secretCommitment: this.#enclave.secretCommitment ?? null,
    };
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "POST") {
      res.writeHead(405, { "content-type": "text/plain" }).end("POST JSON-RPC requests to this URL\n");
      return;
    }
    const [mediaType = ""] = (req.headers["content-type"] ?? "").split(";");
    if (mediaType.trim().toLowerCase() !== "application/json") {
      res.writeHead(415, { "content-type": "text/plain" }).end("the body must be application/json\n");
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) {
        res.writeHead(413, { "content-type": "text/plain" }).end(`the body exceeds ${MAX_BODY} bytes\n`);
        return;
      }
      chunks.push(chunk as Buffer);
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      this.#reply(res, {
        jsonrpc: "2.0",
        id: null,
        error: { code: JsonRpcErrorCodes.parse, message: "parse error: the body is not JSON" },
      });
      return;
    }
    if (Array.isArray(body)) {
      this.#reply(res, {
        jsonrpc: "2.0",
        id: null,
        error: { code: JsonRpcErrorCodes.invalidRequest, message: "invalid request: batches are not served here" },
      });
      return;
    }
    this.#reply(res, await this.handle(body));
  }

  #reply(res: ServerResponse, body: JsonRpcResponse): void {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  }
}
