/**
 * HTTP POSTs to the enclave node over kept-alive connections (node:http with an Agent: lighter per
 * request than fetch, which matters as every wallet call makes one). A request that fails on a reused
 * connection the node had just closed (ECONNRESET / EPIPE: the node restarted) is sent again once on a
 * new connection, as Node's documentation advises.
 */
import http from "node:http";
import https from "node:https";

/** The node did not answer: `reason` says how (an error code, or the timeout). */
export class TransportError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "TransportError";
  }
}

export interface TransportAnswer {
  status: number;
  body: string;
}

export class HttpTransport {
  readonly #url: URL;
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;

  constructor(
    url: string,
    private readonly timeoutMs: number,
  ) {
    this.#url = new URL(url);
    const secure = this.#url.protocol === "https:";
    this.#agent = secure
      ? new https.Agent({ keepAlive: true, maxSockets: 64 })
      : new http.Agent({ keepAlive: true, maxSockets: 64 });
    this.#request = secure ? https.request : http.request;
  }

  async post(body: string): Promise<TransportAnswer> {
    try {
      return await this.#post(body);
    } catch (e) {
      if (e instanceof StaleSocketError) return this.#post(body);
      throw e;
    }
  }

  #post(body: string): Promise<TransportAnswer> {
    return new Promise((resolve, reject) => {
      const req = this.#request(this.#url, {
        method: "POST",
        agent: this.#agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        timeout: this.timeoutMs,
      });
      req.on("timeout", () => req.destroy(new TransportError(`no answer within ${this.timeoutMs} ms`)));
      req.on("error", (e: NodeJS.ErrnoException) => {
        if (e instanceof TransportError) reject(e);
        else if (req.reusedSocket && (e.code === "ECONNRESET" || e.code === "EPIPE")) reject(new StaleSocketError());
        else reject(new TransportError(e.code ?? e.message));
      });
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", (e) => reject(new TransportError(e.message)));
      });
      req.end(body);
    });
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#agent.destroy();
  }
}

class StaleSocketError extends Error {}
