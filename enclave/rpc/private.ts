/**
 * The enclave's side of the gateway channel (protocol/private-rpc.ts):
 * - `veil_rpcKey`: the RPC public key, whose private key is derived from the network secret (the same on
 *   every enclave holding it), announced under this node's enclave key (the gateway checks on L1 that
 *   the signer is attested);
 * - `veil_private [envelope]`: opens the request with the RPC key and the envelope's viewing key,
 *   checks each account binding against that viewing key, answers through the privacy filter for the
 *   bound accounts, and seals the answer to the same viewing key.
 * A channel failure (not hex, another version, does not decrypt, malformed request) is a plain
 * JSON-RPC error -32602 saying what is wrong; everything else, refusals included, is inside the sealed
 * answer. Channel keys are cached per viewing key and verified bindings per (viewing key, account,
 * signature), both in bounded LRUs.
 */
import { hexlify } from "ethers";

import {
  type AccountBinding,
  ChannelKey,
  ChannelKeys,
  type PrivateRequest,
  type PrivateResponse,
  PrivateRpcError,
  type RpcKeyAnnouncement,
  envelopeViewingKey,
  peekViewingKey,
  parsePrivateRequest,
  verifyViewingKeyBinding,
} from "../../protocol/private-rpc.js";
import { DerivationLabels } from "../crypto/derive.js";
import { Viewer } from "../privacy/viewer.js";
import type { PrivacyFilter } from "./filter.js";
import { RpcError, RpcErrorCode, errorObject } from "./jsonrpc.js";
import { Lru } from "./lru.js";

/** What the channel needs of the enclave: the RPC key's derivation and its signed announcement. */
export interface RpcKeyHolder {
  derive(label: string): string;
  announceRpcKey(): Promise<RpcKeyAnnouncement>;
}

export interface PrivateChannelOptions {
  /** Viewing keys whose channel keys are kept (default 10,000). */
  maxViewingKeys?: number;
  /** Verified bindings kept (default 100,000). */
  maxBindings?: number;
}

export class PrivateChannel {
  readonly #rpcKey: ChannelKey;
  #announcement: Promise<RpcKeyAnnouncement> | undefined;
  readonly #channels: Lru<string, ChannelKeys>;
  readonly #verified: Lru<string, true>;
  readonly #viewers = new Lru<string, Viewer>(10_000);

  constructor(
    private readonly enclave: RpcKeyHolder,
    private readonly filter: PrivacyFilter,
    options: PrivateChannelOptions = {},
  ) {
    this.#rpcKey = ChannelKey.fromPrivateKey(enclave.derive(DerivationLabels.rpc));
    this.#channels = new Lru(options.maxViewingKeys ?? 10_000);
    this.#verified = new Lru(options.maxBindings ?? 100_000);
  }

  /** The RPC public key (compressed, hex). */
  get publicKey(): string {
    return this.#rpcKey.publicKey;
  }

  /** `veil_rpcKey`: the RPC public key signed by this node's enclave key (signed once, then kept). */
  announcement(): Promise<RpcKeyAnnouncement> {
    if (this.#announcement === undefined) {
      const signing = this.enclave.announceRpcKey();
      this.#announcement = signing;
      signing.catch(() => {
        if (this.#announcement === signing) this.#announcement = undefined;
      });
    }
    return this.#announcement;
  }

  /** `veil_private`: the sealed answer to the sealed request `params[0]`. */
  async handle(params: unknown[]): Promise<string> {
    const envelope = params[0];
    if (params.length !== 1 || typeof envelope !== "string") {
      throw new RpcError(RpcErrorCode.invalidParams, "veil_private takes one parameter: the envelope, as 0x hex");
    }
    let keys: ChannelKeys;
    let request: PrivateRequest;
    try {
      // A known viewing key is found from the envelope's first characters (open() checks everything else);
      // envelopeViewingKey would convert the whole envelope and check the curve point on every request.
      const known = peekViewingKey(envelope);
      keys =
        (known !== undefined ? this.#channels.get(known) : undefined) ?? this.channel(envelopeViewingKey(envelope));
      request = parsePrivateRequest(keys.open("request", envelope));
    } catch (e) {
      if (e instanceof PrivateRpcError) throw new RpcError(RpcErrorCode.invalidParams, e.message);
      throw e;
    }
    return keys.seal("response", await this.respond(keys.viewingKey, request));
  }

  /** The answer to an opened request from the holder of `viewingKey`. */
  async respond(viewingKey: Uint8Array, request: PrivateRequest): Promise<PrivateResponse> {
    const bad = request.bindings.find((b) => !this.verified(viewingKey, b));
    if (bad !== undefined) {
      return {
        error: {
          code: RpcErrorCode.notAuthorized,
          message: `account ${bad.account} is not bound to this viewing key (bad signature)`,
        },
      };
    }
    const viewer = this.viewer(request.bindings);
    try {
      const result = await this.filter.call(viewer, request.method, request.params);
      return { result: result === undefined ? null : result };
    } catch (e) {
      return { error: errorObject(e) };
    }
  }

  /** The viewer of verified `bindings` (the same bindings come with every request of a user: made once). */
  private viewer(bindings: readonly AccountBinding[]): Viewer {
    if (bindings.length === 0) return Viewer.anonymous;
    const key = bindings.map((b) => b.account).join(",");
    let viewer = this.#viewers.get(key);
    if (viewer === undefined) {
      viewer = new Viewer(bindings.map((b) => b.account));
      this.#viewers.set(key, viewer);
    }
    return viewer;
  }

  /** Channel keys with the viewing key `viewingKey` (compressed, hex), made once and cached. */
  private channel(viewingKey: string): ChannelKeys {
    let keys = this.#channels.get(viewingKey);
    if (keys === undefined) {
      keys = ChannelKeys.forEnclave(this.#rpcKey, viewingKey);
      this.#channels.set(viewingKey, keys);
    }
    return keys;
  }

  /** Whether `binding` is its account's signature over `viewingKey` (a success is remembered). */
  private verified(viewingKey: Uint8Array, binding: AccountBinding): boolean {
    const key = `${hexlify(viewingKey)}:${binding.account}:${binding.signature.toLowerCase()}`;
    if (this.#verified.get(key) === true) return true;
    if (!verifyViewingKeyBinding(binding, viewingKey)) return false;
    this.#verified.set(key, true);
    return true;
  }
}
