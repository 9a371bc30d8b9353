/**
 * The gateway's user store on disk: users and bindings survive a reopen (a restart), a torn last line
 * is ignored, a revocation removes the viewing key from the file at once, the file is 0600, a second
 * store on the same directory is refused, and a corrupt line in the middle is an error naming it.
 */
import { appendFileSync, chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { Wallet } from "ethers";

import { UserStore, UserStoreBusyError, UserStoreError } from "../../gateway/users/store.js";
import { MAX_BINDINGS } from "../../gateway/users/user.js";
import { signViewingKey } from "../../protocol/private-rpc.js";

describe("gateway: user store", function () {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "gateway-store-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const file = () => path.join(dir, "users.jsonl");

  it("keeps users, viewing keys and bindings across a reopen, in a 0600 file", async () => {
    const store = UserStore.open(dir);
    const user = store.create();
    const alice = Wallet.createRandom();
    store.bind(user, await signViewingKey(alice, user.viewingKey.publicKey));
    store.close();
    expect(statSync(file()).mode & 0o777).to.equal(0o600);
    expect(statSync(dir).mode & 0o777).to.equal(0o700);

    const reopened = UserStore.open(dir);
    const again = reopened.get(user.token.toUpperCase())!;
    expect(again.viewingKey.exportPrivateKey()).to.equal(user.viewingKey.exportPrivateKey());
    expect([...again.bindings.keys()]).to.deep.equal([alice.address]);
    reopened.close();
  });

  it("ignores a torn last line (a crash mid-write) and keeps appending after it", async () => {
    const store = UserStore.open(dir);
    const user = store.create();
    store.close();
    appendFileSync(file(), '{"t":"bind","token":"' + user.token + '","acc');
    const reopened = UserStore.open(dir);
    expect(reopened.get(user.token)?.bindings.size).to.equal(0);
    const second = reopened.create();
    reopened.close();
    const third = UserStore.open(dir);
    expect(third.size).to.equal(2);
    expect(third.get(second.token)).to.not.equal(undefined);
    third.close();
  });

  it("a corrupt line before the last is an error naming it", () => {
    writeFileSync(file(), 'garbage\n{"t":"user","token":"' + "a".repeat(40) + '","key":"0x' + "11".repeat(32) + '"}\n');
    expect(() => UserStore.open(dir)).to.throw(UserStoreError, /users\.jsonl: line 1 is not a valid entry/);
    // The failed open released the directory.
    writeFileSync(file(), "");
    UserStore.open(dir).close();
  });

  it("revoking rewrites the file without the user's viewing key", () => {
    const store = UserStore.open(dir);
    const kept = store.create();
    const gone = store.create();
    expect(readFileSync(file(), "utf8")).to.include(gone.viewingKey.exportPrivateKey());
    expect(store.revoke(gone)).to.equal(true);
    expect(store.revoke(gone)).to.equal(false);
    const text = readFileSync(file(), "utf8");
    expect(text).to.not.include(gone.viewingKey.exportPrivateKey());
    expect(text).to.not.include(gone.token);
    expect(text).to.include(kept.viewingKey.exportPrivateKey());
    store.close();
  });

  it("makes a file others could read 0600 again", () => {
    UserStore.open(dir).close();
    chmodSync(file(), 0o644);
    UserStore.open(dir).close();
    expect(statSync(file()).mode & 0o777).to.equal(0o600);
  });

  it("refuses a second store on the same directory", () => {
    const store = UserStore.open(dir);
    try {
      expect(() => UserStore.open(dir)).to.throw(UserStoreBusyError, /another gateway \(pid \d+\) uses/);
    } finally {
      store.close();
    }
    UserStore.open(dir).close();
  });

  it("caps the bindings of a user at what one enclave request carries", async () => {
    const store = UserStore.open(dir);
    const user = store.create();
    for (let i = 0; i < MAX_BINDINGS; i++) {
      store.bind(user, { account: Wallet.createRandom().address, signature: "0x" + "11".repeat(65) });
    }
    expect(() => store.bind(user, { account: Wallet.createRandom().address, signature: "0x00" })).to.throw(
      /at most 64 accounts/,
    );
    store.close();
  });
});
