/**
 * The gateway's user API and page: join, the EIP-712 payload a wallet signs, binding an account (and
 * each way it is refused), query, accounts, revoke; the web page, /healthz, CORS, wrong paths and methods.
 */
import { expect } from "chai";
import { Wallet, getAddress } from "ethers";

import type { Gateway } from "../../gateway/gateway.js";
import type { ViewingKeyTypedData } from "../../gateway/users/typed-data.js";
import { PRIVATE_RPC_DOMAIN, verifyViewingKeyBinding } from "../../protocol/private-rpc.js";
import { type Stack, api, rpc, signTypedDataV4, startStack } from "../../testing/gateway-stack.js";

describe("gateway: user API and web page", function () {
  this.timeout(60_000);

  let stack: Stack;
  let gateway: Gateway;
  const alice = Wallet.createRandom();
  const bob = Wallet.createRandom();

  before(async () => {
    stack = await startStack();
    gateway = await stack.gateway();
    await gateway.ready;
  });

  after(async () => {
    await stack?.close();
  });

  const join = async () => (await api(gateway, "/v1/join")).body.token as string;
  const typedData = async (token: string, address: string) =>
    (await api(gateway, `/v1/typed-data?token=${token}&address=${address}`)).body as unknown as ViewingKeyTypedData;

  it("join gives a new 20-byte token each time, with its own viewing key", async () => {
    const a = await join();
    const b = await join();
    expect(a).to.match(/^[0-9a-f]{40}$/);
    expect(b).to.not.equal(a);
    expect(gateway.store.get(a)!.viewingKey.publicKey).to.not.equal(gateway.store.get(b)!.viewingKey.publicKey);
  });

  it("typed-data is the exact eth_signTypedData_v4 payload binding the account to the user's viewing key", async () => {
    const token = await join();
    const payload = await typedData(token, alice.address.toLowerCase());
    expect(payload).to.deep.equal({
      types: {
        EIP712Domain: [
          { name: "name", type: "string" },
          { name: "version", type: "string" },
          { name: "chainId", type: "uint256" },
        ],
        ViewingKey: [
          { name: "account", type: "address" },
          { name: "viewingKey", type: "bytes" },
        ],
      },
      primaryType: "ViewingKey",
      domain: { name: PRIVATE_RPC_DOMAIN.name, version: PRIVATE_RPC_DOMAIN.version, chainId: 4417 },
      message: { account: alice.address, viewingKey: gateway.store.get(token)!.viewingKey.publicKey },
    });
    // What a wallet signs over it is what the enclave verifies.
    const signature = await signTypedDataV4(alice, payload);
    expect(
      verifyViewingKeyBinding({ account: alice.address, signature }, gateway.store.get(token)!.viewingKey.publicKey),
    ).to.equal(true);
  });

  it("authenticate binds the account; query and accounts report it", async () => {
    const token = await join();
    expect((await api(gateway, `/v1/query?token=${token}&address=${alice.address}`)).body).to.deep.equal({
      status: false,
    });
    for (const wallet of [alice, bob]) {
      const signature = await signTypedDataV4(wallet, await typedData(token, wallet.address));
      const bound = await api(gateway, `/v1/authenticate?token=${token}`, { address: wallet.address, signature });
      expect(bound.status).to.equal(200);
      expect(bound.body.account).to.equal(wallet.address);
    }
    expect((await api(gateway, `/v1/query?token=${token}&address=${alice.address.toLowerCase()}`)).body).to.deep.equal({
      status: true,
    });
    expect((await api(gateway, `/v1/accounts?token=${token}`)).body).to.deep.equal({
      accounts: [alice.address, bob.address],
    });
    // Binding again is harmless.
    const again = await signTypedDataV4(alice, await typedData(token, alice.address));
    expect(
      (await api(gateway, `/v1/authenticate?token=${token}`, { address: alice.address, signature: again })).status,
    ).to.equal(200);
    expect(((await api(gateway, `/v1/accounts?token=${token}`)).body.accounts as string[]).length).to.equal(2);
  });

  it("refuses with a 4xx naming what is wrong: token, address, signature, body", async () => {
    const token = await join();
    const signature = await signTypedDataV4(alice, await typedData(token, alice.address));
    const cases: [string, unknown, number, RegExp][] = [
      [`/v1/authenticate`, { address: alice.address, signature }, 400, /token: missing/],
      [`/v1/authenticate?token=xyz`, { address: alice.address, signature }, 400, /token: expected the 40 hex digits/],
      [`/v1/authenticate?token=${"0".repeat(40)}`, { address: alice.address, signature }, 404, /no such user/],
      [
        `/v1/authenticate?token=${token}`,
        { address: "0x1234", signature },
        400,
        /address: "0x1234" is not an account address/,
      ],
      [`/v1/authenticate?token=${token}`, { signature }, 400, /address: missing/],
      [
        `/v1/authenticate?token=${token}`,
        { address: alice.address, signature: "0x12" },
        400,
        /signature: expected the 65-byte/,
      ],
      // Alice's signature presented for bob's account.
      [
        `/v1/authenticate?token=${token}`,
        { address: bob.address, signature },
        400,
        new RegExp(`not ${bob.address}'s signature`),
      ],
      [`/v1/authenticate?token=${token}`, "not json", 400, /body: not JSON/],
      [`/v1/authenticate?token=${token}`, [1, 2], 400, /body: expected JSON/],
    ];
    for (const [path, body, status, message] of cases) {
      const answer = await api(gateway, path, body);
      expect(answer.status, path).to.equal(status);
      expect(answer.body.error, path).to.match(message);
    }
    // Signed for another user's viewing key: refused for this one.
    const other = await join();
    const otherSignature = await signTypedDataV4(alice, await typedData(other, alice.address));
    const crossed = await api(gateway, `/v1/authenticate?token=${token}`, {
      address: alice.address,
      signature: otherSignature,
    });
    expect(crossed.status).to.equal(400);
    expect((await api(gateway, `/v1/accounts?token=${token}`)).body).to.deep.equal({ accounts: [] });
    expect((await api(gateway, `/v1/typed-data?token=${token}&address=nope`)).status).to.equal(400);
    expect((await api(gateway, `/v1/query?token=${token}`)).body.error).to.match(/address: missing/);
  });

  it("revoke deletes the user and its viewing key: the token stops working everywhere", async () => {
    const token = await join();
    const signature = await signTypedDataV4(alice, await typedData(token, alice.address));
    await api(gateway, `/v1/authenticate?token=${token}`, { address: alice.address, signature });
    expect((await api(gateway, `/v1/revoke?token=${token}`, {})).body).to.deep.equal({ revoked: true });
    expect(gateway.store.get(token)).to.equal(undefined);
    expect((await api(gateway, `/v1/accounts?token=${token}`)).status).to.equal(404);
    expect((await api(gateway, `/v1/revoke?token=${token}`, {})).status).to.equal(404);
    expect((await rpc(gateway.rpcUrl(token), "eth_chainId")).error?.message).to.match(/unknown token/);
  });

  it("serves the web page and its script from gateway/web with a strict CSP", async () => {
    const page = await fetch(`${gateway.url}/`);
    expect(page.status).to.equal(200);
    expect(page.headers.get("content-type")).to.equal("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).to.include("script-src 'self'");
    const html = await page.text();
    expect(html).to.include('<script type="module" src="/app.js"></script>');
    expect(html).to.not.match(/https?:\/\//);
    const script = await fetch(`${gateway.url}/app.js`);
    expect(script.headers.get("content-type")).to.equal("text/javascript; charset=utf-8");
    expect(await script.text()).to.include("wallet_addEthereumChain");
    expect((await fetch(`${gateway.url}/style.css`)).status).to.equal(200);
  });

  it("answers /healthz, CORS preflights, unknown paths and wrong methods", async () => {
    const health = await fetch(`${gateway.url}/healthz`);
    expect(health.status).to.equal(200);
    const report = (await health.json()) as { services: { gateway: { detail: string } } };
    expect(report.services.gateway.detail).to.include(getAddress(stack.enclave.address));

    const preflight = await fetch(`${gateway.url}/v1/`, { method: "OPTIONS" });
    expect(preflight.status).to.equal(204);
    expect(preflight.headers.get("access-control-allow-origin")).to.equal("*");

    const missing = await fetch(`${gateway.url}/nope`);
    expect(missing.status).to.equal(404);
    expect(((await missing.json()) as { error: string }).error).to.match(/no \/nope here/);
    expect((await fetch(`${gateway.url}/v1/join`, { method: "POST" })).status).to.equal(405);
    expect((await fetch(`${gateway.url}/v1/revoke`)).status).to.equal(405);
    expect((await fetch(`${gateway.url}/v1/`)).status).to.equal(405);

    const notJson = await fetch(`${gateway.url}/v1/?token=${await join()}`, { method: "POST", body: "{" });
    expect(((await notJson.json()) as { error: { code: number } }).error.code).to.equal(-32700);
  });
});
