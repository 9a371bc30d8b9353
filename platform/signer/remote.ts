/**
 * The client of `veilnet signer` (the EIP-3030-shaped API of api.ts): a ShareSigner whose shares live in
 * another process. Every request carries the shared secret (`Authorization: Bearer <token>`) and a
 * timeout. Failures are typed so a node can count a missed duty and never retry a refusal with another
 * header: SignerDownError (no answer, timeout, 5xx), SignerUnauthorizedError (401/403),
 * SignerRefusedError (412: slashing protection), UnknownKeyError (404), SignerInputError (400) and
 * SignerProtocolError (an answer that is not a valid signature).
 *
 * The client computes the signing root itself and checks the returned signature against the share's
 * public key before handing it on, so a faulty or hostile signer cannot slip a wrong partial into the
 * committee's threshold signature.
 */
import type { Registry } from "prom-client";

import type { RollupHeader } from "../../protocol/rollup.js";
import { BlsError, verify } from "../bls/index.js";
import { counter } from "../metrics.js";
import { type ErrorResponse, SIGNER_PATHS, type SigningDomain, signRequestJson, signingRootOf } from "./api.js";
import {
  type RefusalReason,
  SignerDownError,
  SignerInputError,
  SignerProtocolError,
  SignerRefusedError,
  SignerUnauthorizedError,
  UnknownKeyError,
} from "./errors.js";
import type { ShareSignature, ShareSigner } from "./share-signer.js";

export interface RemoteShareSignerOptions {
  /** The signer's base URL, e.g. http://127.0.0.1:9000. */
  url: string;
  /** The shared secret (SIGNER_AUTH_TOKEN of the signer). */
  token: string;
  /** Longest wait for one answer, ms (default 5,000). */
  timeoutMs?: number;
  /** Counts each request's outcome in `veilnet_signer_client_requests_total{outcome}`. */
  metrics?: Registry;
}

/** How a request to the remote signer ended, as the client counts it. */
export type RemoteOutcome = "signed" | "down" | "unauthorized" | "refused" | "unknown-key" | "invalid" | "bad-answer";

const outcomeOf = (e: unknown): RemoteOutcome =>
  e instanceof SignerDownError
    ? "down"
    : e instanceof SignerUnauthorizedError
      ? "unauthorized"
      : e instanceof SignerRefusedError
        ? "refused"
        : e instanceof UnknownKeyError
          ? "unknown-key"
          : e instanceof SignerInputError
            ? "invalid"
            : "bad-answer";

export class RemoteShareSigner implements ShareSigner {
  readonly #base: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #count: (outcome: RemoteOutcome) => void;

  constructor(options: RemoteShareSignerOptions) {
    this.#base = options.url.replace(/\/+$/, "");
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    const requests =
      options.metrics === undefined
        ? undefined
        : counter(options.metrics, {
            name: "veilnet_signer_client_requests_total",
            help: "Requests to the remote share signer, by outcome (down, unauthorized: the duty is missed)",
            labelNames: ["outcome"] as const,
          });
    this.#count = (outcome) => requests?.inc({ outcome });
  }

  /** Whether the signer answers `GET /upcheck` with 200 within the timeout. */
  async upcheck(): Promise<boolean> {
    try {
      const res = await this.#request("GET", SIGNER_PATHS.upcheck);
      await res.body?.cancel();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  async publicKeys(): Promise<string[]> {
    const res = await this.#request("GET", SIGNER_PATHS.publicKeys);
    const body = await this.#json(res);
    if (res.status !== 200) throw this.#failure(res.status, body, "");
    if (!Array.isArray(body) || !body.every((k) => typeof k === "string" && /^0x[0-9a-f]{192}$/i.test(k))) {
      throw new SignerProtocolError("the signer's public keys are not an array of 96-byte hex keys");
    }
    return (body as string[]).map((k) => k.toLowerCase());
  }

  async signRollupHeader(publicKey: string, header: RollupHeader, domain: SigningDomain): Promise<ShareSignature> {
    try {
      const signed = await this.#sign(publicKey, header, domain);
      this.#count("signed");
      return signed;
    } catch (e) {
      this.#count(outcomeOf(e));
      throw e;
    }
  }

  async #sign(publicKey: string, header: RollupHeader, domain: SigningDomain): Promise<ShareSignature> {
    let signingRoot: string;
    try {
      signingRoot = signingRootOf(header, domain);
    } catch (e) {
      throw new SignerInputError(`not a rollup header: ${(e as Error).message.split(" (")[0]}`);
    }
    const res = await this.#request(
      "POST",
      `${SIGNER_PATHS.sign}${publicKey.toLowerCase()}`,
      signRequestJson(header, domain, signingRoot),
    );
    const body = await this.#json(res);
    if (res.status !== 200) throw this.#failure(res.status, body, publicKey);
    const signature = (body as { signature?: unknown } | undefined)?.signature;
    if (typeof signature !== "string") throw new SignerProtocolError("the signer's answer has no signature");
    let valid: boolean;
    try {
      valid = verify(publicKey, signingRoot, signature);
    } catch (e) {
      throw new SignerProtocolError(`the signer's signature is malformed: ${e instanceof BlsError ? e.problem : e}`);
    }
    if (!valid) throw new SignerProtocolError(`the signer's signature does not verify under ${publicKey}`);
    return { signature: signature.toLowerCase(), signingRoot };
  }

  async #request(method: "GET" | "POST", path: string, body?: unknown): Promise<Response> {
    const url = `${this.#base}${path}`;
    try {
      return await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.#token}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why =
        (e as Error).name === "TimeoutError"
          ? `no answer within ${this.#timeoutMs} ms`
          : (cause?.code ?? cause?.message ?? (e as Error).message);
      throw new SignerDownError(`remote signer ${this.#base} ${method} ${path}: ${why}`);
    }
  }

  async #json(res: Response): Promise<unknown> {
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw new SignerDownError(`remote signer ${this.#base}: the answer broke off (${(e as Error).message})`);
    }
    if (res.status >= 500) throw new SignerDownError(`remote signer ${this.#base}: HTTP ${res.status}: ${text.trim()}`);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      if (res.status === 200) throw new SignerProtocolError(`remote signer ${this.#base}: the answer is not JSON`);
      return { error: text.trim() };
    }
  }

  #failure(status: number, body: unknown, publicKey: string): Error {
    const { error, reason } = (body ?? {}) as Partial<ErrorResponse>;
    const message = `remote signer ${this.#base}: HTTP ${status}: ${error ?? "no detail"}`;
    if (status === 401 || status === 403) return new SignerUnauthorizedError(message);
    if (status === 404) return new UnknownKeyError(publicKey);
    if (status === 412) {
      const why: RefusalReason = reason === "overlap" ? "overlap" : "double-sign";
      return new SignerRefusedError(why, message);
    }
    if (status === 400) return new SignerInputError(message);
    return new SignerProtocolError(message);
  }
}
