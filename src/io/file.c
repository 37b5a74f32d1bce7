/* file.c - whole-file reads, gunzip, atomic writes, byte order.
 *
 * The readers in io/ parse buffers; this file is the only place that opens
 * files.  gunzip output is bounded by the caller's max_out, so a gzip bomb or
 * a lying ISIZE trailer costs at most that much memory.  Writes go to a
 * temporary file that is fsynced and renamed: readers never see half a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef GS_HAVE_ZLIB
#include <zlib.h>
#endif
#include "io.h"

int gs_io_host_le(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

void gs_io_bswap(void *data, size_t n, size_t elem_size)
{
    unsigned char *p = data;
    if (elem_size < 2) return;
    for (size_t i = 0; i < n; i++, p += elem_size)
        for (size_t a = 0, b = elem_size - 1; a < b; a++, b--) {
            unsigned char t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

int gs_io_read_file(gs_ctx *ctx, const char *path, size_t max_bytes, uint8_t **buf, size_t *len)
{
    if (!path || !buf || !len) return gs_error(ctx, GS_EINVAL, "gs_io_read_file: NULL argument");
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return gs_error(ctx, e == ENOENT ? GS_ENOTFOUND : GS_EIO, "%s: cannot open: %s", path,
                        strerror(e));
    }
    /* The size from fstat is only a first guess (the file may change or be a
     * pipe); the loop below reads until EOF either way. */
    size_t cap = 1 << 16;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0) {
        if ((uint64_t)st.st_size > (uint64_t)max_bytes) {
            fclose(f);
            return gs_error(ctx, GS_EFORMAT, "%s: file is %lld bytes, more than the %zu accepted",
                            path, (long long)st.st_size, max_bytes);
        }
        cap = (size_t)st.st_size + 1;
    }
    uint8_t *b = malloc(cap + 1);
    size_t n = 0;
    if (!b) goto nomem;
    for (;;) {
        if (n == cap) {
            if (cap > max_bytes) {
                free(b);
                fclose(f);
                return gs_error(ctx, GS_EFORMAT, "%s: file is larger than the %zu bytes accepted",
                                path, max_bytes);
            }
            size_t ncap = cap > SIZE_MAX / 2 - 1 ? SIZE_MAX - 1 : cap * 2;
            uint8_t *nb = realloc(b, ncap + 1);
            if (!nb) goto nomem;
            b = nb;
            cap = ncap;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        int e = errno;
        free(b);
        fclose(f);
        return gs_error(ctx, GS_EIO, "%s: read error: %s", path, strerror(e));
    }
    fclose(f);
    if (n > max_bytes) {
        free(b);
        return gs_error(ctx, GS_EFORMAT, "%s: file is larger than the %zu bytes accepted", path,
                        max_bytes);
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    return GS_OK;
nomem:
    free(b);
    fclose(f);
    return gs_error(ctx, GS_ENOMEM, "%s: out of memory reading the file", path);
}

int gs_io_is_gzip(const void *buf, size_t len)
{
    const unsigned char *p = buf;
    return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

#ifdef GS_HAVE_ZLIB
int gs_io_gunzip(gs_ctx *ctx, const void *buf, size_t len, const char *origin, size_t max_out,
                 uint8_t **out, size_t *out_len)
{
    const unsigned char *in = buf;
    if (!origin) origin = "(buffer)";
    if (!gs_io_is_gzip(buf, len))
        return gs_error(ctx, GS_EFORMAT, "%s: not a gzip stream (no 1f 8b magic)", origin);
    /* First capacity: the ISIZE trailer (size mod 2^32) when plausible.
     * Deflate cannot expand more than ~1032x, which bounds a lying trailer. */
    size_t cap = 1 << 16;
    if (len >= 18) {
        uint64_t isize = (uint64_t)in[len - 4] | (uint64_t)in[len - 3] << 8 |
                         (uint64_t)in[len - 2] << 16 | (uint64_t)in[len - 1] << 24;
        uint64_t bound = (uint64_t)len * 1032u + 65536u;
        if (isize > bound) isize = bound;
        if (isize > max_out) isize = max_out;
        if (isize + 1 > cap) cap = (size_t)isize + 1;
    }
    if (cap > max_out + 1) cap = max_out + 1;
    uint8_t *o = malloc(cap);
    if (!o) return gs_error(ctx, GS_ENOMEM, "%s: out of memory for %zu decompressed bytes", origin, cap);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        free(o);
        return gs_error(ctx, GS_ENOMEM, "%s: cannot initialise zlib", origin);
    }
    size_t used_in = 0, n = 0;
    int rc = GS_OK;
    for (;;) {
        /* zlib counts in uInt; feed at most 1 GiB at a time. */
        size_t in_left = len - used_in, out_left = cap - n;
        zs.next_in = (Bytef *)(uintptr_t)(in + used_in);
        zs.avail_in = (uInt)(in_left > (1u << 30) ? (1u << 30) : in_left);
        zs.next_out = o + n;
        zs.avail_out = (uInt)(out_left > (1u << 30) ? (1u << 30) : out_left);
        uInt ai = zs.avail_in, ao = zs.avail_out;
        int zr = inflate(&zs, Z_NO_FLUSH);
        used_in += ai - zs.avail_in;
        n += ao - zs.avail_out;
        if (zr == Z_STREAM_END) {
            if (used_in == len) break;
            /* Another member may follow (gzip allows concatenation). */
            if (!gs_io_is_gzip(in + used_in, len - used_in)) {
                rc = gs_error(ctx, GS_EFORMAT, "%s: %zu bytes of trailing garbage after the gzip stream",
                              origin, len - used_in);
                goto done;
            }
            inflateReset(&zs);
            continue;
        }
        if (zr == Z_NEED_DICT || zr == Z_DATA_ERROR || zr == Z_STREAM_ERROR) {
            rc = gs_error(ctx, GS_EFORMAT, "%s: corrupt gzip data at compressed byte %zu: %s", origin,
                          used_in, zs.msg ? zs.msg : "invalid stream");
            goto done;
        }
        if (zr == Z_MEM_ERROR) {
            rc = gs_error(ctx, GS_ENOMEM, "%s: out of memory in zlib", origin);
            goto done;
        }
        if (n == cap) {
            if (cap > max_out) {
                rc = gs_error(ctx, GS_EFORMAT, "%s: decompresses to more than %zu bytes", origin, max_out);
                goto done;
            }
            size_t ncap = cap > max_out / 2 ? max_out + 1 : cap * 2;
            uint8_t *no = realloc(o, ncap);
            if (!no) {
                rc = gs_error(ctx, GS_ENOMEM, "%s: out of memory for %zu decompressed bytes", origin, ncap);
                goto done;
            }
            o = no;
            cap = ncap;
            continue;
        }
        if (used_in == len) {
            rc = gs_error(ctx, GS_EFORMAT, "%s: gzip stream is truncated (ends after %zu compressed bytes, "
                          "%zu decompressed)", origin, len, n);
            goto done;
        }
        if (zr == Z_BUF_ERROR) {
            rc = gs_error(ctx, GS_EFORMAT, "%s: corrupt gzip data at compressed byte %zu", origin, used_in);
            goto done;
        }
    }
    if (n > max_out) rc = gs_error(ctx, GS_EFORMAT, "%s: decompresses to more than %zu bytes", origin, max_out);
done:
    inflateEnd(&zs);
    if (rc != GS_OK) {
        free(o);
        return rc;
    }
    *out = o;
    *out_len = n;
    return GS_OK;
}
#else
int gs_io_gunzip(gs_ctx *ctx, const void *buf, size_t len, const char *origin, size_t max_out,
                 uint8_t **out, size_t *out_len)
{
    (void)buf; (void)len; (void)max_out; (void)out; (void)out_len;
    return gs_error(ctx, GS_EUNSUPPORTED, "%s: gzip-compressed, but this build has no zlib "
                    "(rebuild with zlib, or gunzip the file first)", origin ? origin : "(buffer)");
}
#endif

int gs_io_write_atomic(gs_ctx *ctx, const char *path, const gs_io_chunk *chunks, int n_chunks)
{
    if (!path || (n_chunks > 0 && !chunks) || n_chunks < 0)
        return gs_error(ctx, GS_EINVAL, "gs_io_write_atomic: bad arguments");
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    if (!tmp) return gs_error(ctx, GS_ENOMEM, "%s: out of memory", path);
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        int e = errno;
        free(tmp);
        return gs_error(ctx, GS_EIO, "%s: cannot create temporary file: %s", path, strerror(e));
    }
    for (int i = 0; i < n_chunks; i++) {
        if (chunks[i].len && fwrite(chunks[i].data, 1, chunks[i].len, f) != chunks[i].len) goto fail;
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) goto fail;
    if (fclose(f) != 0) {
        f = NULL;
        goto fail;
    }
    f = NULL;
    if (rename(tmp, path) != 0) goto fail;
    /* Make the rename itself durable. */
    {
        char *dir = malloc(plen + 2);
        if (dir) {
            memcpy(dir, path, plen + 1);
            char *slash = strrchr(dir, '/');
            if (!slash) strcpy(dir, ".");
            else if (slash == dir) dir[1] = 0;
            else *slash = 0;
            int fd = open(dir, O_RDONLY);
            if (fd >= 0) {
                (void)fsync(fd);
                close(fd);
            }
            free(dir);
        }
    }
    free(tmp);
    return GS_OK;
fail: {
        int e = errno;
        if (f) fclose(f);
        remove(tmp);
        free(tmp);
        return gs_error(ctx, GS_EIO, "%s: write failed: %s", path, strerror(e));
    }
}
