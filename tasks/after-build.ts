/**
 * Task actions that compile first. Every Veilnet task's implementation imports TypeChain's factories
 * (directly or through protocol/ and workers/), which exist only after a compile; so the action
 * Hardhat loads is this small wrapper, which runs `build` and only then imports the implementation.
 * A fresh clone's first `npx hardhat deploy` or `veil:*` task therefore works with nothing run before it.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

/** The shape of a task implementation module. */
interface ActionModule<A> {
  default: (args: A, hre: HardhatRuntimeEnvironment) => Promise<unknown>;
}

/**
 * A lazy task action: compiles the contracts (quietly, Solidity tests included: the same build as
 * `npm test`, so TypeChain's output is never rewritten to a smaller set under a running suite) unless the task's
 * `noCompile` flag is set, then loads and runs the implementation `load` imports.
 */
export function afterBuild<A extends object>(load: () => Promise<ActionModule<A>>): () => Promise<ActionModule<A>> {
  return async () => ({
    default: async (args: A, hre: HardhatRuntimeEnvironment) => {
      if (!("noCompile" in args && args.noCompile === true)) {
        await hre.tasks.getTask("build").run({ quiet: true });
      }
      const implementation = await load();
      return implementation.default(args, hre);
    },
  });
}
