/**
 * The gateway's side of the gateway ⇄ enclave interface (protocol/private-rpc.ts):
 *
 * - the enclave's RPC key, fetched with `veil_rpcKey`, accepted only when its announcement is signed by
 *   an enclave that `EnclaveRegistry.isAttested` on L1 (checked again every so often, and whenever the key
 *   changes);
 * - `veil_private` calls: the user's request (with their account bindings) sealed to the RPC key with the
 *   user's viewing key, the answer opened with the same channel keys (cached per viewing key);
 * - plain calls of the enclave's public methods (block numbers and redacted blocks, for subscriptions).
 *
 * When the enclave says an envelope does not decrypt (its RPC key changed: another network secret, or
 * another node behind the URL), the key is fetched and verified again and the call retried once.
 */
import { toQuantity } from "ethers";

import { L2_CHAIN_ID } from "../../protocol/predeploys.js";
import {
  ChannelKeys,
  PRIVATE_RPC_METHOD,
  type PrivateRequest,
  type PrivateResponse,
  PrivateRpcError,
  RPC_KEY_METHOD,
  type RpcKeyAnnouncement,
  announcementSigner,
  parsePrivateResponse,
} from "../../protocol/private-rpc.js";
import type { Logger } from "../../platform/logger.js";
import { redactUrl as redactWithSlash } from "../../platform/redis.js";
import type { User } from "../users/user.js";
import { HttpTransport, type TransportAnswer, TransportError } from "./transport.js";

/** What the gateway needs of the L1 EnclaveRegistry. */
export interface AttestationRegistry {
  isAttested(enclave: string): Promise<boolean>;
}

/** The enclave did not answer (connection refused, timeout, HTTP error). */
export class EnclaveUnavailableError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`the enclave at ${redactUrl(url)} does not answer (${reason})`);
    this.name = "EnclaveUnavailableError";
  }
}

/** The enclave answered a plain JSON-RPC error. */
export class EnclaveRpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = "EnclaveRpcError";
  }
}

/** The RPC key is not announced by an attested enclave: the gateway must not send it anything. */
export class EnclaveNotAttestedError extends Error {
  constructor(
    readonly signer: string,
    readonly url: string,
    registry: string | undefined,
  ) {
    super(
      `the RPC key of the enclave at ${redactUrl(url)} is signed by enclave ${signer}, which is not attested on L1` +
        `${registry === undefined ? "" : ` (EnclaveRegistry ${registry})`}: refusing to serve`,
    );
    this.name = "EnclaveNotAttestedError";
  }
}

/** The enclave answered something that does not follow the protocol (bad announcement, bad envelope). */
export class EnclaveProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EnclaveProtocolError";
  }
}

/** The enclave's RPC key, checked. */
export interface VerifiedRpcKey {
  publicKey: string;
  /** The attested enclave that signed it. */
  signer: string;
}

/** Where the client stands with the enclave's key. */
export type EnclaveKeyState =
  | { state: "waiting"; reason?: string }
  | { state: "ready"; key: VerifiedRpcKey }
  | { state: "refused"; reason: string; signer: string };

export interface EnclaveClientOptions {
  /** The enclave node's L2 JSON-RPC URL. */
  url: string;
  registry: AttestationRegistry;
  /** The registry's address, named in refusals. */
  registryAddress?: string;
  /** Longest wait for one answer, ms. */
  timeoutMs: number;
  logger: Logger;
}

/** Most channel keys kept (one per active viewing key; a user's next request recomputes an evicted one). */
const CHANNEL_CACHE = 10_000;

let requestIds = 0;

export class EnclaveClient {
  readonly url: string;
  readonly #options: EnclaveClientOptions;
  #state: EnclaveKeyState = { state: "waiting" };
  #channels = new Map<string, ChannelKeys>();
  #refreshing: Promise<VerifiedRpcKey> | undefined;
  readonly #transport: HttpTransport;

  constructor(options: EnclaveClientOptions) {
    this.url = options.url;
    this.#options = options;
    this.#transport = new HttpTransport(options.url, options.timeoutMs);
  }

  /** Closes the connections to the enclave. */
  close(): void {
    this.#transport.close();
  }

  get keyState(): EnclaveKeyState {
    return this.#state;
  }

  /** A plain JSON-RPC call (the enclave's public methods). */
  async call(method: string, params: unknown[] = []): Promise<unknown> {
    let response: TransportAnswer;
    try {
      response = await this.#transport.post(JSON.stringify({ jsonrpc: "2.0", id: ++requestIds, method, params }));
    } catch (e) {
      throw new EnclaveUnavailableError(this.url, e instanceof TransportError ? e.reason : (e as Error).message);
    }
    if (response.status !== 200) throw new EnclaveUnavailableError(this.url, `HTTP ${response.status}`);
    let body: { result?: unknown; error?: { code?: unknown; message?: unknown; data?: unknown } };
    try {
      body = JSON.parse(response.body) as typeof body;
    } catch (e) {
      throw new EnclaveUnavailableError(this.url, `the answer is not JSON: ${(e as Error).message}`);
    }
    if (body.error !== undefined && body.error !== null) {
      const code = typeof body.error.code === "number" ? body.error.code : -32603;
      const message = typeof body.error.message === "string" ? body.error.message : JSON.stringify(body.error);
      throw new EnclaveRpcError(code, message, body.error.data);
    }
    if (!("result" in body)) throw new EnclaveProtocolError(`${method}: the enclave's answer has no result`);
    return body.result;
  }

  /**
   * Fetches the RPC key, checks the announcement's signature, the enclave's chain id and the signer's
   * attestation on L1. Throws EnclaveUnavailableError, EnclaveProtocolError or EnclaveNotAttestedError
   * (and then refuses every private call until a later check passes).
   */
  async fetchKey(): Promise<VerifiedRpcKey> {
    this.#refreshing ??= this.#fetchKey().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  async #fetchKey(): Promise<VerifiedRpcKey> {
    const chainId = await this.call("eth_chainId");
    if (typeof chainId !== "string" || chainId.toLowerCase() !== toQuantity(L2_CHAIN_ID)) {
      throw new EnclaveProtocolError(
        `the node at ${redactUrl(this.url)} serves chain ${String(chainId)}, not Veilnet's L2 (${L2_CHAIN_ID})`,
      );
    }
    const announcement = (await this.call(RPC_KEY_METHOD)) as RpcKeyAnnouncement | null;
    if (
      announcement === null ||
      typeof announcement !== "object" ||
      typeof announcement.publicKey !== "string" ||
      typeof announcement.signer !== "string" ||
      typeof announcement.signature !== "string"
    ) {
      throw new EnclaveProtocolError(`${RPC_KEY_METHOD}: the answer is not an RPC key announcement`);
    }
    let signer: string;
    try {
      signer = announcementSigner(announcement);
    } catch (e) {
      throw new EnclaveProtocolError(`${RPC_KEY_METHOD}: ${(e as Error).message}`);
    }
    const attested = await this.#isAttested(signer);
    if (!attested) {
      const error = new EnclaveNotAttestedError(signer, this.url, this.#options.registryAddress);
      this.#state = { state: "refused", reason: error.message, signer };
      this.#channels.clear();
      throw error;
    }
    const key: VerifiedRpcKey = { publicKey: announcement.publicKey.toLowerCase(), signer };
    const previous = this.#state.state === "ready" ? this.#state.key : undefined;
    if (previous?.publicKey !== key.publicKey) this.#channels.clear();
    this.#state = { state: "ready", key };
    if (previous === undefined || previous.publicKey !== key.publicKey || previous.signer !== signer) {
      this.#options.logger.info(
        { enclave: redactUrl(this.url), rpcKey: key.publicKey, signer },
        previous === undefined ? "enclave: RPC key verified (signer attested on L1)" : "enclave: RPC key changed",
      );
    }
    return key;
  }

  async #isAttested(signer: string): Promise<boolean> {
    try {
      return await this.#options.registry.isAttested(signer);
    } catch (e) {
      throw new EnclaveUnavailableError(
        this.url,
        `cannot ask L1 whether ${signer} is attested: ${(e as Error).message}`,
      );
    }
  }

  /**
   * Fetches and verifies the key, retrying every `retryMs` while the enclave (or the L1) does not answer,
   * with a log line per failure. Rejects with EnclaveNotAttestedError or EnclaveProtocolError (no retry:
   * the enclave answered, wrongly), or when `signal` aborts.
   */
  async waitForKey(signal: AbortSignal, retryMs = 1000): Promise<VerifiedRpcKey> {
    let attempt = 0;
    for (;;) {
      signal.throwIfAborted();
      try {
        return await this.fetchKey();
      } catch (e) {
        if (!(e instanceof EnclaveUnavailableError)) throw e;
        attempt += 1;
        this.#state = { state: "waiting", reason: e.message };
        const delay = Math.min(retryMs * 2 ** Math.min(attempt - 1, 3), 10_000);
        this.#options.logger.warn(
          { attempt, retryInMs: delay, reason: e.reason },
          `enclave: not up yet at ${redactUrl(this.url)}; retrying`,
        );
        await abortableSleep(delay, signal);
      }
    }
  }

  /**
   * Checks again that the key's signer is attested (it may have been revoked) — or, after a refusal,
   * whether the enclave's key is now acceptable. Keeps the current state when the L1 or enclave does not answer.
   */
  async recheck(): Promise<void> {
    const state = this.#state;
    if (state.state === "ready") {
      let attested: boolean;
      try {
        attested = await this.#isAttested(state.key.signer);
      } catch (e) {
        this.#options.logger.warn({ err: e }, "enclave: attestation re-check failed; keeping the key");
        return;
      }
      if (attested) return;
      const error = new EnclaveNotAttestedError(state.key.signer, this.url, this.#options.registryAddress);
      if (this.#state === state) {
        this.#state = { state: "refused", reason: error.message, signer: state.key.signer };
        this.#channels.clear();
      }
      this.#options.logger.error({ signer: state.key.signer }, error.message);
      return;
    }
    try {
      await this.fetchKey();
    } catch (e) {
      if (!(e instanceof EnclaveNotAttestedError)) {
        this.#options.logger.warn({ err: e }, "enclave: RPC key check failed");
      }
    }
  }

  /** The verified key, or the error explaining why there is none. */
  #requireKey(): VerifiedRpcKey {
    const state = this.#state;
    if (state.state === "ready") return state.key;
    if (state.state === "refused")
      throw new EnclaveNotAttestedError(state.signer, this.url, this.#options.registryAddress);
    throw new EnclaveUnavailableError(
      this.url,
      `the gateway has not verified the enclave's RPC key yet${state.reason === undefined ? "" : `: ${state.reason}`}`,
    );
  }

  #channel(user: User, key: VerifiedRpcKey): ChannelKeys {
    let keys = this.#channels.get(user.viewingKey.publicKey);
    if (keys === undefined) {
      keys = ChannelKeys.forViewer(user.viewingKey, key.publicKey);
      if (this.#channels.size >= CHANNEL_CACHE) {
        this.#channels.delete(this.#channels.keys().next().value as string);
      }
      this.#channels.set(user.viewingKey.publicKey, keys);
    }
    return keys;
  }

  /** Forgets the cached channel of a revoked user. */
  forget(user: User): void {
    this.#channels.delete(user.viewingKey.publicKey);
  }

  /**
   * `method(params)` on behalf of `user` (under their bindings) through `veil_private`. Resolves with the
   * enclave's PrivateResponse (a result or a JSON-RPC error for the user); throws EnclaveUnavailableError,
   * EnclaveNotAttestedError, EnclaveRpcError (a channel failure) or EnclaveProtocolError.
   */
  async private(user: User, method: string, params: unknown[]): Promise<PrivateResponse> {
    const request: PrivateRequest = { method, params, bindings: [...user.bindings.values()] };
    const key = this.#requireKey();
    try {
      return await this.#send(user, key, request);
    } catch (e) {
      if (!(e instanceof EnclaveRpcError && /does not decrypt/.test(e.message))) throw e;
      // The enclave holds another RPC key than the one we sealed to: fetch it again (verified) and retry once.
      this.#options.logger.warn(
        { reason: e.message },
        "enclave: the request does not decrypt; fetching its RPC key again",
      );
      const fresh = await this.fetchKey();
      if (fresh.publicKey === key.publicKey) throw e;
      return this.#send(user, fresh, request);
    }
  }

  async #send(user: User, key: VerifiedRpcKey, request: PrivateRequest): Promise<PrivateResponse> {
    const channel = this.#channel(user, key);
    const sealed = await this.call(PRIVATE_RPC_METHOD, [channel.seal("request", request)]);
    if (typeof sealed !== "string")
      throw new EnclaveProtocolError(`${PRIVATE_RPC_METHOD}: the answer is not an envelope`);
    try {
      return parsePrivateResponse(channel.open("response", sealed));
    } catch (e) {
      if (e instanceof PrivateRpcError) throw new EnclaveProtocolError(`${PRIVATE_RPC_METHOD}: ${e.message}`);
      throw e;
    }
  }
}

/** The URL for messages: as configured, without a password. */
function redactUrl(url: string): string {
  const shown = redactWithSlash(url);
  return shown.endsWith("/") && !url.endsWith("/") ? shown.slice(0, -1) : shown;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
