/**
 * Figures of the wallet RPC path: requests per second for `eth_getBalance`, `eth_call` and `eth_getLogs`
 * answered by the enclave node's L2 JSON-RPC endpoint directly and through the gateway, and what the
 * privacy filter costs. Prints a table and writes bench/results/gateway.json.
 *
 *   npm run bench:gateway            (BENCH_GATEWAY_ROUNDS=3 for three rounds instead of two)
 *   BENCH_GATEWAY_PROFILE=<dir> npm run bench:gateway   — also a V8 CPU profile of the server process per
 *                                    cell (<dir>/<call>--<mode>.cpuprofile); its figures are then not written
 *
 * The stack is testing/gateway-stack.ts in this process: the in-process EDR L1 with Veilnet deployed, the
 * genesis enclave (attested), the L2 chain and its sequencer, the node's endpoint (L2RpcServer with the
 * enclave) and a gateway (startGateway, user store in a temp dir) whose RPC key check runs against L1.
 * The sequencer loop is stopped: the blocks below are sealed by Sequencer.produceBatch, and no block is
 * made while measuring (the gateway's block poller still asks eth_blockNumber every 500 ms).
 *
 * Chain: 300 accounts funded with ETH on L2, an ERC-20 (TestToken) minted to each of them (300 Transfer
 * events), then 3,000 token transfers between random accounts over 2,000 blocks (1–2 per block); the
 * viewer (accounts[0], bound to the gateway user and to the veil_private bindings) is the sender or the
 * recipient of 1 transfer in 25.
 *
 * Calls, all for the viewer:
 * - eth_getBalance(viewer, "latest") — the viewer's own balance;
 * - eth_call balanceOf(viewer) on the token, from the viewer, at "latest";
 * - eth_getLogs, the token's Transfers over the last 1,000 blocks: unfiltered returns all of them, the
 *   privacy filter only those naming the viewer (the result counts are printed), so the two do not
 *   move the same bytes;
 * - eth_getLogs, the token's Transfers TO the viewer over the same 1,000 blocks: visible = total, the
 *   like-for-like comparison.
 *
 * Modes (every answer checked against the unfiltered one before measuring):
 * 1. direct, unfiltered: plain JSON-RPC to an L2RpcServer with `unfiltered` (L2_RPC_UNFILTERED) — the baseline;
 * 2a. direct, channel without the filter: veil_private to a PrivateChannel whose "filter" passes every
 *    call to the unfiltered chain methods (built here, not a node setting): the channel's cost alone;
 * 2. direct, veil_private: the node's endpoint, channel + privacy rules, the request sealed as the gateway
 *    seals it (protocol/private-rpc.ts; one sealed envelope per call, resent: the enclave keeps no nonces);
 * 3. through the gateway: JSON-RPC on the user's token URL, over HTTP and over one WebSocket.
 * Load: a separate Node process (so its JSON and HTTP work is not charged to the server) keeps 16 requests
 * in flight (HTTP: keep-alive agent with 16 sockets; WebSocket: 16 ids in flight on one connection); each
 * cell is a warm-up then a fixed window, cells interleaved by rounds; rps = best round. Besides rps, the
 * server process's CPU time per request (process.cpuUsage: JS thread, EDR's threads, GC) and its main
 * thread's busy time (event loop utilization), which depend less on what else runs on the machine.
 * Overheads: the privacy filter's = 1 − rps(2)/rps(2a), what the rules cost on top of the channel (the
 * target's figure: ≤ 20%); the channel's = 1 − rps(2a)/rps(1), the encryption between gateway and enclave;
 * both together = 1 − rps(2)/rps(1); gateway = 1 − rps(3)/rps(1).
 * Then, per method, in-process timings of the parts (no HTTP, one call at a time): EDR through the chain
 * methods, the privacy filter, the channel's open + parse and seal, each handler as a whole.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createCipheriv } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";

import { getBytes, getCreateAddress, hexlify, id as eventTopic, parseEther, randomBytes, zeroPadValue } from "ethers";
import { gcm } from "@noble/ciphers/aes.js";

import { DerivationLabels } from "../enclave/crypto/derive.js";
import { Viewer } from "../enclave/privacy/viewer.js";
import type { PrivacyFilter } from "../enclave/rpc/filter.js";
import { JsonRpcHttpServer } from "../enclave/rpc/http.js";
import { RpcError, RpcErrorCode, answer } from "../enclave/rpc/jsonrpc.js";
import { PrivateChannel } from "../enclave/rpc/private.js";
import { L2RpcServer } from "../enclave/rpc/server.js";
import {
  ChannelKey,
  ChannelKeys,
  PRIVATE_RPC_METHOD,
  type PrivateRequest,
  RPC_KEY_METHOD,
  type RpcKeyAnnouncement,
  announcementSigner,
  parsePrivateRequest,
  parsePrivateResponse,
  signViewingKey,
} from "../protocol/private-rpc.js";
import { at, defined } from "../testing/defined.js";
import { MIN_FEE, joinAndBind, rpc, startStack } from "../testing/gateway-stack.js";
import { L2Account } from "./l2-account.js";
import { type Row, formatRows, resultsFile } from "./report.js";
import { TestToken__factory } from "../types/ethers-contracts/index.js";

const ACCOUNTS = 300;
const TRANSFERS = 3000;
const TRANSFER_BLOCKS = 2000;
const VIEWER_EVERY = 25;
const LOG_RANGE = 1000;
const CONCURRENCY = 16;
const WARMUP_MS = 1000;
const MEASURE_MS = 4000;
const ROUNDS = Math.max(1, Number(process.env.BENCH_GATEWAY_ROUNDS ?? 2));
const PROFILE_DIR = process.env.BENCH_GATEWAY_PROFILE;
const TARGET = 0.2;
const round = (x: number, digits = 0): number => Number(x.toFixed(digits));
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const tokenInterface = TestToken__factory.createInterface();
const TRANSFER_TOPIC = eventTopic("Transfer(address,address,uint256)");

// --- the load generator: a separate Node process, plain JavaScript, driven over IPC -------------------

/**
 * Keeps `concurrency` requests in flight for `warmupMs`, then counts the answers completed during
 * `measureMs` (telling the parent when the window opens and closes), then drains. An answer must carry
 * a result: its first 256 bytes are checked (not parsed: a 1 MB eth_getLogs answer would make the client
 * the bottleneck); the bench checks whole answers itself before measuring.
 */
const CLIENT = `
import http from "node:http";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function checked(head, n) {
  if (!/"result"\\s*:/.test(head) || /^\\{[^{]*"error"\\s*:/.test(head)) throw new Error("not a result: " + head);
  return n;
}
function httpSender(url, request, concurrency) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const body = JSON.stringify(request);
  const send = () =>
    new Promise((resolve, reject) => {
      const req = http.request(
        url,
        { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
        (res) => {
          const chunks = [];
          let n = 0;
          res.on("data", (c) => { chunks.push(c); n += c.length; });
          res.on("end", () => {
            try {
              if (res.statusCode !== 200) throw new Error("HTTP " + res.statusCode);
              resolve(checked(Buffer.concat(chunks).subarray(0, 256).toString("latin1"), n));
            } catch (e) { reject(e); }
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  return { send, close: () => agent.destroy() };
}
async function wsSender(url, request) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("websocket: cannot connect to " + url));
  });
  const pending = new Map();
  let next = 0;
  ws.onmessage = (ev) => {
    const text = typeof ev.data === "string" ? ev.data : String(ev.data);
    const head = text.slice(0, 256);
    const m = /"id"\\s*:\\s*(\\d+)/.exec(head);
    const p = m === null ? undefined : pending.get(Number(m[1]));
    if (p === undefined) return;
    pending.delete(Number(m[1]));
    try { p.resolve(checked(head, Buffer.byteLength(text))); } catch (e) { p.reject(e); }
  };
  ws.onclose = () => { for (const p of pending.values()) p.reject(new Error("websocket closed")); pending.clear(); };
  const send = () =>
    new Promise((resolve, reject) => {
      const id = ++next;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ ...request, id }));
    });
  return { send, close: () => ws.close() };
}
async function run({ kind, url, request, concurrency, warmupMs, measureMs }) {
  const sender = kind === "ws" ? await wsSender(url, request) : httpSender(url, request, concurrency);
  let phase = "warmup";
  let stop = false;
  let failure;
  let requests = 0;
  let bytes = 0;
  const loop = async () => {
    while (!stop) {
      const n = await sender.send();
      if (phase === "measure") { requests++; bytes += n; }
    }
  };
  const all = Promise.all(Array.from({ length: concurrency }, loop)).catch((e) => { failure = e; stop = true; });
  await sleep(warmupMs);
  if (failure) throw failure;
  phase = "measure";
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  process.send({ event: "open" });
  await sleep(measureMs);
  phase = "after";
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  process.send({ event: "close" });
  stop = true;
  await all;
  sender.close();
  if (failure) throw failure;
  return { requests, seconds, bytes, clientCpuMs: (cpu.user + cpu.system) / 1000 };
}
process.on("message", (m) => {
  if (m.cmd === "exit") process.exit(0);
  run(m).then(
    (r) => process.send({ event: "done", ...r }),
    (e) => process.send({ event: "failed", message: String((e && e.stack) || e) }),
  );
});
process.send({ event: "ready" });
`;

interface Measured {
  rps: number;
  requests: number;
  seconds: number;
  bytesPerResponse: number;
  /** Server process CPU (all threads) per request, µs. */
  serverCpuUs: number;
  /** Server main thread busy time per request, µs. */
  mainThreadUs: number;
  /** Load generator CPU, share of one core. */
  clientCpu: number;
}

class LoadClient {
  private constructor(private readonly child: ChildProcess) {}

  static async start(): Promise<LoadClient> {
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, ["--input-type=module", "-e", CLIENT], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env,
    });
    await new Promise<void>((resolve, reject) => {
      child.once("message", () => resolve());
      child.once("exit", (code) => reject(new Error(`the load client exited (${code})`)));
    });
    return new LoadClient(child);
  }

  measure(kind: "http" | "ws", url: string, request: unknown): Promise<Measured> {
    return new Promise((resolve, reject) => {
      let cpu0: NodeJS.CpuUsage | undefined;
      let elu0: ReturnType<typeof performance.eventLoopUtilization> | undefined;
      let cpu: NodeJS.CpuUsage | undefined;
      let elu: ReturnType<typeof performance.eventLoopUtilization> | undefined;
      const onMessage = (m: {
        event: string;
        message?: string;
        requests: number;
        seconds: number;
        bytes: number;
        clientCpuMs: number;
      }) => {
        if (m.event === "open") {
          cpu0 = process.cpuUsage();
          elu0 = performance.eventLoopUtilization();
        } else if (m.event === "close") {
          cpu = process.cpuUsage(cpu0);
          elu = performance.eventLoopUtilization(elu0);
        } else if (m.event === "failed" || m.event === "done") {
          this.child.off("message", onMessage);
          if (m.event === "failed") {
            reject(new Error(`load client: ${m.message}`));
            return;
          }
          if (m.requests === 0) {
            reject(new Error(`load client: no answer within ${MEASURE_MS} ms from ${url}`));
            return;
          }
          resolve({
            rps: m.requests / m.seconds,
            requests: m.requests,
            seconds: m.seconds,
            bytesPerResponse: m.bytes / m.requests,
            serverCpuUs: (cpu!.user + cpu!.system) / m.requests, // cpuUsage is in µs
            mainThreadUs: (elu!.active * 1000) / m.requests,
            clientCpu: m.clientCpuMs / 1000 / m.seconds,
          });
        }
      };
      this.child.on("message", onMessage);
      this.child.send({
        cmd: "run",
        kind,
        url,
        request,
        concurrency: CONCURRENCY,
        warmupMs: WARMUP_MS,
        measureMs: MEASURE_MS,
      });
    });
  }

  stop(): void {
    this.child.send({ cmd: "exit" });
  }
}

// --- the stack and its data ------------------------------------------------------------------------

const loadAtStart = loadavg();
const started = performance.now();
const stack = await startStack();
const load = await LoadClient.start();
const servers: { close(): Promise<void> }[] = [];
const rows: Row[] = [];
const cells: Record<string, Partial<Record<ModeName, Measured[]>>> = {};
/** In-process timings of the parts of one call, µs per call (and the sealed answer's size). */
interface Spans {
  chainMethodsUs: number;
  privacyFilterUs: number;
  openAndParseRequestUs: number;
  sealResponseUs: number;
  unfilteredHandlerUs: number;
  privateHandlerUs: number;
  channelOnlyHandlerUs: number;
  sealedResponseBytes: number;
}
const spans: Record<string, Spans> = {};
/** The channel's primitives on one call's answer, µs per call (and the plaintext's size). */
interface Primitives {
  plaintextBytes: number;
  nobleAesGcmEncryptUs: number;
  nodeAesGcmEncryptUs: number;
  ethersHexlifyUs: number;
  bufferToHexUs: number;
  ethersGetBytesUs: number;
  bufferFromHexUs: number;
}
const primitives: Record<string, Primitives> = {};
const counts: Record<string, { unfiltered: number; visible: number }> = {};
/** Filled in by the setup. */
const facts = { setupSeconds: 0, head: 0n };

type ModeName = "unfiltered" | "channel" | "private" | "gatewayHttp" | "gatewayWs";
const MODES: { name: ModeName; label: string }[] = [
  { name: "unfiltered", label: "1  direct, unfiltered (L2_RPC_UNFILTERED)" },
  { name: "channel", label: "2a direct, channel without the filter" },
  { name: "private", label: "2  direct, veil_private (channel + rules)" },
  { name: "gatewayHttp", label: "3  gateway, HTTP" },
  { name: "gatewayWs", label: "3  gateway, WebSocket" },
];

try {
  await stack.sequencer.stop(); // blocks are sealed below, one produceBatch at a time
  const { sequencer } = stack;
  const seal = async (raws: readonly string[], what: string): Promise<void> => {
    const hashes: string[] = [];
    for (const raw of raws) hashes.push(await sequencer.mempool.add(raw));
    while (sequencer.mempool.size > 0) {
      if ((await sequencer.produceBatch()) === undefined) throw new Error(`${what}: transactions pending, no batch`);
    }
    const lost = hashes.filter((h) => sequencer.mempool.status(h)?.status !== "included");
    const [firstLost] = lost;
    if (firstLost !== undefined) throw new Error(`${what}: ${JSON.stringify(sequencer.mempool.status(firstLost))}`);
  };

  // Root: a deposit from L1, then ETH to every account, the token, and a mint to every account.
  const root = L2Account.random();
  const viewer = L2Account.random();
  const others = Array.from({ length: ACCOUNTS - 1 }, () => L2Account.random());
  const accounts = [viewer, ...others];
  const perAccount = parseEther("0.1");
  await (
    await stack.v.bridge
      .connect(stack.v.users[0])
      .depositNative(root.address, { value: perAccount * BigInt(ACCOUNTS) + parseEther("1") })
  ).wait();
  await sequencer.produceBatch();
  if ((await stack.balance(root.address)) === 0n) throw new Error("the deposit did not arrive on L2");
  const tokenAddress = getCreateAddress({ from: root.address, nonce: root.nonce });
  const deployTx = await new TestToken__factory().getDeployTransaction("Veil Token", "VT", 18);
  await seal([root.sign(null, 0n, 3_000_000n, deployTx.data)], "token deployment");
  // The mempool takes at most 64 nonces ahead of an account's: the root's transactions go 50 per block.
  for (let i = 0; i < ACCOUNTS; i += 50) {
    const some = accounts.slice(i, i + 50);
    await seal(
      some.map((a) => root.sign(a.address, perAccount)),
      "funding",
    );
    await seal(
      some.map((a) =>
        root.sign(tokenAddress, 0n, 100_000n, tokenInterface.encodeFunctionData("mint", [a.address, 10n ** 24n])),
      ),
      "minting",
    );
  }
  // 3,000 transfers over 2,000 blocks; the viewer in 1 of 25 (alternately sending and receiving).
  const pick = (not?: L2Account): L2Account => {
    for (;;) {
      const a = at(others, Math.floor(Math.random() * others.length), "account");
      if (a !== not) return a;
    }
  };
  let made = 0;
  for (let b = 0; b < TRANSFER_BLOCKS; b++) {
    const upTo = Math.floor(((b + 1) * TRANSFERS) / TRANSFER_BLOCKS);
    const raws: string[] = [];
    for (; made < upTo; made++) {
      let from = pick();
      let to = pick(from);
      if (made % VIEWER_EVERY === 0) {
        if ((made / VIEWER_EVERY) % 2 === 0) from = viewer;
        else to = viewer;
      }
      const amount = BigInt(1 + Math.floor(Math.random() * 9999)) * 10n ** 15n;
      raws.push(
        from.sign(tokenAddress, 0n, 60_000n, tokenInterface.encodeFunctionData("transfer", [to.address, amount])),
      );
    }
    await seal(raws, `transfers of block ${b}`);
  }
  const head = BigInt((await stack.chain.provider.request({ method: "eth_blockNumber", params: [] })) as string);
  facts.head = head;
  const allTransfers = (await stack.chain.provider.request({
    method: "eth_getLogs",
    params: [{ fromBlock: "0x0", toBlock: "latest", address: tokenAddress, topics: [TRANSFER_TOPIC] }],
  })) as unknown[];
  if (allTransfers.length !== ACCOUNTS + TRANSFERS) {
    throw new Error(`the chain holds ${allTransfers.length} Transfer events, not ${ACCOUNTS + TRANSFERS}`);
  }

  // --- endpoints ------------------------------------------------------------------------------------
  const unfiltered = new L2RpcServer({
    provider: stack.chain.provider,
    mempool: sequencer.mempool,
    minPriorityFee: MIN_FEE,
    clientVersion: "bench-gateway",
    unfiltered: true,
  });
  const unfilteredUrl = await unfiltered.listen(0);
  servers.push(unfiltered);
  // The channel over the chain methods as they are: what veil_private costs without the privacy rules.
  const passThrough = {
    call: (_viewer: Viewer, method: string, params: unknown[]) => unfiltered.chain.call(method, params),
  } as unknown as PrivacyFilter;
  const channelOnly = new PrivateChannel(stack.enclave, passThrough);
  const channelServer = new JsonRpcHttpServer((request) =>
    answer(request, (method, params) => {
      if (method !== PRIVATE_RPC_METHOD) throw new RpcError(RpcErrorCode.methodNotFound, `not ${method} here`);
      return channelOnly.handle(params);
    }),
  );
  const channelUrl = await channelServer.listen(0);
  servers.push(channelServer);
  const node = stack.node.server;
  const nodeUrl = stack.node.url;

  const announcement = (await rpc(nodeUrl, RPC_KEY_METHOD)).result as RpcKeyAnnouncement;
  const signer = announcementSigner(announcement);
  if (!(await stack.v.enclaveRegistry.isAttested(signer)))
    throw new Error(`the RPC key's signer ${signer} is not attested`);
  const viewingKey = ChannelKey.generate();
  const binding = await signViewingKey(viewer.wallet, viewingKey.publicKey);
  const keys = ChannelKeys.forViewer(viewingKey, announcement.publicKey);
  const envelope = (method: string, params: unknown[]): string =>
    keys.seal("request", { method, params, bindings: [binding] } satisfies PrivateRequest);

  const gateway = await stack.gateway({ GATEWAY_POLL_MS: 500 });
  await gateway.ready;
  const token = await joinAndBind(gateway, [viewer.wallet]);
  const gatewayHttp = gateway.rpcUrl(token);
  const gatewayWs = gateway.rpcUrl(token, "ws");

  // --- the calls ------------------------------------------------------------------------------------
  const viewerTopic = zeroPadValue(viewer.address.toLowerCase(), 32);
  const range = { fromBlock: `0x${(head - BigInt(LOG_RANGE) + 1n).toString(16)}`, toBlock: `0x${head.toString(16)}` };
  const calls: { name: string; method: string; params: unknown[]; equalVolume: boolean }[] = [
    { name: "eth_getBalance", method: "eth_getBalance", params: [viewer.address, "latest"], equalVolume: true },
    {
      name: "eth_call",
      method: "eth_call",
      params: [
        {
          from: viewer.address,
          to: tokenAddress,
          data: tokenInterface.encodeFunctionData("balanceOf", [viewer.address]),
        },
        "latest",
      ],
      equalVolume: true,
    },
    {
      name: `eth_getLogs, all Transfers, ${LOG_RANGE} blocks`,
      method: "eth_getLogs",
      params: [{ ...range, address: tokenAddress, topics: [TRANSFER_TOPIC] }],
      equalVolume: false,
    },
    {
      name: `eth_getLogs, Transfers to the viewer, ${LOG_RANGE} blocks`,
      method: "eth_getLogs",
      params: [{ ...range, address: tokenAddress, topics: [TRANSFER_TOPIC, null, viewerTopic] }],
      equalVolume: true,
    },
  ];

  /** What each mode sends for a call (JSON-RPC request objects; id 1, the WebSocket client numbers them). */
  const requests = (
    c: (typeof calls)[number],
  ): Record<ModeName, { kind: "http" | "ws"; url: string; request: object }> => {
    const plain = { jsonrpc: "2.0", id: 1, method: c.method, params: c.params };
    const sealed = { jsonrpc: "2.0", id: 1, method: PRIVATE_RPC_METHOD, params: [envelope(c.method, c.params)] };
    return {
      unfiltered: { kind: "http", url: unfilteredUrl, request: plain },
      channel: { kind: "http", url: channelUrl, request: sealed },
      private: { kind: "http", url: nodeUrl, request: sealed },
      gatewayHttp: { kind: "http", url: gatewayHttp, request: plain },
      gatewayWs: { kind: "ws", url: gatewayWs, request: plain },
    };
  };

  // --- correctness: every mode's answer against the unfiltered one ----------------------------------
  const openSealed = (result: unknown): unknown => {
    const response = parsePrivateResponse(keys.open("response", result as string));
    if ("error" in response) throw new Error(`veil_private answered an error: ${response.error.message}`);
    return response.result;
  };
  const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const named = (log: { topics: string[] }) => log.topics.slice(1, 3).some((t) => t.toLowerCase() === viewerTopic);
  for (const c of calls) {
    const modes = requests(c);
    const plain = await rpc(unfilteredUrl, c.method, c.params);
    if (plain.error !== undefined) throw new Error(`${c.name}, unfiltered: ${plain.error.message}`);
    const expected = c.method === "eth_getLogs" ? (plain.result as { topics: string[] }[]).filter(named) : plain.result;
    const answers: Record<string, unknown> = {};
    for (const m of ["channel", "private"] as const) {
      const r = await rpc(modes[m].url, PRIVATE_RPC_METHOD, (modes[m].request as { params: unknown[] }).params);
      if (r.error !== undefined) throw new Error(`${c.name}, ${m}: ${r.error.message}`);
      answers[m] = openSealed(r.result);
    }
    const viaGateway = await rpc(gatewayHttp, c.method, c.params);
    if (viaGateway.error !== undefined) throw new Error(`${c.name}, gateway: ${viaGateway.error.message}`);
    answers.gateway = viaGateway.result;
    if (!sameJson(answers.channel, plain.result)) throw new Error(`${c.name}: the channel alone changes the answer`);
    if (!sameJson(answers.private, expected))
      throw new Error(`${c.name}: veil_private does not answer what the rules allow`);
    if (!sameJson(answers.gateway, expected))
      throw new Error(`${c.name}: the gateway does not answer what the rules allow`);
    if (c.method === "eth_getLogs") {
      const total = (plain.result as unknown[]).length;
      const visible = (answers.private as unknown[]).length;
      if (c.equalVolume !== (total === visible)) throw new Error(`${c.name}: ${visible} of ${total} logs visible`);
      if (visible === 0) throw new Error(`${c.name}: the viewer sees no log`);
      counts[c.name] = { unfiltered: total, visible };
    }
  }
  facts.setupSeconds = (performance.now() - started) / 1000;

  // --- measuring: rounds of every (call, mode) -------------------------------------------------------
  let profiler: Session | undefined;
  if (PROFILE_DIR !== undefined) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    profiler = new Session();
    profiler.connect();
    await profiler.post("Profiler.enable");
    await profiler.post("Profiler.setSamplingInterval", { interval: 100 });
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of calls) {
      const modes = requests(c);
      for (const { name } of MODES) {
        if (profiler !== undefined) await profiler.post("Profiler.start");
        const m = await load.measure(modes[name].kind, modes[name].url, modes[name].request);
        if (profiler !== undefined) {
          const { profile } = await profiler.post("Profiler.stop");
          const file = `${c.name.replace(/[^a-zA-Z0-9]+/g, "-")}--${name}.cpuprofile`;
          writeFileSync(join(PROFILE_DIR!, file), JSON.stringify(profile));
        }
        ((cells[c.name] ??= {})[name] ??= []).push(m);
        console.log(
          `round ${r + 1}/${ROUNDS}  ${c.name.padEnd(46)} ${name.padEnd(12)} ${Math.round(m.rps).toString().padStart(6)} rps  ` +
            `server CPU ${Math.round(m.serverCpuUs)} µs/req, client ${pct(m.clientCpu)} of a core`,
        );
      }
    }
  }

  // --- in-process timings of the parts --------------------------------------------------------------
  const timeIt = async (fn: () => Promise<unknown> | unknown): Promise<number> => {
    for (let t = performance.now(); performance.now() - t < 200;) await fn();
    let n = 0;
    const t = performance.now();
    while (performance.now() - t < 600 || n < 5) {
      await fn();
      n++;
    }
    return ((performance.now() - t) * 1000) / n; // µs per call
  };
  const rpcKey = ChannelKey.fromPrivateKey(stack.enclave.derive(DerivationLabels.rpc));
  const enclaveKeys = ChannelKeys.forEnclave(rpcKey, viewingKey.publicKey);
  const viewerSet = new Viewer([viewer.address]);
  const bigintJson = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x));
  for (const c of calls) {
    const sealedRequest = envelope(c.method, c.params);
    const result = await node.filter.call(viewerSet, c.method, c.params);
    const sealedResponse = enclaveKeys.seal("response", { result });
    const plainRequest = { jsonrpc: "2.0", id: 1, method: c.method, params: c.params };
    const privateRequest = { jsonrpc: "2.0", id: 1, method: PRIVATE_RPC_METHOD, params: [sealedRequest] };
    spans[c.name] = {
      chainMethodsUs: await timeIt(() => unfiltered.chain.call(c.method, c.params)),
      privacyFilterUs: await timeIt(() => node.filter.call(viewerSet, c.method, c.params)),
      openAndParseRequestUs: await timeIt(() => parsePrivateRequest(enclaveKeys.open("request", sealedRequest))),
      sealResponseUs: await timeIt(() => enclaveKeys.seal("response", { result })),
      unfilteredHandlerUs: await timeIt(async () => bigintJson(await unfiltered.handle(plainRequest))),
      privateHandlerUs: await timeIt(async () => bigintJson(await node.handle(privateRequest))),
      channelOnlyHandlerUs: await timeIt(async () =>
        bigintJson(await answer(privateRequest, (_m, p) => channelOnly.handle(p))),
      ),
      sealedResponseBytes: (sealedResponse.length - 2) / 2,
    };
    // The channel's primitives on this answer (its JSON, as seal() encrypts it): the implementations
    // protocol/private-rpc.ts uses (noble's AES-GCM, ethers' hex) beside Node's (OpenSSL, Buffer).
    const plaintext = Buffer.from(bigintJson({ result }));
    const aesKey = randomBytes(32);
    const nonce = randomBytes(12);
    const ciphertext = gcm(aesKey, nonce).encrypt(plaintext);
    const hex = hexlify(ciphertext);
    primitives[c.name] = {
      plaintextBytes: plaintext.length,
      nobleAesGcmEncryptUs: await timeIt(() => gcm(aesKey, nonce).encrypt(plaintext)),
      nodeAesGcmEncryptUs: await timeIt(() => {
        const cipher = createCipheriv("aes-256-gcm", aesKey, nonce);
        return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
      }),
      ethersHexlifyUs: await timeIt(() => hexlify(ciphertext)),
      bufferToHexUs: await timeIt(() => Buffer.from(ciphertext).toString("hex")),
      ethersGetBytesUs: await timeIt(() => getBytes(hex)),
      bufferFromHexUs: await timeIt(() => Buffer.from(hex.slice(2), "hex")),
    };
  }
} finally {
  load.stop();
  for (const s of servers) await s.close();
  await stack.close();
}

// --- figures ---------------------------------------------------------------------------------------

const best = (ms: Measured[]): Measured => ms.reduce((a, b) => (b.rps > a.rps ? b : a));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const upper = at(s, mid, "a value for the median");
  return s.length % 2 === 1 ? upper : (at(s, mid - 1, "a value for the median") + upper) / 2;
};
/** The rounds of `call` in mode `m`: every (call, mode) is measured ROUNDS times. */
const roundsOf = (byMode: Partial<Record<ModeName, Measured[]>>, m: ModeName, call: string): Measured[] =>
  defined(byMode[m], `rounds of ${call} in mode ${m}`);
interface Summary {
  rps: Record<ModeName, number>;
  serverCpuUsPerRequest: Record<ModeName, number>;
  /** 1 − rps(2)/rps(1): channel and rules together. */
  privacyOverhead: number;
  /** 1 − rps(2)/rps(2a): the privacy filter's (the rules') overhead, the target's figure. */
  filterOverhead: number;
  ok: boolean;
  /** 1 − rps(2a)/rps(1): the channel's (encryption, JSON) overhead. */
  channelOverhead: number;
  /** Whether modes 1/2a and 2 move the same logs (false: the filter drops most of them). */
  sameVolume: boolean;
  /** 1 − CPU(1)/CPU(2), server CPU per request. */
  privacyOverheadByCpu: number;
  gatewayOverheadHttp: number;
  gatewayOverheadWs: number;
  /** CPU per request the gateway adds to the enclave's veil_private (same process), µs. */
  gatewayCpuUsHttp: number;
  gatewayCpuUsWs: number;
  logs?: { unfiltered: number; visible: number };
}
const summary: Record<string, Summary> = {};
for (const [call, byMode] of Object.entries(cells)) {
  const rps = (m: ModeName) => best(roundsOf(byMode, m, call)).rps;
  const cpu = (m: ModeName) => median(roundsOf(byMode, m, call).map((x) => x.serverCpuUs));
  const n = counts[call];
  const sameVolume = n === undefined || n.unfiltered === n.visible;
  const privacy = 1 - rps("private") / rps("unfiltered");
  summary[call] = {
    rps: Object.fromEntries(MODES.map((m) => [m.name, round(rps(m.name))])) as Record<ModeName, number>,
    serverCpuUsPerRequest: Object.fromEntries(MODES.map((m) => [m.name, round(cpu(m.name))])) as Record<
      ModeName,
      number
    >,
    privacyOverhead: round(privacy, 3),
    filterOverhead: round(1 - rps("private") / rps("channel"), 3),
    ok: 1 - rps("private") / rps("channel") <= TARGET,
    channelOverhead: round(1 - rps("channel") / rps("unfiltered"), 3),
    sameVolume,
    privacyOverheadByCpu: round(1 - cpu("unfiltered") / cpu("private"), 3),
    gatewayOverheadHttp: round(1 - rps("gatewayHttp") / rps("unfiltered"), 3),
    gatewayOverheadWs: round(1 - rps("gatewayWs") / rps("unfiltered"), 3),
    gatewayCpuUsHttp: round(cpu("gatewayHttp") - cpu("private")),
    gatewayCpuUsWs: round(cpu("gatewayWs") - cpu("private")),
    ...(n === undefined ? {} : { logs: n }),
  };
}
const splitText = (s: Summary): string => {
  const split = `channel ${pct(s.channelOverhead)}, rules ${pct(s.filterOverhead)}`;
  return s.sameVolume
    ? split
    : `${split}, but the channel alone seals all ${s.logs!.unfiltered} logs and veil_private ${s.logs!.visible}: see the in-process table`;
};
for (const [call, s] of Object.entries(summary)) {
  const volume =
    s.logs === undefined
      ? ""
      : s.logs.unfiltered === s.logs.visible
        ? `; ${s.logs.visible} logs in every mode (like for like)`
        : `; unfiltered answers ${s.logs.unfiltered} logs, veil_private ${s.logs.visible} (the viewer's): ${Math.round(s.logs.unfiltered / s.logs.visible)}× fewer to serialize and send, which favours modes 2 and 3`;
  rows.push({
    figure: `${call}: privacy filter overhead (the rules)`,
    value: round(s.filterOverhead * 100, 1),
    unit: "%",
    target: "<= 20%",
    ok: s.ok,
    note: `rps ${s.rps.channel} through the channel without the filter → ${s.rps.private} veil_private with it${volume}`,
  });
  rows.push({
    figure: `${call}: private channel + rules, against unfiltered`,
    value: round(s.privacyOverhead * 100, 1),
    unit: "%",
    note: `rps ${s.rps.unfiltered} unfiltered → ${s.rps.private} veil_private; ${splitText(s)}; by server CPU per request ${pct(s.privacyOverheadByCpu)}`,
  });
  rows.push({
    figure: `${call}: gateway overhead (HTTP)`,
    value: round(s.gatewayOverheadHttp * 100, 1),
    unit: "%",
    note: `rps ${s.rps.gatewayHttp} through the gateway over HTTP, ${s.rps.gatewayWs} over WebSocket (overhead ${pct(s.gatewayOverheadWs)}); the gateway adds ${s.gatewayCpuUsHttp} µs CPU per request (HTTP), ${s.gatewayCpuUsWs} µs (WebSocket) to veil_private's, in the same process`,
  });
}

const line = (s = "") => console.log(s);
line(
  `\nVeilnet wallet RPC — enclave endpoint and gateway in one process, load from another (${CONCURRENCY} in flight)\n`,
);
line(
  `chain: ${ACCOUNTS} accounts, ${ACCOUNTS + TRANSFERS} ERC-20 Transfer events over ${TRANSFER_BLOCKS} blocks (head ${facts.head}); viewer in 1 of ${VIEWER_EVERY} transfers`,
);
line(
  `rps = best of ${ROUNDS} rounds (${WARMUP_MS / 1000} s warm-up + ${MEASURE_MS / 1000} s each); rounds = each round's rps`,
);
line(
  "CPU µs/req = the server process's CPU time (all threads) per answer, JS µs/req = its main thread's busy time per",
);
line("answer (event-loop utilization), both the median of the rounds; bytes/answer = the HTTP or WebSocket body\n");
for (const [call, byMode] of Object.entries(cells)) {
  line(
    call + (counts[call] ? `   (logs: ${counts[call].unfiltered} unfiltered, ${counts[call].visible} visible)` : ""),
  );
  line(
    `  ${"mode".padEnd(44)} ${"rps".padStart(7)} ${"rounds".padStart(15)} ${"CPU µs/req".padStart(11)} ${"JS µs/req".padStart(10)} ${"bytes/answer".padStart(13)}`,
  );
  for (const m of MODES) {
    const ms = roundsOf(byMode, m.name, call);
    line(
      `  ${m.label.padEnd(44)} ${Math.round(best(ms).rps).toLocaleString("en-US").padStart(7)} ${ms
        .map((x) => Math.round(x.rps))
        .join(" / ")
        .padStart(15)} ${Math.round(median(ms.map((x) => x.serverCpuUs)))
        .toLocaleString("en-US")
        .padStart(11)} ${Math.round(median(ms.map((x) => x.mainThreadUs)))
        .toLocaleString("en-US")
        .padStart(10)} ${Math.round(best(ms).bytesPerResponse).toLocaleString("en-US").padStart(13)}`,
    );
  }
  const s = defined(summary[call], `the summary of ${call}`);
  line(
    `  privacy filter (rules) ${pct(s.filterOverhead)} ${s.ok ? "ok" : "MISSED"} (target ≤ 20%); channel + rules ${pct(s.privacyOverhead)} against unfiltered (${splitText(s)}); by CPU/req ${pct(s.privacyOverheadByCpu)}`,
  );
  line(
    `  gateway overhead ${pct(s.gatewayOverheadHttp)} (HTTP), ${pct(s.gatewayOverheadWs)} (WebSocket); the gateway's own CPU ${s.gatewayCpuUsHttp} / ${s.gatewayCpuUsWs} µs per request\n`,
  );
}
line("in-process, one call at a time (µs per call):");
line(
  `  ${"call".padEnd(46)} ${"chain".padStart(7)} ${"filter".padStart(7)} ${"open+parse".padStart(10)} ${"seal".padStart(7)} ${"handler: plain".padStart(14)} ${"channel".padStart(8)} ${"private".padStart(8)}`,
);
for (const [call, s] of Object.entries(spans)) {
  const f = (x: number, w: number) => Math.round(x).toLocaleString("en-US").padStart(w);
  line(
    `  ${call.padEnd(46)} ${f(s.chainMethodsUs, 7)} ${f(s.privacyFilterUs, 7)} ${f(s.openAndParseRequestUs, 10)} ${f(s.sealResponseUs, 7)} ${f(s.unfilteredHandlerUs, 14)} ${f(s.channelOnlyHandlerUs, 8)} ${f(s.privateHandlerUs, 8)}`,
  );
}
line(
  "  chain = ChainMethods.call (EDR); filter = PrivacyFilter.call (EDR + rules); open+parse and seal = the enclave's side of",
);
line("  the channel (ChannelKeys.open + parsePrivateRequest, ChannelKeys.seal); handler = the whole answer + its JSON");
line("\nthe channel's primitives on each answer (µs): protocol/private-rpc.ts's implementation beside Node's own");
line(
  `  ${"call".padEnd(46)} ${"bytes".padStart(8)} ${"AES-GCM noble".padStart(13)} ${"node".padStart(6)} ${"hexlify".padStart(8)} ${"Buffer".padStart(7)} ${"getBytes".padStart(9)} ${"Buffer".padStart(7)}`,
);
for (const [call, p] of Object.entries(primitives)) {
  const f = (x: number, w: number) => Math.round(x).toLocaleString("en-US").padStart(w);
  line(
    `  ${call.padEnd(46)} ${f(p.plaintextBytes, 8)} ${f(p.nobleAesGcmEncryptUs, 13)} ${f(p.nodeAesGcmEncryptUs, 6)} ${f(p.ethersHexlifyUs, 8)} ${f(p.bufferToHexUs, 7)} ${f(p.ethersGetBytesUs, 9)} ${f(p.bufferFromHexUs, 7)}`,
  );
}
line(
  "  a seal is one AES-GCM + one hexlify, an open one getBytes + one AES-GCM; through the gateway, both on both sides",
);
line("\nfigures:");
for (const l of formatRows(rows, { value: 7, unit: 3 })) line(l);
const loadAtEnd = loadavg();
line(
  `\nload average at start ${loadAtStart.map((x) => x.toFixed(2)).join(" ")}, at end ${loadAtEnd.map((x) => x.toFixed(2)).join(" ")} (${cpus().length} CPUs)`,
);

const out = resultsFile("gateway");
mkdirSync(dirname(out), { recursive: true });
if (PROFILE_DIR !== undefined) {
  line(`\nprofiles in ${PROFILE_DIR}; figures measured under the profiler, so ${out} is not written`);
} else {
  writeFileSync(
    out,
    JSON.stringify(
      {
        measuredAt: new Date().toISOString(),
        machine: {
          cpus: cpus().length,
          cpu: cpus()[0]?.model,
          node: process.version,
          loadAverageAtStart: loadAtStart.map((x) => round(x, 2)),
          loadAverageAtEnd: loadAtEnd.map((x) => round(x, 2)),
        },
        settings: {
          accounts: ACCOUNTS,
          transferEvents: ACCOUNTS + TRANSFERS,
          transferBlocks: TRANSFER_BLOCKS,
          head: Number(facts.head),
          viewerShare: `1 in ${VIEWER_EVERY} transfers`,
          logRangeBlocks: LOG_RANGE,
          concurrency: CONCURRENCY,
          warmupMs: WARMUP_MS,
          measureMs: MEASURE_MS,
          rounds: ROUNDS,
          rps: "best round",
          load: "a separate Node process: HTTP keep-alive agent with 16 sockets, or one WebSocket with 16 ids in flight",
          server:
            "one process: EDR L2, node endpoints (unfiltered, channel-only, veil_private) and the gateway; sequencer loop stopped",
          setupSeconds: round(facts.setupSeconds, 1),
        },
        rows,
        summary,
        cells: Object.fromEntries(
          Object.entries(cells).map(([call, byMode]) => [
            call,
            Object.fromEntries(
              Object.entries(byMode).map(([m, ms]) => [
                m,
                ms.map((x) => ({
                  rps: round(x.rps),
                  serverCpuUs: round(x.serverCpuUs),
                  mainThreadUs: round(x.mainThreadUs),
                  bytesPerResponse: round(x.bytesPerResponse),
                  clientCpu: round(x.clientCpu, 2),
                })),
              ]),
            ),
          ]),
        ),
        primitivesUs: Object.fromEntries(
          Object.entries(primitives).map(([call, p]) => [
            call,
            Object.fromEntries(Object.entries(p).map(([k, v]) => [k, round(v, 1)])),
          ]),
        ),
        spansUs: Object.fromEntries(
          Object.entries(spans).map(([call, s]) => [
            call,
            Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v)])),
          ]),
        ),
      },
      null,
      2,
    ) + "\n",
  );
  console.log(`\nwritten ${out}`);
}
