/* model.h - the model: a list of nodes over numbered values, one flat block
 * each for parameters, gradients and buffers, and an arena for activations.
 *
 * Families (mlp.c, later cifar_resnet.c) build a model with the helpers
 * below; model.c runs it.  Value 0 is the input (borrowed from the caller).
 */
#ifndef GS_MODEL_H
#define GS_MODEL_H
#include "core.h"
#include "layers/layer.h"

typedef enum {
    GS_ROLE_WEIGHT, GS_ROLE_BIAS, GS_ROLE_NORM_WEIGHT, GS_ROLE_NORM_BIAS,
    GS_ROLE_RUNNING_MEAN, GS_ROLE_RUNNING_VAR, GS_ROLE_ALPHA
} gs_role;

typedef struct gs_tensor_slot {
    gs_tensor_info info;     /* public view; data/grad set once blocks exist */
    size_t offset;           /* into params (trainable) or buffers */
    gs_role role;
    int fan_in, fan_out;     /* for weight initialisation */
    int branch_last;         /* last layer/norm of a residual branch (zero_last) */
    int fixup;               /* 1 a layer inside a residual branch, 2 its last layer, 3 the classifier */
    int transition;          /* a width-changing dense or 1x1 conv weight of a residual net (Procrustes) */
} gs_tensor_slot;

typedef struct gs_value {
    int64_t features;        /* per sample */
    float *data, *grad;      /* (max_batch, features): data in the arena, grad in the gradient arena */
    int grad_shared;         /* grad is a buffer other values' gradients reuse: valid only during backward,
                                from the value's last consumer down to its producer (gs_model_plan_grads) */
    int stale;               /* the last forward did not write data, in training, where nothing reads it:
                                the input of a fused relu whose backward runs fused too, or of a sigmoid
                                or tanh fused into the linear before it (forward_nodes) */
} gs_value;

/* An activation the instruments watch: "layers.3" names the hidden layer
 * whose output it is (DESIGN.md §2: h_l). */
typedef struct gs_act_point {
    char name[48];
    int node;                /* the activation node */
    int pre, out;            /* value ids: pre-activation and h_l */
    gs_act act;
} gs_act_point;

struct gs_model {
    gs_ctx *ctx;
    gs_model_config cfg;
    int max_batch, N;
    int training, input_grad, accumulate;
    int team_ok;             /* every node's passes can run inside a team (team.h) */
    int freeze_stats;        /* batch statistics without moving running averages */
    const gs_backend *be;

    gs_tensor_slot *tensors; int n_tensors, cap_tensors;
    size_t n_params, n_buffers;
    float *params, *grads, *buffers;

    gs_node *nodes; int n_nodes, cap_nodes;
    gs_value *values; int n_values, cap_values;
    float *arena;            /* every value's data */
    float *grad_arena;       /* the values' gradients (gs_model_plan_grads) */
    float *work;             /* the nodes' shared scratch area (the largest work_floats) */
    int keep_point_grads;    /* the instruments read the activation points' gradients after backward */
    int no_fusion;           /* run every node by itself (gs_model_plan_fusion; the tests' reference) */

    gs_act_point *points; int n_points, cap_points;
    int *block_in; int n_block_in, cap_block_in;  /* x_0 .. x_n of the residual blocks */
    int *plain_in; int n_plain_in, cap_plain_in;  /* plain nets: inputs of the layers (mlp) or blocks
                                                     (conv) a lesion may delete, then the last output */

    const float *input;
    float loss;
    int have_loss;
};

/* Register a tensor; returns its offset in the parameter or buffer block
 * through *off.  Blocks are allocated by gs_model_finish. */
int gs_model_add_tensor(gs_model *m, const char *name, gs_role role, int ndim,
                        const int64_t *shape, int fan_in, int fan_out, size_t *off);
/* A new value of `features` per sample; returns its id or a negative code. */
int gs_model_add_value(gs_model *m, int64_t features);
/* The data of value v (value 0 is the caller's input). */
static inline const float *gs_value_data(const gs_model *m, int v) { return v == 0 ? m->input : m->values[v].data; }
/* The data of node n's input k (0 or 1), NULL where it has none. */
static inline const float *gs_node_input(const gs_model *m, const gs_node *n, int k)
{
    return n->in[k] < 0 ? NULL : gs_value_data(m, n->in[k]);
}
/* Append a node slot (zeroed, in[1] = -1); NULL when out of memory. */
gs_node *gs_model_add_node(gs_model *m, int in0, int in1, int out);
/* Name the activation node just added as the output of layer `name`. */
int gs_model_add_point(gs_model *m, const char *name);
/* Record value v as the input of the next residual block (x_b); the last
 * call records the output of the last block. */
int gs_model_add_block_boundary(gs_model *m, int v);
/* Record value v as the input of the next lesion unit of a plain net (the
 * last call: the output of the last unit). */
int gs_model_add_plain_boundary(gs_model *m, int v);
/* Allocate the blocks and the arena, set accumulate flags. */
int gs_model_finish(gs_model *m);
/* (Re)lay out the values' gradients: the input's, the residual blocks' and plain units' boundaries
 * (and the activation points' with keep_point_grads) get their own buffer and stay readable after
 * backward; every other value's gradient lives only between its last consumer's backward and its
 * producer's, so values whose lives do not overlap share a buffer.  Gradient contents are lost. */
int gs_model_plan_grads(gs_model *m);
/* Mark the nodes whose relu runs inside their own passes (gs_node.fuse_relu): a relu node right after
 * one whose kind has forward_relu, with that node's output as its only input and no other consumer of
 * it.  Backward fuses them only while the value between them keeps no gradient of its own
 * (grad_shared).  Also the linear layers that run the sigmoid or tanh after them (fuse_act, in
 * training) or before them (fuse_dact, in backward), and the batch norm after them (fuse_next).  None
 * with no_fusion.  Values and gradients come out bit for bit as without fusion. */
int gs_model_plan_fusion(gs_model *m);
gs_tensor_slot *gs_model_slot(gs_model *m, const char *name);

/* Samples among N whose largest logit (of K) is their label. */
int gs_count_correct(const float *logits, const int32_t *y, int N, int K);

/* Families */
int gs_mlp_build(gs_model *m);
int gs_resnet_build(gs_model *m);      /* "resnet" and "plain" */

#endif
