/**
 * Client of an enclave node's host interface (protocol/enclave-host.ts), over HTTP JSON-RPC: how the
 * secret-responder asks its enclave. The worker never holds the enclave's key or secret; it gets answers
 * that are safe to publish (the secret encrypted to the requester's key L1 names, and a signature).
 * Every error names the URL: a host that does not answer (down, not started yet, too slow) is an
 * EnclaveHostUnreachableError, an error the host answered an EnclaveHostError.
 */
import type { z } from "zod";

import {
  ANSWER_SECRET_REQUEST_METHOD,
  ENCLAVE_STATUS_METHOD,
  type EnclaveStatus,
  type SecretRequestAnswer,
  type SecretRequestLocator,
  enclaveStatusSchema,
  secretRequestAnswerSchema,
} from "../../protocol/enclave-host.js";
import type { JsonRpcErrorObject } from "../../protocol/jsonrpc.js";

/** The enclave host at `url` did not answer (connection refused, timeout, not HTTP 200 JSON). */
export class EnclaveHostUnreachableError extends Error {
  constructor(
    readonly url: string,
    problem: string,
    options?: ErrorOptions,
  ) {
    super(`the enclave host at ${url} does not answer: ${problem}`, options);
    this.name = "EnclaveHostUnreachableError";
  }
}

/** The enclave host at `url` answered `method` with a JSON-RPC error, or with a malformed result. */
export class EnclaveHostError extends Error {
  constructor(
    readonly url: string,
    readonly method: string,
    readonly code: number | undefined,
    problem: string,
  ) {
    super(`the enclave host at ${url} answered ${method} with ${problem}`);
    this.name = "EnclaveHostError";
  }
}

export interface EnclaveHostClientOptions {
  /** How long one call may take, ms (default 30 000: an answer reads L1 and calls the verifier). */
  timeoutMs?: number;
}

export class EnclaveHostClient {
  readonly url: string;
  readonly #timeoutMs: number;
  #nextId = 1;

  constructor(url: string, options: EnclaveHostClientOptions = {}) {
    this.url = url;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** The enclave's address, measurement and secret commitment. */
  status(): Promise<EnclaveStatus> {
    return this.#call(ENCLAVE_STATUS_METHOD, [], enclaveStatusSchema);
  }

  /** The enclave's answer to the request `locator` names (answered, closed or refused). */
  answerSecretRequest(locator: SecretRequestLocator): Promise<SecretRequestAnswer> {
    return this.#call(ANSWER_SECRET_REQUEST_METHOD, [locator], secretRequestAnswerSchema);
  }

  async #call<S extends z.ZodTypeAny>(method: string, params: unknown[], schema: S): Promise<z.infer<S>> {
    const id = this.#nextId++;
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id, method, params }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      const problem =
        err.name === "TimeoutError"
          ? `no answer to ${method} within ${this.#timeoutMs} ms`
          : (err.cause?.code ?? err.cause?.message ?? err.message);
      throw new EnclaveHostUnreachableError(this.url, problem, { cause: e });
    }
    let body: { result?: unknown; error?: JsonRpcErrorObject };
    try {
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
      body = (await response.json()) as typeof body;
    } catch (e) {
      throw new EnclaveHostUnreachableError(this.url, `no JSON-RPC answer to ${method} (${(e as Error).message})`, {
        cause: e,
      });
    }
    if (body.error !== undefined) {
      throw new EnclaveHostError(this.url, method, body.error.code, `error ${body.error.code}: ${body.error.message}`);
    }
    const parsed = schema.safeParse(body.result);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(result)"}: ${i.message}`);
      throw new EnclaveHostError(this.url, method, undefined, `a malformed result (${issues.join("; ")})`);
    }
    return parsed.data as z.infer<S>;
  }
}
