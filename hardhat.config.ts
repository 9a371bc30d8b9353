import { createRequire } from "node:module";

import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig } from "hardhat/config";

import { L2_CHAIN_ID, L2_GENESIS_TIMESTAMP, L2Predeploys } from "./protocol/predeploys.js";
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
    // The governance TimelockController is OpenZeppelin's, unmodified: built from the package for its artifact.
    // The others are built for their ABIs (TypeChain factories) only: the ERC-20 interface the tools speak to
    // tokens through, and the OpenZeppelin declarations of the errors a Veilnet contract may revert with
    // (platform/revert.ts decodes them from these, not from the Veilnet contracts' full ABIs).
    npmFilesToBuild: [
      "@openzeppelin/contracts/governance/TimelockController.sol",
      "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol",
      "@openzeppelin/contracts/interfaces/draft-IERC6093.sol",
      "@openzeppelin/contracts/access/extensions/IAccessControlDefaultAdminRules.sol",
      "@openzeppelin/contracts/utils/Pausable.sol",
      "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol",
      "@openzeppelin/contracts/utils/Nonces.sol",
      "@openzeppelin/contracts/utils/Errors.sol",
      "@openzeppelin/contracts/utils/ShortStrings.sol",
      "@openzeppelin/contracts/utils/math/SafeCast.sol",
      "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol",
    ],
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
    /**
     * The L2 chain an enclave executes on (enclave/execution): Hardhat's EDR in-process, mining only
     * when the enclave seals a batch, FIFO (the enclave orders transactions itself), no funded
     * accounts, base fee 0 and the fee collector as coinbase (every L2 fee goes to it).
     */
    veilnetL2: {
      type: "edr-simulated",
      chainType: "l1",
      chainId: Number(L2_CHAIN_ID),
      accounts: [],
      initialBaseFeePerGas: 0n,
      coinbase: L2Predeploys.feeCollector,
      initialDate: new Date(Number(L2_GENESIS_TIMESTAMP) * 1000),
      mining: { auto: false, interval: 0, mempool: { order: "fifo" } },
      blockGasLimit: 60_000_000n,
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
