/**
 * The gateway's user API (`/v1/…`), answered as JSON:
 *
 *   GET  /v1/join                               → { token }: a new user and their viewing key
 *   GET  /v1/typed-data?token=…&address=0x…     → the EIP-712 payload to sign with eth_signTypedData_v4
 *   POST /v1/authenticate?token=…  { address, signature }   → binds the account to the user's viewing key
 *   GET  /v1/query?token=…&address=0x…          → { status }: whether the account is bound
 *   GET  /v1/accounts?token=…                   → { accounts }: the bound accounts
 *   POST /v1/revoke?token=…                     → deletes the user and their viewing key
 *
 * Errors are 4xx with `{ "error": "<what is wrong>" }`.
 */
import { getAddress, isAddress, isHexString } from "ethers";

import { verifyViewingKeyBinding } from "../../protocol/private-rpc.js";
import type { Logger } from "../../platform/logger.js";
import { TooManyBindingsError, type UserStore } from "../users/store.js";
import { viewingKeyTypedData } from "../users/typed-data.js";
import { type User, boundAccounts, isBound, normalizeToken } from "../users/user.js";

export interface ApiAnswer {
  status: number;
  body: unknown;
}

export interface UserApiDeps {
  store: UserStore;
  /** Most users kept; joining beyond is refused. */
  maxUsers: number;
  /** After a user joined, was bound an account, or was revoked (metrics, sessions, caches). */
  onJoin?: (user: User) => void;
  onRevoke?: (user: User) => void;
  logger: Logger;
}

const ok = (body: unknown): ApiAnswer => ({ status: 200, body });
const fail = (status: number, error: string): ApiAnswer => ({ status, body: { error } });

export class UserApi {
  constructor(private readonly deps: UserApiDeps) {}

  /** The user of the `token` query parameter, or the 4xx answer saying what is wrong with it. */
  #user(query: URLSearchParams): User | ApiAnswer {
    const raw = query.get("token");
    if (raw === null || raw === "") return fail(400, "token: missing (GET /v1/join for one)");
    const token = normalizeToken(raw);
    if (token === undefined) return fail(400, "token: expected the 40 hex digits /v1/join gave");
    const user = this.deps.store.get(token);
    if (user === undefined)
      return fail(404, "token: no such user (revoked, or never joined): GET /v1/join for a new one");
    return user;
  }

  #address(value: unknown, name = "address"): string | ApiAnswer {
    if (value === undefined || value === null || value === "") return fail(400, `${name}: missing`);
    if (typeof value !== "string" || !isHexString(value, 20) || !isAddress(value)) {
      return fail(400, `${name}: ${JSON.stringify(value)} is not an account address (0x + 40 hex digits)`);
    }
    return getAddress(value);
  }

  join(): ApiAnswer {
    if (this.deps.store.size >= this.deps.maxUsers) {
      return fail(503, "the gateway has as many users as it keeps (GATEWAY_MAX_USERS): try another gateway");
    }
    const user = this.deps.store.create();
    this.deps.onJoin?.(user);
    this.deps.logger.debug("user joined");
    return ok({ token: user.token });
  }

  typedData(query: URLSearchParams): ApiAnswer {
    const user = this.#user(query);
    if (!isUser(user)) return user;
    const address = this.#address(query.get("address"));
    if (typeof address !== "string") return address;
    return ok(viewingKeyTypedData(address, user.viewingKey.publicKey));
  }

  authenticate(query: URLSearchParams, body: unknown): ApiAnswer {
    const user = this.#user(query);
    if (!isUser(user)) return user;
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      return fail(400, 'body: expected JSON { "address": "0x…", "signature": "0x…" }');
    }
    const { address: rawAddress, signature } = body as { address?: unknown; signature?: unknown };
    const address = this.#address(rawAddress);
    if (typeof address !== "string") return address;
    if (typeof signature !== "string" || !isHexString(signature, 65)) {
      return fail(400, "signature: expected the 65-byte signature of eth_signTypedData_v4, as 0x hex");
    }
    const binding = { account: address, signature };
    if (!verifyViewingKeyBinding(binding, user.viewingKey.publicKey)) {
      return fail(
        400,
        `signature: not ${address}'s signature of this user's viewing key: sign the payload of ` +
          `GET /v1/typed-data?token=…&address=${address} with that account (eth_signTypedData_v4)`,
      );
    }
    try {
      this.deps.store.bind(user, binding);
    } catch (e) {
      if (e instanceof TooManyBindingsError) return fail(409, e.message);
      throw e;
    }
    return ok({ account: address, accounts: boundAccounts(user) });
  }

  query(query: URLSearchParams): ApiAnswer {
    const user = this.#user(query);
    if (!isUser(user)) return user;
    const address = this.#address(query.get("address"));
    if (typeof address !== "string") return address;
    return ok({ status: isBound(user, address) });
  }

  accounts(query: URLSearchParams): ApiAnswer {
    const user = this.#user(query);
    if (!isUser(user)) return user;
    return ok({ accounts: boundAccounts(user) });
  }

  revoke(query: URLSearchParams): ApiAnswer {
    const user = this.#user(query);
    if (!isUser(user)) return user;
    this.deps.store.revoke(user);
    this.deps.onRevoke?.(user);
    return ok({ revoked: true });
  }
}

function isUser(value: User | ApiAnswer): value is User {
  return "token" in value;
}
