/**
 * One JSON-RPC call over HTTP, for the plain endpoints the services talk to (an L1 or L2 node, the
 * devnet's processes): the result, or an Error saying what the endpoint answered. Clients with their
 * own error types (the gateway's enclave client, the secret-responder's host client) build on fetch
 * themselves.
 */

/** Calls `method` at `url`; throws when the endpoint does not answer JSON-RPC or answers an error. */
export async function jsonRpcCall(
  url: string,
  method: string,
  params: unknown[] = [],
  timeoutMs = 10_000,
): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let body: { result?: unknown; error?: { code?: number; message?: string } };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`${method}: HTTP ${response.status}, not JSON-RPC: ${text.slice(0, 200)}`);
  }
  if (body.error !== undefined) {
    throw new Error(`${method}: ${body.error.message ?? JSON.stringify(body.error)} (code ${body.error.code})`);
  }
  if (!("result" in body)) throw new Error(`${method}: HTTP ${response.status}, an answer without result or error`);
  return body.result;
}
