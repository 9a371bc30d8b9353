/**
 * Signing in to a Veilnet gateway with an account's key, as its web page does: `GET /v1/join` for a
 * token (unless the URL carries one), `GET /v1/typed-data` for the EIP-712 binding of the user's viewing
 * key to the account, the signature posted to `/v1/authenticate`. The answer is the JSON-RPC URL on
 * which the gateway answers as that account (`/v1/?token=…`): its transactions, receipts and
 * withdrawal proofs become visible to the caller.
 */
import type { TypedDataDomain, TypedDataField, Wallet } from "ethers";

interface TypedDataPayload {
  domain: TypedDataDomain;
  types: Record<string, TypedDataField[]>;
  message: Record<string, unknown>;
}

async function apiCall(base: string, pathAndQuery: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${base}${pathAndQuery}`, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  let json: Record<string, unknown>;
  try {
    json = (await response.json()) as Record<string, unknown>;
  } catch {
    throw new Error(
      `gateway ${base}: ${pathAndQuery.split("?")[0]} answered HTTP ${response.status}, not JSON (is this a Veilnet gateway?)`,
    );
  }
  if (!response.ok) {
    throw new Error(
      `gateway ${base}: ${pathAndQuery.split("?")[0]}: ${String(json.error ?? `HTTP ${response.status}`)}`,
    );
  }
  return json;
}

/** Binds `wallet`'s account at the gateway `url` (its base or its RPC URL); the RPC URL with the token. */
export async function gatewayRpcUrl(url: string, wallet: Pick<Wallet, "address" | "signTypedData">): Promise<string> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(
      `gateway URL ${JSON.stringify(url)} is not a URL (expected e.g. http://127.0.0.1:8745, the devnet gateway)`,
    );
  }
  const base = parsed.origin;
  let token = parsed.searchParams.get("token");
  if (token === null || token === "") {
    token = String((await apiCall(base, "/v1/join")).token);
  }
  const query = `token=${encodeURIComponent(token)}`;
  const payload = (await apiCall(
    base,
    `/v1/typed-data?${query}&address=${wallet.address}`,
  )) as unknown as TypedDataPayload;
  // ethers wants the types without EIP712Domain (wallets' eth_signTypedData_v4 payload has it).
  const { EIP712Domain: _domain, ...types } = payload.types;
  const signature = await wallet.signTypedData(payload.domain, types, payload.message);
  await apiCall(base, `/v1/authenticate?${query}`, { address: wallet.address, signature });
  return `${base}/v1/?${query}`;
}
