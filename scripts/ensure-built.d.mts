/** Why a compile is needed, or undefined when the compiled contracts and TypeChain types are current. */
export function buildReason(): string | undefined;
/** Compiles when {@link buildReason} says so; true when the artifacts are current afterwards. */
export function ensureBuilt(): boolean;
