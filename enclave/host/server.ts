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

import {
  ANSWER_SECRET_REQUEST_METHOD,
  ENCLAVE_STATUS_METHOD,
  type EnclaveStatus,
  secretRequestLocatorSchema,
} from "../../protocol/enclave-host.js";
import { JsonRpcErrorCodes, type JsonRpcResponse, RpcError } from "../../protocol/jsonrpc.js";
import type { Logger } from "../../platform/logger.js";
import { JsonRpcHttpServer } from "../rpc/http.js";
import { type JsonRpcRequest, answer, invalidParams } from "../rpc/jsonrpc.js";
import type { Enclave } from "../secret/enclave.js";
import { type AnsweringEnclave, SecretAnswers, type SecretAnswersDeps } from "./secret-answers.js";

/** Largest request body accepted: the two methods take a few hundred bytes. */
const MAX_BODY = 16 * 1024;

/** The part of the Enclave the host interface uses. */
export type HostedEnclave = AnsweringEnclave & Pick<Enclave, "measurement" | "hasSecret" | "secretCommitment">;

export interface EnclaveHostDeps extends Omit<SecretAnswersDeps, "enclave"> {
  enclave: HostedEnclave;
}

export class EnclaveHostServer {
  readonly #enclave: HostedEnclave;
  readonly #answers: SecretAnswers;
  readonly #log: Logger;
  readonly #http = new JsonRpcHttpServer((request) => this.handle(request), {
    maxBodyBytes: MAX_BODY,
    maxBatch: 0,
    cors: false,
    jsonOnly: true,
  });

  constructor(deps: EnclaveHostDeps) {
    this.#enclave = deps.enclave;
    this.#answers = new SecretAnswers(deps);
    this.#log = deps.logger.child({ service: "enclave-host" });
  }

  /** Listens on `host:port` (0: any free port) and returns the URL. */
  listen(port: number, host = "127.0.0.1"): Promise<string> {
    return this.#http.listen(port, host);
  }

  close(): Promise<void> {
    return this.#http.close();
  }

  /** Answers one JSON-RPC request object (any JSON value: it is checked here). */
  handle(request: unknown): Promise<JsonRpcResponse> {
    const r = (typeof request === "object" && request !== null ? request : {}) as JsonRpcRequest;
    return answer(r, async (method, params) => {
      try {
        return await this.#dispatch(method, params);
      } catch (e) {
        if (!(e instanceof RpcError)) this.#log.error({ err: e, method }, "enclave host request failed");
        throw e;
      }
    });
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
}
