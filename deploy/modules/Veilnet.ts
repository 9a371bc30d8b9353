/**
 * Hardhat Ignition module deploying Veilnet's L1 suite and wiring its roles and address book.
 * Parameters (all optional) are listed in `VeilnetParameters` in deploy/parameters.ts.
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { id } from "ethers";

import { DEFAULT_PARAMETERS, VEILNET_MODULE_ID } from "../parameters.js";

export default buildModule(VEILNET_MODULE_ID, (m) => {
  const admin = m.getAccount(0);

  const d = DEFAULT_PARAMETERS;
  const challengePeriod = m.getParameter("challengePeriod", d.challengePeriod);
  const revelationPeriod = m.getParameter("revelationPeriod", d.revelationPeriod);
  const secretRequestTimeout = m.getParameter("secretRequestTimeout", d.secretRequestTimeout);
  const messageFee = m.getParameter("messageFee", d.messageFee);
  const baseReward = m.getParameter("baseReward", d.baseReward);
  const perBatchReward = m.getParameter("perBatchReward", d.perBatchReward);
  const treasuryShareBps = m.getParameter("treasuryShareBps", d.treasuryShareBps);
  const attestationService = m.getParameter<string>("attestationService", admin as unknown as string);
  const measurement = m.getParameter<string>("measurement", d.measurement);
  const l2Bridge = m.getParameter<string>("l2Bridge", d.l2Bridge);
  const permissionlessTokens = m.getParameter("permissionlessTokenRegistration", d.permissionlessTokenRegistration);

  // Interim (issue 10): the governance module passes the timelock as admin and its own guardian; here the
  // deployer is admin, guardian and genesis initializer.
  const adminDelay = m.getParameter("adminDelay", 432_000);
  const guardian = admin;

  const networkConfig = m.contract("NetworkConfig", [admin]);
  const verifier = m.contract("SignedReportVerifier", [admin, adminDelay, attestationService, measurement]);
  const enclaveRegistry = m.contract("EnclaveRegistry", [
    admin,
    adminDelay,
    guardian,
    admin,
    verifier,
    secretRequestTimeout,
  ]);
  const feeVault = m.contract("FeeVault", [admin, baseReward, perBatchReward, treasuryShareBps]);
  const messageBus = m.contract("MessageBus", [admin, feeVault, messageFee]);
  const rollupRegistry = m.contract("RollupRegistry", [
    admin,
    enclaveRegistry,
    messageBus,
    feeVault,
    challengePeriod,
    revelationPeriod,
  ]);
  const messenger = m.contract("CrossChainMessenger", [admin, adminDelay, guardian, messageBus]);
  const bridge = m.contract("Bridge", [
    admin,
    adminDelay,
    guardian,
    messageBus,
    messenger,
    l2Bridge,
    permissionlessTokens,
  ]);

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
