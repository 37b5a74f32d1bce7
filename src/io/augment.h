/* augment.h - random image augmentation for training batches: pad-and-crop
 * and horizontal flip (the CIFAR recipe of He et al.: torchvision's
 * RandomCrop(32, padding=4) + RandomHorizontalFlip()).
 *
 * Works in place on float images in (N, C, H, W) order, draws only from the
 * caller's gs_rng (a seed gives the same augmentation on every host), never
 * allocates and never fails.  Depends only on core/.
 */
#ifndef GS_AUGMENT_H
#define GS_AUGMENT_H

#include <stddef.h>
#include "core.h"

/* Floats of scratch gs_augment_batch needs: one zero-padded image,
 * C * (H + 2 pad) * (W + 2 pad). */
static inline size_t gs_augment_scratch_floats(int C, int H, int W, int pad)
{
    if (pad < 0) pad = 0;
    return (size_t)C * (size_t)(H + 2 * pad) * (size_t)(W + 2 * pad);
}

/* Augment each of the N images of x (N, C, H, W) in place.  Per sample, in
 * this order of draws from r:
 *   pad > 0:  dy = gs_rng_below(r, 2 pad + 1), then dx likewise; the image is
 *             zero-padded by pad pixels on each side and the H x W window at
 *             (dy, dx) of the padded image is kept, so
 *             out[c][i][j] = in[c][i + dy - pad][j + dx - pad] (0 outside);
 *   flip:     gs_rng_below(r, 2) == 1 mirrors the result left-right,
 *             out[c][i][j] = out[c][i][W - 1 - j].
 * pad <= 0 and flip == 0 leave x as it is and draw nothing.  scratch holds
 * gs_augment_scratch_floats(C, H, W, pad) floats, allocated once by the
 * caller; its contents on return are unspecified. */
void gs_augment_batch(float *x, int N, int C, int H, int W, int pad, int flip, gs_rng *r, float *scratch);

/* Parse a comma-separated augmentation spec (the CLI's --augment):
 *   "crop"     pad-and-crop with pad 4;  "crop:N"  pad N (0..1024);
 *   "flip"     random horizontal flip;   "none"    no augmentation.
 * Words combine ("crop,flip", "crop:2,flip"); later crop words override
 * earlier ones.  Returns 0 and sets *pad and *flip (0 when not asked for), or
 * -1 for a NULL/empty spec, an empty or unknown word or a bad N, leaving the
 * outputs untouched. */
int gs_augment_parse(const char *spec, int *pad, int *flip);

#endif
