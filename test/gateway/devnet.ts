/**
 * The devnet's gateway settings: GATEWAY_PORT read (and named when bad), listed in --help, and a taken
 * gateway port refused before anything starts.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { type Server, createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { PortInUseError, startDevnet } from "../../devnet/index.js";
import { freePort } from "../../devnet/ports.js";
import { DEVNET_HELP, DevnetSettingError, parseDevnetSettings } from "../../devnet/settings.js";

describe("devnet: the gateway's settings", function () {
  this.timeout(30_000);

  it("reads GATEWAY_PORT, names a bad one, and lists it in --help", () => {
    expect(parseDevnetSettings([], { GATEWAY_PORT: "9745" }).options.gatewayPort).to.equal(9745);
    expect(parseDevnetSettings([], {}).options).to.not.have.property("gatewayPort");
    expect(() => parseDevnetSettings([], { GATEWAY_PORT: "http" }))
      .to.throw(DevnetSettingError)
      .with.property("message", 'GATEWAY_PORT must be a TCP port (1-65535), got "http"');
    expect(DEVNET_HELP).to.match(/GATEWAY_PORT +port of the gateway/);
    expect(DEVNET_HELP).to.include("the gateway (`veilnet gateway`)");
  });

  it("refuses a taken gateway port before starting anything, naming GATEWAY_PORT", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "devnet-gateway-port-"));
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      let error: unknown;
      try {
        await startDevnet({ dir, l1Port: await freePort(), l2RpcPort: await freePort(), gatewayPort: port });
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(PortInUseError);
      expect((error as Error).message).to.equal(
        `port ${port} (the gateway) is in use: stop what runs there, or set GATEWAY_PORT to another port`,
      );
      expect(existsSync(path.join(dir, "logs", "l1.log"))).to.equal(false);
      expect(existsSync(path.join(dir, "devnet.pid"))).to.equal(false);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
