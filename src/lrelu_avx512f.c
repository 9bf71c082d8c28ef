/* Leaky ReLU kernels for AVX-512F (built with -mavx512f): 8 doubles or 16
 * floats a vector; the tail uses masked loads and stores, which do not
 * touch memory outside the mask. */
#include "lrelu.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define GT0(v) _mm512_cmp_pd_mask((v), _mm512_setzero_pd(), _CMP_GT_OQ)

static inline __mmask8 tail_mask(size_t left) { return (__mmask8)((1u << left) - 1); }

void lrelu_forward_f64__avx512f(const double *x, double *y, size_t n, double slope)
{
    const __m512d a = _mm512_set1_pd(slope);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512d v0 = _mm512_loadu_pd(x + i), v1 = _mm512_loadu_pd(x + i + 8);
        _mm512_storeu_pd(y + i, _mm512_mask_blend_pd(GT0(v0), _mm512_mul_pd(v0, a), v0));
        _mm512_storeu_pd(y + i + 8, _mm512_mask_blend_pd(GT0(v1), _mm512_mul_pd(v1, a), v1));
    }
    for (; i < n; i += 8) {
        __mmask8 k = n - i >= 8 ? (__mmask8)0xFF : tail_mask(n - i);
        __m512d v = _mm512_maskz_loadu_pd(k, x + i);
        _mm512_mask_storeu_pd(y + i, k, _mm512_mask_blend_pd(GT0(v), _mm512_mul_pd(v, a), v));
    }
}

void lrelu_gradient_f64__avx512f(const double *x, double *g, size_t n, double slope)
{
    const __m512d a = _mm512_set1_pd(slope), one = _mm512_set1_pd(1.0);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __mmask8 m0 = GT0(_mm512_loadu_pd(x + i)), m1 = GT0(_mm512_loadu_pd(x + i + 8));
        _mm512_storeu_pd(g + i, _mm512_mask_blend_pd(m0, a, one));
        _mm512_storeu_pd(g + i + 8, _mm512_mask_blend_pd(m1, a, one));
    }
    for (; i < n; i += 8) {
        __mmask8 k = n - i >= 8 ? (__mmask8)0xFF : tail_mask(n - i);
        __mmask8 m = GT0(_mm512_maskz_loadu_pd(k, x + i));
        _mm512_mask_storeu_pd(g + i, k, _mm512_mask_blend_pd(m, a, one));
    }
}

void lrelu_backward_f64__avx512f(const double *x, const double *dy, double *dx, size_t n,
                                 double slope)
{
    const __m512d a = _mm512_set1_pd(slope);
    for (size_t i = 0; i < n; i += 8) {
        __mmask8 k = n - i >= 8 ? (__mmask8)0xFF : tail_mask(n - i);
        __mmask8 m = GT0(_mm512_maskz_loadu_pd(k, x + i));
        __m512d d = _mm512_maskz_loadu_pd(k, dy + i);
        _mm512_mask_storeu_pd(dx + i, k, _mm512_mask_blend_pd(m, _mm512_mul_pd(d, a), d));
    }
}

#define GT0_PS(v) _mm512_cmp_ps_mask((v), _mm512_setzero_ps(), _CMP_GT_OQ)

static inline __mmask16 tail_mask16(size_t left) { return (__mmask16)((1u << left) - 1); }

void lrelu_forward_f32__avx512f(const float *x, float *y, size_t n, float slope)
{
    const __m512 a = _mm512_set1_ps(slope);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 v0 = _mm512_loadu_ps(x + i), v1 = _mm512_loadu_ps(x + i + 16);
        _mm512_storeu_ps(y + i, _mm512_mask_blend_ps(GT0_PS(v0), _mm512_mul_ps(v0, a), v0));
        _mm512_storeu_ps(y + i + 16, _mm512_mask_blend_ps(GT0_PS(v1), _mm512_mul_ps(v1, a), v1));
    }
    for (; i < n; i += 16) {
        __mmask16 k = n - i >= 16 ? (__mmask16)0xFFFF : tail_mask16(n - i);
        __m512 v = _mm512_maskz_loadu_ps(k, x + i);
        _mm512_mask_storeu_ps(y + i, k, _mm512_mask_blend_ps(GT0_PS(v), _mm512_mul_ps(v, a), v));
    }
}

void lrelu_gradient_f32__avx512f(const float *x, float *g, size_t n, float slope)
{
    const __m512 a = _mm512_set1_ps(slope), one = _mm512_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __mmask16 m0 = GT0_PS(_mm512_loadu_ps(x + i)), m1 = GT0_PS(_mm512_loadu_ps(x + i + 16));
        _mm512_storeu_ps(g + i, _mm512_mask_blend_ps(m0, a, one));
        _mm512_storeu_ps(g + i + 16, _mm512_mask_blend_ps(m1, a, one));
    }
    for (; i < n; i += 16) {
        __mmask16 k = n - i >= 16 ? (__mmask16)0xFFFF : tail_mask16(n - i);
        __mmask16 m = GT0_PS(_mm512_maskz_loadu_ps(k, x + i));
        _mm512_mask_storeu_ps(g + i, k, _mm512_mask_blend_ps(m, a, one));
    }
}

void lrelu_backward_f32__avx512f(const float *x, const float *dy, float *dx, size_t n,
                                 float slope)
{
    const __m512 a = _mm512_set1_ps(slope);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 k = n - i >= 16 ? (__mmask16)0xFFFF : tail_mask16(n - i);
        __mmask16 m = GT0_PS(_mm512_maskz_loadu_ps(k, x + i));
        __m512 d = _mm512_maskz_loadu_ps(k, dy + i);
        _mm512_mask_storeu_ps(dx + i, k, _mm512_mask_blend_ps(m, _mm512_mul_ps(d, a), d));
    }
}
#endif
