/* Leaky ReLU kernels for SSE2 (baseline x86-64): 2 doubles or 4 floats a
 * vector, 4 vectors an iteration; the tail runs the scalar kernel. */
#include "lrelu.h"

#if defined(__x86_64__)
#include <emmintrin.h>

/* x > 0 ? p : q, lane by lane, with the mask from _mm_cmpgt_pd. */
static inline __m128d select_pd(__m128d mask, __m128d p, __m128d q)
{
    return _mm_or_pd(_mm_and_pd(mask, p), _mm_andnot_pd(mask, q));
}

void lrelu_forward_f64__sse2(const double *x, double *y, size_t n, double slope)
{
    const __m128d a = _mm_set1_pd(slope), zero = _mm_setzero_pd();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128d v0 = _mm_loadu_pd(x + i), v1 = _mm_loadu_pd(x + i + 2);
        __m128d v2 = _mm_loadu_pd(x + i + 4), v3 = _mm_loadu_pd(x + i + 6);
        _mm_storeu_pd(y + i, select_pd(_mm_cmpgt_pd(v0, zero), v0, _mm_mul_pd(v0, a)));
        _mm_storeu_pd(y + i + 2, select_pd(_mm_cmpgt_pd(v1, zero), v1, _mm_mul_pd(v1, a)));
        _mm_storeu_pd(y + i + 4, select_pd(_mm_cmpgt_pd(v2, zero), v2, _mm_mul_pd(v2, a)));
        _mm_storeu_pd(y + i + 6, select_pd(_mm_cmpgt_pd(v3, zero), v3, _mm_mul_pd(v3, a)));
    }
    for (; i + 2 <= n; i += 2) {
        __m128d v = _mm_loadu_pd(x + i);
        _mm_storeu_pd(y + i, select_pd(_mm_cmpgt_pd(v, zero), v, _mm_mul_pd(v, a)));
    }
    if (i < n) /* also keeps NULL + 0 out when n == 0 */
        lrelu_forward_f64__scalar(x + i, y + i, n - i, slope);
}

void lrelu_gradient_f64__sse2(const double *x, double *g, size_t n, double slope)
{
    const __m128d a = _mm_set1_pd(slope), one = _mm_set1_pd(1.0), zero = _mm_setzero_pd();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128d m0 = _mm_cmpgt_pd(_mm_loadu_pd(x + i), zero);
        __m128d m1 = _mm_cmpgt_pd(_mm_loadu_pd(x + i + 2), zero);
        __m128d m2 = _mm_cmpgt_pd(_mm_loadu_pd(x + i + 4), zero);
        __m128d m3 = _mm_cmpgt_pd(_mm_loadu_pd(x + i + 6), zero);
        _mm_storeu_pd(g + i, select_pd(m0, one, a));
        _mm_storeu_pd(g + i + 2, select_pd(m1, one, a));
        _mm_storeu_pd(g + i + 4, select_pd(m2, one, a));
        _mm_storeu_pd(g + i + 6, select_pd(m3, one, a));
    }
    for (; i + 2 <= n; i += 2)
        _mm_storeu_pd(g + i, select_pd(_mm_cmpgt_pd(_mm_loadu_pd(x + i), zero), one, a));
    if (i < n)
        lrelu_gradient_f64__scalar(x + i, g + i, n - i, slope);
}

void lrelu_backward_f64__sse2(const double *x, const double *dy, double *dx, size_t n,
                              double slope)
{
    const __m128d a = _mm_set1_pd(slope), zero = _mm_setzero_pd();
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m128d m0 = _mm_cmpgt_pd(_mm_loadu_pd(x + i), zero);
        __m128d m1 = _mm_cmpgt_pd(_mm_loadu_pd(x + i + 2), zero);
        __m128d d0 = _mm_loadu_pd(dy + i), d1 = _mm_loadu_pd(dy + i + 2);
        _mm_storeu_pd(dx + i, select_pd(m0, d0, _mm_mul_pd(d0, a)));
        _mm_storeu_pd(dx + i + 2, select_pd(m1, d1, _mm_mul_pd(d1, a)));
    }
    if (i < n)
        lrelu_backward_f64__scalar(x + i, dy + i, dx + i, n - i, slope);
}

static inline __m128 select_ps(__m128 mask, __m128 p, __m128 q)
{
    return _mm_or_ps(_mm_and_ps(mask, p), _mm_andnot_ps(mask, q));
}

void lrelu_forward_f32__sse2(const float *x, float *y, size_t n, float slope)
{
    const __m128 a = _mm_set1_ps(slope), zero = _mm_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128 v0 = _mm_loadu_ps(x + i), v1 = _mm_loadu_ps(x + i + 4);
        __m128 v2 = _mm_loadu_ps(x + i + 8), v3 = _mm_loadu_ps(x + i + 12);
        _mm_storeu_ps(y + i, select_ps(_mm_cmpgt_ps(v0, zero), v0, _mm_mul_ps(v0, a)));
        _mm_storeu_ps(y + i + 4, select_ps(_mm_cmpgt_ps(v1, zero), v1, _mm_mul_ps(v1, a)));
        _mm_storeu_ps(y + i + 8, select_ps(_mm_cmpgt_ps(v2, zero), v2, _mm_mul_ps(v2, a)));
        _mm_storeu_ps(y + i + 12, select_ps(_mm_cmpgt_ps(v3, zero), v3, _mm_mul_ps(v3, a)));
    }
    for (; i + 4 <= n; i += 4) {
        __m128 v = _mm_loadu_ps(x + i);
        _mm_storeu_ps(y + i, select_ps(_mm_cmpgt_ps(v, zero), v, _mm_mul_ps(v, a)));
    }
    if (i < n)
        lrelu_forward_f32__scalar(x + i, y + i, n - i, slope);
}

void lrelu_gradient_f32__sse2(const float *x, float *g, size_t n, float slope)
{
    const __m128 a = _mm_set1_ps(slope), one = _mm_set1_ps(1.0f), zero = _mm_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128 m0 = _mm_cmpgt_ps(_mm_loadu_ps(x + i), zero);
        __m128 m1 = _mm_cmpgt_ps(_mm_loadu_ps(x + i + 4), zero);
        __m128 m2 = _mm_cmpgt_ps(_mm_loadu_ps(x + i + 8), zero);
        __m128 m3 = _mm_cmpgt_ps(_mm_loadu_ps(x + i + 12), zero);
        _mm_storeu_ps(g + i, select_ps(m0, one, a));
        _mm_storeu_ps(g + i + 4, select_ps(m1, one, a));
        _mm_storeu_ps(g + i + 8, select_ps(m2, one, a));
        _mm_storeu_ps(g + i + 12, select_ps(m3, one, a));
    }
    for (; i + 4 <= n; i += 4)
        _mm_storeu_ps(g + i, select_ps(_mm_cmpgt_ps(_mm_loadu_ps(x + i), zero), one, a));
    if (i < n)
        lrelu_gradient_f32__scalar(x + i, g + i, n - i, slope);
}

void lrelu_backward_f32__sse2(const float *x, const float *dy, float *dx, size_t n,
                              float slope)
{
    const __m128 a = _mm_set1_ps(slope), zero = _mm_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128 m0 = _mm_cmpgt_ps(_mm_loadu_ps(x + i), zero);
        __m128 m1 = _mm_cmpgt_ps(_mm_loadu_ps(x + i + 4), zero);
        __m128 d0 = _mm_loadu_ps(dy + i), d1 = _mm_loadu_ps(dy + i + 4);
        _mm_storeu_ps(dx + i, select_ps(m0, d0, _mm_mul_ps(d0, a)));
        _mm_storeu_ps(dx + i + 4, select_ps(m1, d1, _mm_mul_ps(d1, a)));
    }
    if (i < n)
        lrelu_backward_f32__scalar(x + i, dy + i, dx + i, n - i, slope);
}
#endif
