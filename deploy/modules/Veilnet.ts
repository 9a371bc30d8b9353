/**
 * Hardhat Ignition module deploying Veilnet's L1 suite and wiring its roles and address book.
 * Parameters (all optional) are listed in `VeilnetParameters` in deploy/parameters.ts.
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { id, ZeroHash } from "ethers";

import { L2Predeploys } from "../../protocol/predeploys.js";

export default buildModule("Veilnet", (m) => {
  const admin = m.getAccount(0);

  const challengePeriod = m.getParameter("challengePeriod", 3600n);
  const secretRequestTimeout = m.getParameter("secretRequestTimeout", 3600n);
  const messageFee = m.getParameter("messageFee", 0n);
  const baseReward = m.getParameter("baseReward", 0n);
  const perBatchReward = m.getParameter("perBatchReward", 0n);
  const treasuryShareBps = m.getParameter("treasuryShareBps", 1000n);
  const attestationService = m.getParameter<string>("attestationService", admin as unknown as string);
  const measurement = m.getParameter<string>("measurement", ZeroHash);
  const l2Bridge = m.getParameter<string>("l2Bridge", L2Predeploys.bridge);
  const permissionlessTokens = m.getParameter("permissionlessTokenRegistration", true);

  const networkConfig = m.contract("NetworkConfig", [admin]);
  const verifier = m.contract("SignedReportVerifier", [admin, attestationService, measurement]);
  const enclaveRegistry = m.contract("EnclaveRegistry", [admin, verifier, secretRequestTimeout]);
  const feeVault = m.contract("FeeVault", [admin, baseReward, perBatchReward, treasuryShareBps]);
  const messageBus = m.contract("MessageBus", [admin, feeVault, messageFee]);
  const rollupRegistry = m.contract("RollupRegistry", [admin, enclaveRegistry, messageBus, feeVault, challengePeriod]);
  const messenger = m.contract("CrossChainMessenger", [admin, messageBus]);
  const bridge = m.contract("Bridge", [admin, messageBus, messenger, l2Bridge, permissionlessTokens]);

  m.call(messageBus, "grantRole", [id("ROOT_REGISTRAR_ROLE"), rollupRegistry], { id: "grantRootRegistrar" });
  m.call(feeVault, "setRewarder", [rollupRegistry], { id: "setRewarder" });

  const book = {
    SignedReportVerifier: verifier,
    EnclaveRegistry: enclaveRegistry,
    FeeVault: feeVault,
    MessageBus: messageBus,
    RollupRegistry: rollupRegistry,
    CrossChainMessenger: messenger,
    Bridge: bridge,
  };
  for (const [name, contract] of Object.entries(book)) {
    m.call(networkConfig, "setAddress", [name, contract], { id: `setAddress_${name}` });
  }

  return {
    networkConfig,
    verifier,
    enclaveRegistry,
    feeVault,
    messageBus,
    rollupRegistry,
    messenger,
    bridge,
  };
});
