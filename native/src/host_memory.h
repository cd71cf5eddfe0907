/* host_memory.h: the bytes a new host allocation can take, container limits included. */
#ifndef LMR_HOST_MEMORY_H
#define LMR_HOST_MEMORY_H

#include <stdint.h>

/* The smaller of /proc/meminfo's MemAvailable and what this process's memory cgroup still
 * allows (v2: memory.max - memory.current, v1: memory.limit_in_bytes - memory.usage_in_bytes,
 * reclaimable inactive file pages not counted as used; every ancestor with a limit too), with
 * every path read under `root` ("" for the real system; tests pass a fake tree). 0 when
 * MemAvailable cannot be read. */
uint64_t lmr_host_available_memory_at(const char *root);
/* lmr_host_available_memory_at("") on Linux; elsewhere (or without /proc) the OS's free pages. */
uint64_t lmr_host_available_memory(void);

#endif /* LMR_HOST_MEMORY_H */
