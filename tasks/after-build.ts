/**
 * Task actions that compile first. Every Veilnet task's implementation imports TypeChain's factories
 * (directly or through protocol/ and workers/), which exist only after a compile; so the action
 * Hardhat loads is this small wrapper, which runs `build` and only then imports the implementation.
 * A fresh clone's first `npx hardhat deploy` or `veil:*` task therefore works with nothing run before it.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { buildReason } from "../scripts/ensure-built.mjs";

/** The shape of a task implementation module. */
interface ActionModule<A> {
  default: (args: A, hre: HardhatRuntimeEnvironment) => Promise<unknown>;
}

/**
 * A lazy task action: unless the task's `noCompile` flag is set, compiles the contracts when they are
 * missing or older than contracts/ (scripts/ensure-built.mjs `buildReason`; quietly, Solidity tests
 * included, the same build as `npm test`), then loads and runs the implementation `load` imports. A
 * current build is not redone: every build rewrites TypeChain's output, which a running suite or
 * worker may be importing at that moment.
 */
export function afterBuild<A extends object>(load: () => Promise<ActionModule<A>>): () => Promise<ActionModule<A>> {
  return async () => ({
    default: async (args: A, hre: HardhatRuntimeEnvironment) => {
      // Only when needed: a build rewrites TypeChain's output, which other processes may be importing.
      if (!("noCompile" in args && args.noCompile === true) && buildReason() !== undefined) {
        await hre.tasks.getTask("build").run({ quiet: true });
      }
      const implementation = await load();
      return implementation.default(args, hre);
    },
  });
}
