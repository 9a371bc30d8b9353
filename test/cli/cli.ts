/**
 * The `veilnet` CLI (bin/veilnet.mjs run as a child process): help texts listing the settings, and the
 * dead-letter commands (`dead-letters`, `redrive`) against the real Redis with a private QUEUE_PREFIX.
 */
import { expect } from "chai";
import type { Queue, Worker } from "bullmq";
import { hexlify, randomBytes } from "ethers";

import { type DeadLetter, UnrecoverableError, createConsumer, createQueue } from "../../platform/queues.js";
import { queueSettings } from "../../platform/runtime.js";
import { silentLogger } from "../../platform/logger.js";
import { deleteKeys, spawnVeilnet, waitFor } from "../../testing/worker-process.js";

const REDIS_URL = "redis://127.0.0.1:6379";

async function veilnet(args: string[], env: Record<string, string> = {}) {
  const p = spawnVeilnet(args, env);
  const { code } = await p.waitForExit(30_000);
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

describe("veilnet CLI", function () {
  this.timeout(60_000);

  describe("help", () => {
    it("lists the commands", async () => {
      const { code, stdout } = await veilnet(["--help"]);
      expect(code).to.equal(0);
      for (const command of [
        "worker [options] <name>",
        "workers [options]",
        "redrive [options] <queue>",
        "dead-letters",
      ]) {
        expect(stdout).to.contain(command);
      }
    });

    it("worker --help lists the workers, the common settings and each worker's own", async () => {
      const { code, stdout } = await veilnet(["worker", "--help"]);
      expect(code).to.equal(0);
      for (const name of ["event-subscriber", "secret-responder", "withdrawal-processor"]) {
        expect(stdout).to.match(new RegExp(`^  ${name} `, "m"));
      }
      for (const v of [
        "L1_RPC_URL",
        "REDIS_URL",
        "VEILNET_DEPLOYMENTS_DIR",
        "METRICS_PORT",
        "LOG_LEVEL",
        "QUEUE_PREFIX",
        "JOB_ATTEMPTS",
        "JOB_BACKOFF_MS",
        "SHUTDOWN_TIMEOUT_MS",
      ]) {
        expect(stdout).to.match(new RegExp(`^  ${v} +\\S`, "m"), v);
      }
      expect(stdout).to.match(/^ {2}L1_RPC_URL +L1 JSON-RPC endpoint .*\(required\)$/m);
      expect(stdout).to.match(/^ {2}JOB_ATTEMPTS +.*\(default: 5\)$/m);
      // Workers' own settings (those that send transactions need a key).
      expect(stdout).to.match(/^withdrawal-processor:\n {2}SIGNER_PRIVATE_KEY +.*\(required\)$/m);
      expect(stdout).to.match(/^secret-responder:\n {2}SIGNER_PRIVATE_KEY +.*\(required\)$/m);
      expect(stdout).not.to.contain("VEILNET_TEST_CRASH_POINT");
    });

    it("worker <name> --help lists only that worker's own settings", async () => {
      const { code, stdout } = await veilnet(["worker", "withdrawal-processor", "--help"]);
      expect(code).to.equal(0);
      expect(stdout).to.contain("\nwithdrawal-processor:\n");
      expect(stdout).not.to.contain("\nsecret-responder:\n");
    });

    it("redrive --help and dead-letters --help list the queues and Redis settings", async () => {
      for (const command of ["redrive", "dead-letters"]) {
        const { code, stdout } = await veilnet([command, "--help"]);
        expect(code).to.equal(0);
        expect(stdout).to.contain("Queues: secret-requests, rollups, withdrawals");
        expect(stdout).to.match(/^ {2}REDIS_URL +/m);
        expect(stdout).to.match(/^ {2}QUEUE_PREFIX +/m);
        expect(stdout).not.to.match(/^ {2}L1_RPC_URL/m);
      }
    });

    it("a missing argument is a usage error (exit code 2)", async () => {
      const { code, stderr } = await veilnet(["redrive"]);
      expect(code).to.equal(2);
      expect(stderr).to.contain("error: missing required argument 'queue'");
    });

    it("an unknown command is a usage error (exit code 2)", async () => {
      const { code, stderr } = await veilnet(["frobnicate"]);
      expect(code).to.equal(2);
      expect(stderr).to.contain("error: unknown command 'frobnicate'");
    });
  });

  describe("dead letters", () => {
    const prefix = `t-cli-${hexlify(randomBytes(4)).slice(2)}`;
    const settings = queueSettings({ REDIS_URL, QUEUE_PREFIX: prefix, JOB_ATTEMPTS: 1, JOB_BACKOFF_MS: 10 });
    const env = { REDIS_URL, QUEUE_PREFIX: prefix };
    let queue: Queue<{ n: number }>;
    let worker: Worker<{ n: number }>;
    let dead: Queue<DeadLetter<{ n: number }>>;
    let handled: number[];

    before(async () => {
      handled = [];
      queue = createQueue<{ n: number }>("rollups", settings);
      const consumer = createConsumer<{ n: number }>(
        "rollups",
        async (job) => {
          handled.push(job.data.n);
          if (handled.filter((n) => n === job.data.n).length === 1) {
            throw new UnrecoverableError(`job ${job.data.n} cannot be handled yet`);
          }
        },
        settings,
        { logger: silentLogger() },
      );
      worker = consumer.worker;
      dead = consumer.deadLetters;
      void worker.run();
      await queue.add("job", { n: 1 }, { jobId: "job-1" });
      await queue.add("job", { n: 2 }, { jobId: "job-2" });
      await waitFor("two dead letters", async () => (await dead.getWaitingCount()) === 2);
    });

    after(async () => {
      await Promise.all([worker.close(), queue.close(), dead.close()]);
      await deleteKeys(REDIS_URL, prefix);
    });

    it("dead-letters lists them with their reasons", async () => {
      const { code, stdout } = await veilnet(["dead-letters", "rollups"], env);
      expect(code).to.equal(0);
      const lines = stdout.trim().split("\n");
      expect(lines[0]).to.equal("2 dead-lettered job(s) in rollups-dead");
      expect(lines.slice(1).sort()).to.have.length(2);
      for (const n of [1, 2]) {
        expect(lines).to.satisfy((ls: string[]) =>
          ls.some((l) =>
            new RegExp(`^ {2}job-${n} {2}job {2}attempts=1 {2}failed=\\S+Z {2}job ${n} cannot be handled yet$`).test(l),
          ),
        );
      }
    });

    it("dead-letters --json prints them as JSON", async () => {
      const { code, stdout } = await veilnet(["dead-letters", "rollups", "--json"], env);
      expect(code).to.equal(0);
      const letters = (JSON.parse(stdout) as DeadLetter<{ n: number }>[]).sort((a, b) => a.data.n - b.data.n);
      expect(letters.map((l) => [l.queue, l.jobId, l.data.n, l.failedReason, l.attemptsMade])).to.deep.equal([
        ["rollups", "job-1", 1, "job 1 cannot be handled yet", 1],
        ["rollups", "job-2", 2, "job 2 cannot be handled yet", 1],
      ]);
    });

    it("dead-letters of an empty queue", async () => {
      const { code, stdout } = await veilnet(["dead-letters", "withdrawals"], env);
      expect(code).to.equal(0);
      expect(stdout).to.equal("0 dead-lettered job(s) in withdrawals-dead\n");
    });

    it("redrive moves them back, the consumer handles them, and the dead-letter queue is empty", async () => {
      const { code, stdout } = await veilnet(["redrive", "rollups"], env);
      expect(code).to.equal(0);
      const lines = stdout.trim().split("\n");
      expect(lines[0]).to.equal("re-drove 2 job(s) from rollups-dead to rollups");
      expect(
        lines
          .slice(1)
          .map((l) => l.trim())
          .sort(),
      ).to.deep.equal(["job-1", "job-2"]);
      await waitFor("both jobs completed", async () => (await queue.getCompletedCount()) === 2);
      expect(handled.sort()).to.deep.equal([1, 1, 2, 2]);
      expect(await dead.getWaitingCount()).to.equal(0);

      const again = await veilnet(["redrive", "rollups"], env);
      expect(again.code).to.equal(0);
      expect(again.stdout).to.equal("re-drove 0 job(s) from rollups-dead to rollups\n");
    });
  });
});
