/* backend_cpu.c - the CPU backend table: fast GEMM and activation kernels. */
#include "kernels/backend.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/act.h"

static const gs_backend cpu_backend = {
    "cpu",
    gs_sgemm,
    gs_sgemm_bias,
    gs_sgemm_act,
    gs_sgemm_cols,
    gs_sgemm_dact,
    gs_conv_gemm,
    gs_conv3x3,
    gs_conv3x3_masks_len,
    gs_conv3x3_masks,
    gs_conv3x3_dw,
    gs_wino3x3,
    gs_wino3x3_filter,
    gs_wino3x3_filter_floats,
    gs_wino3x3_work,
    gs_conv3x3s2,
    gs_conv3x3s2_dx,
    gs_conv3x3s2_dw,
    gs_conv3x3s2_work,
    gs_act_forward,
    gs_act_backward,
};

const gs_backend *gs_backend_cpu(void) { return &cpu_backend; }
