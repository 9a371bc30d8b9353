/**
 * The event-subscriber's L1 provider: every HTTP request is aborted after the RPC timeout, the network is
 * fixed and concurrent calls are batched. The calls themselves (time limits, retries, eth_getLogs) are
 * platform/l1-events/rpc.ts's L1LogReader, shared with the nodes' in-process follower.
 */
import { type FetchGetUrlFunc, FetchRequest, JsonRpcProvider, Network } from "ethers";

/**
 * Sends ethers' requests with the global fetch and aborts them (closing the connection) after
 * `timeoutMs`: ethers' own Node transport only rejects on timeout and leaves a stalled socket open.
 */
export function fetchWithTimeout(timeoutMs: number): FetchGetUrlFunc {
  return async (req, signal) => {
    const cancel = new AbortController();
    signal?.addListener(() => cancel.abort());
    const response = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body ?? undefined,
      signal: AbortSignal.any([cancel.signal, AbortSignal.timeout(timeoutMs)]),
    });
    return {
      statusCode: response.status,
      statusMessage: response.statusText,
      headers: Object.fromEntries(response.headers),
      body: new Uint8Array(await response.arrayBuffer()),
    };
  };
}

/**
 * A JSON-RPC provider for the subscriber: every HTTP request is aborted after `timeoutMs`, the network is
 * fixed (no detection calls), and concurrent calls are sent as one batch request.
 */
export function createSubscriberProvider(url: string, chainId: number, timeoutMs: number): JsonRpcProvider {
  const request = new FetchRequest(url);
  request.timeout = timeoutMs;
  request.getUrlFunc = fetchWithTimeout(timeoutMs);
  const network = Network.from(chainId);
  return new JsonRpcProvider(request, network, { staticNetwork: network, batchStallTime: 2, batchMaxCount: 100 });
}
