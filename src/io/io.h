/* io.h - gradscope's file formats: IDX, datasets, safetensors, NumPy .npy.
 *
 * Internal API (the lead exposes parts of it in gradscope.h).  Everything here
 * depends only on core/.  Conventions shared by every reader:
 *   - a reader takes a buffer and a length plus an `origin` string (a file name,
 *     or any label) that every error message starts with; a path-based wrapper
 *     reads the file and calls it with origin = path;
 *   - magic, version, sizes and bounds are checked before anything is
 *     allocated; sizes from a file are never trusted (all products checked);
 *   - on failure nothing stays allocated and the outputs are untouched;
 *   - a missing file is GS_ENOTFOUND, an unreadable one GS_EIO, a malformed one
 *     GS_EFORMAT, a valid file this build cannot read GS_EUNSUPPORTED.
 * Writers write <path>.tmp.<pid>, fsync it and rename it over <path>: a crash
 * never leaves a half-written file at <path>.
 * Multi-byte values in files are little-endian (IDX: big-endian); readers
 * convert on any host, writers need a little-endian host (GS_EUNSUPPORTED
 * elsewhere).
 */
#ifndef GS_IO_H
#define GS_IO_H

#include <stddef.h>
#include <stdint.h>
#include "core.h"

/* ======================================================================
 * dtypes and tensor entries (shared by safetensors and npy)
 * ====================================================================== */
typedef enum { GS_DT_F32, GS_DT_F64, GS_DT_I32, GS_DT_I64, GS_DT_U8 } gs_dtype;

#define GS_TENSOR_MAX_DIMS 8

/* Bytes per element (4, 8, 4, 8, 1); 0 for a value outside the enum. */
size_t gs_dtype_size(gs_dtype dt);
/* safetensors spelling: "F32" "F64" "I32" "I64" "U8"; "?" if unknown. */
const char *gs_dtype_name(gs_dtype dt);

/* One named tensor.  data holds nbytes = prod(shape) * gs_dtype_size(dtype)
 * bytes in C order, native byte order (NULL when nbytes == 0).  ndim 0 is a
 * scalar (one element). */
typedef struct gs_tensor_entry {
    char *name;                          /* owned; NULL for an .npy entry */
    gs_dtype dtype;
    int ndim;                            /* 0..GS_TENSOR_MAX_DIMS */
    int64_t shape[GS_TENSOR_MAX_DIMS];
    void *data;                          /* owned */
    size_t nbytes;
} gs_tensor_entry;

/* Free name and data of an entry and zero it (NULL-safe; the struct itself
 * is the caller's). */
void gs_tensor_entry_clear(gs_tensor_entry *e);

/* An ordered list of named tensors plus string metadata: the in-memory form
 * of a safetensors file.  Order = order of gs_tensor_list_add (and, for a
 * parsed file, order of the data in the file). */
typedef struct gs_tensor_list {
    int n, cap;
    gs_tensor_entry *items;              /* (n,) */
    char **meta_keys;                    /* (n_meta,) */
    char **meta_values;                  /* (n_meta,) */
    int n_meta;
} gs_tensor_list;

/* Empty list; NULL when out of memory. */
gs_tensor_list *gs_tensor_list_create(void);
void gs_tensor_list_free(gs_tensor_list *t);
/* Append a copy of data (prod(shape) elements of dt, C order).  GS_EINVAL for
 * a NULL/empty/"__metadata__"/duplicate name, ndim outside 0..8, a negative
 * dimension or an unknown dtype; GS_ENOMEM.  data may be NULL only when the
 * tensor has no elements.  On failure t is unchanged. */
int gs_tensor_list_add(gs_ctx *ctx, gs_tensor_list *t, const char *name, gs_dtype dt,
                       int ndim, const int64_t *shape, const void *data);
/* The entry called name, or NULL. */
const gs_tensor_entry *gs_tensor_list_find(const gs_tensor_list *t, const char *name);
/* Set (or replace) metadata key -> value; both copied.  GS_EINVAL, GS_ENOMEM. */
int gs_tensor_list_set_meta(gs_ctx *ctx, gs_tensor_list *t, const char *key, const char *value);
/* The value for key, or NULL. */
const char *gs_tensor_list_meta(const gs_tensor_list *t, const char *key);

/* ======================================================================
 * safetensors: u64 LE header length, JSON header, data
 * ====================================================================== */
/* Largest JSON header accepted (the reference implementation's limit). */
#define GS_SAFETENSORS_MAX_HEADER (100u * 1024u * 1024u)

/* Parse a whole safetensors file held in buf (len bytes).  Accepts any entry
 * order in the header (PyTorch's writer sorts by name), padding spaces after
 * the JSON, dtypes F32 F64 I32 I64 U8 (others: GS_EUNSUPPORTED naming the
 * tensor), up to 8 dimensions.  Data offsets must be in bounds, match
 * prod(shape) * dtype size, and tile the data region exactly (contiguous, no
 * overlap, no trailing bytes).  *out gets a new list, entries in data order,
 * with __metadata__ (string values only) as metadata.  GS_EFORMAT,
 * GS_EUNSUPPORTED, GS_ENOMEM; *out untouched on failure. */
int gs_safetensors_parse(gs_ctx *ctx, const void *buf, size_t len, const char *origin,
                         gs_tensor_list **out);
/* Read path and parse it; plus GS_ENOTFOUND / GS_EIO. */
int gs_safetensors_load(gs_ctx *ctx, const char *path, gs_tensor_list **out);
/* Write t to path atomically (path.tmp.<pid>, fsync, rename).  Tensors are
 * written in list order; the header is {"__metadata__":{...}, name: {...}, ...}
 * padded with spaces to a multiple of 8 bytes so every tensor starts 8-byte
 * aligned relative to the data start.  GS_EIO, GS_ENOMEM, GS_EUNSUPPORTED. */
int gs_safetensors_save(gs_ctx *ctx, const char *path, const gs_tensor_list *t);

/* ======================================================================
 * NumPy .npy (format versions 1.0, 2.0, 3.0)
 * ====================================================================== */
/* Parse an .npy file held in buf.  descr '<f4' -> GS_DT_F32; '<f8' -> converted
 * to GS_DT_F32; '<i4' -> GS_DT_I32; '<i8' -> GS_DT_I64; '|u1' -> GS_DT_U8
 * ('>' byte orders of the same types are accepted and converted).  C order
 * only (fortran_order True: GS_EUNSUPPORTED), ndim <= 8.  out->name = NULL.
 * GS_EFORMAT, GS_EUNSUPPORTED, GS_ENOMEM; *out untouched on failure. */
int gs_npy_parse(gs_ctx *ctx, const void *buf, size_t len, const char *origin,
                 gs_tensor_entry *out);
int gs_npy_load(gs_ctx *ctx, const char *path, gs_tensor_entry *out);
/* Write a version 1.0 .npy (header padded to a multiple of 64 bytes) of any
 * gs_dtype (F32 '<f4', F64 '<f8', I32 '<i4', I64 '<i8', U8 '|u1'), atomically.
 * ndim 0..8.  GS_EINVAL, GS_EIO, GS_ENOMEM, GS_EUNSUPPORTED. */
int gs_npy_save(gs_ctx *ctx, const char *path, gs_dtype dt, int ndim, const int64_t *shape,
                const void *data);

/* ======================================================================
 * IDX (LeCun's MNIST format), unsigned-byte data only
 * ====================================================================== */
/* Largest decompressed or raw IDX file accepted. */
#define GS_IDX_MAX_BYTES ((size_t)1 << 30)

typedef struct gs_idx {
    int ndim;                /* 1..4 (images 3: N, rows, cols; labels 1: N) */
    int64_t dims[4];
    uint8_t *data;           /* owned, nbytes = prod(dims) bytes */
    size_t nbytes;
} gs_idx;

/* Parse an IDX file in buf: magic 00 00 <type> <ndim>, ndim big-endian u32
 * dimensions, then the data.  type must be 0x08 (unsigned byte); the other
 * IDX types (0x09 0x0B 0x0C 0x0D 0x0E) are GS_EUNSUPPORTED, anything else
 * GS_EFORMAT.  Each dimension must be in 1..2^31-1 and the data exactly
 * prod(dims) bytes (shorter: "header says N bytes, file has M"; longer:
 * trailing garbage).  The data is copied.  *out untouched on failure. */
int gs_idx_parse(gs_ctx *ctx, const void *buf, size_t len, const char *origin, gs_idx *out);
/* Read path, gunzip it if it starts with the gzip magic 1f 8b (a truncated or
 * corrupt stream is GS_EFORMAT; without zlib GS_EUNSUPPORTED), parse it. */
int gs_idx_load(gs_ctx *ctx, const char *path, gs_idx *out);
void gs_idx_clear(gs_idx *idx);

/* ======================================================================
 * CIFAR-10, binary version (cifar.c)
 * ====================================================================== */
#define GS_CIFAR_RECORD_BYTES 3073   /* 1 label byte + 3 x 32 x 32 pixel bytes */
#define GS_CIFAR_CHANNELS 3
#define GS_CIFAR_SIDE 32
#define GS_CIFAR_CLASSES 10
/* Largest batch file accepted (an official one is 30,730,000 bytes). */
#define GS_CIFAR_MAX_BYTES ((size_t)1 << 30)

/* Parse one batch held in buf: len must be a whole, non-zero number of
 * 3073-byte records (label 0..9, then 1024 R, 1024 G, 1024 B bytes, each
 * plane 32x32 row-major).  out gets n = len / 3073, channels 3, height and
 * width 32, features 3072, classes 10, x (n, 3, 32, 32) = pixel / 255 in the
 * file's own channel-major order, y the labels; x and y owned by out (free
 * them, or hand a heap copy of out to gs_dataset_free).  GS_EFORMAT (empty,
 * size not a multiple of 3073, a label > 9: the message names origin and the
 * record), GS_ENOMEM, GS_EINVAL; *out untouched on failure. */
int gs_cifar_parse(gs_ctx *ctx, const void *buf, size_t len, const char *origin, gs_dataset *out);
/* Load split 0 (data_batch_1.bin .. data_batch_5.bin, concatenated in that
 * order) or split 1 (test_batch.bin) from dir, or from
 * dir/cifar-10-batches-bin/ when dir has no such first file (how the official
 * tarball unpacks).  Every file is read and checked before x is allocated.
 * GS_ENOTFOUND naming the missing file, GS_EIO, GS_EFORMAT naming the bad
 * file, GS_ENOMEM, GS_EINVAL; *out untouched on failure. */
int gs_cifar_load(gs_ctx *ctx, const char *dir, int split, gs_dataset *out);

/* ======================================================================
 * datasets
 * ====================================================================== */
/* gs_dataset, gs_dataset_free and gs_dataset_load are public: see gradscope.h. */


/* Load split (0 = train, 1 = test) of the dataset named by spec:
 *   "fashion-mnist"  the IDX files of Debian's dataset-fashion-mnist in
 *                    $GS_FASHION_MNIST_DIR, else /usr/share/datasets/fashion-mnist;
 *                    same file rule as idx: with PREFIX = DIR + "/"; 10 classes.
 *   "idx:PREFIX"     images PREFIX + "train-images-idx3-ubyte" (split 0) or
 *                    PREFIX + "t10k-images-idx3-ubyte" (split 1), labels
 *                    PREFIX + "{train,t10k}-labels-idx1-ubyte"; each name is
 *                    tried with ".gz" appended first, then as is.  PREFIX is
 *                    pasted verbatim: "idx:/data/mnist/" reads
 *                    /data/mnist/train-images-idx3-ubyte.gz.  Images must be
 *                    3-D (N, rows, cols) -> channels 1; labels 1-D, N equal.
 *                    classes = 1 + the largest label in this split's and the
 *                    other split's label file (when it exists), so train and
 *                    test agree.
 *   "cifar10:DIR"    the binary CIFAR-10 batches in DIR (or
 *                    DIR/cifar-10-batches-bin/): see gs_cifar_load; 3x32x32,
 *                    10 classes.
 *   "spirals"        3 interleaved 2-D spirals (features 2 = 1x1x2), noisy;
 *                    10000 train / 2000 test samples, labels i % 3.
 *   "teacher"        x ~ N(0,1)^32 (1x1x32); y = argmax of a fixed random
 *                    teacher: 4 tanh layers of width 64, then 10 outputs,
 *                    weights N(0, 1/fan_in), no biases; the teacher depends
 *                    only on seed, the inputs on seed and split.
 *                    10000 train / 2000 test samples.
 * seed matters only to the synthetic sets.  GS_EINVAL (bad spec or split),
 * GS_ENOTFOUND (files missing), GS_EFORMAT (bad files, mismatched counts,
 * labels out of range), GS_EUNSUPPORTED, GS_ENOMEM.  *out untouched on failure. */
int gs_dataset_load(gs_ctx *ctx, const char *spec, int split, uint64_t seed, gs_dataset **out);

/* ======================================================================
 * file helpers shared by the readers and writers (file.c)
 * ====================================================================== */
/* Read a whole file (at most max_bytes) into a new buffer (*buf, *len; one
 * extra NUL byte after the data).  GS_ENOTFOUND, GS_EIO, GS_EFORMAT (larger
 * than max_bytes), GS_ENOMEM. */
int gs_io_read_file(gs_ctx *ctx, const char *path, size_t max_bytes, uint8_t **buf, size_t *len);
/* 1 if buf starts with the gzip magic 1f 8b. */
int gs_io_is_gzip(const void *buf, size_t len);
/* Decompress a gzip stream (concatenated members allowed) into a new buffer
 * of at most max_out bytes.  GS_EFORMAT (corrupt, truncated, trailing bytes,
 * or larger than max_out), GS_ENOMEM, GS_EUNSUPPORTED (built without zlib). */
int gs_io_gunzip(gs_ctx *ctx, const void *buf, size_t len, const char *origin, size_t max_out,
                 uint8_t **out, size_t *out_len);

typedef struct gs_io_chunk { const void *data; size_t len; } gs_io_chunk;
/* Write the chunks in order to path.tmp.<pid>, fsync, rename to path (and
 * fsync the directory).  On failure the temporary file is removed and path is
 * untouched.  GS_EIO. */
int gs_io_write_atomic(gs_ctx *ctx, const char *path, const gs_io_chunk *chunks, int n_chunks);
/* 1 on a little-endian host. */
int gs_io_host_le(void);
/* Reverse the byte order of n elements of elem_size (2, 4 or 8) bytes in place. */
void gs_io_bswap(void *data, size_t n, size_t elem_size);

#endif
