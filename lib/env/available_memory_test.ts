import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { availableMemory } from "./available_memory.ts";

const MIB = 1024 * 1024;

/** A fake root with 8 GiB MemAvailable and the given files. */
function fakeRoot(files: Record<string, string>): string {
  const root = Deno.makeTempDirSync({ prefix: "lmrig-mem-" });
  const all: Record<string, string> = {
    "proc/meminfo": "MemTotal: 16777216 kB\nMemAvailable:    8388608 kB\n",
    ...files,
  };
  for (const [rel, text] of Object.entries(all)) {
    Deno.mkdirSync(dirname(join(root, rel)), { recursive: true });
    Deno.writeTextFileSync(join(root, rel), text);
  }
  return root;
}

Deno.test("availableMemory: MemAvailable alone, or less inside a cgroup v2 limit", () => {
  assert.equal(availableMemory(fakeRoot({})), 8192 * MIB);
  assert.equal(availableMemory(fakeRoot({ "proc/self/cgroup": "0::/\n" })), 8192 * MIB);
  const v2 = {
    "proc/self/cgroup": "0::/\n",
    "sys/fs/cgroup/memory.max": "1073741824\n",
    "sys/fs/cgroup/memory.current": `${600 * MIB}\n`,
    "sys/fs/cgroup/memory.stat": `anon 1\ninactive_file ${100 * MIB}\n`,
  };
  assert.equal(availableMemory(fakeRoot(v2)), 524 * MIB);
  assert.equal(
    availableMemory(fakeRoot({ ...v2, "sys/fs/cgroup/memory.max": "max\n" })),
    8192 * MIB,
  );
  assert.equal(
    availableMemory(fakeRoot({
      "proc/self/cgroup": "0::/a/b\n",
      "sys/fs/cgroup/a/b/memory.max": `${2048 * MIB}\n`,
      "sys/fs/cgroup/a/b/memory.current": `${100 * MIB}\n`,
      "sys/fs/cgroup/a/memory.max": `${512 * MIB}\n`,
      "sys/fs/cgroup/a/memory.current": `${300 * MIB}\n`,
    })),
    212 * MIB,
    "a tighter ancestor wins",
  );
  assert.equal(
    availableMemory(fakeRoot({
      "proc/self/cgroup": "0::/not/visible\n",
      "sys/fs/cgroup/memory.max": `${256 * MIB}\n`,
      "sys/fs/cgroup/memory.current": `${64 * MIB}\n`,
    })),
    192 * MIB,
    "a path outside the namespace falls back to the mount's limit",
  );
});

Deno.test("availableMemory: cgroup v1 memory controller, unlimited or not; no /proc", () => {
  assert.equal(
    availableMemory(fakeRoot({
      "proc/self/cgroup": "12:pids:/x\n4:memory:/docker/x\n",
      "sys/fs/cgroup/memory/docker/x/memory.limit_in_bytes": `${256 * MIB}\n`,
      "sys/fs/cgroup/memory/docker/x/memory.usage_in_bytes": `${100 * MIB}\n`,
    })),
    156 * MIB,
  );
  assert.equal(
    availableMemory(fakeRoot({
      "proc/self/cgroup": "5:cpu,memory:/\n",
      "sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
      "sys/fs/cgroup/memory/memory.usage_in_bytes": `${100 * MIB}\n`,
    })),
    8192 * MIB,
  );
  assert.equal(availableMemory("/nonexistent-lmrig-root"), null);
});
