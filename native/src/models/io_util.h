/* io_util.h: small file helpers shared by the model loader, synthesizer and saver (internal to
 * models/). Every function writes a one-line message naming the path on failure. */
#ifndef LMR_MODELS_IO_UTIL_H
#define LMR_MODELS_IO_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "models/model_io.h"

/* Read a whole file of at most max bytes into a malloc'd NUL-terminated buffer (*buf, owned by
 * the caller). Missing/unreadable: LMR_ERR_IO; over max: LMR_ERR_FORMAT. */
lmr_status lmr_read_file(const char *path, size_t max, char **buf, size_t *len, char *err,
                         size_t errcap);
/* Read and parse a config.json; cfg->name becomes the base name of its folder. */
lmr_status lmr_config_load_file(const char *path, lmr_config *cfg, char *err, size_t errcap);
/* Base name of a path without trailing slashes ("a/b/" -> "b") into buf[cap]. */
void lmr_path_base(const char *path, char *buf, size_t cap);
/* Join dir and name into buf[cap]; LMR_ERR_INVALID_ARG when it does not fit. */
lmr_status lmr_path_join(const char *dir, const char *name, char *buf, size_t cap, char *err,
                         size_t errcap);
/* Bytes of one element of a weight dtype (F32 4, F16/BF16 2). */
static inline uint32_t lmr_dtype_size(int32_t dtype) { return dtype == LMR_DTYPE_F32 ? 4 : 2; }
/* Record a mapping in w->maps (capacity reserved by the caller). */
void lmr_weights_add_map(lmr_weights *w, void *map, uint64_t size);

#endif /* LMR_MODELS_IO_UTIL_H */
