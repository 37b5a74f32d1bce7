/* npy.c - read and write NumPy .npy files.
 *
 * Layout: "\x93NUMPY", major, minor, header length (u16 LE for 1.x, u32 LE for
 * 2.x/3.x), then a Python dict literal {'descr': '<f4', 'fortran_order': False,
 * 'shape': (3, 4), } padded with spaces and '\n', then the data.  The header is
 * parsed by a tiny dedicated parser for exactly that literal (strings, True /
 * False, tuples of integers), never by anything that evaluates it.  Only the
 * five plain dtypes of io.h; structured dtypes, Fortran order, object arrays
 * are GS_EUNSUPPORTED.  '<f8' is converted to float32 on reading.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "io.h"

typedef struct hdr_parser {
    gs_ctx *ctx;
    const char *origin;
    const char *s;
    size_t len, pos;
} hdr_parser;

static int hfail(hdr_parser *p, const char *what)
{
    return gs_error(p->ctx, GS_EFORMAT, "%s: .npy header: %s at header byte %zu", p->origin, what, p->pos);
}

static void hws(hdr_parser *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
                               p->s[p->pos] == '\r'))
        p->pos++;
}

/* A quoted Python string without escapes, copied into out (size cap). */
static int hstring(hdr_parser *p, char *out, size_t cap)
{
    if (p->pos >= p->len || (p->s[p->pos] != '\'' && p->s[p->pos] != '"')) return hfail(p, "expected a string");
    char q = p->s[p->pos++];
    size_t n = 0;
    while (p->pos < p->len && p->s[p->pos] != q) {
        if (p->s[p->pos] == '\\') return hfail(p, "escapes are not supported in header strings");
        if (n + 1 >= cap) return hfail(p, "string too long");
        out[n++] = p->s[p->pos++];
    }
    if (p->pos >= p->len) return hfail(p, "unterminated string");
    p->pos++;
    out[n] = 0;
    return GS_OK;
}

static int hshape(hdr_parser *p, int *ndim, int64_t *shape)
{
    if (p->pos >= p->len || p->s[p->pos] != '(') return hfail(p, "shape is not a tuple");
    p->pos++;
    int n = 0;
    for (;;) {
        hws(p);
        if (p->pos < p->len && p->s[p->pos] == ')') { p->pos++; break; }
        if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
            return hfail(p, "expected a non-negative integer in shape");
        int64_t v = 0;
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
            int dgt = p->s[p->pos++] - '0';
            if (v > (INT64_MAX - dgt) / 10) return hfail(p, "dimension overflows");
            v = v * 10 + dgt;
        }
        if (p->pos < p->len && p->s[p->pos] == 'L') p->pos++;   /* Python 2 long */
        if (n >= GS_TENSOR_MAX_DIMS)
            return gs_error(p->ctx, GS_EUNSUPPORTED, "%s: .npy array has more than %d dimensions",
                            p->origin, GS_TENSOR_MAX_DIMS);
        shape[n++] = v;
        hws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') { p->pos++; continue; }
        if (p->pos < p->len && p->s[p->pos] == ')') { p->pos++; break; }
        return hfail(p, "expected ',' or ')' in shape");
    }
    *ndim = n;
    return GS_OK;
}

/* Parse the dict; descr is returned as text for the caller to map. */
static int parse_header(hdr_parser *p, char *descr, size_t descr_cap, int *fortran, int *ndim,
                        int64_t *shape)
{
    int have_descr = 0, have_fortran = 0, have_shape = 0, rc;
    hws(p);
    if (p->pos >= p->len || p->s[p->pos] != '{') return hfail(p, "expected '{'");
    p->pos++;
    for (;;) {
        char key[32];
        hws(p);
        if (p->pos < p->len && p->s[p->pos] == '}') { p->pos++; break; }
        if ((rc = hstring(p, key, sizeof key)) != GS_OK) return rc;
        hws(p);
        if (p->pos >= p->len || p->s[p->pos] != ':') return hfail(p, "expected ':'");
        p->pos++;
        hws(p);
        if (strcmp(key, "descr") == 0 && !have_descr) {
            if (p->pos < p->len && p->s[p->pos] == '[')
                return gs_error(p->ctx, GS_EUNSUPPORTED, "%s: structured .npy dtypes are not supported", p->origin);
            if ((rc = hstring(p, descr, descr_cap)) != GS_OK) return rc;
            have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0 && !have_fortran) {
            if (p->len - p->pos >= 4 && memcmp(p->s + p->pos, "True", 4) == 0) { *fortran = 1; p->pos += 4; }
            else if (p->len - p->pos >= 5 && memcmp(p->s + p->pos, "False", 5) == 0) { *fortran = 0; p->pos += 5; }
            else return hfail(p, "fortran_order is not True or False");
            have_fortran = 1;
        } else if (strcmp(key, "shape") == 0 && !have_shape) {
            if ((rc = hshape(p, ndim, shape)) != GS_OK) return rc;
            have_shape = 1;
        } else {
            return hfail(p, "unexpected or repeated key");
        }
        hws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') { p->pos++; continue; }
        if (p->pos < p->len && p->s[p->pos] == '}') { p->pos++; break; }
        return hfail(p, "expected ',' or '}'");
    }
    hws(p);
    if (p->pos != p->len) return hfail(p, "unexpected characters after the dict");
    if (!have_descr || !have_fortran || !have_shape)
        return hfail(p, "the dict needs the keys 'descr', 'fortran_order' and 'shape'");
    return GS_OK;
}

int gs_npy_parse(gs_ctx *ctx, const void *buf, size_t len, const char *origin, gs_tensor_entry *out)
{
    const unsigned char *b = buf;
    if (!origin) origin = "(npy)";
    if (!out || (!buf && len)) return gs_error(ctx, GS_EINVAL, "%s: gs_npy_parse: NULL argument", origin);
    if (len < 10 || memcmp(b, "\x93NUMPY", 6) != 0)
        return gs_error(ctx, GS_EFORMAT, "%s: not a .npy file (magic \\x93NUMPY missing)", origin);
    int major = b[6];
    size_t hlen, hstart;
    if (major == 1) {
        hlen = (size_t)b[8] | (size_t)b[9] << 8;
        hstart = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12) return gs_error(ctx, GS_EFORMAT, "%s: truncated .npy preamble", origin);
        uint64_t h = (uint64_t)b[8] | (uint64_t)b[9] << 8 | (uint64_t)b[10] << 16 | (uint64_t)b[11] << 24;
        if (h > len) h = (uint64_t)len + 1;   /* caught below without overflow */
        hlen = (size_t)h;
        hstart = 12;
    } else {
        return gs_error(ctx, GS_EUNSUPPORTED, "%s: .npy format version %d.%d is not supported (1.0-3.0 are)",
                        origin, major, b[7]);
    }
    if (hlen > len - hstart)
        return gs_error(ctx, GS_EFORMAT, "%s: .npy header length says %zu bytes, file has %zu after the "
                        "preamble (truncated?)", origin, hlen, len - hstart);
    hdr_parser p = { ctx, origin, (const char *)b + hstart, hlen, 0 };
    char descr[16];
    int fortran = 0, ndim = 0;
    int64_t shape[GS_TENSOR_MAX_DIMS];
    int rc = parse_header(&p, descr, sizeof descr, &fortran, &ndim, shape);
    if (rc != GS_OK) return rc;
    if (fortran)
        return gs_error(ctx, GS_EUNSUPPORTED, "%s: fortran_order True is not supported; save the array "
                        "in C order (numpy.ascontiguousarray)", origin);
    /* descr: byte order char then kind+size. */
    char order = descr[0];
    const char *kind = descr + 1;
    gs_dtype dt;
    size_t file_es;
    if (strcmp(kind, "f4") == 0) { dt = GS_DT_F32; file_es = 4; }
    else if (strcmp(kind, "f8") == 0) { dt = GS_DT_F32; file_es = 8; }
    else if (strcmp(kind, "i4") == 0) { dt = GS_DT_I32; file_es = 4; }
    else if (strcmp(kind, "i8") == 0) { dt = GS_DT_I64; file_es = 8; }
    else if (strcmp(kind, "u1") == 0) { dt = GS_DT_U8; file_es = 1; }
    else return gs_error(ctx, GS_EUNSUPPORTED, "%s: .npy dtype '%s' is not supported (<f4 <f8 <i4 <i8 |u1 are)",
                         origin, descr);
    if (!(order == '<' || order == '>' || order == '|' || order == '=') || (order == '|' && file_es != 1))
        return gs_error(ctx, GS_EFORMAT, "%s: .npy dtype '%s' has a bad byte-order character", origin, descr);
    int swap = (order == '>' && gs_io_host_le()) || (order == '<' && !gs_io_host_le());
    size_t count = 1, need;
    for (int i = 0; i < ndim; i++)
        if ((uint64_t)shape[i] > SIZE_MAX || !gs_mul_ok(count, (size_t)shape[i], &count))
            return gs_error(ctx, GS_EFORMAT, "%s: .npy shape overflows", origin);
    if (!gs_mul_ok(count, file_es, &need))
        return gs_error(ctx, GS_EFORMAT, "%s: .npy shape overflows", origin);
    size_t have = len - hstart - hlen;
    if (have != need)
        return gs_error(ctx, GS_EFORMAT, "%s: header says %zu bytes of data (%zu elements of '%s'), file has %zu%s",
                        origin, need, count, descr, have, have < need ? " (truncated)" : " (trailing bytes)");
    size_t out_es = gs_dtype_size(dt), nbytes = count * out_es;
    void *data = nbytes ? malloc(nbytes) : NULL;
    if (nbytes && !data) return gs_error(ctx, GS_ENOMEM, "%s: out of memory for %zu bytes", origin, nbytes);
    const unsigned char *src = b + hstart + hlen;
    if (file_es == out_es) {
        if (nbytes) memcpy(data, src, nbytes);
        if (swap) gs_io_bswap(data, count, out_es);
    } else {   /* f8 -> f32, one element at a time (src may be unaligned) */
        float *d = data;
        for (size_t i = 0; i < count; i++) {
            unsigned char tmp[8];
            memcpy(tmp, src + 8 * i, 8);
            if (swap) gs_io_bswap(tmp, 1, 8);
            double v;
            memcpy(&v, tmp, 8);
            d[i] = (float)v;
        }
    }
    memset(out, 0, sizeof *out);
    out->dtype = dt;
    out->ndim = ndim;
    for (int i = 0; i < ndim; i++) out->shape[i] = shape[i];
    out->data = data;
    out->nbytes = nbytes;
    return GS_OK;
}

int gs_npy_load(gs_ctx *ctx, const char *path, gs_tensor_entry *out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (!path || !out) return gs_error(ctx, GS_EINVAL, "gs_npy_load: NULL argument");
    int rc = gs_io_read_file(ctx, path, SIZE_MAX - 1, &buf, &len);
    if (rc != GS_OK) return rc;
    rc = gs_npy_parse(ctx, buf, len, path, out);
    free(buf);
    return rc;
}

int gs_npy_save(gs_ctx *ctx, const char *path, gs_dtype dt, int ndim, const int64_t *shape,
                const void *data)
{
    static const char *const descr[] = { "<f4", "<f8", "<i4", "<i8", "|u1" };
    if (!path) return gs_error(ctx, GS_EINVAL, "gs_npy_save: NULL path");
    size_t es = gs_dtype_size(dt);
    if (es == 0) return gs_error(ctx, GS_EINVAL, "%s: gs_npy_save: unknown dtype %d", path, (int)dt);
    if (ndim < 0 || ndim > GS_TENSOR_MAX_DIMS || (ndim && !shape))
        return gs_error(ctx, GS_EINVAL, "%s: gs_npy_save: ndim %d outside 0..%d", path, ndim, GS_TENSOR_MAX_DIMS);
    if (!gs_io_host_le())
        return gs_error(ctx, GS_EUNSUPPORTED, "%s: writing .npy needs a little-endian host", path);
    size_t nbytes = es;
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0 || (uint64_t)shape[i] > SIZE_MAX || !gs_mul_ok(nbytes, (size_t)shape[i], &nbytes))
            return gs_error(ctx, GS_EINVAL, "%s: gs_npy_save: bad dimension %d = %lld", path, i,
                            (long long)shape[i]);
    if (nbytes && !data) return gs_error(ctx, GS_EINVAL, "%s: gs_npy_save: NULL data", path);
    /* 10-byte preamble + dict + spaces + '\n' = a multiple of 64 (numpy's own
     * rule): 8 dims of 19 digits fit well within one u16 length. */
    char hdr[512];
    int n = snprintf(hdr, sizeof hdr, "\x93NUMPY\x01%c%c%c{'descr': '%s', 'fortran_order': False, 'shape': (",
                     0, 0, 0, descr[dt]);
    for (int i = 0; i < ndim; i++)
        n += snprintf(hdr + n, sizeof hdr - (size_t)n, "%lld,%s", (long long)shape[i], i + 1 < ndim ? " " : "");
    if (ndim > 1) n--;   /* numpy writes (3,) for 1-D but (3, 4) otherwise */
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, "), }");
    while ((n + 1) % 64 != 0) hdr[n++] = ' ';
    hdr[n++] = '\n';
    size_t hlen = (size_t)n - 10;
    hdr[8] = (char)(hlen & 0xff);
    hdr[9] = (char)(hlen >> 8);
    gs_io_chunk chunks[2] = { { hdr, (size_t)n }, { data, nbytes } };
    return gs_io_write_atomic(ctx, path, chunks, 2);
}
