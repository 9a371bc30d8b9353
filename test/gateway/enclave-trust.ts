/**
 * The gateway trusts an enclave only through L1: it serves when the RPC key's announcement is signed by
 * an enclave EnclaveRegistry.isAttested, refuses (naming the signer) otherwise, waits while the enclave
 * is not up, says so clearly when it goes away and recovers when it is back, follows a key change to
 * another attested enclave, and stops serving when the enclave's attestation is revoked.
 */
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { expect } from "chai";
import { Wallet } from "ethers";

import { EnclaveNotAttestedError, EnclaveProtocolError } from "../../gateway/enclave/client.js";
import type { Gateway } from "../../gateway/gateway.js";
import { GatewayErrorCodes } from "../../gateway/rpc/jsonrpc.js";
import { ChannelKey, announceRpcKey } from "../../protocol/private-rpc.js";
import { Enclave } from "../../enclave/secret/enclave.js";
import { defined } from "../../testing/defined.js";
import { freePort } from "../../testing/l1-node.js";
import { govern } from "../../testing/governance.js";
import { rejection } from "../../testing/rejection.js";
import { MEASUREMENT } from "../../testing/veilnet.js";
import { type Stack, joinAndBind, rpc, startStack, until } from "../../testing/gateway-stack.js";

describe("gateway: trusting the enclave through L1", function () {
  this.timeout(120_000);

  let stack: Stack;
  const alice = Wallet.createRandom();

  before(async () => {
    stack = await startStack();
    await stack.fund(alice.address);
  });

  after(async () => {
    await stack?.close();
  });

  /** A gateway in front of `url` with alice bound; its token. */
  async function gatewayFor(url: string): Promise<{ gateway: Gateway; token: string }> {
    const gateway = await stack.gateway({ url });
    const token = await joinAndBind(gateway, [alice]);
    return { gateway, token };
  }

  it("refuses to serve an enclave that is not attested on L1, naming its signer", async () => {
    const peer = stack.peerEnclave(); // holds the network secret, so the same RPC key, but never attested
    expect(await stack.v.enclaveRegistry.isAttested(peer.address)).to.equal(false);
    const endpoint = await stack.serve(peer);
    const { gateway, token } = await gatewayFor(endpoint.url);
    const error = await rejection(gateway.ready);
    expect(error).to.be.instanceOf(EnclaveNotAttestedError);
    expect(error.message).to.equal(
      `the RPC key of the enclave at ${endpoint.url} is signed by enclave ${peer.address}, which is not attested on L1 ` +
        `(EnclaveRegistry ${stack.v.addresses.EnclaveRegistry}): refusing to serve`,
    );
    const answer = await rpc(gateway.rpcUrl(token), "eth_getBalance", [alice.address, "latest"]);
    expect(answer.error?.code).to.equal(GatewayErrorCodes.enclaveNotAttested);
    expect(answer.error?.message).to.include(peer.address);
    const health = await gateway.health();
    expect(health.status).to.equal("unhealthy");
    expect(defined(health.services.gateway, "the gateway's health").detail).to.include(peer.address);
  });

  it("refuses an announcement whose signature is not its signer's", async () => {
    // Not an enclave node: a server announcing a key with a forged signer field (the failure a real node cannot make).
    const liar = Wallet.createRandom();
    const announcement = await announceRpcKey(liar, ChannelKey.generate().publicKey);
    const server: Server = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        const { id, method } = JSON.parse(body) as { id: number; method: string };
        const result = method === "eth_chainId" ? "0x1141" : { ...announcement, signer: stack.enclave.address };
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id, result }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const gateway = await stack.gateway({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
      const error = await rejection(gateway.ready);
      expect(error).to.be.instanceOf(EnclaveProtocolError);
      expect(error.message).to.equal(
        `veil_rpcKey: the RPC key announcement is signed by ${liar.address}, not by ${stack.enclave.address}`,
      );
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("waits for an enclave that is not up yet, then serves", async () => {
    const port = await freePort();
    const { gateway, token } = await gatewayFor(`http://127.0.0.1:${port}`);
    const early = await rpc(gateway.rpcUrl(token), "eth_blockNumber");
    expect(early.error?.code).to.equal(GatewayErrorCodes.enclaveUnavailable);
    expect(early.error?.message).to.match(/has not verified the enclave's RPC key yet/);
    expect((await gateway.health()).status).to.equal("unhealthy");

    const endpoint = await stack.serve(stack.enclave, port);
    try {
      const key = await gateway.ready;
      expect(key.signer).to.equal(stack.enclave.address);
      const balance = await rpc(gateway.rpcUrl(token), "eth_getBalance", [alice.address, "latest"]);
      expect(BigInt(balance.result as string)).to.equal(await stack.balance(alice.address));
      expect((await gateway.health()).status).to.equal("ok");
    } finally {
      await endpoint.close();
    }
  });

  it("says clearly that the enclave is down, and recovers when it is back", async () => {
    const endpoint = await stack.serve(stack.enclave);
    const { gateway, token } = await gatewayFor(endpoint.url);
    await gateway.ready;
    const url = gateway.rpcUrl(token);
    expect((await rpc(url, "eth_getBalance", [alice.address, "latest"])).result).to.be.a("string");

    await endpoint.close();
    const down = await rpc(url, "eth_getBalance", [alice.address, "latest"]);
    expect(down.error?.code).to.equal(GatewayErrorCodes.enclaveUnavailable);
    expect(down.error?.message).to.equal(
      `the enclave at ${endpoint.url} does not answer (ECONNREFUSED); try again shortly`,
    );
    const health = await gateway.health();
    expect(health.status).to.equal("unhealthy");
    expect(defined(health.dependencies.enclave, "the enclave's health").ok).to.equal(false);

    const back = await stack.serve(stack.enclave, endpoint.port);
    try {
      const answer = await rpc(url, "eth_getBalance", [alice.address, "latest"]);
      expect(BigInt(answer.result as string)).to.equal(await stack.balance(alice.address));
      expect((await gateway.health()).status).to.equal("ok");
    } finally {
      await back.close();
    }
  });

  it("follows the enclave's RPC key to another attested enclave when its envelopes stop decrypting", async () => {
    const endpoint = await stack.serve(stack.enclave);
    const { gateway, token } = await gatewayFor(endpoint.url);
    const first = await gateway.ready;
    const url = gateway.rpcUrl(token);
    expect((await rpc(url, "eth_getBalance", [alice.address, "latest"])).result).to.be.a("string");

    // Another enclave, attested on L1, with another network secret (so another RPC key) takes the port.
    const impostor = await stack.attestedImpostor();
    await endpoint.close();
    const other = await stack.serve(impostor, endpoint.port);
    try {
      const answer = await rpc(url, "eth_getBalance", [alice.address, "latest"]);
      expect(BigInt(answer.result as string)).to.equal(await stack.balance(alice.address));
      const state = gateway.enclave.keyState;
      expect(state.state === "ready" && state.key.signer).to.equal(impostor.address);
      expect(state.state === "ready" && state.key.publicKey).to.not.equal(first.publicKey);
    } finally {
      await other.close();
    }
  });

  it("refuses a changed key whose signer is not attested", async () => {
    const endpoint = await stack.serve(stack.enclave);
    const { gateway, token } = await gatewayFor(endpoint.url);
    await gateway.ready;
    const url = gateway.rpcUrl(token);

    const fresh = Enclave.create({ measurement: MEASUREMENT });
    fresh.initializeSecret(); // another secret, never attested
    await endpoint.close();
    const other = await stack.serve(fresh, endpoint.port);
    try {
      const answer = await rpc(url, "eth_blockNumber");
      expect(answer.error?.code).to.equal(GatewayErrorCodes.enclaveNotAttested);
      expect(answer.error?.message).to.include(`signed by enclave ${fresh.address}, which is not attested on L1`);
      expect((await gateway.health()).status).to.equal("unhealthy");
    } finally {
      await other.close();
    }
  });

  it("stops serving when the enclave's attestation is revoked on L1", async () => {
    const endpoint = await stack.serve(stack.enclave);
    const gateway = await stack.gateway({ url: endpoint.url, GATEWAY_ATTESTATION_CHECK_MS: 1000 });
    const token = await joinAndBind(gateway, [alice]);
    await gateway.ready;
    const url = gateway.rpcUrl(token);
    expect((await rpc(url, "eth_blockNumber")).result).to.be.a("string");

    await (await govern(stack.v, stack.v.enclaveRegistry, "revokeEnclave", [stack.enclave.address])).wait();
    await until("the gateway to refuse", async () => (await rpc(url, "eth_blockNumber")).error !== undefined, 5000);
    const answer = await rpc(url, "eth_getBalance", [alice.address, "latest"]);
    expect(answer.error?.code).to.equal(GatewayErrorCodes.enclaveNotAttested);
    expect(answer.error?.message).to.include(stack.enclave.address);
    await endpoint.close();
  });
});
