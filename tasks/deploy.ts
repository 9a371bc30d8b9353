/** `npx hardhat deploy`: see deploy/deploy-veilnet.ts. The contracts are compiled before this loads (tasks/after-build.ts). */
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { DeployError, type DeployVeilnetResult, deployVeilnet } from "../deploy/deploy-veilnet.js";
import { DeploymentFileError } from "../deploy/deployment-file.js";

import { VeilnetTaskError, connect } from "./lib.js";

export interface DeployTaskArguments {
  parameters?: string;
  reset: boolean;
  deploymentsDir?: string;
  journalDir?: string;
  noCompile: boolean;
}

export default async function deployTask(
  args: DeployTaskArguments,
  hre: HardhatRuntimeEnvironment,
): Promise<DeployVeilnetResult> {
  const connection = await connect(hre);
  if (connection.networkConfig.type === "edr-simulated") {
    console.log(
      `Note: network "${connection.networkName}" is in-process and ends with this command. ` +
        `For a chain that stays up, run \`npx hardhat node\` and deploy with --network localhost.`,
    );
  }
  try {
    return await deployVeilnet(hre, connection, {
      parametersFile: args.parameters,
      reset: args.reset,
      deploymentsDir: args.deploymentsDir,
      journalDir: args.journalDir,
    });
  } catch (e) {
    if (e instanceof DeployError || e instanceof DeploymentFileError) throw new VeilnetTaskError(e.message);
    throw e;
  }
}
