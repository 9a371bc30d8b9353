/** One TxSender per signing key per process: workers in one process share it (platform/tx-sender/shared.ts). */
import { expect } from "chai";
import { JsonRpcProvider, Wallet } from "ethers";
import { Redis } from "ioredis";
import { Registry } from "prom-client";

import { commonConfigSchema, parseConfig } from "../../platform/config.js";
import { silentLogger } from "../../platform/logger.js";
import { acquireSender } from "../../platform/tx-sender/shared.js";

describe("shared TxSender", () => {
  const redis = new Redis("redis://127.0.0.1:6379", { lazyConnect: true });
  const provider = new JsonRpcProvider("http://127.0.0.1:1", 31337, { staticNetwork: true });
  const keyA = Wallet.createRandom().privateKey;
  const keyB = Wallet.createRandom().privateKey;
  function ctx(key: string) {
    const source = { L1_RPC_URL: "http://127.0.0.1:1", SIGNER_PRIVATE_KEY: key, QUEUE_PREFIX: "t-shared" };
    return {
      provider,
      redis,
      config: parseConfig(commonConfigSchema, source),
      logger: silentLogger(),
      metrics: new Registry(),
      source,
    };
  }

  after(() => {
    provider.destroy();
    redis.disconnect();
  });

  it("gives workers signing with the same key one sender, stopped by the last release", async () => {
    const first = acquireSender(ctx(keyA));
    const second = acquireSender(ctx(keyA));
    const other = acquireSender(ctx(keyB));
    expect(second.sender).to.equal(first.sender);
    expect(other.sender).to.not.equal(first.sender);

    await first.release();
    await first.release(); // a second release by the same user changes nothing
    expect(first.sender.isStopped).to.equal(false);
    await second.release();
    expect(first.sender.isStopped).to.equal(true);

    const again = acquireSender(ctx(keyA));
    expect(again.sender).to.not.equal(first.sender);
    await again.release();
    await other.release();
  });
});
