/**
 * The gateway's users, durable across restarts: `users.jsonl` in the data directory, one JSON line per
 * change (a user joins with their viewing private key; an account is bound with its signature). Each
 * line is written and fsync'd before the gateway answers, so an answered join or bind survives a crash.
 * At open the file is read (a torn last line — a crash mid-write — is ignored) and rewritten compacted;
 * a revocation rewrites it at once without the user, so their viewing key is gone from the disk when
 * `POST /v1/revoke` answers.
 *
 * The file holds viewing private keys: the directory is created 0700 and the file 0600 (an existing
 * file readable by others is made 0600, with a warning). A pid file (`gateway.lock`) keeps a second
 * gateway process from using the same directory.
 */
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from "node:fs";
import path from "node:path";

import { getAddress, isAddress, isHexString } from "ethers";
import { z } from "zod";

import { type AccountBinding, ChannelKey } from "../../protocol/private-rpc.js";
import type { Logger } from "../../platform/logger.js";
import { acquirePidLock, fsyncDir } from "../../platform/pid-lock.js";
import { MAX_BINDINGS, type User, newToken, normalizeToken } from "./user.js";

/** The store's file is unreadable or malformed (not at its last line). */
export class UserStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserStoreError";
  }
}

/** Another live gateway process uses the data directory. */
export class UserStoreBusyError extends Error {
  constructor(dir: string, pid: number) {
    super(`another gateway (pid ${pid}) uses ${dir}: stop it, or give this one another GATEWAY_DATA_DIR`);
    this.name = "UserStoreBusyError";
  }
}

/** The user has as many bound accounts as one request to the enclave can carry. */
export class TooManyBindingsError extends Error {
  constructor() {
    super(`a user can bind at most ${MAX_BINDINGS} accounts`);
    this.name = "TooManyBindingsError";
  }
}

const USERS_FILE = "users.jsonl";
const LOCK_FILE = "gateway.lock";

const lineSchema = z.discriminatedUnion("t", [
  z.object({
    t: z.literal("user"),
    token: z.string().refine((s) => normalizeToken(s) === s, "not a token"),
    key: z.string().refine((s) => isHexString(s, 32), "not a private key"),
  }),
  z.object({
    t: z.literal("bind"),
    token: z.string().refine((s) => normalizeToken(s) === s, "not a token"),
    account: z.string().refine((s) => isAddress(s), "not an address"),
    signature: z.string().refine((s) => isHexString(s), "not hex"),
  }),
]);
type Line =
  { t: "user"; token: string; key: string } | { t: "bind"; token: string; account: string; signature: string };

interface MutableUser extends User {
  readonly bindings: Map<string, AccountBinding>;
}

export class UserStore {
  readonly #dir: string;
  readonly #file: string;
  readonly #users = new Map<string, MutableUser>();
  #fd: number | undefined;
  #release: () => void = () => {};

  private constructor(dir: string) {
    this.#dir = dir;
    this.#file = path.join(dir, USERS_FILE);
  }

  /** Opens (or creates) the store in `dir`; throws UserStoreBusyError or UserStoreError. */
  static open(dir: string, logger?: Logger): UserStore {
    const resolved = path.resolve(dir);
    mkdirSync(resolved, { recursive: true, mode: 0o700 });
    const release = acquirePidLock(path.join(resolved, LOCK_FILE), (h) => new UserStoreBusyError(resolved, h.pid));
    const store = new UserStore(resolved);
    store.#release = release;
    try {
      store.#load(logger);
    } catch (e) {
      store.close();
      throw e;
    }
    return store;
  }

  /** How many users there are. */
  get size(): number {
    return this.#users.size;
  }

  /** The user of `token` (any accepted spelling), or undefined. */
  get(token: string | null | undefined): User | undefined {
    const t = normalizeToken(token);
    return t === undefined ? undefined : this.#users.get(t);
  }

  /** A new user with a fresh token and viewing key, stored durably. */
  create(): User {
    let token = newToken();
    while (this.#users.has(token)) token = newToken();
    const user: MutableUser = { token, viewingKey: ChannelKey.generate(), bindings: new Map() };
    this.#append({ t: "user", token, key: user.viewingKey.exportPrivateKey() });
    this.#users.set(token, user);
    return user;
  }

  /**
   * Stores `binding` (already verified by the caller) for the user; a second binding of the same account
   * replaces the first. Throws TooManyBindingsError past MAX_BINDINGS accounts.
   */
  bind(user: User, binding: AccountBinding): void {
    const own = this.#users.get(user.token);
    if (own === undefined) throw new UserStoreError(`no user ${user.token}`);
    const account = getAddress(binding.account);
    const existing = own.bindings.get(account);
    if (existing?.signature === binding.signature) return;
    if (existing === undefined && own.bindings.size >= MAX_BINDINGS) throw new TooManyBindingsError();
    this.#append({ t: "bind", token: own.token, account, signature: binding.signature });
    own.bindings.set(account, { account, signature: binding.signature });
  }

  /** Deletes the user and their viewing key (the file is rewritten without them); false if unknown. */
  revoke(user: User): boolean {
    if (!this.#users.delete(user.token)) return false;
    this.#rewrite();
    return true;
  }

  /** Releases the file and the directory lock. */
  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    this.#release();
  }

  #load(logger?: Logger): void {
    if (existsSync(this.#file)) {
      const mode = statSync(this.#file).mode & 0o777;
      if ((mode & 0o077) !== 0) {
        logger?.warn(
          { file: this.#file, mode: mode.toString(8) },
          "users: the store holds viewing private keys but others could read it: made it 0600",
        );
        chmodSync(this.#file, 0o600);
      }
      const lines = readFileSync(this.#file, "utf8").split("\n");
      const last = lines.findLastIndex((l) => l.trim() !== "");
      for (const [i, text] of lines.entries()) {
        if (text.trim() === "") continue;
        let line: Line;
        try {
          line = lineSchema.parse(JSON.parse(text));
        } catch (e) {
          if (i === last) {
            logger?.warn({ file: this.#file, line: i + 1 }, "users: ignoring a torn last line (a crash mid-write)");
            break;
          }
          throw new UserStoreError(`${this.#file}: line ${i + 1} is not a valid entry: ${(e as Error).message}`);
        }
        this.#apply(line, i + 1);
      }
    }
    this.#rewrite();
  }

  #apply(line: Line, lineNo: number): void {
    if (line.t === "user") {
      this.#users.set(line.token, {
        token: line.token,
        viewingKey: ChannelKey.fromPrivateKey(line.key),
        bindings: new Map(),
      });
      return;
    }
    const user = this.#users.get(line.token);
    if (user === undefined)
      throw new UserStoreError(`${this.#file}: line ${lineNo} binds an account of an unknown user`);
    const account = getAddress(line.account);
    user.bindings.set(account, { account, signature: line.signature });
  }

  #lines(): string[] {
    const out: string[] = [];
    for (const user of this.#users.values()) {
      out.push(JSON.stringify({ t: "user", token: user.token, key: user.viewingKey.exportPrivateKey() }));
      for (const b of user.bindings.values()) {
        out.push(JSON.stringify({ t: "bind", token: user.token, account: b.account, signature: b.signature }));
      }
    }
    return out;
  }

  #append(line: Line): void {
    if (this.#fd === undefined) throw new UserStoreError("the user store is closed");
    writeSync(this.#fd, `${JSON.stringify(line)}\n`);
    fsyncSync(this.#fd);
  }

  /** Replaces the file with the current users, atomically (temporary file, fsync, rename, fsync of the directory). */
  #rewrite(): void {
    const lines = this.#lines();
    const tmp = `${this.#file}.tmp`;
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeSync(fd, lines.length === 0 ? "" : `${lines.join("\n")}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    renameSync(tmp, this.#file);
    fsyncDir(this.#dir);
    this.#fd = openSync(this.#file, "a", 0o600);
  }
}
