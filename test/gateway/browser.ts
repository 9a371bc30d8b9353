/**
 * The gateway's web page in headless Chromium (Debian's `chromium`, driven by playwright-core), with an
 * injected EIP-1193 wallet backed by an ethers Wallet in the test process (page.exposeFunction): join,
 * add the network, bind the wallet's account, list it, reload, revoke; a declined signature.
 */
import { existsSync } from "node:fs";

import { expect } from "chai";
import { JsonRpcProvider, Wallet, getAddress } from "ethers";
import { type Browser, type Page, chromium } from "playwright-core";

import type { Gateway } from "../../gateway/gateway.js";
import type { ViewingKeyTypedData } from "../../gateway/users/typed-data.js";
import { at } from "../../testing/defined.js";
import { type Stack, signTypedDataV4, startStack } from "../../testing/gateway-stack.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** What the test's wallet was asked, and how it behaves. */
interface WalletLog {
  chains: { chainId: string; rpcUrls: string[] }[];
  active: string;
  signed: string[];
  decline: boolean;
}

/** An EIP-1193 provider in the page whose requests are answered by `wallet` in this process. */
async function injectWallet(page: Page, wallet: Wallet, log: WalletLog): Promise<void> {
  await page.exposeFunction("veilnetTestWallet", async (method: string, paramsJson: string): Promise<string> => {
    const params = JSON.parse(paramsJson) as unknown[];
    const fail = (code: number, message: string) => JSON.stringify({ error: { code, message } });
    switch (method) {
      case "eth_requestAccounts":
      case "eth_accounts":
        return JSON.stringify({ result: [wallet.address.toLowerCase()] });
      case "eth_chainId":
        return JSON.stringify({ result: log.active });
      case "wallet_addEthereumChain": {
        const chain = params[0] as { chainId: string; rpcUrls: string[] };
        log.chains.push(chain);
        log.active = chain.chainId;
        return JSON.stringify({ result: null });
      }
      case "wallet_switchEthereumChain": {
        const { chainId } = params[0] as { chainId: string };
        if (!log.chains.some((c) => c.chainId === chainId)) return fail(4902, `unrecognized chain ${chainId}`);
        log.active = chainId;
        return JSON.stringify({ result: null });
      }
      case "eth_signTypedData_v4": {
        if (log.decline) return fail(4001, "User rejected the request.");
        const [account, json] = params as [string, string];
        if (getAddress(account) !== wallet.address) return fail(4100, "unknown account");
        const payload = JSON.parse(json) as ViewingKeyTypedData;
        // As MetaMask: typed data for another chain than the active one is refused.
        if (BigInt(payload.domain.chainId) !== BigInt(log.active)) return fail(-32602, "chainId does not match");
        log.signed.push(account);
        return JSON.stringify({ result: await signTypedDataV4(wallet, payload) });
      }
      default:
        return fail(4200, `unsupported method ${method}`);
    }
  });
  // A string, not a function: the test runner's transpiler adds helpers a function would carry into the page.
  await page.addInitScript({
    content: `
      window.ethereum = {
        request: async ({ method, params }) => {
          const answer = JSON.parse(await window.veilnetTestWallet(method, JSON.stringify(params ?? [])));
          if (answer.error !== undefined) throw Object.assign(new Error(answer.error.message), { code: answer.error.code });
          return answer.result;
        },
      };`,
  });
}

describe("gateway: the web page in headless Chromium", function () {
  this.timeout(120_000);

  let stack: Stack;
  let gateway: Gateway;
  let browser: Browser;
  const alice = Wallet.createRandom();

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      const hint = `no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`;
      // CI sets REQUIRE_BROWSER=1: there the page must be tested, not skipped.
      if (process.env.REQUIRE_BROWSER === "1") throw new Error(hint);
      console.log(`        ${hint}; skipped`);
      this.skip();
    }
    stack = await startStack();
    gateway = await stack.gateway();
    await gateway.ready;
    await stack.fund(alice.address);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"], headless: true });
  });

  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  it("joins, adds the network, binds the wallet's account, lists it, keeps the token across a reload, revokes", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    const wallet: WalletLog = { chains: [], active: "0x1", signed: [], decline: false };
    await injectWallet(page, new Wallet(alice.privateKey), wallet);
    await page.goto(`${gateway.url}/`);

    await page.click("#join");
    await page.locator("#token", { hasText: /^[0-9a-f]{40}$/ }).waitFor({ timeout: 10_000 });
    const token = (await page.locator("#token").textContent())!;
    expect(token).to.match(/^[0-9a-f]{40}$/);
    expect(gateway.store.get(token)).to.not.equal(undefined);
    expect(await page.evaluate(() => localStorage.getItem("veilnet-gateway-token"))).to.equal(token);
    const rpcUrl = `${gateway.url}/v1/?token=${token}`;
    expect(await page.locator("#rpc-url").textContent()).to.equal(rpcUrl);

    await page.click("#add-network");
    await page.locator("#status", { hasText: "Veilnet is in your wallet" }).waitFor();
    expect(wallet.chains).to.deep.equal([
      {
        chainId: "0x1141",
        chainName: "Veilnet",
        nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
        rpcUrls: [rpcUrl],
      },
    ]);

    wallet.active = "0x1"; // the wallet went back to another chain: binding switches it to Veilnet first
    await page.click("#bind");
    await page.locator("#status", { hasText: "bound 1 account(s)" }).waitFor();
    expect(await page.locator("#accounts li").allTextContents()).to.deep.equal([alice.address]);
    expect(wallet.signed).to.have.length(1);
    expect(wallet.active).to.equal("0x1141");
    expect([...gateway.store.get(token)!.bindings.keys()]).to.deep.equal([alice.address]);

    // The URL the wallet was given serves the bound account.
    const provider = new JsonRpcProvider(at(at(wallet.chains, 0, "added chain").rpcUrls, 0, "RPC URL"), undefined, {
      cacheTimeout: -1,
    });
    try {
      expect(await provider.getBalance(alice.address)).to.equal(await stack.balance(alice.address));
    } finally {
      provider.destroy();
    }

    // Binding again asks no signature.
    await page.click("#bind");
    await page.locator("#status", { hasText: "already bound" }).waitFor();
    expect(wallet.signed).to.have.length(1);

    await page.reload();
    await page.locator("#accounts li").first().waitFor();
    expect(await page.locator("#token").textContent()).to.equal(token);

    page.once("dialog", (d) => void d.accept());
    await page.click("#revoke");
    await page.locator("#status", { hasText: "revoked" }).waitFor();
    expect(await page.locator("#join-section").isVisible()).to.equal(true);
    expect(await page.evaluate(() => localStorage.getItem("veilnet-gateway-token"))).to.equal(null);
    expect(gateway.store.get(token)).to.equal(undefined);
    expect(errors).to.deep.equal([]);
    await context.close();
  });

  it("says so when the wallet declines to sign, and binds nothing", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const wallet: WalletLog = { chains: [], active: "0x1", signed: [], decline: true };
    await injectWallet(page, new Wallet(alice.privateKey), wallet);
    await page.goto(`${gateway.url}/`);
    await page.click("#join");
    await page.locator("#token", { hasText: /^[0-9a-f]{40}$/ }).waitFor({ timeout: 10_000 });
    const token = (await page.locator("#token").textContent())!;
    await page.click("#bind");
    await page.locator("#status.error", { hasText: "you declined in the wallet" }).waitFor();
    // The wallet did not know Veilnet: binding added it first (4902 from wallet_switchEthereumChain).
    expect(wallet.chains.map((c) => c.chainId)).to.deep.equal(["0x1141"]);
    expect(gateway.store.get(token)!.bindings.size).to.equal(0);
    expect(await page.locator("#accounts li").count()).to.equal(0);
    await context.close();
  });
});
