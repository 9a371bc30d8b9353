/**
 * `veilnet signer` as operators run it (bin/veilnet.mjs): its help lists every setting, a bad setting
 * stops it with one line naming it (exit 2), a keystore readable by others is refused, and a signer
 * that starts answers /upcheck, signs through the client, serves /healthz and /metrics, and stops on
 * SIGTERM (exit 0); `veilnet slashing-protection export|import` is refused while it runs (the lock) and
 * moves the record to another data directory once it stopped.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { RemoteShareSigner, SignerRefusedError } from "../../platform/signer/index.js";
import { freePort } from "../../testing/l1-node.js";
import { TEST_DOMAIN, TEST_REGISTRY, headerAt, testShares, writeTestKeystore } from "../../testing/signer.js";
import { type VeilnetProcess, getHealth, opsPort, spawnVeilnet } from "../../testing/worker-process.js";

const TOKEN = "process-test-shared-secret-0123456789";

describe("veilnet signer: the process", function () {
  this.timeout(120_000);
  let dir: string;
  let keystore: string;
  const running: VeilnetProcess[] = [];
  const run = (env: Record<string, string>, args: string[] = ["signer"]) => {
    const p = spawnVeilnet(args, {
      SIGNER_AUTH_TOKEN: TOKEN,
      SIGNER_KEYSTORE: keystore,
      SIGNER_DATA_DIR: path.join(dir, "data"),
      SIGNER_CHAIN_ID: TEST_REGISTRY.chainId.toString(),
      SIGNER_ROLLUP_REGISTRY: TEST_REGISTRY.address,
      METRICS_PORT: "0",
      ...env,
    });
    running.push(p);
    return p;
  };

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "veilnet-signer-process-"));
    keystore = writeTestKeystore(dir, 1);
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed") for (const p of running) console.log(p.describe());
  });
  after(async () => {
    await Promise.all(running.map((p) => p.kill()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("--help lists every setting it reads, and no Redis or L1", async () => {
    const help = run({}, ["signer", "--help"]);
    expect((await help.waitForExit()).code).to.equal(0);
    for (const name of [
      "SIGNER_PORT",
      "SIGNER_HOST",
      "SIGNER_AUTH_TOKEN",
      "SIGNER_KEYSTORE",
      "SIGNER_DATA_DIR",
      "SIGNER_CHAIN_ID",
      "SIGNER_ROLLUP_REGISTRY",
      "METRICS_PORT",
      "METRICS_HOST",
      "LOG_LEVEL",
    ]) {
      expect(help.stdout()).to.include(name);
    }
    expect(help.stdout()).to.not.include("REDIS_URL");
    expect(help.stdout()).to.not.include("L1_RPC_URL");
  });

  it("a bad setting stops it with one line naming it (exit 2)", async () => {
    const bad = run({ SIGNER_PORT: "70000", SIGNER_AUTH_TOKEN: "short" });
    expect((await bad.waitForExit()).code).to.equal(2);
    expect(bad.stderr().trim()).to.equal(
      "config: SIGNER_PORT: Number must be less than or equal to 65535; SIGNER_AUTH_TOKEN: must be at least 32 characters",
    );
  });

  it("refuses a keystore readable by others (exit 2, one line)", async () => {
    const open = writeTestKeystore(mkdtempSync(path.join(dir, "ks-")), 1);
    chmodSync(open, 0o644);
    const bad = run({ SIGNER_KEYSTORE: open, SIGNER_PORT: "0" });
    expect((await bad.waitForExit()).code).to.equal(2);
    expect(bad.stderr().trim()).to.match(/^config: SIGNER_KEYSTORE: keystore .* mode 644 lets others read the shares/);
    expect(bad.stderr().trim().split("\n")).to.have.length(1);
  });

  it("serves /upcheck and signatures, /healthz and /metrics, and stops on SIGTERM", async () => {
    const port = await freePort();
    const signer = run({ SIGNER_PORT: String(port) });
    await signer.waitForLog("signer: serving", 60_000);
    const url = `http://127.0.0.1:${port}`;
    const up = await fetch(`${url}/upcheck`);
    expect(up.status).to.equal(200);
    expect(await up.text()).to.equal("OK");
    const [share] = testShares(1);
    const client = new RemoteShareSigner({ url, token: TOKEN });
    expect(await client.publicKeys()).to.deep.equal([share!.publicKey]);
    await client.signRollupHeader(share!.publicKey, headerAt(1n), TEST_DOMAIN);
    const ops = await opsPort(signer);
    expect((await getHealth(ops)).status).to.equal(200);
    const metrics = await (await fetch(`http://127.0.0.1:${ops}/metrics`)).text();
    expect(metrics).to.match(/veilnet_signer_signatures_total\{kind="new"\} 1/);
    // The record is locked while the signer runs.
    const locked = run({}, ["slashing-protection", "export"]);
    expect((await locked.waitForExit()).code).to.equal(2);
    expect(locked.stderr()).to.match(/used by another process \(pid \d+\): stop it first/);
    signer.child.kill("SIGTERM");
    expect((await signer.waitForExit()).code).to.equal(0);

    // Stopped: export, and import into another record, which then refuses another header at batch 1.
    const out = path.join(dir, "record.json");
    const exported = run({}, ["slashing-protection", "export", "-o", out]);
    expect((await exported.waitForExit()).code).to.equal(0);
    const imported = run({ SIGNER_DATA_DIR: path.join(dir, "moved") }, ["slashing-protection", "import", "-f", out]);
    expect((await imported.waitForExit()).code).to.equal(0);
    expect(imported.stdout()).to.match(/imported 1 record\(s\)/);
    const moved = run({ SIGNER_PORT: String(port), SIGNER_DATA_DIR: path.join(dir, "moved") });
    await moved.waitForLog("signer: serving", 60_000);
    const refused = await client.signRollupHeader(share!.publicKey, headerAt(1n, 1n, 1), TEST_DOMAIN).catch((e) => e);
    expect(refused).to.be.instanceOf(SignerRefusedError);
    moved.child.kill("SIGTERM");
    expect((await moved.waitForExit()).code).to.equal(0);
  });
});
