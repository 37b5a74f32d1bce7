/* memory.c - gs_alloc_zeros (core.h). */
#define _DEFAULT_SOURCE   /* madvise's MADV_HUGEPAGE */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "core.h"

/* From here up a block is asked for in 2 MB pages: a training step streams its parameters, gradients,
 * moments and activations (tens of MB) through the caches, and with 4 KB pages every 4 KB of them is
 * a TLB miss. */
#define HUGE_PAGE ((size_t)2 << 20)

float *gs_alloc_zeros(size_t n)
{
    size_t bytes;
    if (!gs_mul_ok(n ? n : 1, sizeof(float), &bytes) || bytes > ((size_t)1 << 46)) return NULL;
    bytes = (bytes + 63) & ~(size_t)63;
    float *p;
    if (bytes >= HUGE_PAGE) {
        const size_t span = (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
        p = aligned_alloc(HUGE_PAGE, span);
#ifdef MADV_HUGEPAGE
        if (p) (void)madvise(p, span, MADV_HUGEPAGE);   /* a hint: where the kernel declines, 4 KB pages */
#endif
    } else {
        p = aligned_alloc(64, bytes);
    }
    if (p) memset(p, 0, bytes);   /* the padding past n is never read */
    return p;
}
