/* api.c: the public C ABI: argument checks, status codes, last error. */
#include "lmrig.h"

LMR_API uint32_t lmr_abi_version(void) { return LMR_ABI_VERSION; }
LMR_API const char *lmr_version_string(void) { return "0.1.0"; }
