/* cpu_info.c: CPU facts (SIMD features, name, cores, memory) and the choice of kernel set. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../include/lmrig.h"
#include "../host_memory.h"
#include "simd.h"

#if LMR_X86
#include <cpuid.h>
#endif
#if defined(__linux__) && LMR_ARM64
#include <sys/auxv.h>
#endif
#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif

static atomic_int g_force_scalar;
static atomic_int g_force_level = -1; /* lmr_cpu_force_level: a cap, -1 none */

#if LMR_X86
static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

int lmr_cpu_simd_flags(void) {
    int f = 0;
#if LMR_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
    if (!osxsave) return 0;
    uint64_t xcr0 = xgetbv0();
    if ((xcr0 & 6) != 6) return 0; /* OS does not save YMM state */
    if (fma) f |= LMR_SIMD_FMA;
    if (f16c) f |= LMR_SIMD_F16C;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        if ((b >> 5) & 1) f |= LMR_SIMD_AVX2;
        int zmm_os = (xcr0 & 0xe6) == 0xe6;
        /* F, DQ, BW, VL: the AVX-512 subsets every AVX-512 server and client part since
         * Skylake-X has; the kernels use the 512-bit forms of F and BW, masks of VL and DQ. */
        int avx512 = ((b >> 16) & 1) && ((b >> 17) & 1) && ((b >> 30) & 1) && ((b >> 31) & 1);
        if (avx512 && zmm_os) {
            f |= LMR_SIMD_AVX512F;
            if (__get_cpuid_count(7, 1, &a, &b, &c, &d) && ((a >> 5) & 1))
                f |= LMR_SIMD_AVX512BF16;
        }
    }
#elif LMR_ARM64
    f |= LMR_SIMD_NEON;
#if defined(__linux__) && defined(HWCAP2_BF16)
    if (getauxval(AT_HWCAP2) & HWCAP2_BF16) f |= LMR_SIMD_NEON_BF16;
#elif defined(__APPLE__)
    int v = 0;
    size_t len = sizeof v;
    if (sysctlbyname("hw.optional.arm.FEAT_BF16", &v, &len, NULL, 0) == 0 && v)
        f |= LMR_SIMD_NEON_BF16;
#endif
#endif
    return f;
}

/* The best kernel set this CPU and build support, ignoring LMRIG_CPU_LEVEL and forcing. */
int lmr_cpu_level_max(void) {
    static atomic_int cached = -1;
    int isa = atomic_load_explicit(&cached, memory_order_relaxed);
    if (isa >= 0) return isa;
    int f = lmr_cpu_simd_flags();
    isa = LMR_ISA_SCALAR;
    int avx2 = LMR_SIMD_AVX2 | LMR_SIMD_FMA | LMR_SIMD_F16C;
    int avx512 = avx2 | LMR_SIMD_AVX512F | LMR_SIMD_AVX512BF16;
#if LMR_HAVE_AVX2
    if ((f & avx2) == avx2) isa = LMR_ISA_AVX2;
#if LMR_HAVE_AVX512
    if ((f & avx512) == avx512) isa = LMR_ISA_AVX512;
#endif
#endif
#if LMR_HAVE_NEON
    if (f & LMR_SIMD_NEON) isa = LMR_ISA_NEON;
#endif
    (void)avx2, (void)avx512;
    atomic_store_explicit(&cached, isa, memory_order_relaxed);
    return isa;
}

/* Level order for capping: scalar < avx2 < avx512; neon is its own line (scalar < neon). */
static int level_rank(int isa) { return isa == LMR_ISA_NEON ? 1 : isa; }
static int level_cap(int best, int cap) {
    if (cap < 0) return best;
    if (cap == LMR_ISA_SCALAR) return LMR_ISA_SCALAR;
    if ((best == LMR_ISA_NEON) != (cap == LMR_ISA_NEON)) return best; /* other architecture */
    return level_rank(cap) < level_rank(best) ? cap : best;
}

int lmr_cpu_level_parse(const char *s) {
    if (!s) return -1;
    if (!strcmp(s, "scalar")) return LMR_ISA_SCALAR;
    if (!strcmp(s, "avx2")) return LMR_ISA_AVX2;
    if (!strcmp(s, "avx512")) return LMR_ISA_AVX512;
    if (!strcmp(s, "neon")) return LMR_ISA_NEON;
    return -1; /* "best", empty or unknown: no cap */
}

int lmr_cpu_isa(void) {
    static atomic_int cached = -1; /* the best level under LMRIG_CPU_LEVEL, read once */
    if (atomic_load_explicit(&g_force_scalar, memory_order_relaxed)) return LMR_ISA_SCALAR;
    int isa = atomic_load_explicit(&cached, memory_order_relaxed);
    if (isa < 0) {
        isa = level_cap(lmr_cpu_level_max(), lmr_cpu_level_parse(getenv("LMRIG_CPU_LEVEL")));
        atomic_store_explicit(&cached, isa, memory_order_relaxed);
    }
    return level_cap(isa, atomic_load_explicit(&g_force_level, memory_order_relaxed));
}

int lmr_cpu_simd_used(void) {
    switch (lmr_cpu_isa()) {
    case LMR_ISA_AVX2: return LMR_SIMD_AVX2 | LMR_SIMD_FMA | LMR_SIMD_F16C;
    case LMR_ISA_AVX512:
        return LMR_SIMD_AVX2 | LMR_SIMD_FMA | LMR_SIMD_F16C | LMR_SIMD_AVX512F |
               LMR_SIMD_AVX512BF16;
    case LMR_ISA_NEON: return LMR_SIMD_NEON;
    default: return 0;
    }
}

const char *lmr_cpu_simd_name(void) {
    switch (lmr_cpu_isa()) {
    case LMR_ISA_AVX2: return "avx2+fma+f16c";
    case LMR_ISA_AVX512: return "avx512bf16+avx2+fma+f16c";
    case LMR_ISA_NEON: return "neon";
    default: return "scalar";
    }
}

const char *lmr_cpu_level_name(int isa) {
    switch (isa) {
    case LMR_ISA_AVX2: return "avx2";
    case LMR_ISA_AVX512: return "avx512";
    case LMR_ISA_NEON: return "neon";
    default: return "scalar";
    }
}

void lmr_cpu_force_scalar(int on) { atomic_store(&g_force_scalar, on ? 1 : 0); }
void lmr_cpu_force_level(int isa) { atomic_store(&g_force_level, isa); }

static void trim_copy(char *buf, size_t cap, const char *s) {
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
    if (n >= cap) n = cap - 1;
    memcpy(buf, s, n);
    buf[n] = 0;
}

void lmr_cpu_name(char *buf, size_t cap) {
    if (!buf || cap == 0) return;
    buf[0] = 0;
#if LMR_X86
    unsigned r[12];
    if (__get_cpuid(0x80000000u, &r[0], &r[1], &r[2], &r[3]) && r[0] >= 0x80000004u) {
        for (unsigned i = 0; i < 3; i++)
            __get_cpuid(0x80000002u + i, &r[4 * i], &r[4 * i + 1], &r[4 * i + 2], &r[4 * i + 3]);
        char s[49];
        memcpy(s, r, 48);
        s[48] = 0;
        trim_copy(buf, cap, s);
        if (buf[0]) return;
    }
#endif
#if defined(__APPLE__)
    size_t len = cap;
    if (sysctlbyname("machdep.cpu.brand_string", buf, &len, NULL, 0) == 0) return;
#endif
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (!strncmp(line, "model name", 10) || !strncmp(line, "Hardware", 8)) {
                char *colon = strchr(line, ':');
                if (colon) {
                    trim_copy(buf, cap, colon + 1);
                    break;
                }
            }
        }
        fclose(f);
    }
    if (!buf[0]) trim_copy(buf, cap, "unknown CPU");
}

int lmr_cpu_online_cores(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

uint64_t lmr_cpu_physical_memory(void) {
#if defined(__APPLE__)
    uint64_t m = 0;
    size_t len = sizeof m;
    if (sysctlbyname("hw.memsize", &m, &len, NULL, 0) == 0) return m;
#endif
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    return pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz : 0;
}

uint64_t lmr_cpu_available_memory(void) {
    uint64_t avail = lmr_host_available_memory_at(""); /* MemAvailable and the cgroup limit */
    if (avail) return avail;
#if defined(_SC_AVPHYS_PAGES)
    long pages = sysconf(_SC_AVPHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    if (pages > 0 && psz > 0) return (uint64_t)pages * (uint64_t)psz;
#endif
    return lmr_cpu_physical_memory() / 2; /* no better figure on this OS */
}
