/* global window, document, localStorage */
// The gateway's web page: join (token kept in localStorage), add the network to the wallet
// (wallet_addEthereumChain), bind the wallet's accounts (eth_requestAccounts, eth_signTypedData_v4 on
// /v1/typed-data's payload, POST /v1/authenticate), list bound accounts, revoke. No framework, no CDN.

const TOKEN_KEY = "veilnet-gateway-token";
const CHAIN_ID = "0x1141"; // 4417
const CHAIN = {
  chainId: CHAIN_ID,
  chainName: "Veilnet",
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
};

const $ = (id) => document.getElementById(id);

function status(text, isError = false) {
  const el = $("status");
  el.textContent = text;
  el.className = isError ? "error" : "";
}

function token() {
  return localStorage.getItem(TOKEN_KEY);
}

function rpcUrl(t) {
  return `${window.location.origin}/v1/?token=${t}`;
}

function wsUrl(t) {
  return `${window.location.origin.replace(/^http/, "ws")}/v1/?token=${t}`;
}

/** GET or POST the gateway's API; throws with the gateway's error message. */
async function api(path, options = {}) {
  const response = await fetch(path, {
    method: options.method ?? "GET",
    headers: options.body === undefined ? {} : { "content-type": "application/json" },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.error ?? `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

function wallet() {
  if (window.ethereum === undefined) throw new Error("no wallet found in this browser (install one, e.g. MetaMask)");
  return window.ethereum;
}

function walletMessage(e) {
  if (e && e.code === 4001) return "you declined in the wallet";
  return e && e.message ? e.message : String(e);
}

async function addNetwork() {
  const t = token();
  await wallet().request({ method: "wallet_addEthereumChain", params: [{ ...CHAIN, rpcUrls: [rpcUrl(t)] }] });
}

/** Makes Veilnet the wallet's active chain (wallets check the signed message's chain id against it). */
async function useVeilnet() {
  try {
    await wallet().request({ method: "wallet_switchEthereumChain", params: [{ chainId: CHAIN_ID }] });
  } catch (e) {
    if (e && e.code === 4902) await addNetwork();
    else throw e;
  }
}

async function renderAccounts() {
  const t = token();
  const { accounts } = await api(`/v1/accounts?token=${t}`);
  const list = $("accounts");
  list.replaceChildren(
    ...accounts.map((a) => {
      const li = document.createElement("li");
      const code = document.createElement("code");
      code.textContent = a;
      li.append(code);
      return li;
    }),
  );
  $("no-accounts").hidden = accounts.length > 0;
  return accounts;
}

async function render() {
  const t = token();
  $("join-section").hidden = t !== null;
  $("user-section").hidden = t === null;
  if (t === null) return;
  $("token").textContent = t;
  $("rpc-url").textContent = rpcUrl(t);
  $("ws-url").textContent = wsUrl(t);
  try {
    await renderAccounts();
  } catch (e) {
    if (e.status === 404 || e.status === 400) {
      localStorage.removeItem(TOKEN_KEY);
      status("your token is no longer known to this gateway (revoked?): join again", true);
      await render();
    } else throw e;
  }
}

async function join() {
  const { token: t } = await api("/v1/join");
  localStorage.setItem(TOKEN_KEY, t);
  await render();
  status("joined: add Veilnet to your wallet, then bind your accounts");
}

async function bind() {
  const t = token();
  const accounts = await wallet().request({ method: "eth_requestAccounts" });
  if (!Array.isArray(accounts) || accounts.length === 0) throw new Error("the wallet gave no account");
  await useVeilnet();
  let bound = 0;
  for (const account of accounts) {
    const { status: already } = await api(`/v1/query?token=${t}&address=${account}`);
    if (already) continue;
    status(`sign the binding of ${account} in your wallet…`);
    const typedData = await api(`/v1/typed-data?token=${t}&address=${account}`);
    const signature = await wallet().request({
      method: "eth_signTypedData_v4",
      params: [account, JSON.stringify(typedData)],
    });
    await api(`/v1/authenticate?token=${t}`, { method: "POST", body: { address: account, signature } });
    bound += 1;
  }
  await renderAccounts();
  status(bound === 0 ? "every account of the wallet was already bound" : `bound ${bound} account(s)`);
}

async function revoke() {
  if (!window.confirm("Delete your token and viewing key from this gateway?")) return;
  await api(`/v1/revoke?token=${token()}`, { method: "POST" });
  localStorage.removeItem(TOKEN_KEY);
  await render();
  status("revoked: the token and its viewing key are deleted");
}

function action(id, run, done) {
  $(id).addEventListener("click", () => {
    $(id).disabled = true;
    status("");
    run()
      .then(() => done?.())
      .catch((e) => status(walletMessage(e), true))
      .finally(() => ($(id).disabled = false));
  });
}

document.addEventListener("DOMContentLoaded", () => {
  action("join", join);
  action("add-network", addNetwork, () => status("Veilnet is in your wallet"));
  action("bind", bind);
  action("revoke", revoke);
  render().catch((e) => status(e.message, true));
});
