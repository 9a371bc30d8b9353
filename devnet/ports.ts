/** TCP ports for the devnet's servers: checking that a fixed one is free, or picking a free one. */
import { createServer } from "node:net";

/** A port the devnet needs is taken; the message says what to do. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    what: string,
    envName: string,
  ) {
    super(`port ${port} (${what}) is in use: stop what runs there, or set ${envName} to another port`);
    this.name = "PortInUseError";
  }
}

/** Whether nothing listens on `port` of 127.0.0.1. */
export async function portFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
      .once("error", () => resolve(false))
      .once("listening", () => server.close(() => resolve(true)))
      .listen(port, host);
  });
}

/** Throws a PortInUseError naming `what` and the environment variable that moves it when `port` is taken. */
export async function assertPortFree(port: number, what: string, envName: string): Promise<void> {
  if (!(await portFree(port))) throw new PortInUseError(port, what, envName);
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
