/** Host memory a new allocation can take, as a process inside a container sees it. */
import { join } from "node:path";

/** The first number after `key` at the start of a line of `path`, or null. */
function readKey(path: string, key: string): number | null {
  try {
    for (const line of Deno.readTextFileSync(path).split("\n")) {
      if (line.startsWith(key)) {
        const m = line.slice(key.length).match(/^\s*(\d+)/);
        if (m) return Number(m[1]);
      }
    }
  } catch {
    // absent: no figure
  }
  return null;
}

/** The single number in `path`; null when absent or "max" (no limit). */
function readNumber(path: string): number | null {
  try {
    const m = Deno.readTextFileSync(path).match(/^\s*(\d+)/);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * The smaller of /proc/meminfo's MemAvailable and what this process's memory cgroup still
 * allows: v2 `memory.max - memory.current`, v1 `memory.limit_in_bytes - memory.usage_in_bytes`,
 * inactive file pages (reclaimable) not counted as used, every ancestor with a limit too. Inside
 * a container limit MemAvailable alone is the whole machine's, and the kernel OOM-kills the
 * process with no message long before it is reached. The native engine applies the same rule
 * (native/src/host_memory.c).
 *
 * @param root Where /proc and /sys live ("/" on a real system; tests pass a fake tree).
 * @returns Bytes, or null when MemAvailable cannot be read (not Linux, no /proc).
 * @throws Nothing.
 * @example
 * ```ts
 * import { availableMemory } from "./available_memory.ts";
 * const bytes = availableMemory();
 * if (Deno.build.os === "linux" && !(bytes !== null && bytes > 0)) throw new Error(String(bytes));
 * ```
 */
export function availableMemory(root = "/"): number | null {
  const kb = readKey(join(root, "proc", "meminfo"), "MemAvailable:");
  if (kb === null) return null;
  let best = kb * 1024;
  let cgroups = "";
  try {
    cgroups = Deno.readTextFileSync(join(root, "proc", "self", "cgroup"));
  } catch {
    return best;
  }
  const level = (dir: string, v2: boolean): boolean => {
    const max = readNumber(join(dir, v2 ? "memory.max" : "memory.limit_in_bytes"));
    const cur = readNumber(join(dir, v2 ? "memory.current" : "memory.usage_in_bytes"));
    const inactive = readKey(
      join(dir, "memory.stat"),
      v2 ? "inactive_file" : "total_inactive_file",
    );
    if (max === null || cur === null) return cur !== null;
    const used = Math.max(0, cur - (inactive ?? 0));
    best = Math.min(best, Math.max(0, max - used));
    return true;
  };
  for (const line of cgroups.split("\n")) {
    const m = line.match(/^(\d+):([^:]*):(.*)$/);
    if (!m) continue;
    const v2 = m[1] === "0" && m[2] === "";
    if (!v2 && !m[2].split(",").includes("memory")) continue;
    const mount = join(root, "sys", "fs", "cgroup", ...(v2 ? [] : ["memory"]));
    const parts = m[3].split("/").filter((p) => p !== "");
    let seen = false;
    for (let n = parts.length; n >= 0; n--) {
      seen = level(join(mount, ...parts.slice(0, n)), v2) || seen;
    }
    if (!seen) level(mount, v2);
  }
  return best;
}
