/**
 * devnet/settings.ts, accounts.ts and workspace.ts: `npm run devnet`'s flags and environment, the dev
 * accounts and their roles, and the one-devnet-per-directory lock.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { AccountRole, devAccounts, roleAccount } from "../../devnet/accounts.js";
import { DevnetSettingError, parseDevnetSettings } from "../../devnet/settings.js";
import { DevnetBusyError, lockDevnetDir } from "../../devnet/workspace.js";
import { at } from "../../testing/defined.js";

describe("devnet: settings, accounts and directory lock", () => {
  it("reads the environment and the flags", () => {
    const s = parseDevnetSettings(["--validator", "--verbose"], {
      L2_RPC_PORT: "9645",
      REDIS_URL: "redis://127.0.0.1:6390",
      DEVNET_DIR: "/tmp/x",
      L1_PORT: "9545",
    });
    expect(s).to.deep.equal({
      help: false,
      verbose: true,
      options: {
        l1RpcUrl: undefined,
        l1Port: 9545,
        l2RpcPort: 9645,
        redisUrl: "redis://127.0.0.1:6390",
        validator: true,
        dir: "/tmp/x",
      },
    });
    expect(parseDevnetSettings([], { DEVNET_VALIDATOR: "1" }).options.validator).to.equal(true);
    expect(parseDevnetSettings([], { DEVNET_VALIDATOR: "0" }).options.validator).to.equal(false);
    expect(parseDevnetSettings(["-h"], {}).help).to.equal(true);
    expect(parseDevnetSettings([], { L1_RPC_URL: "http://10.0.0.1:8545" }).options.l1RpcUrl).to.equal(
      "http://10.0.0.1:8545",
    );
  });

  it("--threshold-key (or DEVNET_THRESHOLD_KEY=1) takes a committee, and says so without one", () => {
    expect(parseDevnetSettings(["--committee", "4", "--threshold-key"], {}).options).to.include({
      committee: 4,
      thresholdKey: true,
    });
    expect(parseDevnetSettings([], { DEVNET_COMMITTEE: "7", DEVNET_THRESHOLD_KEY: "1" }).options.thresholdKey).to.equal(
      true,
    );
    expect(parseDevnetSettings(["--committee", "4"], {}).options.thresholdKey).to.equal(undefined);
    expect(() => parseDevnetSettings(["--threshold-key"], {})).to.throw(DevnetSettingError, /needs --committee/);
    expect(() => parseDevnetSettings([], { DEVNET_THRESHOLD_KEY: "maybe" })).to.throw(
      DevnetSettingError,
      /DEVNET_THRESHOLD_KEY must be 1 or 0/,
    );
  });

  it("names the bad setting", () => {
    const bad: Array<[string[], NodeJS.ProcessEnv, string]> = [
      [[], { L1_PORT: "80x" }, 'L1_PORT must be a TCP port (1-65535), got "80x"'],
      [[], { L2_RPC_PORT: "70000" }, 'L2_RPC_PORT must be a TCP port (1-65535), got "70000"'],
      [[], { REDIS_URL: "http://x" }, "REDIS_URL must start with redis:// or rediss://"],
      [[], { L1_RPC_URL: "not a url" }, 'L1_RPC_URL must be a URL, got "not a url"'],
      [[], { DEVNET_VALIDATOR: "maybe" }, 'DEVNET_VALIDATOR must be 1 or 0, got "maybe"'],
      [[], { L1_RPC_URL: "http://127.0.0.1:8545", L1_PORT: "8546" }, "not both"],
      [["--fast"], {}, 'unknown option "--fast"'],
    ];
    for (const [argv, env, message] of bad) {
      expect(() => parseDevnetSettings(argv, env), message)
        .to.throw(DevnetSettingError)
        .with.property("message")
        .that.includes(message);
    }
  });

  it("dev accounts are Hardhat's test accounts with a role each", () => {
    const accounts = devAccounts();
    expect(accounts).to.have.length(5);
    expect(at(accounts, AccountRole.admin, "the admin account").address).to.equal(
      "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    );
    expect(at(accounts, AccountRole.sequencer, "the sequencer account").address).to.equal(
      "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    );
    expect(at(accounts, AccountRole.workers, "the workers account").address).to.equal(
      "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    );
    expect(at(accounts, AccountRole.validator, "the validator account").address).to.equal(
      "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    );
    expect(at(accounts, AccountRole.admin, "the admin account").privateKey).to.equal(
      "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    );
    expect(accounts.map((a) => a.role)).to.satisfy((roles: string[]) => roles.every((r) => r.length > 0));
    expect(devAccounts(7)).to.have.length(7);
  });

  it("roleAccount: the account of a role, or an error naming the role when the list is too short", () => {
    const accounts = devAccounts();
    expect(roleAccount(accounts, "user")).to.equal(at(accounts, AccountRole.user, "the user account"));
    expect(roleAccount(accounts, "workers").address).to.equal("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC");
    expect(() => roleAccount(accounts.slice(0, 2), "validator")).to.throw(
      "no dev account #3 for the validator role: only 2 accounts",
    );
  });

  it("one devnet per directory: a live devnet's pid file refuses a second; a stale one is taken over", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "devnet-lock-test-"));
    const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    try {
      writeFileSync(path.join(dir, "devnet.pid"), `${other.pid}\n`);
      expect(() => lockDevnetDir(dir))
        .to.throw(DevnetBusyError)
        .with.property("message")
        .that.includes(`another devnet (pid ${other.pid}) uses ${dir}`);

      const exited = new Promise((r) => other.once("exit", r));
      other.kill("SIGKILL");
      await exited;
      const release = lockDevnetDir(dir); // stale: taken over
      expect(existsSync(path.join(dir, "devnet.pid"))).to.equal(true);
      release();
      expect(existsSync(path.join(dir, "devnet.pid"))).to.equal(false);
    } finally {
      if (other.exitCode === null && other.signalCode === null) other.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
