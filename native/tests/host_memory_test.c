/* host_memory_test.c: available host memory honours container limits. Each case writes a fake
 * /proc and /sys/fs/cgroup tree under a temporary root and reads it with
 * lmr_host_available_memory_at: MemAvailable alone, cgroup v2 (limit, "max", a tighter ancestor,
 * a path not visible in the namespace, usage over the limit), cgroup v1 (memory alone or with
 * other controllers), and no /proc at all. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "host_memory.h"

#define MIB (1024ull * 1024ull)
static char root[256];

/* Write text to root/rel, creating the folders on the way. */
static void put(const char *rel, const char *text) {
    char p[1024];
    snprintf(p, sizeof p, "%s%s", root, rel);
    for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
        *s = 0;
        mkdir(p, 0700);
        *s = '/';
    }
    FILE *f = fopen(p, "w");
    if (!f) {
        printf("FAIL cannot write %s\n", p);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

static void fresh(void) {
    char cmd[300];
    if (root[0]) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd) != 0) printf("note: could not remove %s\n", root);
    }
    snprintf(root, sizeof root, "/tmp/lmrig-hostmem-XXXXXX");
    if (!mkdtemp(root)) exit(1);
    /* 8 GiB available on the "machine" */
    put("/proc/meminfo", "MemTotal:       16777216 kB\nMemFree:         1000 kB\n"
                         "MemAvailable:    8388608 kB\nBuffers:  12 kB\n");
}

static void expect(uint64_t want, const char *what) {
    uint64_t got = lmr_host_available_memory_at(root);
    CHECK(got == want, "%s: %llu MiB (want %llu MiB)", what, (unsigned long long)(got / MIB),
          (unsigned long long)(want / MIB));
}

int main(void) {
    fresh();
    expect(8192 * MIB, "no cgroup file: MemAvailable");

    put("/proc/self/cgroup", "0::/\n");
    expect(8192 * MIB, "cgroup v2 without memory files: MemAvailable");
    put("/sys/fs/cgroup/memory.max", "1073741824\n");
    put("/sys/fs/cgroup/memory.current", "629145600\n");        /* 600 MiB */
    put("/sys/fs/cgroup/memory.stat", "anon 1\nfile 2\ninactive_file 104857600\n"); /* 100 */
    expect(524 * MIB, "v2 limit 1 GiB, 600 MiB used of which 100 MiB inactive file: 524 MiB");
    put("/sys/fs/cgroup/memory.max", "max\n");
    expect(8192 * MIB, "v2 memory.max \"max\": MemAvailable");
    put("/sys/fs/cgroup/memory.max", "524288000\n"); /* 500 MiB */
    put("/sys/fs/cgroup/memory.stat", "inactive_file 0\n");
    expect(0, "v2 usage over the limit: 0");

    fresh();
    put("/proc/self/cgroup", "0::/a/b\n");
    put("/sys/fs/cgroup/a/b/memory.max", "2147483648\n");
    put("/sys/fs/cgroup/a/b/memory.current", "104857600\n");
    put("/sys/fs/cgroup/a/memory.max", "536870912\n");     /* 512 MiB */
    put("/sys/fs/cgroup/a/memory.current", "314572800\n"); /* 300 MiB */
    expect(212 * MIB, "v2 ancestor tighter than the leaf: 212 MiB");

    fresh();
    put("/proc/self/cgroup", "0::/host/path/not/visible\n");
    put("/sys/fs/cgroup/memory.max", "268435456\n");     /* 256 MiB */
    put("/sys/fs/cgroup/memory.current", "67108864\n");  /* 64 MiB */
    expect(192 * MIB, "v2 path outside the namespace: the mount's own limit");

    fresh();
    put("/proc/self/cgroup", "12:pids:/x\n4:memory:/docker/x\n1:name=systemd:/x\n");
    put("/sys/fs/cgroup/memory/docker/x/memory.limit_in_bytes", "268435456\n");
    put("/sys/fs/cgroup/memory/docker/x/memory.usage_in_bytes", "104857600\n");
    put("/sys/fs/cgroup/memory/docker/x/memory.stat", "cache 5\ntotal_inactive_file 0\n");
    expect(156 * MIB, "v1 limit 256 MiB, 100 MiB used: 156 MiB");
    fresh();
    put("/proc/self/cgroup", "5:cpu,memory:/\n");
    put("/sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n"); /* no limit */
    put("/sys/fs/cgroup/memory/memory.usage_in_bytes", "104857600\n");
    expect(8192 * MIB, "v1 unlimited (cpu,memory controllers): MemAvailable");

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) printf("note: could not remove %s\n", root);
    snprintf(root, sizeof root, "/nonexistent-lmrig-root");
    expect(0, "no /proc/meminfo: 0 (unknown)");

    uint64_t real = lmr_host_available_memory();
    CHECK(real > 0, "this machine: %llu MiB available", (unsigned long long)(real / MIB));
    return check_summary();
}
