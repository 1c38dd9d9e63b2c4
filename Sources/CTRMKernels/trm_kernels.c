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
static void ukernel_portable(int kc, const float *a, long rsa, long csa, const float *b, long ldb,
                             float *c, long ldc, int mr, int nr, float alpha, int accumulate) {
  float acc[P_MR][P_NR];
  memset(acc, 0, sizeof(acc));
  for (int k = 0; k < kc; k++) {
    const float *bk = b + k * ldb;
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
                                                              long csa, const float *b, long ldb,
                                                              float *c, long ldc, int mr, int nr,
                                                              float alpha, int accumulate) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int i = 0; i < A2_MR; i++) _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);  // see the AVX-512 kernel
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
    b += ldb;
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
                                                                   const float *b, long ldb,
                                                                   float *c, long ldc, int mr, int nr,
                                                                   float alpha, int accumulate) {
  __m512 acc[A5_MR][2];
  for (int i = 0; i < A5_MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  // Fetch the C tile's lines now, so that the stores at the end do not wait for them (a large
  // output is fresh memory: every tile would otherwise stall on 24 read-for-ownership misses).
  // Prefetches never fault, so rows past mr are harmless.
  for (int i = 0; i < A5_MR; i++) {
    _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch((const char *)(c + i * ldc + 16), _MM_HINT_T0);
  }
  for (int k = 0; k < kc; k++) {
    __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma clang loop unroll(full)
    for (int i = 0; i < A5_MR; i++) {
      __m512 av = _mm512_set1_ps(a[i * rsa]);
      acc[i][0] = _mm512_fmadd_ps(av, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(av, b1, acc[i][1]);
    }
    a += csa;
    b += ldb;
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
      if (accumulate) {                                                 \
        du[i] += d[i] * silu;                                           \
        dg[i] += d[i] * u[i] * (s + silu * (1.0f - s));                 \
      } else {                                                          \
        du[i] = d[i] * silu;                                            \
        dg[i] = d[i] * u[i] * (s + silu * (1.0f - s));                  \
      }                                                                 \
    }                                                                   \
  }

// The GEMM epilogue of the fused gate/up projection: a register tile whose first `half` columns
// are gate values and next `half` the matching up values becomes rows x cols SwiGLU outputs.
#define TRM_SWIGLU_TILE_BODY                                            \
  for (int r = 0; r < rows; r++) {                                      \
    const float *g = t + r * ldt, *u = g + half;                        \
    float *o = out + r * ldo;                                           \
    for (int i = 0; i < cols; i++) {                                    \
      float s = 1.0f / (1.0f + trm_exp1(-g[i]));                        \
      o[i] = g[i] * s * u[i];                                           \
    }                                                                   \
  }

static void vexp_portable(const float *x, float *y, long n) { TRM_VEXP_BODY }
static void swiglu_tile_portable(const float *t, long ldt, int rows, int half, float *out, long ldo, int cols) { TRM_SWIGLU_TILE_BODY }
static void swiglu_f_portable(const float *gu, float *out, long rows, long width) { TRM_SWIGLU_F_BODY }
static void swiglu_b_portable(const float *gu, const float *dout, float *dgu, long rows, long width, int accumulate) { TRM_SWIGLU_B_BODY }
#if TRM_X86
__attribute__((target("avx2,fma"))) static void vexp_avx2(const float *x, float *y, long n) { TRM_VEXP_BODY }
__attribute__((target("avx2,fma"))) static void swiglu_f_avx2(const float *gu, float *out, long rows, long width) { TRM_SWIGLU_F_BODY }
__attribute__((target("avx2,fma"))) static void swiglu_b_avx2(const float *gu, const float *dout, float *dgu, long rows, long width, int accumulate) { TRM_SWIGLU_B_BODY }
__attribute__((target("avx512f,fma"))) static void vexp_avx512(const float *x, float *y, long n) { TRM_VEXP_BODY }
__attribute__((target("avx2,fma"))) static void swiglu_tile_avx2(const float *t, long ldt, int rows, int half, float *out, long ldo, int cols) { TRM_SWIGLU_TILE_BODY }
__attribute__((target("avx512f,fma"))) static void swiglu_tile_avx512(const float *t, long ldt, int rows, int half, float *out, long ldo, int cols) { TRM_SWIGLU_TILE_BODY }
__attribute__((target("avx512f,fma"))) static void swiglu_f_avx512(const float *gu, float *out, long rows, long width) { TRM_SWIGLU_F_BODY }
__attribute__((target("avx512f,fma"))) static void swiglu_b_avx512(const float *gu, const float *dout, float *dgu, long rows, long width, int accumulate) { TRM_SWIGLU_B_BODY }
#endif

void trm_vexp(int isa, const float *x, float *y, long n) {
#if TRM_X86
  if (isa == TRM_ISA_AVX512) { vexp_avx512(x, y, n); return; }
  if (isa == TRM_ISA_AVX2) { vexp_avx2(x, y, n); return; }
#endif
  (void)isa;
  vexp_portable(x, y, n);
}

void trm_swiglu_tile(int isa, const float *t, long ldt, int rows, int half, float *out, long ldo,
                     int cols) {
#if TRM_X86
  if (isa == TRM_ISA_AVX512) { swiglu_tile_avx512(t, ldt, rows, half, out, ldo, cols); return; }
  if (isa == TRM_ISA_AVX2) { swiglu_tile_avx2(t, ldt, rows, half, out, ldo, cols); return; }
#endif
  (void)isa;
  swiglu_tile_portable(t, ldt, rows, half, out, ldo, cols);
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
                         long width, int accumulate) {
#if TRM_X86
  if (isa == TRM_ISA_AVX512) { swiglu_b_avx512(gu, dout, dgu, rows, width, accumulate); return; }
  if (isa == TRM_ISA_AVX2) { swiglu_b_avx2(gu, dout, dgu, rows, width, accumulate); return; }
#endif
  (void)isa;
  swiglu_b_portable(gu, dout, dgu, rows, width, accumulate);
}

// Row softmax in place: max, exp(x − max) with the row sum, scale. The reductions run over 16
// independent lanes (partial results per lane)
// so that the compiler vectorizes them without reassociation flags; the order is fixed.
#define TRM_SOFTMAX_BODY                                                \
  for (long r = 0; r < rows; r++) {                                     \
    float *xr = x + r * width;                                          \
    float lm[16];                                                       \
    for (int j = 0; j < 16; j++) lm[j] = -INFINITY;                     \
    long i = 0;                                                         \
    for (; i + 16 <= width; i += 16)                                    \
      for (int j = 0; j < 16; j++) lm[j] = xr[i + j] > lm[j] ? xr[i + j] : lm[j]; \
    float m = -INFINITY;                                                \
    for (int j = 0; j < 16; j++) m = lm[j] > m ? lm[j] : m;             \
    for (; i < width; i++) m = xr[i] > m ? xr[i] : m;                   \
    for (i = 0; i < width; i++) xr[i] = trm_exp1(xr[i] - m);            \
    float ls[16] = {0};                                                 \
    for (i = 0; i + 16 <= width; i += 16)                               \
      for (int j = 0; j < 16; j++) ls[j] += xr[i + j];                  \
    float sum = 0;                                                      \
    for (int j = 0; j < 16; j++) sum += ls[j];                          \
    for (; i < width; i++) sum += xr[i];                                \
    float inv = 1.0f / sum;                                             \
    for (i = 0; i < width; i++) xr[i] *= inv;                           \
  }

// Rotary ("rotate half") on `rows` head vectors of width d: dst = R(src), or the transposed
// rotation when sgn = −1. cos/sin rows are d wide; strides in floats.
#define TRM_ROTARY_BODY                                                 \
  long half = d / 2;                                                    \
  for (long r = 0; r < rows; r++) {                                     \
    const float *a = src + r * lds, *b = a + half;                      \
    const float *c = cs + r * d, *sn = sn0 + r * d;                     \
    float *o = dst + r * ldd;                                           \
    for (long i = 0; i < half; i++) {                                   \
      o[i] = a[i] * c[i] - sgn * b[i] * sn[i];                          \
      o[i + half] = b[i] * c[i + half] + sgn * a[i] * sn[i + half];     \
    }                                                                   \
  }

static void softmax_portable(float *x, long rows, long width) { TRM_SOFTMAX_BODY }
static void rotary_portable(const float *src, long lds, float *dst, long ldd, const float *cs, const float *sn0, long rows, long d, float sgn) { TRM_ROTARY_BODY }
#if TRM_X86
__attribute__((target("avx2,fma"))) static void softmax_avx2(float *x, long rows, long width) { TRM_SOFTMAX_BODY }
__attribute__((target("avx2,fma"))) static void rotary_avx2(const float *src, long lds, float *dst, long ldd, const float *cs, const float *sn0, long rows, long d, float sgn) { TRM_ROTARY_BODY }
__attribute__((target("avx512f,fma"))) static void softmax_avx512(float *x, long rows, long width) { TRM_SOFTMAX_BODY }
__attribute__((target("avx512f,fma"))) static void rotary_avx512(const float *src, long lds, float *dst, long ldd, const float *cs, const float *sn0, long rows, long d, float sgn) { TRM_ROTARY_BODY }
#endif

void trm_softmax_rows(int isa, float *x, long rows, long width) {
#if TRM_X86
  if (isa == TRM_ISA_AVX512) { softmax_avx512(x, rows, width); return; }
  if (isa == TRM_ISA_AVX2) { softmax_avx2(x, rows, width); return; }
#endif
  (void)isa;
  softmax_portable(x, rows, width);
}

void trm_rotary_rows(int isa, const float *src, long lds, float *dst, long ldd, const float *cos,
                     const float *sin, long rows, long d, int inverse) {
  float sgn = inverse ? -1.0f : 1.0f;
#if TRM_X86
  if (isa == TRM_ISA_AVX512) { rotary_avx512(src, lds, dst, ldd, cos, sin, rows, d, sgn); return; }
  if (isa == TRM_ISA_AVX2) { rotary_avx2(src, lds, dst, ldd, cos, sin, rows, d, sgn); return; }
#endif
  (void)isa;
  rotary_portable(src, lds, dst, ldd, cos, sin, rows, d, sgn);
}

// MARK: - Transpose of the last two axes
//
// y[b, c, r] = x[b, r, c] (or +=). 8x8 blocks through AVX registers (unpack / shuffle /
// permute2f128), scalar edges; the portable variant is a plain tiled loop.

static void transpose_scalar(const float *x, float *y, long rows, long cols, long r0, long r1,
                             long c0, long c1, int acc) {
  for (long r = r0; r < r1; r++)
    for (long c = c0; c < c1; c++) {
      if (acc) y[c * rows + r] += x[r * cols + c]; else y[c * rows + r] = x[r * cols + c];
    }
}

static void transpose_portable(const float *x, float *y, long rows, long cols, long r0, long r1, int acc) {
  for (long c0 = 0; c0 < cols; c0 += 32) {
    long c1 = c0 + 32 < cols ? c0 + 32 : cols;
    transpose_scalar(x, y, rows, cols, r0, r1, c0, c1, acc);
  }
}

#if TRM_X86
__attribute__((target("avx2,fma"))) static void transpose_avx2(const float *x, float *y, long rows, long cols,
                                                              long r0, long r1, int acc) {
  long rEnd = r0 + (r1 - r0) / 8 * 8, cEnd = cols / 8 * 8;
  for (long r = r0; r < rEnd; r += 8) {
    for (long c = 0; c < cEnd; c += 8) {
      const float *s = x + r * cols + c;
      __m256 a0 = _mm256_loadu_ps(s), a1 = _mm256_loadu_ps(s + cols), a2 = _mm256_loadu_ps(s + 2 * cols),
             a3 = _mm256_loadu_ps(s + 3 * cols), a4 = _mm256_loadu_ps(s + 4 * cols), a5 = _mm256_loadu_ps(s + 5 * cols),
             a6 = _mm256_loadu_ps(s + 6 * cols), a7 = _mm256_loadu_ps(s + 7 * cols);
      __m256 t0 = _mm256_unpacklo_ps(a0, a1), t1 = _mm256_unpackhi_ps(a0, a1);
      __m256 t2 = _mm256_unpacklo_ps(a2, a3), t3 = _mm256_unpackhi_ps(a2, a3);
      __m256 t4 = _mm256_unpacklo_ps(a4, a5), t5 = _mm256_unpackhi_ps(a4, a5);
      __m256 t6 = _mm256_unpacklo_ps(a6, a7), t7 = _mm256_unpackhi_ps(a6, a7);
      __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
      __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
      __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
      __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
      __m256 o[8];
      o[0] = _mm256_permute2f128_ps(u0, u4, 0x20); o[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
      o[2] = _mm256_permute2f128_ps(u2, u6, 0x20); o[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
      o[4] = _mm256_permute2f128_ps(u0, u4, 0x31); o[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
      o[6] = _mm256_permute2f128_ps(u2, u6, 0x31); o[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
      float *d = y + c * rows + r;
      for (int k = 0; k < 8; k++) {
        if (acc) _mm256_storeu_ps(d + k * rows, _mm256_add_ps(_mm256_loadu_ps(d + k * rows), o[k]));
        else _mm256_storeu_ps(d + k * rows, o[k]);
      }
    }
    transpose_scalar(x, y, rows, cols, r, r + 8, cEnd, cols, acc);
  }
  transpose_scalar(x, y, rows, cols, rEnd, r1, 0, cols, acc);
}
#endif

void trm_transpose(int isa, const float *x, float *y, long rows, long cols, long r0, long r1, int accumulate) {
#if TRM_X86
  if (isa == TRM_ISA_AVX512 || isa == TRM_ISA_AVX2) { transpose_avx2(x, y, rows, cols, r0, r1, accumulate); return; }
#endif
  (void)isa;
  transpose_portable(x, y, rows, cols, r0, r1, accumulate);
}

// MARK: - FMA peak probe

// 16 independent FMA chains of one vector each, `iters` rounds: enough chains to cover the FMA
// latency × throughput of current x86 cores, all in registers. Returns a value derived from
// the accumulators so the loop cannot be removed. Floating-point operations: 2 · lanes · 16 ·
// iters.
#if TRM_X86
#define TRM_PEAK_BODY(VEC, SET1, FMADD, ADD, LANES)                                          \
  VEC acc[16];                                                                               \
  for (int i = 0; i < 16; i++) acc[i] = SET1(0.001f * (float)i);                             \
  VEC m = SET1(0.9999999f), c = SET1(1e-7f);                                                 \
  for (long r = 0; r < iters; r++) {                                                         \
    for (int i = 0; i < 16; i++) acc[i] = FMADD(acc[i], m, c);                               \
  }                                                                                          \
  VEC s = acc[0];                                                                            \
  for (int i = 1; i < 16; i++) s = ADD(s, acc[i]);                                           \
  float out[LANES];                                                                          \
  memcpy(out, &s, sizeof(out));                                                              \
  return out[0];
__attribute__((target("avx512f,fma"))) static float peak_avx512(long iters) {
  TRM_PEAK_BODY(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, 16)
}
__attribute__((target("avx2,fma"))) static float peak_avx2(long iters) {
  TRM_PEAK_BODY(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, 8)
}
#endif

float trm_fma_peak_loop(int isa, long iters, long *flops) {
#if TRM_X86
  if (isa == TRM_ISA_AVX512) { *flops = 2L * 16 * 16 * iters; return peak_avx512(iters); }
  if (isa == TRM_ISA_AVX2) { *flops = 2L * 8 * 16 * iters; return peak_avx2(iters); }
#endif
  float acc[16];
  for (int i = 0; i < 16; i++) acc[i] = 0.001f * (float)i;
  for (long r = 0; r < iters; r++)
    for (int i = 0; i < 16; i++) acc[i] = acc[i] * 0.9999999f + 1e-7f;
  *flops = 2L * 16 * iters;
  float s = 0;
  for (int i = 0; i < 16; i++) s += acc[i];
  return s;
}

// MARK: - BF16 dot-product probe

// The same 16 independent chains with VDPBF16PS (avx512_bf16: each fp32 lane adds the products
// of two bf16 pairs, 4 floating-point operations per lane): what a BF16 GEMM could reach on
// this core. Floating-point operations: 4 · 16 · 16 · iters. Returns 0 and sets *flops to 0
// where the CPU lacks avx512_bf16.
#if TRM_X86
__attribute__((target("avx512f,avx512bf16"))) static float bf16_dot_avx512(long iters) {
  __m512 acc[16];
  for (int i = 0; i < 16; i++) acc[i] = _mm512_set1_ps(0.001f * (float)i);
  // bf16 pairs (1.0, 1.0) and (2^-20, 2^-20): each step adds 2^-19 to every lane.
  __m512bh a = (__m512bh)_mm512_set1_epi32(0x3f803f80), b = (__m512bh)_mm512_set1_epi32(0x35803580);
  for (long r = 0; r < iters; r++) {
    for (int i = 0; i < 16; i++) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
  }
  __m512 s = acc[0];
  for (int i = 1; i < 16; i++) s = _mm512_add_ps(s, acc[i]);
  float out[16];
  memcpy(out, &s, sizeof(out));
  return out[0];
}
#endif

float trm_bf16_dot_peak_loop(long iters, long *flops) {
#if TRM_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16")) {
    *flops = 4L * 16 * 16 * iters;
    return bf16_dot_avx512(iters);
  }
#endif
  (void)iters;
  *flops = 0;
  return 0;
}
