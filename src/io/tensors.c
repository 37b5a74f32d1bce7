/* tensors.c - dtypes, tensor entries and the named tensor list with metadata.
 *
 * The list is the in-memory form of a safetensors file (and of a checkpoint):
 * an ordered set of uniquely named tensors, each owning a copy of its data,
 * plus string key/value metadata.  Lookups are linear: lists hold hundreds of
 * tensors at most.
 */
#include <stdlib.h>
#include <string.h>
#include "io.h"

size_t gs_dtype_size(gs_dtype dt)
{
    switch (dt) {
    case GS_DT_F32: return 4;
    case GS_DT_F64: return 8;
    case GS_DT_I32: return 4;
    case GS_DT_I64: return 8;
    case GS_DT_U8: return 1;
    }
    return 0;
}

const char *gs_dtype_name(gs_dtype dt)
{
    switch (dt) {
    case GS_DT_F32: return "F32";
    case GS_DT_F64: return "F64";
    case GS_DT_I32: return "I32";
    case GS_DT_I64: return "I64";
    case GS_DT_U8: return "U8";
    }
    return "?";
}

void gs_tensor_entry_clear(gs_tensor_entry *e)
{
    if (!e) return;
    free(e->name);
    free(e->data);
    memset(e, 0, sizeof *e);
}

gs_tensor_list *gs_tensor_list_create(void)
{
    return calloc(1, sizeof(gs_tensor_list));
}

void gs_tensor_list_free(gs_tensor_list *t)
{
    if (!t) return;
    for (int i = 0; i < t->n; i++) gs_tensor_entry_clear(&t->items[i]);
    free(t->items);
    for (int i = 0; i < t->n_meta; i++) {
        free(t->meta_keys[i]);
        free(t->meta_values[i]);
    }
    free(t->meta_keys);
    free(t->meta_values);
    free(t);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

int gs_tensor_list_add(gs_ctx *ctx, gs_tensor_list *t, const char *name, gs_dtype dt,
                       int ndim, const int64_t *shape, const void *data)
{
    if (!t || !name) return gs_error(ctx, GS_EINVAL, "gs_tensor_list_add: NULL list or name");
    if (!name[0] || strcmp(name, "__metadata__") == 0)
        return gs_error(ctx, GS_EINVAL, "gs_tensor_list_add: invalid tensor name \"%s\"", name);
    if (gs_tensor_list_find(t, name))
        return gs_error(ctx, GS_EINVAL, "gs_tensor_list_add: duplicate tensor name \"%s\"", name);
    size_t es = gs_dtype_size(dt);
    if (es == 0) return gs_error(ctx, GS_EINVAL, "gs_tensor_list_add: %s: unknown dtype %d", name, (int)dt);
    if (ndim < 0 || ndim > GS_TENSOR_MAX_DIMS || (ndim > 0 && !shape))
        return gs_error(ctx, GS_EINVAL, "gs_tensor_list_add: %s: ndim %d outside 0..%d", name, ndim,
                        GS_TENSOR_MAX_DIMS);
    size_t nbytes = es;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (uint64_t)shape[i] > SIZE_MAX || !gs_mul_ok(nbytes, (size_t)shape[i], &nbytes))
            return gs_error(ctx, GS_EINVAL, "gs_tensor_list_add: %s: bad or too large dimension %d = %lld",
                            name, i, (long long)shape[i]);
    }
    if (nbytes && !data) return gs_error(ctx, GS_EINVAL, "gs_tensor_list_add: %s: NULL data", name);
    if (t->n == t->cap) {
        int ncap = t->cap ? t->cap * 2 : 16;
        gs_tensor_entry *ni = realloc(t->items, (size_t)ncap * sizeof *ni);
        if (!ni) return gs_error(ctx, GS_ENOMEM, "gs_tensor_list_add: out of memory");
        t->items = ni;
        t->cap = ncap;
    }
    gs_tensor_entry e;
    memset(&e, 0, sizeof e);
    e.name = dup_str(name);
    e.data = nbytes ? malloc(nbytes) : NULL;
    if (!e.name || (nbytes && !e.data)) {
        gs_tensor_entry_clear(&e);
        return gs_error(ctx, GS_ENOMEM, "gs_tensor_list_add: %s: out of memory for %zu bytes", name, nbytes);
    }
    if (nbytes) memcpy(e.data, data, nbytes);
    e.dtype = dt;
    e.ndim = ndim;
    for (int i = 0; i < ndim; i++) e.shape[i] = shape[i];
    e.nbytes = nbytes;
    t->items[t->n++] = e;
    return GS_OK;
}

const gs_tensor_entry *gs_tensor_list_find(const gs_tensor_list *t, const char *name)
{
    if (!t || !name) return NULL;
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->items[i].name, name) == 0) return &t->items[i];
    return NULL;
}

int gs_tensor_list_set_meta(gs_ctx *ctx, gs_tensor_list *t, const char *key, const char *value)
{
    if (!t || !key || !value) return gs_error(ctx, GS_EINVAL, "gs_tensor_list_set_meta: NULL argument");
    char *v = dup_str(value);
    if (!v) return gs_error(ctx, GS_ENOMEM, "gs_tensor_list_set_meta: %s: out of memory", key);
    for (int i = 0; i < t->n_meta; i++)
        if (strcmp(t->meta_keys[i], key) == 0) {
            free(t->meta_values[i]);
            t->meta_values[i] = v;
            return GS_OK;
        }
    char *k = dup_str(key);
    char **nk = realloc(t->meta_keys, (size_t)(t->n_meta + 1) * sizeof *nk);
    if (nk) t->meta_keys = nk;
    char **nv = nk ? realloc(t->meta_values, (size_t)(t->n_meta + 1) * sizeof *nv) : NULL;
    if (nv) t->meta_values = nv;
    if (!k || !nk || !nv) {
        free(k);
        free(v);
        return gs_error(ctx, GS_ENOMEM, "gs_tensor_list_set_meta: %s: out of memory", key);
    }
    t->meta_keys[t->n_meta] = k;
    t->meta_values[t->n_meta] = v;
    t->n_meta++;
    return GS_OK;
}

const char *gs_tensor_list_meta(const gs_tensor_list *t, const char *key)
{
    if (!t || !key) return NULL;
    for (int i = 0; i < t->n_meta; i++)
        if (strcmp(t->meta_keys[i], key) == 0) return t->meta_values[i];
    return NULL;
}
