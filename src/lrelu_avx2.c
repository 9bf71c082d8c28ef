/* Leaky ReLU kernels for AVX2 (built with -mavx2): 4 doubles or 8 floats a
 * vector, 4 vectors an iteration; the tail runs the scalar kernel. */
#include "lrelu.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define GT0(v) _mm256_cmp_pd((v), _mm256_setzero_pd(), _CMP_GT_OQ)

void lrelu_forward_f64__avx2(const double *x, double *y, size_t n, double slope)
{
    const __m256d a = _mm256_set1_pd(slope);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256d v0 = _mm256_loadu_pd(x + i), v1 = _mm256_loadu_pd(x + i + 4);
        __m256d v2 = _mm256_loadu_pd(x + i + 8), v3 = _mm256_loadu_pd(x + i + 12);
        /* blendv takes the second operand where the mask is set */
        _mm256_storeu_pd(y + i, _mm256_blendv_pd(_mm256_mul_pd(v0, a), v0, GT0(v0)));
        _mm256_storeu_pd(y + i + 4, _mm256_blendv_pd(_mm256_mul_pd(v1, a), v1, GT0(v1)));
        _mm256_storeu_pd(y + i + 8, _mm256_blendv_pd(_mm256_mul_pd(v2, a), v2, GT0(v2)));
        _mm256_storeu_pd(y + i + 12, _mm256_blendv_pd(_mm256_mul_pd(v3, a), v3, GT0(v3)));
    }
    for (; i + 4 <= n; i += 4) {
        __m256d v = _mm256_loadu_pd(x + i);
        _mm256_storeu_pd(y + i, _mm256_blendv_pd(_mm256_mul_pd(v, a), v, GT0(v)));
    }
    if (i < n) /* also keeps NULL + 0 out when n == 0 */
        lrelu_forward_f64__scalar(x + i, y + i, n - i, slope);
}

void lrelu_gradient_f64__avx2(const double *x, double *g, size_t n, double slope)
{
    const __m256d a = _mm256_set1_pd(slope), one = _mm256_set1_pd(1.0);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256d m0 = GT0(_mm256_loadu_pd(x + i)), m1 = GT0(_mm256_loadu_pd(x + i + 4));
        __m256d m2 = GT0(_mm256_loadu_pd(x + i + 8)), m3 = GT0(_mm256_loadu_pd(x + i + 12));
        _mm256_storeu_pd(g + i, _mm256_blendv_pd(a, one, m0));
        _mm256_storeu_pd(g + i + 4, _mm256_blendv_pd(a, one, m1));
        _mm256_storeu_pd(g + i + 8, _mm256_blendv_pd(a, one, m2));
        _mm256_storeu_pd(g + i + 12, _mm256_blendv_pd(a, one, m3));
    }
    for (; i + 4 <= n; i += 4)
        _mm256_storeu_pd(g + i, _mm256_blendv_pd(a, one, GT0(_mm256_loadu_pd(x + i))));
    if (i < n)
        lrelu_gradient_f64__scalar(x + i, g + i, n - i, slope);
}

void lrelu_backward_f64__avx2(const double *x, const double *dy, double *dx, size_t n,
                              double slope)
{
    const __m256d a = _mm256_set1_pd(slope);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256d m0 = GT0(_mm256_loadu_pd(x + i)), m1 = GT0(_mm256_loadu_pd(x + i + 4));
        __m256d d0 = _mm256_loadu_pd(dy + i), d1 = _mm256_loadu_pd(dy + i + 4);
        _mm256_storeu_pd(dx + i, _mm256_blendv_pd(_mm256_mul_pd(d0, a), d0, m0));
        _mm256_storeu_pd(dx + i + 4, _mm256_blendv_pd(_mm256_mul_pd(d1, a), d1, m1));
    }
    for (; i + 4 <= n; i += 4) {
        __m256d d = _mm256_loadu_pd(dy + i);
        __m256d m = GT0(_mm256_loadu_pd(x + i));
        _mm256_storeu_pd(dx + i, _mm256_blendv_pd(_mm256_mul_pd(d, a), d, m));
    }
    if (i < n)
        lrelu_backward_f64__scalar(x + i, dy + i, dx + i, n - i, slope);
}

#define GT0_PS(v) _mm256_cmp_ps((v), _mm256_setzero_ps(), _CMP_GT_OQ)

void lrelu_forward_f32__avx2(const float *x, float *y, size_t n, float slope)
{
    const __m256 a = _mm256_set1_ps(slope);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8);
        __m256 v2 = _mm256_loadu_ps(x + i + 16), v3 = _mm256_loadu_ps(x + i + 24);
        _mm256_storeu_ps(y + i, _mm256_blendv_ps(_mm256_mul_ps(v0, a), v0, GT0_PS(v0)));
        _mm256_storeu_ps(y + i + 8, _mm256_blendv_ps(_mm256_mul_ps(v1, a), v1, GT0_PS(v1)));
        _mm256_storeu_ps(y + i + 16, _mm256_blendv_ps(_mm256_mul_ps(v2, a), v2, GT0_PS(v2)));
        _mm256_storeu_ps(y + i + 24, _mm256_blendv_ps(_mm256_mul_ps(v3, a), v3, GT0_PS(v3)));
    }
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        _mm256_storeu_ps(y + i, _mm256_blendv_ps(_mm256_mul_ps(v, a), v, GT0_PS(v)));
    }
    if (i < n)
        lrelu_forward_f32__scalar(x + i, y + i, n - i, slope);
}

void lrelu_gradient_f32__avx2(const float *x, float *g, size_t n, float slope)
{
    const __m256 a = _mm256_set1_ps(slope), one = _mm256_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 m0 = GT0_PS(_mm256_loadu_ps(x + i)), m1 = GT0_PS(_mm256_loadu_ps(x + i + 8));
        __m256 m2 = GT0_PS(_mm256_loadu_ps(x + i + 16)), m3 = GT0_PS(_mm256_loadu_ps(x + i + 24));
        _mm256_storeu_ps(g + i, _mm256_blendv_ps(a, one, m0));
        _mm256_storeu_ps(g + i + 8, _mm256_blendv_ps(a, one, m1));
        _mm256_storeu_ps(g + i + 16, _mm256_blendv_ps(a, one, m2));
        _mm256_storeu_ps(g + i + 24, _mm256_blendv_ps(a, one, m3));
    }
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(g + i, _mm256_blendv_ps(a, one, GT0_PS(_mm256_loadu_ps(x + i))));
    if (i < n)
        lrelu_gradient_f32__scalar(x + i, g + i, n - i, slope);
}

void lrelu_backward_f32__avx2(const float *x, const float *dy, float *dx, size_t n,
                              float slope)
{
    const __m256 a = _mm256_set1_ps(slope);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 m0 = GT0_PS(_mm256_loadu_ps(x + i)), m1 = GT0_PS(_mm256_loadu_ps(x + i + 8));
        __m256 d0 = _mm256_loadu_ps(dy + i), d1 = _mm256_loadu_ps(dy + i + 8);
        _mm256_storeu_ps(dx + i, _mm256_blendv_ps(_mm256_mul_ps(d0, a), d0, m0));
        _mm256_storeu_ps(dx + i + 8, _mm256_blendv_ps(_mm256_mul_ps(d1, a), d1, m1));
    }
    for (; i + 8 <= n; i += 8) {
        __m256 d = _mm256_loadu_ps(dy + i);
        __m256 m = GT0_PS(_mm256_loadu_ps(x + i));
        _mm256_storeu_ps(dx + i, _mm256_blendv_ps(_mm256_mul_ps(d, a), d, m));
    }
    if (i < n)
        lrelu_backward_f32__scalar(x + i, dy + i, dx + i, n - i, slope);
}
#endif
