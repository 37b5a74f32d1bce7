/* bench_train.c - training throughput of an mlp on random data, the
 * gradscope side of bench/run.sh.  Prints "samples_per_s <rate>" on stdout
 * (the median over --repeats timed windows), details on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "gradscope.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    gs_model_config mc;
    gs_model_config_default(&mc);
    mc.depth = 50; mc.width = 256;
    int batch = 128, steps = 100, warmup = 10, threads = 2, repeats = 3, probe_on = 0, deterministic = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--model")) {
            if (strcmp(v, "mlp") && strcmp(v, "resnet") && strcmp(v, "plain")) { fprintf(stderr, "bad --model %s\n", v); return 2; }
            snprintf(mc.family, sizeof mc.family, "%s", v);
            if (strcmp(v, "mlp")) { mc.width = 16; mc.depth = 20; mc.norm = GS_NORM_BATCH; }
        }
        else if (!strcmp(k, "--shortcut")) mc.shortcut = v[0];
        else if (!strcmp(k, "--depth")) mc.depth = atoi(v);
        else if (!strcmp(k, "--width")) mc.width = atoi(v);
        else if (!strcmp(k, "--skip")) mc.skip = atoi(v);
        else if (!strcmp(k, "--batch")) batch = atoi(v);
        else if (!strcmp(k, "--steps")) steps = atoi(v);
        else if (!strcmp(k, "--warmup")) warmup = atoi(v);
        else if (!strcmp(k, "--threads")) threads = atoi(v);
        else if (!strcmp(k, "--repeats")) repeats = atoi(v);
        else if (!strcmp(k, "--probe")) probe_on = atoi(v);
        else if (!strcmp(k, "--deterministic")) deterministic = atoi(v);
        else if (!strcmp(k, "--act")) { if (gs_act_from_name(v, &mc.act)) { fprintf(stderr, "bad --act %s\n", v); return 2; } }
        else if (!strcmp(k, "--norm")) { if (gs_norm_from_name(v, &mc.norm)) { fprintf(stderr, "bad --norm %s\n", v); return 2; } }
        else { fprintf(stderr, "bench_train: unknown option %s\n", k); return 2; }
    }
    if (repeats < 1 || repeats > 64 || steps < 1) { fprintf(stderr, "bench_train: bad --repeats/--steps\n"); return 2; }
    gs_ctx *ctx = gs_ctx_create();
    gs_ctx_set_threads(ctx, threads);
    gs_ctx_set_deterministic(ctx, deterministic);
    gs_model *m = NULL;
    gs_optim *o = NULL;
    if (gs_model_create(ctx, &mc, batch, &m) || gs_model_init(m, 1)) { fprintf(stderr, "%s\n", gs_errmsg(ctx)); return 1; }
    gs_optim_config oc;
    gs_optim_config_default(&oc);
    oc.lr = 1e-3f; oc.momentum = 0.9f;
    if (gs_optim_create(ctx, m, &oc, &o)) { fprintf(stderr, "%s\n", gs_errmsg(ctx)); return 1; }
    gs_probe *probe = NULL;
    if (probe_on && gs_probe_create(ctx, m, &probe)) { fprintf(stderr, "%s\n", gs_errmsg(ctx)); return 1; }
    float *x = malloc((size_t)batch * 784 * sizeof *x);
    int32_t *y = malloc((size_t)batch * sizeof *y);
    srand(1);
    for (int i = 0; i < batch * 784; i++) x[i] = (float)rand() / RAND_MAX;
    for (int i = 0; i < batch; i++) y[i] = rand() % 10;
    double rates[64];
    int64_t step = 0;
    for (int r = -1; r < repeats; r++) {
        const int n = r < 0 ? warmup : steps;
        double t0 = now_s();
        for (int s = 0; s < n; s++, step++) {
            float loss;
            gs_model_zero_grad(m);
            if (gs_model_forward(m, x, batch) || gs_model_loss(m, y, &loss) || gs_model_backward(m) ||
                (probe && gs_probe_collect(probe)) || gs_optim_step_probe(o, step, NULL, probe)) {
                fprintf(stderr, "bench_train: %s\n", gs_errmsg(ctx));
                return 1;
            }
        }
        if (r >= 0) rates[r] = (double)n * batch / (now_s() - t0);
    }
    qsort(rates, (size_t)repeats, sizeof *rates, cmp_double);
    const double rate = rates[repeats / 2];
    /* forward 2, backward 4 FLOPs per multiply-add of the linear and conv layers */
    const double flops = 6.0 * (double)gs_model_macs(m) * rate;
    fprintf(stderr, "gradscope %s depth %d width %d skip %d act %s norm %s batch %d threads %d%s: %.0f samples/s, %.1f GFLOP/s\n",
            mc.family, mc.depth, mc.width, mc.skip, gs_act_name(mc.act), gs_norm_name(mc.norm), batch, threads,
            probe ? " probes on" : "", rate, flops * 1e-9);
    printf("samples_per_s %.1f\n", rate);
    printf("gflop_per_sample %.6f\n", 6e-9 * (double)gs_model_macs(m));
    free(x); free(y);
    gs_probe_free(probe);
    gs_optim_free(o);
    gs_model_free(m);
    gs_ctx_free(ctx);
    return 0;
}
