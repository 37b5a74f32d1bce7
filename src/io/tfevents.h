/* tfevents.h - TensorBoard event files (events.out.tfevents.*) without TensorFlow.
 *
 * A writer for scalars and histograms, and a reader that verifies and decodes
 * what the writer (or TensorFlow) wrote.  The file is TFRecord framing around
 * serialized tensorflow.Event protobufs (event.proto, summary.proto):
 *   record = u64 length (LE) | u32 masked crc32c(length bytes) | data | u32 masked crc32c(data)
 *   masked(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8
 * The first record is Event{wall_time, file_version: "brain.Event:2"}; each
 * later one is Event{wall_time, step, summary: Summary{value: [Value{tag,
 * simple_value | histo}]}}.  Only the fields listed in tfevents.c are written
 * or decoded; other fields are skipped by the reader.
 *
 * Depends only on core/ and io.h.  Encoding is bytewise, so files are the
 * same on any host.  Nothing here prints.
 */
#ifndef GS_TFEVENTS_H
#define GS_TFEVENTS_H

#include <stddef.h>
#include <stdint.h>
#include "core.h"

/* Longest tag the writer accepts (bytes, without the NUL). */
#define GS_TF_TAG_MAX 255

typedef struct gs_tfevents gs_tfevents;

/* Create DIR/events.out.tfevents.<unix seconds, %010>.<hostname>.<pid>.<n>,
 * n the smallest counter from 0 whose file does not exist yet (opened with
 * O_EXCL, so two writers never share a file), creating DIR (and its parents)
 * if missing, and write the file_version record to it.  The writer keeps ctx
 * for its error messages.  GS_EINVAL for NULL arguments, GS_EIO naming the
 * path, GS_ENOMEM.  On failure *out is untouched and no file is left. */
int gs_tfevents_open(gs_ctx *ctx, const char *dir, gs_tfevents **out);

/* The file the writer writes (owned by the writer). */
const char *gs_tfevents_path(const gs_tfevents *w);

/* Seconds since the Unix epoch, with sub-second resolution: the wall_time
 * TensorBoard expects. */
double gs_tfevents_now(void);

/* One Event at step holding n scalar values tags[i] = values[i] (NaN and Inf
 * are stored as given); n = 0 writes nothing.  Tags must be 1..GS_TF_TAG_MAX bytes.
 * The record is buffered (see gs_tfevents_flush).  GS_EINVAL, GS_ENOMEM;
 * GS_EIO when a flush this call triggered failed (see gs_tfevents_flush).
 * On GS_EINVAL and GS_ENOMEM nothing is written. */
int gs_tfevents_scalars(gs_tfevents *w, int64_t step, double wall_time, int n, const char *const *tags,
                        const float *values);

/* One Event at step holding a histogram of values[0..n) under tag, as
 * TensorFlow's Histogram: bucket limits are TensorFlow's default buckets
 * (-DBL_MAX, -1e20 < -1e-12*1.1^k ... -1e-12, 0, 1e-12 ... 1e-12*1.1^k < 1e20,
 * DBL_MAX), a value v falls in the first bucket whose limit is > v, and runs
 * of empty buckets are merged into one entry (EncodeToProto without
 * preserve_zero_buckets).  min, max, num, sum, sum_squares are exact in double.
 * NaN and Inf values are left out (num counts the finite ones); with none,
 * min = max = 0 and a single empty bucket (DBL_MAX, 0).  Same codes as
 * gs_tfevents_scalars. */
int gs_tfevents_histogram(gs_tfevents *w, int64_t step, double wall_time, const char *tag,
                          const float *values, size_t n);

/* Write every buffered record to the file (the writer also flushes by itself
 * once 256 KiB are buffered).  GS_EIO naming the path when a write fails: the
 * file is then cut back to its last whole record, so every record written
 * before stays readable; the records of the failed flush are dropped and the
 * writer stays usable. */
int gs_tfevents_flush(gs_tfevents *w);

/* Flush, close the file and free w (NULL is a no-op).  Returns the flush's
 * or close's GS_EIO; w is freed either way. */
int gs_tfevents_close(gs_tfevents *w);

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, init and final xor
 * 0xFFFFFFFF) of len bytes: "123456789" -> 0xE3069283. */
uint32_t gs_crc32c(const void *data, size_t len);
/* TFRecord's masked form of a CRC. */
uint32_t gs_crc32c_mask(uint32_t crc);

/* ---- reader ---- */
enum { GS_TF_SCALAR = 0, GS_TF_HISTOGRAM = 1, GS_TF_FILE_VERSION = 2 };

/* One decoded value: each Summary.Value of an Event is one record, and an
 * Event's file_version is one record (kind 2, tag = the version string). */
typedef struct gs_tf_record {
    int64_t step;
    double wall_time;
    char tag[GS_TF_TAG_MAX + 1];     /* NUL-terminated; longer tags are cut */
    int kind;                        /* GS_TF_SCALAR, GS_TF_HISTOGRAM or GS_TF_FILE_VERSION */
    float value;                     /* scalar */
    double hmin, hmax, hnum, hsum, hsum_squares;   /* histogram */
    int n_buckets;                   /* histogram: bucket entries stored */
    double hbucket_total;            /* histogram: sum of the bucket counts */
} gs_tf_record;

/* Decode the events file held in buf (len bytes): every record's framing and
 * both CRCs are checked, then its Event.  Values that are neither scalars
 * nor histograms (images, tensors ...) and Events without summary or
 * file_version are skipped.  *records is a new array of *n entries (free it
 * with free(); NULL when *n == 0).  GS_EFORMAT "<origin>: record at offset
 * <byte>: ..." on a bad CRC, a truncated record or malformed protobuf;
 * GS_ENOMEM.  Outputs untouched on failure. */
int gs_tfevents_parse(gs_ctx *ctx, const void *buf, size_t len, const char *origin, gs_tf_record **records,
                      size_t *n);

/* Read path (at most 1 GiB) and parse it, origin = path; plus GS_ENOTFOUND
 * and GS_EIO from reading. */
int gs_tfevents_read(gs_ctx *ctx, const char *path, gs_tf_record **records, size_t *n);

#endif
