/**
 * platform/signer's share signer and keystore: a signature verifies under the share's key and the
 * header's EIP-712 digest, the same header signs to the same bytes again, a conflicting one is refused,
 * an unknown key, another registry's domain and a wrong signingRoot are refused; keystores readable by
 * others or mixed up are refused. And the crash rule: a child process records a header and is
 * SIGKILLed before it signs; restarted on its data directory, it refuses a different header at that
 * height and signs the same one.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { verify } from "../../platform/bls/index.js";
import {
  LocalShareSigner,
  SignerInputError,
  SignerRefusedError,
  SlashingProtection,
  UnknownKeyError,
  keystoreJson,
  loadKeystore,
  signingRootOf,
} from "../../platform/signer/index.js";
import { TEST_DOMAIN, TEST_REGISTRY, headerAt, testShares, writeTestKeystore } from "../../testing/signer.js";
import { root } from "../../testing/worker-process.js";

const child = path.join(root, "testing", "signer-crash-child.ts");

/** Runs the crash child; resolves with its stdout once it exits (`killAt`: SIGKILL it when it prints that). */
function runChild(args: string[], killAt?: string): Promise<{ out: string; signal: NodeJS.Signals | null }> {
  const p: ChildProcess = spawn(process.execPath, ["--import", "tsx", child, ...args], { cwd: root, stdio: "pipe" });
  let out = "";
  let err = "";
  p.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
    if (killAt !== undefined && out.includes(killAt)) p.kill("SIGKILL");
  });
  p.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      p.kill("SIGKILL");
      reject(new Error(`crash child timed out: ${out} ${err}`));
    }, 60_000);
    p.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (signal === null && code !== 0) reject(new Error(`crash child exited ${code}: ${err}`));
      else resolve({ out, signal });
    });
  });
}

describe("share signer", function () {
  this.timeout(120_000);
  let dir: string;
  const [share, other] = testShares(2) as [
    ReturnType<typeof testShares>[number],
    ReturnType<typeof testShares>[number],
  ];

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "veilnet-share-signer-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe("local", () => {
    let protection: SlashingProtection;
    let signer: LocalShareSigner;
    let n = 0;
    beforeEach(() => {
      protection = SlashingProtection.open(path.join(dir, `local-${(n += 1)}`), TEST_REGISTRY);
      signer = new LocalShareSigner({ shares: [share], protection });
    });
    afterEach(() => protection.close());

    it("signs the header's EIP-712 digest under ROLLUP_DST, and the same header again to the same bytes", async () => {
      const header = headerAt(7n, 9n);
      const signed = await signer.signRollupHeader(share.publicKey, header, TEST_DOMAIN);
      expect(signed.signingRoot).to.equal(signingRootOf(header, TEST_DOMAIN));
      expect(signed.signature).to.match(/^0x[0-9a-f]{96}$/);
      expect(verify(share.publicKey, signed.signingRoot, signed.signature)).to.equal(true);
      expect(await signer.signRollupHeader(share.publicKey, header, TEST_DOMAIN)).to.deep.equal(signed);
      expect(signer.signNow(share.publicKey, header, TEST_DOMAIN).repeat).to.equal(true);
      expect(await signer.publicKeys()).to.deep.equal([share.publicKey]);
    });

    it("refuses a conflicting header, an unknown key, another registry's domain and a wrong root", async () => {
      await signer.signRollupHeader(share.publicKey, headerAt(7n), TEST_DOMAIN);
      const refused = await signer.signRollupHeader(share.publicKey, headerAt(7n, 7n, 1), TEST_DOMAIN).catch((e) => e);
      expect(refused).to.be.instanceOf(SignerRefusedError).with.property("reason", "double-sign");
      const overlap = await signer.signRollupHeader(share.publicKey, headerAt(6n, 8n), TEST_DOMAIN).catch((e) => e);
      expect(overlap).to.be.instanceOf(SignerRefusedError).with.property("reason", "overlap");
      const unknown = await signer.signRollupHeader(other.publicKey, headerAt(8n), TEST_DOMAIN).catch((e) => e);
      expect(unknown).to.be.instanceOf(UnknownKeyError);
      const elsewhere = { ...TEST_DOMAIN, chainId: 1n };
      expect(() => signer.signNow(share.publicKey, headerAt(8n), elsewhere)).to.throw(SignerInputError, /chain 1/);
      expect(() => signer.signNow(share.publicKey, headerAt(8n), TEST_DOMAIN, `0x${"00".repeat(32)}`)).to.throw(
        SignerInputError,
        /not the header's EIP-712 digest/,
      );
      expect(() => signer.signNow(share.publicKey, { ...headerAt(8n), lastBatchSeq: 1n }, TEST_DOMAIN)).to.throw(
        SignerInputError,
        /below firstBatchSeq/,
      );
      expect(() => signer.signNow(share.publicKey, { ...headerAt(8n), messageRoot: "0x12" }, TEST_DOMAIN)).to.throw(
        SignerInputError,
        /not a rollup header/,
      );
      // None of the refused requests was recorded.
      expect(protection.signed(share.publicKey)).to.have.length(1);
    });
  });

  describe("keystore", () => {
    it("loads a 0600 keystore and refuses one readable by others, a mixed-up key or a duplicate", () => {
      const ks = writeTestKeystore(mkdtempSync(path.join(dir, "ks-")), 2);
      expect(loadKeystore(ks).map((s) => s.publicKey)).to.deep.equal([share.publicKey, other.publicKey]);
      chmodSync(ks, 0o640);
      expect(() => loadKeystore(ks)).to.throw(SignerInputError, /mode 640 .*chmod 600/);
      const json = keystoreJson([share.secretKey, other.secretKey]) as { shares: Array<{ publicKey: string }> };
      json.shares[0]!.publicKey = other.publicKey;
      writeFileSync(ks, JSON.stringify(json), { mode: 0o600 });
      chmodSync(ks, 0o600);
      expect(() => loadKeystore(ks)).to.throw(SignerInputError, /shares\.0\.publicKey is not the public key/);
      writeFileSync(ks, JSON.stringify(keystoreJson([share.secretKey, share.secretKey])));
      expect(() => loadKeystore(ks)).to.throw(SignerInputError, /shares\.1 is listed twice/);
      writeFileSync(ks, JSON.stringify({ version: 1, shares: [{ secretKey: `0x${"00".repeat(32)}` }] }));
      expect(() => loadKeystore(ks)).to.throw(SignerInputError, /shares\.0\.secretKey: is zero/);
      writeFileSync(ks, JSON.stringify({ version: 1, shares: [] }));
      expect(() => loadKeystore(ks)).to.throw(SignerInputError, /holds no share/);
    });
  });

  describe("kill -9 between the record and the signature", () => {
    it("leaves a record without a signature: after a restart, another header there is refused, the same one signed", async () => {
      const data = path.join(dir, "crash");
      const crashed = await runChild([data, "5", "0"], "recorded\n");
      expect(crashed.signal).to.equal("SIGKILL");
      expect(crashed.out).to.equal("recorded\n"); // no signature left the process

      const conflicting = await runChild([data, "5", "1", "sign"]);
      expect(conflicting.out).to.match(/^refused slashing protection: already signed another header at first batch 5/);

      const same = await runChild([data, "5", "0", "sign"]);
      const signature = /signature (0x[0-9a-f]+)/.exec(same.out)?.[1];
      expect(signature, same.out).to.not.equal(undefined);
      expect(verify(share.publicKey, signingRootOf(headerAt(5n), TEST_DOMAIN), signature!)).to.equal(true);

      const protection = SlashingProtection.open(data, TEST_REGISTRY);
      try {
        expect(protection.signed(share.publicKey)).to.have.length(1);
      } finally {
        protection.close();
      }
    });
  });
});
