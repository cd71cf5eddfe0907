/* host_memory.c: available host memory as a process inside a container sees it. MemAvailable
 * alone is the whole machine's: inside a cgroup memory limit the kernel OOM-kills the process
 * long before that is reached, with no message. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "host_memory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The first number after "key" at the start of a line of root+path (0 and *found 0 if none). */
static uint64_t read_key(const char *root, const char *path, const char *key, int *found) {
    char p[4096], line[512];
    snprintf(p, sizeof p, "%s%s", root, path);
    FILE *f = fopen(p, "r");
    size_t k = strlen(key);
    unsigned long long v = 0;
    *found = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, k) && sscanf(line + k, " %llu", &v) == 1) {
            *found = 1;
            break;
        }
    if (f) fclose(f);
    return (uint64_t)v;
}

/* The single number in root+path; 0 (and *ok 0) when absent or "max" (no limit). */
static uint64_t read_num(const char *root, const char *path, int *ok) {
    char p[4096], buf[64] = "";
    snprintf(p, sizeof p, "%s%s", root, path);
    FILE *f = fopen(p, "r");
    *ok = 0;
    if (!f) return 0;
    unsigned long long v = 0;
    if (fgets(buf, sizeof buf, f) && sscanf(buf, "%llu", &v) == 1) *ok = 1;
    fclose(f);
    return (uint64_t)v;
}

/* What a cgroup folder (relative to root) still allows, lowered into *best; 1 if it had files. */
static int cgroup_level(const char *root, const char *dir, int v2, uint64_t *best) {
    char p[4096];
    int has_max, has_cur, has_inactive;
    snprintf(p, sizeof p, "%s/%s", dir, v2 ? "memory.max" : "memory.limit_in_bytes");
    uint64_t max = read_num(root, p, &has_max);
    snprintf(p, sizeof p, "%s/%s", dir, v2 ? "memory.current" : "memory.usage_in_bytes");
    uint64_t cur = read_num(root, p, &has_cur);
    snprintf(p, sizeof p, "%s/memory.stat", dir);
    uint64_t inactive = read_key(root, p, v2 ? "inactive_file" : "total_inactive_file", &has_inactive);
    if (!has_max || !has_cur) return has_cur;
    uint64_t used = cur > inactive ? cur - inactive : 0;
    uint64_t left = max > used ? max - used : 0;
    if (left < *best) *best = left;
    return 1;
}

/* The limit of the cgroup named by /proc/self/cgroup and of its ancestors, lowered into *best.
 * v2 lines are "0::/path"; v1 memory lines "N:...memory...:/path". A path that is not visible
 * under the mount (a container's own namespace) falls back to the mount's root. */
static void cgroup_limit(const char *root, uint64_t *best) {
    char p[4096], line[4096];
    snprintf(p, sizeof p, "%s/proc/self/cgroup", root);
    FILE *f = fopen(p, "r");
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        *c1 = 0;
        *c2 = 0;
        const char *ctrls = c1 + 1, *path = c2 + 1;
        int v2 = !strcmp(line, "0") && !*ctrls;
        int v1 = 0;
        for (const char *t = ctrls; !v2 && *t;) {
            size_t n = strcspn(t, ",");
            if (n == 6 && !strncmp(t, "memory", 6)) v1 = 1;
            t += n + (t[n] == ',');
        }
        if (!v2 && !v1) continue;
        const char *mount = v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
        char dir[4096];
        snprintf(dir, sizeof dir, "%s%s", mount, strcmp(path, "/") ? path : "");
        int seen = 0;
        for (;;) { /* the cgroup, then each ancestor up to the mount */
            seen |= cgroup_level(root, dir, v2, best);
            if (strlen(dir) <= strlen(mount)) break;
            *strrchr(dir, '/') = 0;
        }
        if (!seen) cgroup_level(root, mount, v2, best);
    }
    if (f) fclose(f);
}

uint64_t lmr_host_available_memory_at(const char *root) {
    int found;
    uint64_t kb = read_key(root, "/proc/meminfo", "MemAvailable:", &found);
    if (!found) return 0;
    uint64_t best = kb * 1024u;
    cgroup_limit(root, &best);
    return best;
}

uint64_t lmr_host_available_memory(void) {
    uint64_t b = lmr_host_available_memory_at("");
    if (b) return b;
#if defined(_SC_AVPHYS_PAGES)
    long pages = sysconf(_SC_AVPHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    if (pages > 0 && psz > 0) return (uint64_t)pages * (uint64_t)psz;
#endif
    return 0;
}
