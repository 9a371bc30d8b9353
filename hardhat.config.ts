import { createRequire } from "node:module";

import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig } from "hardhat/config";

import { veilnetTasks } from "./tasks/index.js";

const require = createRequire(import.meta.url);

/**
 * No compiler download on these machines: compile with the npm `solc` package
 * (soljson.js), whose version must equal the one declared here.
 */
const solcVersion: string = (require("solc/package.json") as { version: string }).version;
const solcPath = require.resolve("solc/soljson.js");

/** `FORK_URL=… npm test` runs the whole suite against a fork of that chain. */
const forkUrl = process.env.FORK_URL;
const forkBlock = process.env.FORK_BLOCK_NUMBER;

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  tasks: veilnetTasks,
  solidity: {
    profiles: {
      default: {
        version: solcVersion,
        path: solcPath,
        settings: {
          optimizer: { enabled: true, runs: 10_000 },
          evmVersion: "cancun",
        },
      },
      production: {
        version: solcVersion,
        path: solcPath,
        settings: {
          optimizer: { enabled: true, runs: 10_000 },
          evmVersion: "cancun",
        },
      },
    },
  },
  paths: {
    tests: {
      mocha: "./test",
      solidity: "./contracts/test",
    },
  },
  test: {
    mocha: { timeout: 120_000 },
    solidity: {
      fuzz: { runs: 256 },
    },
  },
  networks: {
    hardhatMainnet: {
      type: "edr-simulated",
      chainType: "l1",
    },
    default: {
      type: "edr-simulated",
      chainType: "l1",
      ...(forkUrl !== undefined && forkUrl !== ""
        ? {
            forking: {
              url: forkUrl,
              ...(forkBlock !== undefined && forkBlock !== "" ? { blockNumber: Number(forkBlock) } : {}),
            },
          }
        : {}),
    },
    localhost: {
      type: "http",
      chainType: "l1",
      url: process.env.L1_RPC_URL ?? "http://127.0.0.1:8545",
    },
    sepolia: {
      type: "http",
      chainType: "l1",
      url: configVariable("SEPOLIA_RPC_URL"),
      accounts: [configVariable("SEPOLIA_PRIVATE_KEY")],
    },
  },
});
