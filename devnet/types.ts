/**
 * The shapes startDevnet (index.ts) takes and reports, shared by its steps (steps/*.ts): the options,
 * the progress and crash reports, and the description of the running devnet (`devnet.json`).
 */
import type { Deployment } from "../deploy/deployment-file.js";
import type { ExitInfo } from "./processes.js";

/** One step of the start, for progress output. */
export interface DevnetProgress {
  /** 1-based. */
  step: number;
  total: number;
  title: string;
}

/** A child process that exited while the devnet was up. */
export interface DevnetCrash {
  name: string;
  exit: ExitInfo;
  logFile: string;
  lastLines: string[];
}

/** A member of the devnet's committee (`--committee n`). */
export interface CommitteeMemberInfo {
  operatorId: number;
  enclave: string;
  peerId: string;
  /** Its p2p multiaddr, with /p2p/<peer id>. */
  p2p: string;
  l2Url: string;
  healthUrl: string;
  metricsUrl: string;
  stateFile: string;
  dataDir: string;
}

export interface DevnetOptions {
  /** Use this L1 instead of starting one (env L1_RPC_URL). */
  l1RpcUrl?: string;
  /** Port of the L1 node to start (default 8545). */
  l1Port?: number;
  /** Port of the sequencer's L2 JSON-RPC (default 8645). */
  l2RpcPort?: number;
  /** Port of the validator's read-only L2 JSON-RPC (default l2RpcPort + 1). */
  validatorL2RpcPort?: number;
  /** Port of the gateway (default 8745; 0: any free port). */
  gatewayPort?: number;
  /** Redis to use or start (default redis://127.0.0.1:6379). */
  redisUrl?: string;
  /** Also run a validator enclave (default false). */
  validator?: boolean;
  /** Sequence with a committee of this many operators (4, 7, 10 or 13; default 1: one sequencer). */
  committee?: number;
  /** With `committee`: sign its rollups with a threshold BLS12-381 key dealt to its enclaves (DESIGN §9.4). */
  thresholdKey?: boolean;
  /** The devnet directory (default $DEVNET_DIR or <repo>/.devnet): logs and data. */
  dir?: string;
  /** Directory of deployments/<chainId>.json (default: the deploy task's, ./deployments). */
  deploymentsDir?: string;
  /** Challenge period of a new deployment, seconds (default 60). */
  challengePeriod?: number;
  /** L2 balance each funded dev account gets, wei (default 100 ETH; 0n: no funding). */
  fundAmount?: bigint;
  /** How many dev accounts (from index 0) are funded on L2 (default 5). */
  fundAccounts?: number;
  /** L1 interval mining of a started node, ms (default 1000). */
  blockIntervalMs?: number;
  /** Sequencer batch interval, ms (default 1000). */
  batchIntervalMs?: number;
  /** Sequencer rollup interval, ms (default 5000). */
  rollupIntervalMs?: number;
  /** Bounty the validator pays for the network secret, ether (default "0"). */
  joinBountyEth?: string;
  /** LOG_LEVEL of the child processes (default "info"). */
  logLevel?: string;
  /** How long each component gets to become ready, ms (default 120 000). */
  readyTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace period when stopping, ms (default 10 000). */
  graceMs?: number;
  /** Progress: called as each step begins. */
  onProgress?: (progress: DevnetProgress) => void;
  /** Detail lines within a step. */
  onLog?: (line: string) => void;
  /** Every line a child process prints (verbose mode). */
  onOutput?: (name: string, line: string) => void;
  /** A child exited while the devnet was up (after the start; during it, the start fails instead). */
  onCrash?: (crash: DevnetCrash) => void;
  /** Aborting interrupts the start: what started is stopped and startDevnet rejects with DevnetAbortedError. */
  signal?: AbortSignal;
}

/** What `devnet.json` and the summary describe. */
export interface DevnetInfo {
  l1: { url: string; chainId: bigint; external: boolean; blockIntervalMs?: number };
  l2: { url: string; chainId: bigint; validatorUrl?: string };
  /** The gateway: its web page (`url`/) and JSON-RPC (`url`/v1/?token=…); its user store. */
  gateway: { url: string; dataDir: string };
  redis: { url: string; started: boolean };
  /** QUEUE_PREFIX of every worker and node of this devnet. */
  queuePrefix: string;
  deployment: Deployment;
  /** Address of the sequencer (genesis) enclave. */
  sequencerEnclave: string;
  /** /healthz URL of each long-running veilnet process (with a committee, `sequencer` is operator 1's). */
  health: { workers: string; sequencer: string; gateway: string; validator?: string; exporter?: string } & {
    /** With a committee: `committee-<operator id>`. */
    [member: `committee-${number}`]: string;
  };
  /** With `committee`: its members (operator 1 first). */
  committee?: CommitteeMemberInfo[];
  /** With `committee`: the exporter's JSON API and /healthz. */
  exporter?: { url: string; healthUrl: string };
  dataDir: string;
  logDir: string;
}
