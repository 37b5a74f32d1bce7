/* checkpoint.h - safetensors checkpoints of a model (and optionally the
 * optimizer and the training position), and weights from PyTorch. */
#ifndef GS_CHECKPOINT_H
#define GS_CHECKPOINT_H
#include "models/model.h"
#include "io/io.h"

typedef struct gs_resume_state {
    int64_t step;            /* optimizer steps taken = next global step */
    uint64_t seed;           /* the data order's seed */
} gs_resume_state;

/* Write the model's parameters and buffers under their PyTorch names, the
 * config and version in __metadata__; with opt, also its moments and the
 * resume state.  Atomic (temporary file + rename). */
int gs_checkpoint_save(gs_ctx *ctx, const char *path, gs_model *m, gs_optim *opt,
                       const gs_resume_state *rs);
/* Read the model config stored in a gradscope checkpoint. */
int gs_checkpoint_config(gs_ctx *ctx, const gs_tensor_list *t, const char *origin, gs_model_config *cfg);
/* Copy every model tensor from t (by name; shapes must match; F32 or F64).
 * Missing or unexpected tensors are errors naming them, except PyTorch's
 * num_batches_tracked, which is ignored; names starting "gradscope." are
 * resume state, read only by gs_checkpoint_resume. */
int gs_checkpoint_apply(gs_ctx *ctx, const gs_tensor_list *t, const char *origin, gs_model *m);
/* Restore optimizer moments and the resume state (GS_ENOTFOUND if absent). */
int gs_checkpoint_resume(gs_ctx *ctx, const gs_tensor_list *t, const char *origin, gs_optim *opt,
                         gs_resume_state *rs);
/* Load path: config (from the file), model built for max_batch, tensors applied. */
int gs_checkpoint_load_model(gs_ctx *ctx, const char *path, int max_batch, gs_model **out,
                             gs_tensor_list **list);

#endif
