/**
 * Environment capture: repository root, git state, machine facts.
 * @module
 */
export { repoRoot } from "./repo_root.ts";
export { gitState } from "./git_state.ts";
export { captureEnvironment } from "./capture_environment.ts";
export { modelContentHash } from "./model_content_hash.ts";
export { engineCommitWarning } from "./engine_commit_warning.ts";
export { availableMemory } from "./available_memory.ts";
