/* gradscope.h - build and train deep networks and measure how gradients flow.
 *
 * Worked example (error checks trimmed):
 *
 *     gs_ctx *ctx = gs_ctx_create();
 *     gs_model_config cfg;
 *     gs_model_config_default(&cfg);           // mlp, width 256, relu, he_normal
 *     cfg.depth = 20; cfg.skip = 2; cfg.norm = GS_NORM_BATCH;
 *     cfg.in_features = 784; cfg.classes = 10;
 *     gs_model *m = NULL;
 *     if (gs_model_create(ctx, &cfg, 128, &m) != GS_OK)   // max batch 128
 *         fprintf(stderr, "%s\n", gs_errmsg(ctx));
 *     gs_model_init(m, 42);                    // parameters from the seed
 *
 *     gs_optim_config oc; gs_optim_config_default(&oc);
 *     oc.kind = GS_OPTIM_SGD; oc.lr = 0.01f; oc.momentum = 0.9f;
 *     gs_optim *opt = NULL; gs_optim_create(ctx, m, &oc, &opt);
 *
 *     float loss;
 *     gs_model_set_training(m, 1);
 *     gs_model_zero_grad(m);
 *     gs_model_forward(m, x, 128);             // x: (128, 784) float32
 *     gs_model_loss(m, labels, &loss);         // mean softmax cross-entropy
 *     gs_model_backward(m);                    // fills every parameter gradient
 *     gs_optim_step(opt, 0, NULL);             // step index drives the schedule
 *
 *     gs_optim_free(opt); gs_model_free(m); gs_ctx_free(ctx);
 *
 * Conventions: every call returns GS_OK (0) or a negative GS_E* code and
 * leaves a message in gs_errmsg(ctx).  Pointers passed in are borrowed.
 * Every *_create has a *_free that accepts NULL.  The library never prints
 * and never exits.  Parameters, gradients and optimizer state each live in
 * one contiguous float block with the same layout (see gs_model_params).
 */
#ifndef GRADSCOPE_H
#define GRADSCOPE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GS_VERSION "0.1.0"

/* ---- status codes ---- */
enum {
    GS_OK = 0,
    GS_EINVAL = -1,        /* a bad argument or configuration */
    GS_ENOMEM = -2,        /* allocation failed */
    GS_EIO = -3,           /* a file could not be opened, read or written */
    GS_EFORMAT = -4,       /* a file is malformed: magic, sizes, truncation */
    GS_ESHAPE = -5,        /* tensor shapes do not fit together */
    GS_ENONFINITE = -6,    /* NaN or Inf in a forward or backward pass */
    GS_ENOTFOUND = -7,     /* a named tensor or file is missing */
    GS_EUNSUPPORTED = -8   /* valid request this build cannot do */
};

/* ---- activations, in DESIGN.md's order; PyTorch's definitions ---- */
typedef enum {
    GS_ACT_IDENTITY, GS_ACT_SIGMOID, GS_ACT_TANH, GS_ACT_RELU, GS_ACT_LEAKY_RELU,
    GS_ACT_ELU, GS_ACT_SELU, GS_ACT_GELU, GS_ACT_SILU, GS_ACT_SOFTPLUS, GS_ACT_HARDTANH,
    GS_ACT_COUNT
} gs_act;

typedef struct gs_ctx gs_ctx;
typedef void (*gs_log_fn)(void *user, const char *line);

gs_ctx *gs_ctx_create(void);
void gs_ctx_free(gs_ctx *ctx);
/* The last error message recorded in ctx ("no error" if none). */
const char *gs_errmsg(const gs_ctx *ctx);
/* A short fixed description of a status code. */
const char *gs_strerror(int code);
/* Threads the kernels use; 0 means the OpenMP default. */
void gs_ctx_set_threads(gs_ctx *ctx, int threads);
/* Results bit-identical whatever the thread count (they are run to run in any case): the
 * reductions that threads share (a convolution's weight gradient over the batch) are taken in
 * a fixed number of chunks, added in a fixed order.  Applies to models created afterwards. */
void gs_ctx_set_deterministic(gs_ctx *ctx, int on);
void gs_ctx_set_log(gs_ctx *ctx, gs_log_fn fn, void *user);

/* ---- model configuration (DESIGN.md §1) ---- */
typedef enum { GS_NORM_NONE, GS_NORM_BATCH, GS_NORM_LAYER } gs_norm;
typedef enum { GS_BLOCK_POST, GS_BLOCK_PRE } gs_block;
typedef enum { GS_RES_SCALE_NONE, GS_RES_SCALE_REZERO } gs_res_scale;
typedef enum {
    GS_INIT_HE_NORMAL, GS_INIT_HE_UNIFORM, GS_INIT_GLOROT_UNIFORM, GS_INIT_GLOROT_NORMAL,
    GS_INIT_LECUN_NORMAL, GS_INIT_ORTHOGONAL, GS_INIT_TORCH, /* PyTorch's nn.Linear default */
    GS_INIT_FIXUP            /* Zhang et al. 2019 without the scalar biases: residual branches' last layer and
                                the classifier 0, the branches' other layers he_normal x L^(-1/(2m-2)) */
} gs_init;
typedef enum { GS_LOSS_CE, GS_LOSS_MSE } gs_loss;

typedef struct gs_model_config {
    char family[16];         /* "mlp", "resnet" or "plain" (He et al.'s CIFAR family) */
    int in_features;         /* input features per sample (C*H*W for images) */
    int in_channels, in_height, in_width;   /* image shape (resnet/plain); in_features = C*H*W */
    char shortcut;           /* resnet: 'A' (subsample + zero channels) or 'B' (1x1 conv + BN) */
    int classes;             /* outputs of the head */
    int width;               /* mlp: hidden width (default 256); resnet/plain: first stage's channels (16) */
    int depth;               /* mlp: hidden Linear(W, W) layers (default 20); resnet/plain: 6n+2 */
    int skip;                /* residual span T; 0 = plain (default 0) */
    gs_block block;          /* post (default) or pre activation blocks */
    gs_act act;              /* default relu */
    gs_norm norm;            /* default none */
    gs_res_scale res_scale;  /* rezero adds alphas.{b}, initialised 0 */
    gs_init init;            /* default he_normal */
    int zero_last;           /* zero the last norm weight / last layer of each branch */
    gs_loss loss;            /* default cross-entropy */
} gs_model_config;

typedef struct gs_model gs_model;

void gs_model_config_default(gs_model_config *cfg);
/* Parse "none|batch|layer" etc.; 0 on success, -1 if unknown. */
int gs_norm_from_name(const char *s, gs_norm *out);
int gs_init_from_name(const char *s, gs_init *out);
const char *gs_norm_name(gs_norm n);
const char *gs_init_name(gs_init i);
const char *gs_act_name(gs_act a);
int gs_act_from_name(const char *s, gs_act *out);
/* The config as one JSON object (the checkpoint metadata); returns bytes written like snprintf. */
int gs_model_config_to_json(const gs_model_config *cfg, char *buf, size_t len);
/* Parse that JSON back; unknown keys are ignored, bad values give GS_EINVAL. */
int gs_model_config_from_json(gs_ctx *ctx, const char *json, gs_model_config *cfg);

/* Build a model for batches of up to max_batch samples.  Checks the config
 * (GS_EINVAL naming the bad field) and allocates every buffer a step needs,
 * so no step allocates.  Parameters are zero until gs_model_init or a load. */
int gs_model_create(gs_ctx *ctx, const gs_model_config *cfg, int max_batch, gs_model **out);
void gs_model_free(gs_model *m);
const gs_model_config *gs_model_get_config(const gs_model *m);
/* Draw every parameter from the configured initialisation with this seed;
 * norms get weight 1 bias 0, running stats mean 0 var 1. */
int gs_model_init(gs_model *m, uint64_t seed);
/* Train mode (batch statistics, running averages updated) or eval mode. */
void gs_model_set_training(gs_model *m, int training);
/* Request ∂L/∂input in the next backward (off by default: it costs a GEMM). */
void gs_model_set_input_grad(gs_model *m, int on);

/* Forward pass of N samples x (N, in_features), borrowed until backward.
 * Returns GS_ESHAPE if N > max_batch or N < 1. */
int gs_model_forward(gs_model *m, const float *x, int N);
/* Logits of the last forward, (N, classes); owned by the model. */
const float *gs_model_logits(const gs_model *m);
/* Loss of the last forward against labels (N,) in [0, classes); mean
 * cross-entropy or MSE against one-hot targets.  GS_EINVAL on a bad label. */
int gs_model_loss(gs_model *m, const int32_t *labels, float *loss);
/* Backward from the last loss: accumulates every parameter gradient. */
int gs_model_backward(gs_model *m);
/* Zero the gradient block (cheaply: the next backward overwrites). */
void gs_model_zero_grad(gs_model *m);
/* ∂L/∂input of the last backward, (N, in_features), or NULL if not requested. */
const float *gs_model_input_grad(const gs_model *m);

/* ---- parameters and buffers, in PyTorch state_dict order ---- */
typedef struct gs_tensor_info {
    const char *name;        /* "layers.3.weight" */
    int ndim;
    int64_t shape[4];
    size_t numel;
    int trainable;           /* 1 parameter, 0 buffer (running stats) */
    float *data;             /* into the parameter or buffer block */
    float *grad;             /* into the gradient block, NULL for buffers */
} gs_tensor_info;
int gs_model_n_tensors(const gs_model *m);
const gs_tensor_info *gs_model_tensor(const gs_model *m, int i);
const gs_tensor_info *gs_model_find(const gs_model *m, const char *name);
/* The flat blocks: n floats each, same layout for params and grads. */
float *gs_model_params(gs_model *m, size_t *n);
float *gs_model_grads(gs_model *m, size_t *n);
size_t gs_model_n_params(const gs_model *m);
/* Multiply-adds of one sample's forward pass through the linear and conv layers; a training step
 * costs about 6 times this in FLOPs per sample (forward 2, backward 4). */
int64_t gs_model_macs(const gs_model *m);

/* ---- optimizers and schedules ---- */
typedef enum { GS_OPTIM_SGD, GS_OPTIM_ADAM, GS_OPTIM_ADAMW } gs_optim_kind;
typedef enum { GS_SCHED_CONSTANT, GS_SCHED_STEP, GS_SCHED_COSINE } gs_sched_kind;
typedef struct gs_optim_config {
    gs_optim_kind kind;
    float lr, momentum, weight_decay;   /* SGD: momentum 0.9 by default */
    int nesterov;
    float beta1, beta2, eps;            /* Adam(W) */
    float clip;                         /* max global grad norm, 0 = off */
    gs_sched_kind schedule;
    int64_t total_steps;                /* for cosine */
    int64_t step_size; float gamma;     /* step: lr *= gamma every step_size steps */
    int64_t warmup;                     /* linear warm-up steps, 0 = none */
} gs_optim_config;
typedef struct gs_optim gs_optim;
void gs_optim_config_default(gs_optim_config *oc);
int gs_optim_from_name(const char *s, gs_optim_kind *out);
int gs_sched_from_name(const char *s, gs_sched_kind *out);
int gs_optim_create(gs_ctx *ctx, gs_model *m, const gs_optim_config *oc, gs_optim **out);
void gs_optim_free(gs_optim *o);
/* The learning rate the schedule gives at step (0-based). */
float gs_optim_lr(const gs_optim *o, int64_t step);
/* Clip (if configured), then update every parameter.  *grad_norm, if not
 * NULL, receives the global gradient norm before clipping. */
int gs_optim_step(gs_optim *o, int64_t step, float *grad_norm);
/* Optimizer state (moments), n floats, same layout as the parameters. */
float *gs_optim_state(gs_optim *o, int which, size_t *n);
gs_model *gs_optim_model(const gs_optim *o);
const gs_optim_config *gs_optim_get_config(const gs_optim *o);
int64_t gs_optim_steps_taken(const gs_optim *o);
void gs_optim_set_steps_taken(gs_optim *o, int64_t t);

/* ---- data (DESIGN.md §5) ---- */
typedef struct gs_dataset {
    int64_t n;
    int channels, height, width;
    int64_t features;        /* = channels * height * width */
    int classes;
    float *x;                /* (n, features); images scaled pixel / 255 */
    int32_t *y;              /* (n,), each in 0..classes-1 */
} gs_dataset;
/* spec: "fashion-mnist", "idx:PREFIX", "cifar10:DIR", "spirals", "teacher"; split 0 train,
 * 1 test; seed for the synthetic sets.  Files are checked before use:
 * GS_ENOTFOUND, GS_EFORMAT (naming file and problem), GS_EINVAL. */
int gs_dataset_load(gs_ctx *ctx, const char *spec, int split, uint64_t seed, gs_dataset **out);
void gs_dataset_free(gs_dataset *d);

/* ---- training ---- */
struct gs_probe_stats;
struct gs_eval_point;
typedef struct gs_train_config {
    int64_t epochs;          /* used when steps == 0 */
    int64_t steps;           /* total optimizer steps; 0 = epochs * steps per epoch */
    int batch;               /* samples per step; the last partial batch of an epoch is dropped */
    uint64_t seed;           /* data order: epoch e's permutation depends on (seed, e) only */
    int log_every;           /* steps between progress lines and metrics records */
    const char *log_dir;     /* run.json + metrics.jsonl, NULL = none */
    const char *save_path;   /* checkpoint at every epoch end and at the end, NULL = none */
    const char *resume_path; /* continue exactly from this checkpoint, NULL = start */
    const char *data_name;   /* recorded in run.json */
    int probe;               /* instruments at every step (DESIGN.md §2) */
    int probe_every;         /* steps between instrument readings (default 1) */
    void (*on_probe)(void *user, const struct gs_probe_stats *s);  /* each reading, may be NULL */
    void *probe_user;
    int64_t dead_samples;    /* training samples for dead units (default 10000) */
    int hist_every;          /* TensorBoard gradient histograms every K steps (0 = never) */
    int skip_nonfinite;      /* skip the update of a step with NaN/Inf instead of stopping */
    int augment_pad;         /* image data: random crop after zero-padding this many pixels (0 = off) */
    int augment_flip;        /* image data: random horizontal flips */
    int procrustes;          /* after each update, transition layers (a residual mlp's stem, a resnet's
                                1x1 projections) become their scaled polar factor (Zaeemzadeh et al.) */
    int64_t eval_every;      /* steps between test evaluations during training (0 = only at the end) */
    int64_t eval_samples;    /* test samples those use (0 = all; the final evaluation always uses all) */
    void (*on_eval)(void *user, const struct gs_eval_point *p);  /* each of those, may be NULL */
    void *eval_user;
} gs_train_config;

/* A test evaluation during training, with the training figures of the
 * mini-batches since the previous one (train mode, before each update). */
typedef struct gs_eval_point {
    int64_t step;
    float train_loss, train_acc;
    float test_loss, test_acc;       /* eval mode, on eval_samples test samples */
    int64_t test_samples;
} gs_eval_point;

typedef struct gs_train_result {
    int64_t steps;           /* global step reached */
    float last_loss, train_acc;      /* mean over the last log window */
    float test_loss, test_acc;       /* after training (if a test set was given) */
    int64_t skipped;                 /* updates skipped for NaN/Inf (skip_nonfinite) */
    double seconds;
} gs_train_result;

void gs_train_config_default(gs_train_config *tc);
/* Train m with opt on train, evaluate on test (may be NULL).  Progress goes
 * to ctx's log sink.  GS_ENONFINITE stops training at the first non-finite
 * loss; everything written before stays. */
int gs_train(gs_ctx *ctx, gs_model *m, gs_optim *opt, const gs_dataset *train, const gs_dataset *test,
             const gs_train_config *tc, gs_train_result *res);
/* Eval-mode loss and accuracy over a whole dataset in batches. */
int gs_evaluate(gs_ctx *ctx, gs_model *m, const gs_dataset *d, int batch, float *loss, float *acc);

/* ---- instruments (DESIGN.md §2) ---- */
/* One step's statistics as named scalars with TensorBoard-style tags:
 * grad_norm/<param>, param_norm/<param>, update_ratio/<param>,
 * act_grad_norm/<layer>, act_mean/<layer>, act_std/<layer>,
 * saturated/<layer> (saturating activations), norm_ratio/block.<b>
 * (residual nets), and, at initialisation and every epoch end,
 * dead/<layer> (relu family).  Norms are of this process's batch (local). */
typedef struct gs_probe_stats {
    int64_t step;            /* global step (1-based: after this many updates) */
    float loss;              /* this step's training loss */
    int n;
    const char *const *tags;
    const float *values;
} gs_probe_stats;
typedef void (*gs_probe_fn)(void *user, const gs_probe_stats *s);
typedef struct gs_probe gs_probe;
/* Instruments for m; tags are fixed at creation. */
int gs_probe_create(gs_ctx *ctx, gs_model *m, gs_probe **out);
void gs_probe_free(gs_probe *p);
/* After gs_model_backward: activation statistics and norm ratios. */
int gs_probe_collect(gs_probe *p);
/* Per-parameter statistics from gs_optim_step_probe (below). */
int gs_probe_stats_view(gs_probe *p, int64_t step, gs_probe_stats *out);
/* Dead-unit fractions over up to n_samples samples of x (batch statistics,
 * running averages untouched); fills dead/<layer>.  GS_OK if m has none. */
int gs_probe_dead_units(gs_probe *p, const float *x, int64_t n_samples, int64_t features);
/* The optimizer step, also filling the probe's per-parameter statistics
 * (gradient norm before clipping, parameter norm, update ratio). */
int gs_optim_step_probe(gs_optim *o, int64_t step, float *grad_norm, gs_probe *p);

/* ---- gradient by path length (DESIGN.md §3) ---- */
/* For a residual network in eval mode, linearised at one forward pass of
 * (x, labels): ∂L/∂x_0 (x_0 = the input of the first residual block) split
 * exactly into the parts g^(k) carried by the paths through k of the n
 * residual branches, and Veit et al.'s estimate of the same by sampling. */
typedef struct gs_paths_result {
    int blocks;                  /* n */
    double *exact_norm;          /* (n + 1) ||g^(k)||, over the batch */
    double input_grad_norm;      /* ||∂L/∂x_0|| */
    double sum_check_rel_err;    /* ||Σ_k g^(k) - ∂L/∂x_0|| / ||∂L/∂x_0|| */
    double *veit_mean;           /* (n + 1) mean ||g|| at x_0 over veit_sets sampled sets of k branches */
    double *veit_total;          /* (n + 1) C(n, k) veit_mean[k] */
    double *count_fraction;      /* (n + 1) C(n, k) / 2^n */
} gs_paths_result;
/* N <= the model's max batch; veit_sets 0 skips the estimator (its arrays
 * are then NULL).  GS_EINVAL for a net without residual blocks; the model's
 * activations and gradients are those of this eval-mode pass afterwards. */
int gs_paths_compute(gs_model *m, const float *x, const int32_t *labels, int N, int veit_sets, uint64_t seed,
                     gs_paths_result *out);
void gs_paths_result_free(gs_paths_result *r);

/* ---- norm preservation (Zaeemzadeh et al. 2018) ---- */
/* Residual blocks of m (0 for a plain net). */
int gs_model_n_blocks(const gs_model *m);
/* One forward and backward pass of (x, labels) in train mode (batch statistics, running averages
 * left alone), then for each residual block b: ratio[b] = ||∂L/∂x_b|| / ||∂L/∂x_{b+1}|| and
 * transition[b] = 1 where the block changes the shape (arrays of gs_model_n_blocks(m)).
 * GS_EINVAL for a plain net. */
int gs_block_norm_ratios(gs_model *m, const float *x, const int32_t *labels, int N, double *ratio, int *transition);

/* ---- Jacobian spectrum (dynamical isometry, DESIGN.md §2) ---- */
/* J = ∂h_L/∂h_0 of one sample, eval mode: h_0, h_L the input of the first and
 * the output of the last residual block, or of a plain net's first and last
 * same-shape unit.  Its largest singular values from Golub–Kahan–Lanczos
 * bidiagonalisation (one Jacobian-vector and one vector-Jacobian product a
 * step, full reorthogonalisation), its mean squared singular value
 * Σσ²/min(in, out) from Hutchinson's estimator (E‖Jz‖² = Σσ² over random
 * signs z; the part of the converged Ritz directions is taken exactly, the
 * rest sampled), and optionally J itself, formed column by column, with its
 * whole spectrum from a dense SVD. */
#define GS_JACOBIAN_FULL_MAX 1024
typedef struct gs_jacobian_config {
    int top;                 /* singular values wanted (default 5) */
    int steps;               /* Lanczos steps (default 0: 4 top + 20), capped at min(in, out) */
    int probes;              /* Hutchinson's random sign vectors (default 32) */
    int full;                /* also the dense SVD; needs min(in, out) <= GS_JACOBIAN_FULL_MAX */
    uint64_t seed;
} gs_jacobian_config;
typedef struct gs_jacobian_result {
    int samples, top, steps, probes, residual;
    int64_t in_features, out_features;
    double *top_sv;          /* (samples, top) largest singular values, descending */
    double *top_residual;    /* (samples, top) ‖Jᵀu - σv‖ of each Ritz pair in the recurrence's arithmetic:
                                a singular value lies within it (float products add ~1e-7 σ_1) */
    double *mean_sq;         /* (samples) Hutchinson's estimate of Σσ² / min(in, out) */
    double *mean_sq_stderr;  /* (samples) its standard error */
    int n_full;              /* min(in, out) with full, else 0 */
    double *full_sv;         /* (samples, n_full) every singular value, descending, or NULL */
    double *full_mean_sq;    /* (samples) exact Σσ² / n_full, or NULL */
} gs_jacobian_result;
void gs_jacobian_config_default(gs_jacobian_config *c);
/* On N samples of x (N <= the model's max batch); the model's activations are
 * those of this eval-mode pass afterwards, its gradients are left alone.
 * GS_EINVAL for a net with neither residual blocks nor plain units, bad
 * settings, or full with min(in, out) too large (naming both). */
int gs_jacobian_compute(gs_model *m, const float *x, int N, const gs_jacobian_config *c, gs_jacobian_result *out);
void gs_jacobian_result_free(gs_jacobian_result *r);

/* ---- lesion study (DESIGN.md §3) ---- */
/* Test error, eval mode, with residual blocks deleted (a post block's output
 * becomes act(S x_b), a pre block's S x_b) or reordered; for a plain net the
 * same over its same-shape layers (mlp) or blocks (conv), deleted as x_b. */
typedef struct gs_lesion_config {
    int sets;                /* random sets per point (default 10) */
    int max_k;               /* most units deleted at once (0 = units - 1) */
    int max_swaps;           /* swaps 1, 2, 4 ... up to this (0 = units / 2) */
    uint64_t seed;
} gs_lesion_config;
typedef struct gs_lesion_result {
    int units;               /* blocks (residual) or layers (plain) */
    int residual;
    double baseline_error;
    double *single_error;    /* (units) error with unit j deleted alone */
    int n_k;                 /* k = 1..n_k */
    int *k, *k_sets;
    double *k_mean, *k_std;  /* mean and standard deviation over the sets */
    int n_reorder;           /* one entry per random reordering */
    int *swaps;              /* pairs of same-shape units swapped */
    double *tau;             /* Kendall's tau of the new order against the original */
    double *reorder_error;
} gs_lesion_result;
void gs_lesion_config_default(gs_lesion_config *c);
/* Over the whole of test (batches of the model's max batch); the model's
 * activations are overwritten.  GS_EINVAL for a net with nothing to delete. */
int gs_lesion_compute(gs_model *m, const gs_dataset *test, const gs_lesion_config *c, gs_lesion_result *out);
void gs_lesion_result_free(gs_lesion_result *r);

/* ---- checkpoints (safetensors, PyTorch names) ---- */
/* Save parameters, buffers and config (no optimizer state). */
int gs_model_save(gs_ctx *ctx, gs_model *m, const char *path);
/* Build a model from a gradscope checkpoint (config in its metadata). */
int gs_model_load(gs_ctx *ctx, const char *path, int max_batch, gs_model **out);
/* Load weights by name into an existing model (a PyTorch state_dict saved as
 * safetensors works; num_batches_tracked is ignored). */
int gs_model_load_weights(gs_ctx *ctx, gs_model *m, const char *path);

#ifdef __cplusplus
}
#endif
#endif
