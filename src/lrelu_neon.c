/* Leaky ReLU kernels for NEON (baseline AArch64): 2 doubles or 4 floats a
 * vector; the tail runs the scalar kernel. */
#include "lrelu.h"

#if defined(__aarch64__)
#include <arm_neon.h>

void lrelu_forward_f64__neon(const double *x, double *y, size_t n, double slope)
{
    const float64x2_t a = vdupq_n_f64(slope), zero = vdupq_n_f64(0.0);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (size_t j = 0; j < 8; j += 2) {
            float64x2_t v = vld1q_f64(x + i + j);
            vst1q_f64(y + i + j, vbslq_f64(vcgtq_f64(v, zero), v, vmulq_f64(v, a)));
        }
    }
    for (; i + 2 <= n; i += 2) {
        float64x2_t v = vld1q_f64(x + i);
        vst1q_f64(y + i, vbslq_f64(vcgtq_f64(v, zero), v, vmulq_f64(v, a)));
    }
    if (i < n) /* also keeps NULL + 0 out when n == 0 */
        lrelu_forward_f64__scalar(x + i, y + i, n - i, slope);
}

void lrelu_gradient_f64__neon(const double *x, double *g, size_t n, double slope)
{
    const float64x2_t a = vdupq_n_f64(slope), one = vdupq_n_f64(1.0), zero = vdupq_n_f64(0.0);
    size_t i = 0;
    for (; i + 2 <= n; i += 2)
        vst1q_f64(g + i, vbslq_f64(vcgtq_f64(vld1q_f64(x + i), zero), one, a));
    if (i < n)
        lrelu_gradient_f64__scalar(x + i, g + i, n - i, slope);
}

void lrelu_backward_f64__neon(const double *x, const double *dy, double *dx, size_t n,
                              double slope)
{
    const float64x2_t a = vdupq_n_f64(slope), zero = vdupq_n_f64(0.0);
    size_t i = 0;
    for (; i + 2 <= n; i += 2) {
        float64x2_t d = vld1q_f64(dy + i);
        uint64x2_t m = vcgtq_f64(vld1q_f64(x + i), zero);
        vst1q_f64(dx + i, vbslq_f64(m, d, vmulq_f64(d, a)));
    }
    if (i < n)
        lrelu_backward_f64__scalar(x + i, dy + i, dx + i, n - i, slope);
}

void lrelu_forward_f32__neon(const float *x, float *y, size_t n, float slope)
{
    const float32x4_t a = vdupq_n_f32(slope), zero = vdupq_n_f32(0.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t v = vld1q_f32(x + i);
        vst1q_f32(y + i, vbslq_f32(vcgtq_f32(v, zero), v, vmulq_f32(v, a)));
    }
    if (i < n)
        lrelu_forward_f32__scalar(x + i, y + i, n - i, slope);
}

void lrelu_gradient_f32__neon(const float *x, float *g, size_t n, float slope)
{
    const float32x4_t a = vdupq_n_f32(slope), one = vdupq_n_f32(1.0f), zero = vdupq_n_f32(0.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(g + i, vbslq_f32(vcgtq_f32(vld1q_f32(x + i), zero), one, a));
    if (i < n)
        lrelu_gradient_f32__scalar(x + i, g + i, n - i, slope);
}

void lrelu_backward_f32__neon(const float *x, const float *dy, float *dx, size_t n,
                              float slope)
{
    const float32x4_t a = vdupq_n_f32(slope), zero = vdupq_n_f32(0.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t d = vld1q_f32(dy + i);
        uint32x4_t m = vcgtq_f32(vld1q_f32(x + i), zero);
        vst1q_f32(dx + i, vbslq_f32(m, d, vmulq_f32(d, a)));
    }
    if (i < n)
        lrelu_backward_f32__scalar(x + i, dy + i, dx + i, n - i, slope);
}
#endif
