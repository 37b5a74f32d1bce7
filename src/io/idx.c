/* idx.c - LeCun's IDX format (MNIST, Fashion-MNIST), unsigned bytes only.
 *
 * Layout: 0x00 0x00 <type> <ndim>, ndim big-endian u32 dimensions, then
 * prod(dims) elements, nothing after.  The header is checked in full (magic,
 * type, ndim, every dimension, exact data size) before anything is allocated.
 * gs_idx_load gunzips a file that starts with 1f 8b, bounded by
 * GS_IDX_MAX_BYTES of output.
 */
#include <stdlib.h>
#include <string.h>
#include "io.h"

/* Validate the header; on success *data_off is where the data starts. */
static int check_header(gs_ctx *ctx, const uint8_t *b, size_t len, const char *origin, gs_idx *h,
                        size_t *data_off)
{
    if (len < 4)
        return gs_error(ctx, GS_EFORMAT, "%s: file is %zu bytes, too short for an IDX header", origin, len);
    if (b[0] != 0 || b[1] != 0)
        return gs_error(ctx, GS_EFORMAT, "%s: bad IDX magic %02x %02x %02x %02x (expected 00 00 08 0N)",
                        origin, b[0], b[1], b[2], b[3]);
    int type = b[2], ndim = b[3];
    if (type == 0x09 || type == 0x0B || type == 0x0C || type == 0x0D || type == 0x0E)
        return gs_error(ctx, GS_EUNSUPPORTED, "%s: IDX element type 0x%02x is not supported (only 0x08, "
                        "unsigned byte)", origin, type);
    if (type != 0x08)
        return gs_error(ctx, GS_EFORMAT, "%s: unknown IDX element type 0x%02x (expected 0x08)", origin, type);
    if (ndim < 1 || ndim > 4)
        return gs_error(ctx, GS_EFORMAT, "%s: IDX header has %d dimensions, expected 1 to 4", origin, ndim);
    size_t off = 4 + 4 * (size_t)ndim;
    if (len < off)
        return gs_error(ctx, GS_EFORMAT, "%s: truncated IDX header: %d dimensions need %zu bytes, file has %zu",
                        origin, ndim, off, len);
    size_t nbytes = 1;
    for (int i = 0; i < ndim; i++) {
        const uint8_t *d = b + 4 + 4 * i;
        uint32_t v = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
        if (v == 0 || v > INT32_MAX)
            return gs_error(ctx, GS_EFORMAT, "%s: IDX dimension %d is %lu, expected 1 to 2^31-1", origin, i,
                            (unsigned long)v);
        h->dims[i] = v;
        if (!gs_mul_ok(nbytes, v, &nbytes))
            return gs_error(ctx, GS_EFORMAT, "%s: IDX dimensions overflow", origin);
    }
    size_t have = len - off;
    if (have < nbytes)
        return gs_error(ctx, GS_EFORMAT, "%s: header says %zu bytes of data, file has %zu (truncated or lying "
                        "header)", origin, nbytes, have);
    if (have > nbytes)
        return gs_error(ctx, GS_EFORMAT, "%s: %zu bytes of trailing garbage after the %zu bytes of data",
                        origin, have - nbytes, nbytes);
    h->ndim = ndim;
    for (int i = ndim; i < 4; i++) h->dims[i] = 0;
    h->nbytes = nbytes;
    h->data = NULL;
    *data_off = off;
    return GS_OK;
}

int gs_idx_parse(gs_ctx *ctx, const void *buf, size_t len, const char *origin, gs_idx *out)
{
    if (!origin) origin = "(idx)";
    if (!out || (!buf && len)) return gs_error(ctx, GS_EINVAL, "%s: gs_idx_parse: NULL argument", origin);
    gs_idx h;
    size_t off = 0;
    int rc = check_header(ctx, buf, len, origin, &h, &off);
    if (rc != GS_OK) return rc;
    h.data = malloc(h.nbytes);
    if (!h.data) return gs_error(ctx, GS_ENOMEM, "%s: out of memory for %zu bytes", origin, h.nbytes);
    memcpy(h.data, (const uint8_t *)buf + off, h.nbytes);
    *out = h;
    return GS_OK;
}

int gs_idx_load(gs_ctx *ctx, const char *path, gs_idx *out)
{
    if (!path || !out) return gs_error(ctx, GS_EINVAL, "gs_idx_load: NULL argument");
    uint8_t *buf = NULL;
    size_t len = 0;
    /* A compressed file is smaller than its content: the same cap bounds both. */
    int rc = gs_io_read_file(ctx, path, GS_IDX_MAX_BYTES, &buf, &len);
    if (rc != GS_OK) return rc;
    if (gs_io_is_gzip(buf, len)) {
        uint8_t *raw = NULL;
        size_t raw_len = 0;
        rc = gs_io_gunzip(ctx, buf, len, path, GS_IDX_MAX_BYTES, &raw, &raw_len);
        free(buf);
        if (rc != GS_OK) return rc;
        buf = raw;
        len = raw_len;
    }
    gs_idx h;
    size_t off = 0;
    rc = check_header(ctx, buf, len, path, &h, &off);
    if (rc != GS_OK) {
        free(buf);
        return rc;
    }
    /* Reuse the file buffer for the data: no second 47 MB allocation. */
    memmove(buf, buf + off, h.nbytes);
    h.data = buf;
    *out = h;
    return GS_OK;
}

void gs_idx_clear(gs_idx *idx)
{
    if (!idx) return;
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}
