// trm_kernels.h — the innermost CPU micro-kernels of TinyRecursion, in C.
//
// Why C: Swift cannot enable AVX2/AVX-512/FMA per function, and the library must not use
// `unsafeFlags` (SwiftPM refuses them in dependencies). Each hot loop below therefore exists in
// several variants compiled with `__attribute__((target(...)))` and one is picked at run time
// with `__builtin_cpu_supports`. A portable variant is always present.
//
// Everything else (packing, blocking, threading, the autodiff) is Swift.
#ifndef TRM_KERNELS_H
#define TRM_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction-set variants of the micro-kernels.
typedef enum {
  TRM_ISA_PORTABLE = 0,  ///< plain C, whatever the compiler's default target gives
  TRM_ISA_AVX2 = 1,      ///< AVX2 + FMA, 6x16 register tile
  TRM_ISA_AVX512 = 2     ///< AVX-512F + FMA, 12x32 register tile
} trm_isa;

/// GEMM micro-kernel: C[0:mr, 0:nr] (+)= alpha * sum_k A(i, k) * B[k][0:NR] for i < MR,
/// where A(i, k) = a[i * rsa + k * csa] (a packed panel has rsa = 1, csa = MR; an unpacked
/// row-major block rsa = lda, csa = 1; a transposed one rsa = 1, csa = lda). All MR rows must be
/// readable. `b` holds NR contiguous floats per k, consecutive k `ldb` floats apart (a packed
/// kc x NR panel has ldb = NR; a row-major B read in place its row stride). Only the top-left
/// mr x nr corner of the tile is written (edge tiles). If `accumulate` is 0 the corner is
/// overwritten, else added to. The kernel prefetches the tile's lines of C before its k loop.
typedef void (*trm_ukernel_fn)(int kc, const float *a, long rsa, long csa, const float *b,
                               long ldb, float *c, long ldc, int mr, int nr, float alpha,
                               int accumulate);

typedef struct {
  int isa;  ///< trm_isa
  int mr;   ///< rows of the register tile
  int nr;   ///< columns of the register tile
  trm_ukernel_fn kernel;
} trm_gemm_kernel;

/// The best instruction set this CPU supports (detected once).
int trm_best_isa(void);
/// 1 if this CPU can run the given variant.
int trm_isa_supported(int isa);
/// The GEMM micro-kernel for an instruction set (must be supported).
trm_gemm_kernel trm_gemm_kernel_for(int isa);

// MARK: - Vectorized transcendental row kernels (runtime-dispatched like the GEMM)

/// y[i] = exp(x[i]) (x and y may alias). Max relative error ~2e-7 on [-87, 88].
void trm_vexp(int isa, const float *x, float *y, long n);
/// out[r, i] = silu(g[r, i]) * u[r, i] where the row r of gu is [g(0..<width), u(0..<width)].
void trm_swiglu_forward(int isa, const float *gu, float *out, long rows, long width);
/// GEMM epilogue: out[r, i] = silu(t[r, i]) * t[r, half + i] for r < rows, i < cols (<= half),
/// where t is a register tile (row stride ldt) holding gate columns then the matching up columns.
void trm_swiglu_tile(int isa, const float *t, long ldt, int rows, int half, float *out, long ldo,
                     int cols);
/// The SwiGLU backward: dgu[r] += [dout*u*silu'(g), dout*silu(g)], or = when !accumulate.
void trm_swiglu_backward(int isa, const float *gu, const float *dout, float *dgu, long rows,
                         long width, int accumulate);
/// In-place softmax over each of `rows` rows of `width` floats.
void trm_softmax_rows(int isa, float *x, long rows, long width);
/// Rotary "rotate half" on `rows` vectors of width d (src stride lds, dst stride ldd, cos/sin
/// rows d wide): dst = R(src), or R^T(src) when inverse != 0.
void trm_rotary_rows(int isa, const float *src, long lds, float *dst, long ldd, const float *cos,
                     const float *sin, long rows, long d, int inverse);
/// Rows r0..<r1 of one [rows, cols] matrix x into y = x^T ([cols, rows]); adds when accumulate.
void trm_transpose(int isa, const float *x, float *y, long rows, long cols, long r0, long r1,
                   int accumulate);

// FMA peak probe: `iters` rounds of 16 independent vector FMA chains at the given ISA; stores
// the floating-point operations done in *flops and returns a value derived from the result.
float trm_fma_peak_loop(int isa, long iters, long *flops);
// The same probe with the BF16 dot-product instruction (VDPBF16PS, 4 operations per fp32 lane);
// *flops = 0 where the CPU lacks avx512_bf16.
float trm_bf16_dot_peak_loop(long iters, long *flops);

#ifdef __cplusplus
}
#endif

#endif
