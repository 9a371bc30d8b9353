/**
 * The remote signer's HTTP API (signer/server.ts) in process, and its client (RemoteShareSigner):
 * every path and error code (200, 400, 401, 404, 405, 412, 413), the shared secret, the counters on
 * /metrics' registry, two concurrent requests for two different headers at one height (exactly one
 * signature), and the client's typed failures (down, timeout, unauthorized, refused, unknown key, a
 * signer that answers a wrong signature).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import type { Registry } from "prom-client";

import { verify } from "../../platform/bls/index.js";
import { createMetricsRegistry } from "../../platform/http.js";
import { silentLogger } from "../../platform/logger.js";
import {
  LocalShareSigner,
  RemoteShareSigner,
  SIGNER_PATHS,
  SignerDownError,
  SignerInputError,
  SignerProtocolError,
  SignerRefusedError,
  SignerUnauthorizedError,
  SlashingProtection,
  UnknownKeyError,
  signRequestJson,
  signingRootOf,
} from "../../platform/signer/index.js";
import { MAX_BODY_BYTES, type SignerServer, startSignerServer } from "../../signer/server.js";
import { TEST_DOMAIN, TEST_REGISTRY, headerAt, testShares } from "../../testing/signer.js";
import { freePort } from "../../testing/l1-node.js";

const TOKEN = "a-shared-secret-of-at-least-32-characters";

describe("veilnet signer: the HTTP API", function () {
  this.timeout(60_000);
  const [share, other] = testShares(2) as [
    ReturnType<typeof testShares>[number],
    ReturnType<typeof testShares>[number],
  ];
  let dir: string;
  let protection: SlashingProtection;
  let metrics: Registry;
  let api: SignerServer;
  let n = 0;

  const call = (p: string, init: RequestInit & { token?: string | null } = {}) => {
    const { token = TOKEN, ...rest } = init;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    return fetch(`${api.url}${p}`, { ...rest, headers: { ...headers, ...(rest.headers as Record<string, string>) } });
  };
  const signPath = (pk: string) => `${SIGNER_PATHS.sign}${pk}`;
  const body = (first: bigint, variant = 0, last = first) =>
    JSON.stringify(signRequestJson(headerAt(first, last, variant), TEST_DOMAIN));
  const counters = async () =>
    (await metrics.getSingleMetricAsString("veilnet_signer_signatures_total")) +
    (await metrics.getSingleMetricAsString("veilnet_signer_refusals_total"));

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "veilnet-signer-api-"));
  });
  beforeEach(async () => {
    protection = SlashingProtection.open(path.join(dir, `r-${(n += 1)}`), TEST_REGISTRY);
    metrics = createMetricsRegistry();
    api = await startSignerServer({
      signer: new LocalShareSigner({ shares: [share], protection }),
      token: TOKEN,
      host: "127.0.0.1",
      port: 0,
      metrics,
      logger: silentLogger(),
    });
  });
  afterEach(async () => {
    await api.close();
    protection.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("GET /upcheck answers 200 OK without credentials", async () => {
    const res = await call(SIGNER_PATHS.upcheck, { token: null });
    expect(res.status).to.equal(200);
    expect(await res.text()).to.equal("OK");
  });

  it("GET /api/v1/eth2/publicKeys lists the shares' compressed G2 keys", async () => {
    const res = await call(SIGNER_PATHS.publicKeys);
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal([share.publicKey]);
  });

  it("POST /api/v1/eth2/sign/{key} signs a header (48-byte G1), and the same header again to the same bytes", async () => {
    const res = await call(signPath(share.publicKey), { method: "POST", body: body(3n) });
    expect(res.status).to.equal(200);
    const { signature } = (await res.json()) as { signature: string };
    expect(signature).to.match(/^0x[0-9a-f]{96}$/);
    expect(verify(share.publicKey, signingRootOf(headerAt(3n), TEST_DOMAIN), signature)).to.equal(true);
    const again = await call(signPath(share.publicKey.toUpperCase().replace("0X", "0x")), {
      method: "POST",
      body: body(3n),
    });
    expect(await again.json()).to.deep.equal({ signature });
    const text = await counters();
    expect(text).to.match(/veilnet_signer_signatures_total\{kind="new"\} 1/);
    expect(text).to.match(/veilnet_signer_signatures_total\{kind="repeat"\} 1/);
  });

  it("412 for a header slashing protection refuses, with the rule; counted by reason", async () => {
    expect((await call(signPath(share.publicKey), { method: "POST", body: body(3n, 0, 5n) })).status).to.equal(200);
    const double = await call(signPath(share.publicKey), { method: "POST", body: body(3n, 1, 5n) });
    expect(double.status).to.equal(412);
    expect(await double.json()).to.include({ reason: "double-sign" });
    const overlap = await call(signPath(share.publicKey), { method: "POST", body: body(4n, 0, 9n) });
    expect(overlap.status).to.equal(412);
    expect(await overlap.json()).to.include({ reason: "overlap" });
    const text = await counters();
    expect(text).to.match(/refusals_total\{reason="double-sign"\} 1/);
    expect(text).to.match(/refusals_total\{reason="overlap"\} 1/);
  });

  it("404 for a key it does not hold or an unknown path, 405 for a wrong method", async () => {
    expect((await call(signPath(other.publicKey), { method: "POST", body: body(1n) })).status).to.equal(404);
    expect((await call(signPath("0x1234"), { method: "POST", body: body(1n) })).status).to.equal(404);
    expect((await call("/api/v1/eth2/nothing")).status).to.equal(404);
    expect((await call(signPath(share.publicKey))).status).to.equal(405);
    expect((await call(SIGNER_PATHS.publicKeys, { method: "POST", body: "{}" })).status).to.equal(405);
    expect(await counters()).to.match(/refusals_total\{reason="unknown-key"\} 2/);
  });

  it("400 for a malformed body, another type, a root that is not the header's, or another registry's domain", async () => {
    const good = signRequestJson(headerAt(1n), TEST_DOMAIN) as Record<string, unknown>;
    const cases: Array<[string, string, RegExp]> = [
      ["not JSON", "{", /not JSON/],
      ["type", JSON.stringify({ ...good, type: "BLOCK_V2" }), /type must be "ROLLUP_HEADER"/],
      [
        "hex number",
        JSON.stringify({ ...good, rollupHeader: { ...(good.rollupHeader as object), firstBatchSeq: "0x1" } }),
        /rollupHeader\.firstBatchSeq: must be a decimal string/,
      ],
      [
        "extra field",
        JSON.stringify({ ...good, rollupHeader: { ...(good.rollupHeader as object), extra: "1" } }),
        /Unrecognized key/,
      ],
      [
        "bytes32",
        JSON.stringify({ ...good, rollupHeader: { ...(good.rollupHeader as object), messageRoot: "0x12" } }),
        /messageRoot/,
      ],
      ["root", JSON.stringify({ ...good, signingRoot: `0x${"11".repeat(32)}` }), /not the header's EIP-712 digest/],
      [
        "domain",
        JSON.stringify({ ...good, domain: { chainId: "1", verifyingContract: TEST_REGISTRY.address } }),
        /this signer signs for/,
      ],
    ];
    for (const [what, text, error] of cases) {
      const res = await call(signPath(share.publicKey), { method: "POST", body: text });
      expect(res.status, what).to.equal(400);
      expect(((await res.json()) as { error: string }).error, what).to.match(error);
    }
    expect(protection.signed(share.publicKey)).to.deep.equal([]);
    const withRoot = { ...good, signingRoot: signingRootOf(headerAt(1n), TEST_DOMAIN) };
    expect((await call(signPath(share.publicKey), { method: "POST", body: JSON.stringify(withRoot) })).status).to.equal(
      200,
    );
  });

  it("413 for a body over the limit", async () => {
    const res = await call(signPath(share.publicKey), { method: "POST", body: "x".repeat(MAX_BODY_BYTES + 1) }).catch(
      (e: Error) => e,
    );
    // The server answers 413 and drops the connection; the client sees either.
    if (res instanceof Response) expect(res.status).to.equal(413);
    expect(protection.signed(share.publicKey)).to.deep.equal([]);
  });

  it("401 without the shared secret, or with another (nothing signed)", async () => {
    for (const token of [null, "wrong", `${TOKEN}x`, TOKEN.slice(0, -1)]) {
      const res = await call(signPath(share.publicKey), { method: "POST", body: body(1n), token });
      expect(res.status, String(token)).to.equal(401);
      expect(res.headers.get("www-authenticate")).to.match(/^Bearer/);
      expect((await call(SIGNER_PATHS.publicKeys, { token })).status).to.equal(401);
    }
    const basic = await call(SIGNER_PATHS.publicKeys, { token: null, headers: { authorization: `Basic ${TOKEN}` } });
    expect(basic.status).to.equal(401);
    expect(protection.signed(share.publicKey)).to.deep.equal([]);
    expect(await counters()).to.match(/refusals_total\{reason="unauthorized"\} 9/);
  });

  it("two concurrent requests for two different headers at one height: exactly one signature", async () => {
    for (let round = 0; round < 5; round++) {
      const first = BigInt(100 + round);
      const answers = await Promise.all(
        [0, 1, 2, 3].map((variant) => call(signPath(share.publicKey), { method: "POST", body: body(first, variant) })),
      );
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses).to.deep.equal([200, 412, 412, 412]);
      expect(protection.signed(share.publicKey).filter((r) => r.firstBatchSeq === first)).to.have.length(1);
    }
  });

  describe("the client (RemoteShareSigner)", () => {
    const client = (url = api.url, token = TOKEN, timeoutMs = 2000, registry?: Registry) =>
      new RemoteShareSigner({ url, token, timeoutMs, ...(registry === undefined ? {} : { metrics: registry }) });

    it("lists the keys, signs (checking the signature itself) and is a ShareSigner like the local one", async () => {
      const c = client();
      expect(await c.upcheck()).to.equal(true);
      expect(await c.publicKeys()).to.deep.equal([share.publicKey]);
      const signed = await c.signRollupHeader(share.publicKey, headerAt(8n), TEST_DOMAIN);
      const local = new LocalShareSigner({ shares: [share], protection });
      expect(await local.signRollupHeader(share.publicKey, headerAt(8n), TEST_DOMAIN)).to.deep.equal(signed);
    });

    it("types its failures: refused, unknown key, unauthorized, input, down, timeout; counted by outcome", async () => {
      const registry = createMetricsRegistry();
      const c = client(api.url, TOKEN, 2000, registry);
      await c.signRollupHeader(share.publicKey, headerAt(9n), TEST_DOMAIN);
      const failure = (p: Promise<unknown>) =>
        p.then(
          () => undefined,
          (e: unknown) => e,
        );
      const refused = await failure(c.signRollupHeader(share.publicKey, headerAt(9n, 9n, 1), TEST_DOMAIN));
      expect(refused).to.be.instanceOf(SignerRefusedError).with.property("reason", "double-sign");
      expect(await failure(c.signRollupHeader(other.publicKey, headerAt(9n), TEST_DOMAIN))).to.be.instanceOf(
        UnknownKeyError,
      );
      const elsewhere = { ...TEST_DOMAIN, chainId: 5n };
      expect(await failure(c.signRollupHeader(share.publicKey, headerAt(10n), elsewhere))).to.be.instanceOf(
        SignerInputError,
      );
      const wrongToken = client(api.url, "nope", 2000, registry);
      expect(await failure(wrongToken.signRollupHeader(share.publicKey, headerAt(10n), TEST_DOMAIN))).to.be.instanceOf(
        SignerUnauthorizedError,
      );
      expect(await failure(wrongToken.publicKeys())).to.be.instanceOf(SignerUnauthorizedError);

      const closed = client(`http://127.0.0.1:${await freePort()}`, TOKEN, 2000, registry);
      expect(await closed.upcheck()).to.equal(false);
      const down = await failure(closed.signRollupHeader(share.publicKey, headerAt(10n), TEST_DOMAIN));
      expect(down)
        .to.be.instanceOf(SignerDownError)
        .with.property("message")
        .that.matches(/ECONNREFUSED/);

      const silent: Server = createServer(() => {}); // accepts, never answers
      await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
      try {
        const slow = client(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`, TOKEN, 300, registry);
        const timedOut = await failure(slow.signRollupHeader(share.publicKey, headerAt(10n), TEST_DOMAIN));
        expect(timedOut)
          .to.be.instanceOf(SignerDownError)
          .with.property("message")
          .that.matches(/within 300 ms/);
      } finally {
        silent.closeAllConnections();
        await new Promise((r) => silent.close(r));
      }
      const text = await registry.getSingleMetricAsString("veilnet_signer_client_requests_total");
      for (const [outcome, count] of [
        ["signed", 1],
        ["refused", 1],
        ["unknown-key", 1],
        ["invalid", 1],
        ["unauthorized", 1],
        ["down", 2],
      ] as const) {
        expect(text).to.include(`veilnet_signer_client_requests_total{outcome="${outcome}"} ${count}`);
      }
      // None of it was recorded: only the first header is.
      expect(protection.signed(share.publicKey)).to.have.length(1);
    });

    it("refuses a signer's answer that is not a valid signature of what it asked (SignerProtocolError)", async () => {
      const otherSig = await client().signRollupHeader(share.publicKey, headerAt(11n), TEST_DOMAIN);
      const liar: Server = createServer((req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ signature: otherSig.signature }));
      });
      await new Promise<void>((r) => liar.listen(0, "127.0.0.1", r));
      try {
        const c = client(`http://127.0.0.1:${(liar.address() as AddressInfo).port}`);
        const e = await c.signRollupHeader(share.publicKey, headerAt(12n), TEST_DOMAIN).catch((x: unknown) => x);
        expect(e)
          .to.be.instanceOf(SignerProtocolError)
          .with.property("message")
          .that.matches(/does not verify/);
      } finally {
        liar.closeAllConnections();
        await new Promise((r) => liar.close(r));
      }
    });
  });
});
