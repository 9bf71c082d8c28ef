/* Leaky ReLU kernels for AVX-512F (built with -mavx512f): 8 doubles a
 * vector; the tail uses masked loads and stores, which do not touch
 * memory outside the mask. */
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
#endif
