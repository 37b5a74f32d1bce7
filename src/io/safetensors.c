/* safetensors.c - read and write the safetensors format.
 *
 * Layout: u64 little-endian N, N bytes of JSON header, then the data region.
 * Header: {"name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]},
 *          ..., "__metadata__": {"key": "value", ...}}, offsets relative to
 * the data region.  The reader checks everything the reference implementation
 * checks (header size limit, dtype, shape product = byte size, offsets that
 * tile the data region exactly) before copying any tensor.  The writer emits
 * tensors in list order and pads the header with spaces to a multiple of 8.
 * Not supported: F16/BF16/I8/... dtypes (GS_EUNSUPPORTED naming the tensor).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "io.h"
#include "json.h"

typedef struct st_item {
    int member;              /* index in the JSON object */
    gs_dtype dtype;
    int ndim;
    int64_t shape[GS_TENSOR_MAX_DIMS];
    uint64_t begin, end;
} st_item;

static const char *const unsupported_dtypes[] = {
    "F16", "BF16", "I8", "I16", "U16", "U32", "U64", "BOOL", "F8_E4M3", "F8_E5M2",
    "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64", NULL
};

/* Map a dtype string; 0 = ok, GS_EUNSUPPORTED (known but unsupported), GS_EFORMAT. */
static int map_dtype(const char *s, gs_dtype *dt)
{
    static const gs_dtype all[] = { GS_DT_F32, GS_DT_F64, GS_DT_I32, GS_DT_I64, GS_DT_U8 };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(s, gs_dtype_name(all[i])) == 0) {
            *dt = all[i];
            return GS_OK;
        }
    for (int i = 0; unsupported_dtypes[i]; i++)
        if (strcmp(s, unsupported_dtypes[i]) == 0) return GS_EUNSUPPORTED;
    return GS_EFORMAT;
}

/* Validate one tensor description; fills it (except member). */
static int check_item(gs_ctx *ctx, const char *origin, const char *name, const gs_json *v,
                      uint64_t data_len, st_item *it)
{
    if (v->type != GS_JSON_OBJECT)
        return gs_error(ctx, GS_EFORMAT, "%s: tensor \"%s\": header entry is not an object", origin, name);
    const char *ds = gs_json_string(gs_json_get(v, "dtype"));
    const gs_json *shape = gs_json_get(v, "shape"), *offs = gs_json_get(v, "data_offsets");
    if (!ds) return gs_error(ctx, GS_EFORMAT, "%s: tensor \"%s\": missing or non-string dtype", origin, name);
    int rc = map_dtype(ds, &it->dtype);
    if (rc == GS_EUNSUPPORTED)
        return gs_error(ctx, rc, "%s: tensor \"%s\": dtype %s is not supported (F32 F64 I32 I64 U8 are)",
                        origin, name, ds);
    if (rc != GS_OK) return gs_error(ctx, rc, "%s: tensor \"%s\": unknown dtype \"%s\"", origin, name, ds);
    if (!shape || shape->type != GS_JSON_ARRAY)
        return gs_error(ctx, GS_EFORMAT, "%s: tensor \"%s\": missing or non-array shape", origin, name);
    if (shape->n > GS_TENSOR_MAX_DIMS)
        return gs_error(ctx, GS_EUNSUPPORTED, "%s: tensor \"%s\": %d dimensions, at most %d supported",
                        origin, name, shape->n, GS_TENSOR_MAX_DIMS);
    it->ndim = shape->n;
    uint64_t nbytes = gs_dtype_size(it->dtype);
    for (int d = 0; d < shape->n; d++) {
        int64_t s;
        if (!gs_json_int64(&shape->items[d], &s) || s < 0)
            return gs_error(ctx, GS_EFORMAT, "%s: tensor \"%s\": shape[%d] is not a non-negative integer",
                            origin, name, d);
        it->shape[d] = s;
        if (s != 0 && nbytes > UINT64_MAX / (uint64_t)s)
            return gs_error(ctx, GS_EFORMAT, "%s: tensor \"%s\": shape overflows", origin, name);
        nbytes *= (uint64_t)s;
    }
    int64_t b, e;
    if (!offs || offs->type != GS_JSON_ARRAY || offs->n != 2 || !gs_json_int64(&offs->items[0], &b) ||
        !gs_json_int64(&offs->items[1], &e) || b < 0 || e < b)
        return gs_error(ctx, GS_EFORMAT, "%s: tensor \"%s\": data_offsets must be [begin, end] with "
                        "0 <= begin <= end", origin, name);
    if ((uint64_t)e > data_len)
        return gs_error(ctx, GS_EFORMAT, "%s: tensor \"%s\": data_offsets [%lld, %lld] run past the "
                        "%llu bytes of data in the file", origin, name, (long long)b, (long long)e,
                        (unsigned long long)data_len);
    if ((uint64_t)(e - b) != nbytes)
        return gs_error(ctx, GS_EFORMAT, "%s: tensor \"%s\": shape and dtype %s need %llu bytes, "
                        "data_offsets give %lld", origin, name, ds, (unsigned long long)nbytes,
                        (long long)(e - b));
    it->begin = (uint64_t)b;
    it->end = (uint64_t)e;
    return GS_OK;
}

static int cmp_offset(const void *a, const void *b)
{
    const st_item *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return x->member - y->member;
}

static int cmp_name_root(const void *a, const void *b, const gs_json *root)
{
    return strcmp(root->keys[((const st_item *)a)->member], root->keys[((const st_item *)b)->member]);
}

int gs_safetensors_parse(gs_ctx *ctx, const void *buf, size_t len, const char *origin,
                         gs_tensor_list **out)
{
    const unsigned char *p = buf;
    if (!origin) origin = "(safetensors)";
    if (!out || (!buf && len)) return gs_error(ctx, GS_EINVAL, "%s: gs_safetensors_parse: NULL argument", origin);
    if (len < 8)
        return gs_error(ctx, GS_EFORMAT, "%s: file is %zu bytes, too short for the 8-byte header length",
                        origin, len);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | p[i];
    if (hlen > GS_SAFETENSORS_MAX_HEADER)
        return gs_error(ctx, GS_EFORMAT, "%s: header length %llu exceeds the %u-byte limit (not a "
                        "safetensors file?)", origin, (unsigned long long)hlen, GS_SAFETENSORS_MAX_HEADER);
    if (hlen > len - 8)
        return gs_error(ctx, GS_EFORMAT, "%s: header length says %llu bytes, file has only %zu after the "
                        "length field (truncated?)", origin, (unsigned long long)hlen, len - 8);
    if (hlen < 2 || p[8] != '{')
        return gs_error(ctx, GS_EFORMAT, "%s: JSON header does not start with '{' (not a safetensors file?)",
                        origin);
    const unsigned char *data = p + 8 + hlen;
    uint64_t data_len = len - 8 - hlen;

    gs_json *root = NULL;
    st_item *items = NULL;
    gs_tensor_list *t = NULL;
    int rc = gs_json_parse(ctx, (const char *)p + 8, (size_t)hlen, origin, &root);
    if (rc != GS_OK) return rc;
    if (root->type != GS_JSON_OBJECT) {
        rc = gs_error(ctx, GS_EFORMAT, "%s: JSON header is not an object", origin);
        goto fail;
    }
    items = malloc((size_t)(root->n ? root->n : 1) * sizeof *items);
    t = gs_tensor_list_create();
    if (!items || !t) goto nomem;
    int n = 0;
    const gs_json *meta = NULL;
    for (int m = 0; m < root->n; m++) {
        if (strcmp(root->keys[m], "__metadata__") == 0) {
            if (meta) {
                rc = gs_error(ctx, GS_EFORMAT, "%s: __metadata__ appears twice", origin);
                goto fail;
            }
            meta = &root->items[m];
            continue;
        }
        if (!root->keys[m][0]) {
            rc = gs_error(ctx, GS_EFORMAT, "%s: a tensor has an empty name", origin);
            goto fail;
        }
        items[n].member = m;
        if ((rc = check_item(ctx, origin, root->keys[m], &root->items[m], data_len, &items[n])) != GS_OK)
            goto fail;
        n++;
    }
    if (meta) {
        if (meta->type != GS_JSON_OBJECT) {
            rc = gs_error(ctx, GS_EFORMAT, "%s: __metadata__ is not an object", origin);
            goto fail;
        }
        for (int i = 0; i < meta->n; i++)
            if (meta->items[i].type != GS_JSON_STRING) {
                rc = gs_error(ctx, GS_EFORMAT, "%s: __metadata__ value of \"%s\" is not a string", origin,
                              meta->keys[i]);
                goto fail;
            }
    }
    /* Duplicate names: sort a copy by name (insertion into a sorted order would
     * be quadratic on a fuzzed header with a million entries). */
    if (n > 1) {
        st_item *byname = malloc((size_t)n * sizeof *byname);
        if (!byname) goto nomem;
        memcpy(byname, items, (size_t)n * sizeof *byname);
        /* qsort has no context argument in C11: a small bottom-up merge sort. */
        st_item *tmp = malloc((size_t)n * sizeof *tmp);
        if (!tmp) {
            free(byname);
            goto nomem;
        }
        for (int w = 1; w < n; w *= 2) {
            for (int lo = 0; lo < n; lo += 2 * w) {
                int mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
                int a = lo, b = mid, k = lo;
                while (a < mid && b < hi)
                    tmp[k++] = cmp_name_root(&byname[a], &byname[b], root) <= 0 ? byname[a++] : byname[b++];
                while (a < mid) tmp[k++] = byname[a++];
                while (b < hi) tmp[k++] = byname[b++];
            }
            memcpy(byname, tmp, (size_t)n * sizeof *tmp);
        }
        free(tmp);
        int dup = -1;
        for (int i = 1; i < n && dup < 0; i++)
            if (cmp_name_root(&byname[i - 1], &byname[i], root) == 0) dup = byname[i].member;
        free(byname);
        if (dup >= 0) {
            rc = gs_error(ctx, GS_EFORMAT, "%s: tensor \"%s\" appears twice in the header", origin,
                          root->keys[dup]);
            goto fail;
        }
    }
    /* The data must be tiled exactly: no gaps, no overlap, no trailing bytes. */
    qsort(items, (size_t)n, sizeof *items, cmp_offset);
    uint64_t expect = 0;
    for (int i = 0; i < n; i++) {
        if (items[i].begin != expect) {
            rc = gs_error(ctx, GS_EFORMAT, "%s: tensor \"%s\" starts at data offset %llu, expected %llu "
                          "(tensors must be contiguous and must not overlap)", origin,
                          root->keys[items[i].member], (unsigned long long)items[i].begin,
                          (unsigned long long)expect);
            goto fail;
        }
        expect = items[i].end;
    }
    if (expect != data_len) {
        rc = gs_error(ctx, GS_EFORMAT, "%s: header describes %llu bytes of data, file has %llu",
                      origin, (unsigned long long)expect, (unsigned long long)data_len);
        goto fail;
    }
    /* Everything checked: copy. */
    if (n > 0) {
        t->items = calloc((size_t)n, sizeof *t->items);
        if (!t->items) goto nomem;
        t->cap = n;
    }
    for (int i = 0; i < n; i++) {
        gs_tensor_entry *e = &t->items[i];
        const char *name = root->keys[items[i].member];
        size_t nb = (size_t)(items[i].end - items[i].begin), nl = strlen(name) + 1;
        e->name = malloc(nl);
        e->data = nb ? malloc(nb) : NULL;
        t->n = i + 1;
        if (!e->name || (nb && !e->data)) goto nomem;
        memcpy(e->name, name, nl);
        if (nb) memcpy(e->data, data + items[i].begin, nb);
        if (!gs_io_host_le()) gs_io_bswap(e->data, nb / gs_dtype_size(items[i].dtype),
                                          gs_dtype_size(items[i].dtype));
        e->dtype = items[i].dtype;
        e->ndim = items[i].ndim;
        memcpy(e->shape, items[i].shape, sizeof e->shape);
        e->nbytes = nb;
    }
    for (int i = 0; meta && i < meta->n; i++)
        if ((rc = gs_tensor_list_set_meta(ctx, t, meta->keys[i], meta->items[i].string)) != GS_OK) goto fail;
    free(items);
    gs_json_free(root);
    *out = t;
    return GS_OK;
nomem:
    rc = gs_error(ctx, GS_ENOMEM, "%s: out of memory", origin);
fail:
    gs_tensor_list_free(t);
    free(items);
    gs_json_free(root);
    return rc;
}

int gs_safetensors_load(gs_ctx *ctx, const char *path, gs_tensor_list **out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (!path || !out) return gs_error(ctx, GS_EINVAL, "gs_safetensors_load: NULL argument");
    int rc = gs_io_read_file(ctx, path, SIZE_MAX - 1, &buf, &len);
    if (rc != GS_OK) return rc;
    rc = gs_safetensors_parse(ctx, buf, len, path, out);
    free(buf);
    return rc;
}

int gs_safetensors_save(gs_ctx *ctx, const char *path, const gs_tensor_list *t)
{
    if (!path || !t) return gs_error(ctx, GS_EINVAL, "gs_safetensors_save: NULL argument");
    if (!gs_io_host_le())
        return gs_error(ctx, GS_EUNSUPPORTED, "%s: writing safetensors needs a little-endian host", path);
    char *hdr = NULL;
    size_t hsize = 0;
    FILE *m = open_memstream(&hdr, &hsize);
    if (!m) return gs_error(ctx, GS_ENOMEM, "%s: out of memory for the header", path);
    int bad = 0;
    fputc('{', m);
    if (t->n_meta > 0) {
        fputs("\"__metadata__\":{", m);
        for (int i = 0; i < t->n_meta; i++) {
            if (i) fputc(',', m);
            bad |= gs_json_escape(m, t->meta_keys[i]);
            fputc(':', m);
            bad |= gs_json_escape(m, t->meta_values[i]);
        }
        fputc('}', m);
    }
    uint64_t off = 0;
    for (int i = 0; i < t->n; i++) {
        const gs_tensor_entry *e = &t->items[i];
        if (i || t->n_meta) fputc(',', m);
        bad |= gs_json_escape(m, e->name);
        fprintf(m, ":{\"dtype\":\"%s\",\"shape\":[", gs_dtype_name(e->dtype));
        for (int d = 0; d < e->ndim; d++) fprintf(m, "%s%lld", d ? "," : "", (long long)e->shape[d]);
        fprintf(m, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                (unsigned long long)(off + e->nbytes));
        off += e->nbytes;
    }
    fputc('}', m);
    /* Pad so the data region starts 8-byte aligned (8 + hlen = 0 mod 8). */
    long pos = ftell(m);
    while (pos >= 0 && pos % 8 != 0) {
        fputc(' ', m);
        pos++;
    }
    if (fclose(m) != 0 || bad || pos < 0) {
        free(hdr);
        return gs_error(ctx, GS_ENOMEM, "%s: cannot build the header", path);
    }
    int rc;
    unsigned char lenbuf[8];
    for (int i = 0; i < 8; i++) lenbuf[i] = (unsigned char)((uint64_t)hsize >> (8 * i));
    gs_io_chunk *chunks = malloc((size_t)(t->n + 2) * sizeof *chunks);
    if (!chunks) {
        free(hdr);
        return gs_error(ctx, GS_ENOMEM, "%s: out of memory", path);
    }
    chunks[0].data = lenbuf;
    chunks[0].len = 8;
    chunks[1].data = hdr;
    chunks[1].len = hsize;
    for (int i = 0; i < t->n; i++) {
        chunks[i + 2].data = t->items[i].data;
        chunks[i + 2].len = t->items[i].nbytes;
    }
    rc = gs_io_write_atomic(ctx, path, chunks, t->n + 2);
    free(chunks);
    free(hdr);
    return rc;
}
