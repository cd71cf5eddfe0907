import assert from "node:assert/strict";
import { engineCommitWarning } from "./engine_commit_warning.ts";
import { Engine } from "../ffi/engine.ts";
import { gitState } from "./git_state.ts";

const A = "a".repeat(40), B = "b".repeat(40);

Deno.test("engineCommitWarning: same clean commit is silent; any difference is named", () => {
  assert.equal(engineCommitWarning({ commit: A, dirty: false }, { commit: A, dirty: true }), null);
  assert.equal(
    engineCommitWarning({ commit: null, dirty: null }, { commit: null, dirty: null }),
    null,
  );
  assert.match(
    engineCommitWarning({ commit: A, dirty: false }, { commit: B, dirty: false }) ?? "",
    /^The engine was built from commit aaaaaaaaaaaa but the toolkit is at bbbbbbbbbbbb: rebuild/,
  );
  assert.match(
    engineCommitWarning({ commit: A, dirty: true }, { commit: B, dirty: false }) ?? "",
    /commit aaaaaaaaaaaa with uncommitted changes in native\/ but the toolkit is at bbbb/,
  );
  assert.match(
    engineCommitWarning({ commit: A, dirty: true }, { commit: A, dirty: false }) ?? "",
    /uncommitted changes in native\/: the record's commit does not name the code that ran/,
  );
  assert.match(
    engineCommitWarning({ commit: null, dirty: null }, { commit: B, dirty: false }) ?? "",
    /engine's commit is unknown/,
  );
  // A short stamp matches its full commit.
  assert.equal(
    engineCommitWarning({ commit: "aaaaaaa", dirty: false }, { commit: A, dirty: false }),
    null,
  );
});

Deno.test("the engine's info carries the commit stamped at build time", async () => {
  using engine = Engine.create({ backend: "cpu", threads: 1 });
  const info = engine.info();
  const git = await gitState();
  assert.match(info.buildFlags, /; commit ([0-9a-f]{40}|unknown)(-dirty)?$/);
  if (git.commit !== null && info.commit !== null) {
    assert.match(info.commit, /^[0-9a-f]{40}$/);
    assert.equal(typeof info.dirty, "boolean");
    assert.equal(info.buildFlags.endsWith(info.dirty ? "-dirty" : info.commit), true);
  }
});
