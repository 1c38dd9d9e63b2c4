// trm_kernels.c — runtime-dispatched micro-kernels. See trm_kernels.h for the contract.
#include "trm_kernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define TRM_X86 1
#include <immintrin.h>
#else
#define TRM_X86 0
#endif

// MARK: - CPU detection

int trm_isa_supported(int isa) {
  switch (isa) {
    case TRM_ISA_PORTABLE: return 1;
#if TRM_X86
    case TRM_ISA_AVX2:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case TRM_ISA_AVX512:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#endif
    default: return 0;
  }
}

int trm_best_isa(void) {
  if (trm_isa_supported(TRM_ISA_AVX512)) return TRM_ISA_AVX512;
  if (trm_isa_supported(TRM_ISA_AVX2)) return TRM_ISA_AVX2;
  return TRM_ISA_PORTABLE;
}

// Writes the valid mr x nr corner of a full register tile `t` (row stride ldt) into C.
static inline void store_corner(const float *t, int ldt, float *c, long ldc, int mr, int nr,
                                float alpha, int accumulate) {
  for (int i = 0; i < mr; i++) {
    float *ci = c + i * ldc;
    const float *ti = t + i * ldt;
    if (accumulate) {
      for (int j = 0; j < nr; j++) ci[j] += alpha * ti[j];
    } else {
      for (int j = 0; j < nr; j++) ci[j] = alpha * ti[j];
    }
  }
}

// MARK: - Portable micro-kernel (4 x 16)

#define P_MR 4
#define P_NR 16
static void ukernel_portable(int kc, const float *a, long rsa, long csa, const float *b, float *c,
                             long ldc, int mr, int nr, float alpha, int accumulate) {
  float acc[P_MR][P_NR];
  memset(acc, 0, sizeof(acc));
  for (int k = 0; k < kc; k++) {
    const float *bk = b + k * P_NR;
    const float *ak = a + k * csa;
    for (int i = 0; i < P_MR; i++) {
      float ai = ak[i * rsa];
      for (int j = 0; j < P_NR; j++) acc[i][j] += ai * bk[j];
    }
  }
  store_corner(&acc[0][0], P_NR, c, ldc, mr, nr, alpha, accumulate);
}

#if TRM_X86
// MARK: - AVX2 + FMA micro-kernel (6 x 16)

#define A2_MR 6
#define A2_NR 16
__attribute__((target("avx2,fma"))) static void ukernel_avx2(int kc, const float *a, long rsa,
                                                              long csa, const float *b, float *c,
                                                              long ldc, int mr, int nr,
                                                              float alpha, int accumulate) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int k = 0; k < kc; k++) {
    __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 av;
    av = _mm256_broadcast_ss(a + 0 * rsa); c00 = _mm256_fmadd_ps(av, b0, c00); c01 = _mm256_fmadd_ps(av, b1, c01);
    av = _mm256_broadcast_ss(a + 1 * rsa); c10 = _mm256_fmadd_ps(av, b0, c10); c11 = _mm256_fmadd_ps(av, b1, c11);
    av = _mm256_broadcast_ss(a + 2 * rsa); c20 = _mm256_fmadd_ps(av, b0, c20); c21 = _mm256_fmadd_ps(av, b1, c21);
    av = _mm256_broadcast_ss(a + 3 * rsa); c30 = _mm256_fmadd_ps(av, b0, c30); c31 = _mm256_fmadd_ps(av, b1, c31);
    av = _mm256_broadcast_ss(a + 4 * rsa); c40 = _mm256_fmadd_ps(av, b0, c40); c41 = _mm256_fmadd_ps(av, b1, c41);
    av = _mm256_broadcast_ss(a + 5 * rsa); c50 = _mm256_fmadd_ps(av, b0, c50); c51 = _mm256_fmadd_ps(av, b1, c51);
    a += csa;
    b += A2_NR;
  }
  __m256 rows[A2_MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  if (mr == A2_MR && nr == A2_NR) {
    __m256 al = _mm256_set1_ps(alpha);
    for (int i = 0; i < A2_MR; i++) {
      float *ci = c + i * ldc;
      __m256 v0 = _mm256_mul_ps(al, rows[i][0]), v1 = _mm256_mul_ps(al, rows[i][1]);
      if (accumulate) {
        v0 = _mm256_add_ps(v0, _mm256_loadu_ps(ci));
        v1 = _mm256_add_ps(v1, _mm256_loadu_ps(ci + 8));
      }
      _mm256_storeu_ps(ci, v0);
      _mm256_storeu_ps(ci + 8, v1);
    }
  } else {
    float t[A2_MR * A2_NR];
    for (int i = 0; i < A2_MR; i++) {
      _mm256_storeu_ps(t + i * A2_NR, rows[i][0]);
      _mm256_storeu_ps(t + i * A2_NR + 8, rows[i][1]);
    }
    store_corner(t, A2_NR, c, ldc, mr, nr, alpha, accumulate);
  }
}

// MARK: - AVX-512F micro-kernel (12 x 32)

#define A5_MR 12
#define A5_NR 32
__attribute__((target("avx512f,fma"))) static void ukernel_avx512(int kc, const float *a,
                                                                   long rsa, long csa,
                                                                   const float *b, float *c,
                                                                   long ldc, int mr, int nr,
                                                                   float alpha, int accumulate) {
  __m512 acc[A5_MR][2];
  for (int i = 0; i < A5_MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int k = 0; k < kc; k++) {
    __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma clang loop unroll(full)
    for (int i = 0; i < A5_MR; i++) {
      __m512 av = _mm512_set1_ps(a[i * rsa]);
      acc[i][0] = _mm512_fmadd_ps(av, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(av, b1, acc[i][1]);
    }
    a += csa;
    b += A5_NR;
  }
  if (mr == A5_MR && nr == A5_NR) {
    __m512 al = _mm512_set1_ps(alpha);
    for (int i = 0; i < A5_MR; i++) {
      float *ci = c + i * ldc;
      __m512 v0 = _mm512_mul_ps(al, acc[i][0]), v1 = _mm512_mul_ps(al, acc[i][1]);
      if (accumulate) {
        v0 = _mm512_add_ps(v0, _mm512_loadu_ps(ci));
        v1 = _mm512_add_ps(v1, _mm512_loadu_ps(ci + 16));
      }
      _mm512_storeu_ps(ci, v0);
      _mm512_storeu_ps(ci + 16, v1);
    }
  } else {
    float t[A5_MR * A5_NR];
    for (int i = 0; i < A5_MR; i++) {
      _mm512_storeu_ps(t + i * A5_NR, acc[i][0]);
      _mm512_storeu_ps(t + i * A5_NR + 16, acc[i][1]);
    }
    store_corner(t, A5_NR, c, ldc, mr, nr, alpha, accumulate);
  }
}
#endif

trm_gemm_kernel trm_gemm_kernel_for(int isa) {
  trm_gemm_kernel k = {TRM_ISA_PORTABLE, P_MR, P_NR, ukernel_portable};
#if TRM_X86
  if (isa == TRM_ISA_AVX512 && trm_isa_supported(TRM_ISA_AVX512)) {
    k.isa = TRM_ISA_AVX512; k.mr = A5_MR; k.nr = A5_NR; k.kernel = ukernel_avx512;
  } else if (isa == TRM_ISA_AVX2 && trm_isa_supported(TRM_ISA_AVX2)) {
    k.isa = TRM_ISA_AVX2; k.mr = A2_MR; k.nr = A2_NR; k.kernel = ukernel_avx2;
  }
#endif
  return k;
}

// MARK: - exp and SwiGLU
//
// A Cephes-style expf: x = n ln2 + r, |r| <= ln2/2, exp(r) by a degree-6 polynomial, 2^n by
// building the exponent bits. Written as plain scalar C so that each target variant below is
// auto-vectorized by the compiler at that variant's width.

static inline float trm_exp1(float x) {
  x = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
  float n = floorf(x * 1.44269504088896341f + 0.5f);
  float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  float y = p * r * r + r + 1.0f;
  int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof(scale));
  return y * scale;
}

#define TRM_VEXP_BODY                                                   \
  for (long i = 0; i < n; i++) y[i] = trm_exp1(x[i]);

#define TRM_SWIGLU_F_BODY                                               \
  for (long r = 0; r < rows; r++) {                                     \
    const float *g = gu + r * 2 * width, *u = g + width;                \
    float *o = out + r * width;                                         \
    for (long i = 0; i < width; i++) {                                  \
      float s = 1.0f / (1.0f + trm_exp1(-g[i]));                        \
      o[i] = g[i] * s * u[i];                                           \
    }                                                                   \
  }

#define TRM_SWIGLU_B_BODY                                               \
  for (long r = 0; r < rows; r++) {                                     \
    const float *g = gu + r * 2 * width, *u = g + width;                \
    const float *d = dout + r * width;                                  \
    float *dg = dgu + r * 2 * width, *du = dg + width;                  \
    for (long i = 0; i < width; i++) {                                  \
      float s = 1.0f / (1.0f + trm_exp1(-g[i]));                        \
      float silu = g[i] * s;                                            \
      du[i] += d[i] * silu;                                             \
      dg[i] += d[i] * u[i] * (s + silu * (1.0f - s));                   \
    }                                                                   \
  }

static void vexp_portable(const float *x, float *y, long n) { TRM_VEXP_BODY }
static void swiglu_f_portable(const float *gu, float *out, long rows, long width) { TRM_SWIGLU_F_BODY }
static void swiglu_b_portable(const float *gu, const float *dout, float *dgu, long rows, long width) { TRM_SWIGLU_B_BODY }
#if TRM_X86
__attribute__((target("avx2,fma"))) static void vexp_avx2(const float *x, float *y, long n) { TRM_VEXP_BODY }
__attribute__((target("avx2,fma"))) static void swiglu_f_avx2(const float *gu, float *out, long rows, long width) { TRM_SWIGLU_F_BODY }
__attribute__((target("avx2,fma"))) static void swiglu_b_avx2(const float *gu, const float *dout, float *dgu, long rows, long width) { TRM_SWIGLU_B_BODY }
__attribute__((target("avx512f,fma"))) static void vexp_avx512(const float *x, float *y, long n) { TRM_VEXP_BODY }
__attribute__((target("avx512f,fma"))) static void swiglu_f_avx512(const float *gu, float *out, long rows, long width) { TRM_SWIGLU_F_BODY }
__attribute__((target("avx512f,fma"))) static void swiglu_b_avx512(const float *gu, const float *dout, float *dgu, long rows, long width) { TRM_SWIGLU_B_BODY }
#endif

void trm_vexp(int isa, const float *x, float *y, long n) {
#if TRM_X86
  if (isa == TRM_ISA_AVX512) { vexp_avx512(x, y, n); return; }
  if (isa == TRM_ISA_AVX2) { vexp_avx2(x, y, n); return; }
#endif
  (void)isa;
  vexp_portable(x, y, n);
}

void trm_swiglu_forward(int isa, const float *gu, float *out, long rows, long width) {
#if TRM_X86
  if (isa == TRM_ISA_AVX512) { swiglu_f_avx512(gu, out, rows, width); return; }
  if (isa == TRM_ISA_AVX2) { swiglu_f_avx2(gu, out, rows, width); return; }
#endif
  (void)isa;
  swiglu_f_portable(gu, out, rows, width);
}

void trm_swiglu_backward(int isa, const float *gu, const float *dout, float *dgu, long rows,
                         long width) {
#if TRM_X86
  if (isa == TRM_ISA_AVX512) { swiglu_b_avx512(gu, dout, dgu, rows, width); return; }
  if (isa == TRM_ISA_AVX2) { swiglu_b_avx2(gu, dout, dgu, rows, width); return; }
#endif
  (void)isa;
  swiglu_b_portable(gu, dout, dgu, rows, width);
}
