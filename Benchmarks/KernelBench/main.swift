// KernelBench: verifies every kernel against its naive twin, then times GEMM on the TRM shapes
// at 1 and 2 threads next to numpy's BLAS (float32), the two alternating shape by shape.
//
//   swift run -c release KernelBench [--quick]
//   swift run -c release KernelBench --shape M,N,K[,ta][,tb]   (one GEMM layout; see below)
//   swift run -c release KernelBench --swiglu-rows M,N,K        (the SwiGLU row epilogue; see below)
//
// Every row also times the backward pass's weight-gradient product of that layer, Aᵀ·B with the
// long axis as the reduction (ours and numpy's `a.T @ b`).
//
// Last line: one JSON object with min_ratio_vs_blas_1t / min_ratio_vs_blas_2t (forward products),
// min_ratio_dw_vs_blas_1t / _2t (weight gradients); null without numpy.
import BenchmarkArguments
import Foundation
import TRMKernels
import TRMRandom

let args = BenchmarkArguments(
  program: "KernelBench",
  usage: """
    usage: swift run -c release KernelBench [--quick]   kernels vs naive twins, then GEMM vs numpy (~5 min; --quick ~1)
           swift run -c release KernelBench --shape M,N,K[,ta][,tb]   one GEMM layout at 1 and 2 threads
           swift run -c release KernelBench --swiglu-rows M,N,K       the SwiGLU row epilogue vs the split ops
    """,
  flags: ["quick"], options: ["shape", "swiglu-rows"])
let quick = args.has("quick")

// MARK: - Verification

func randomArray(_ n: Int, seed: UInt64) -> [Float] {
  var rng = SplitMix64(seed: seed)
  return (0..<n).map { _ in rng.nextFloat() * 2 - 1 }
}

var failures: [String] = []
func check(_ name: String, _ got: [Float], _ want: [Float], tol: Float) {
  var worst: Float = 0
  for i in 0..<got.count {
    let d = abs(got[i] - want[i]) / max(1, abs(want[i]))
    if !(d <= worst) { worst = d.isNaN ? .infinity : max(worst, d) }
  }
  if worst > tol { failures.append("\(name): max rel err \(worst) > \(tol)") }
}

for isa in KernelISA.supported {
  for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
    for (m, n, k) in [(1, 1, 1), (3, 17, 63), (129, 63, 17), (17, 129, 300), (63, 3, 129)] {
      let a = randomArray(m * k, seed: 1), b = randomArray(k * n, seed: 2)
      var c1 = randomArray(m * n, seed: 3), c2 = c1
      let lda = ta ? m : k, ldb = tb ? k : n
      gemm(
        transA: ta, transB: tb, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
        accumulate: true, c: &c1, ldc: n, threads: 2, isa: isa)
      gemmReference(
        transA: ta, transB: tb, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
        accumulate: true, c: &c2, ldc: n)
      check("gemm[\(isa) ta=\(ta) tb=\(tb) \(m)x\(n)x\(k)]", c1, c2, tol: 1e-4)
    }
  }
}
failures += verifyRowKernels()
for (B, H, W, C) in [(2, 3, 5, 7), (1, 9, 9, 32)] {
  let R = B * H * W
  let x = randomArray(R * C, seed: 7), w = randomArray(9 * C * C, seed: 8), dy = randomArray(R * C, seed: 9)
  var y = [Float](repeating: 0, count: R * C), yRef = y, col = [Float](repeating: 0, count: R * 9 * C), scratch = col
  var dx = [Float](repeating: 0, count: R * C), dxRef = dx, dw = [Float](repeating: 0, count: 9 * C * C), dwRef = dw
  conv3x3Forward(x, weight: w, col: &col, &y, batch: B, height: H, width: W, channels: C, threads: 2)
  conv3x3Backward(
    dy: dy, weight: w, col: col, dx: &dx, dweight: &dw, scratch: &scratch, batch: B, height: H, width: W, channels: C,
    threads: 2)
  conv3x3ForwardNaive(x, weight: w, &yRef, batch: B, height: H, width: W, channels: C)
  conv3x3BackwardNaive(dy: dy, x: x, weight: w, dx: &dxRef, dweight: &dwRef, batch: B, height: H, width: W, channels: C)
  check("conv3x3 forward \(B)x\(H)x\(W)x\(C)", y, yRef, tol: 1e-4)
  check("conv3x3 dx \(B)x\(H)x\(W)x\(C)", dx, dxRef, tol: 1e-4)
  check("conv3x3 dweight \(B)x\(H)x\(W)x\(C)", dw, dwRef, tol: 1e-4)
}
if failures.isEmpty {
  print(
    "all kernels agree with their reference twins (ISAs: "
      + "\(KernelISA.supported.map(\.description).joined(separator: ", ")))"
  )
} else {
  for f in failures { print("MISMATCH \(f)") }
  print("{\"error\":\"kernel mismatch\"}")
  exit(1)
}

// MARK: - Timing

struct Shape { let m, k, n: Int; let trm: Bool }
var shapes: [Shape] = []
for bl in (quick ? [5184] : [5184, 20736]) {
  for d in [128, 256, 512] {
    shapes.append(Shape(m: bl, k: d, n: 4 * d, trm: true))
    shapes.append(Shape(m: bl, k: 4 * d, n: d, trm: true))
  }
}
shapes.append(Shape(m: 512, k: 512, n: 512, trm: false))
shapes.append(Shape(m: 1024, k: 1024, n: 1024, trm: false))

func timeIt(flops: Double, _ body: () -> Void) -> Double {
  body()  // warm-up
  var best = Double.infinity
  var total = 0.0
  var reps = 0
  while reps < 3 || (total < (quick ? 0.3 : 1.0) && reps < 50) {
    let t0 = DispatchTime.now().uptimeNanoseconds
    body()
    let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    best = min(best, dt)
    total += dt
    reps += 1
  }
  return flops / best / 1e9
}

/// numpy's float32 BLAS as the reference, timed shape by shape in a python process that stays
/// up (one per thread count: the BLAS reads its thread count at start), so that each of our
/// figures can be measured right next to numpy's, alternating, on this often noisy machine.
/// Products are written into preallocated outputs (`out=`), as ours are.
final class NumpyReference {
  let process = Process()
  let input = Pipe(), output = Pipe()
  var buffered = Data()

  /// nil when python3 or numpy is absent.
  init?(threads: Int) {
    let script = """
      import sys, time, numpy as np
      arrays = {}
      for line in sys.stdin:
          m, k, n, mode = line.split(); m, k, n = int(m), int(k), int(n)
          if (m, k, n) not in arrays:
              arrays.clear()
              a = np.random.rand(m, k).astype(np.float32); b = np.random.rand(k, n).astype(np.float32)
              c = np.random.rand(m, n).astype(np.float32)
              arrays[(m, k, n)] = (a, b, c, np.empty((m, n), np.float32), np.empty((k, n), np.float32))
          a, b, c, o, w = arrays[(m, k, n)]
          f = (lambda: np.matmul(a, b, out=o)) if mode == "f" else (lambda: np.matmul(a.T, c, out=w))
          f(); best = 1e9; tot = 0; r = 0
          while r < 3 or (tot < \(quick ? 0.3 : 1.0) and r < 50):
              t = time.perf_counter(); f(); d = time.perf_counter() - t; best = min(best, d); tot += d; r += 1
          print(2 * m * k * n / best / 1e9, flush=True)
      """
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script]
    var env = ProcessInfo.processInfo.environment
    for key in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"] { env[key] = "\(threads)" }
    // Some machines pin OpenBLAS to an older core type for safety; that slows a current numpy, so
    // the reference runs without the pin (numpy's own kernel choice) to be a fair, strong baseline.
    env["OPENBLAS_CORETYPE"] = nil
    env["OPENBLAS_L2_SIZE"] = nil
    process.environment = env
    process.standardInput = input
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return nil }
    // A first product answers whether numpy is there at all.
    guard gflops(Shape(m: 16, k: 16, n: 16, trm: false), weightGradient: false) != nil else { return nil }
  }

  /// GFLOP/s of A·B (or, for the weight gradient, Aᵀ·C with A [m×k] and C [m×n]): best of
  /// repeats, as `timeIt`; nil if the process has gone.
  func gflops(_ s: Shape, weightGradient: Bool) -> Double? {
    guard process.isRunning else { return nil }
    input.fileHandleForWriting.write(Data("\(s.m) \(s.k) \(s.n) \(weightGradient ? "g" : "f")\n".utf8))
    while !buffered.contains(UInt8(ascii: "\n")) {
      let more = output.fileHandleForReading.availableData
      if more.isEmpty { return nil }
      buffered.append(more)
    }
    let end = buffered.firstIndex(of: UInt8(ascii: "\n"))!
    let line = String(decoding: buffered[buffered.startIndex..<end], as: UTF8.self)
    buffered = Data(buffered[(end + 1)...])
    return Double(line)
  }

  deinit {
    try? input.fileHandleForWriting.close()
    process.waitUntilExit()
  }
}

let peak = measuredFMAPeakGflops()

// `--shape M,N,K[,ta][,tb]`: time one GEMM layout (e.g. a row of `TrainBench --profile`) at 1
// and 2 threads, as GFLOP/s and share of the peak, and stop.
if let shape = args.string("shape") {
  let parts = shape.split(separator: ",").map(String.init)
  guard parts.count >= 3, let m = Int(parts[0]), let n = Int(parts[1]), let k = Int(parts[2]), m > 0, n > 0, k > 0,
    parts.dropFirst(3).allSatisfy({ $0 == "ta" || $0 == "tb" })
  else {
    args.fail("--shape wants M,N,K[,ta][,tb] (positive sizes), got '\(shape)'")
  }
  let ta = parts.contains("ta"), tb = parts.contains("tb")
  let a = randomArray(m * k, seed: 1), b = randomArray(k * n, seed: 2)
  var c = [Float](repeating: 0, count: m * n)
  // A weight-gradient layout (Aᵀ·B) is timed both ways round (`GemmOrientation`), alternating,
  // three rounds, best of each: the figures `GemmBlocking.computesTransposed` was chosen from.
  let orientations: [(GemmOrientation, String)] =
    ta && !tb ? [(.asGiven, "as given"), (.transposed, "transposed"), (.automatic, "automatic")] : [(.asGiven, "")]
  for threads in [1, 2] {
    var best = [Double](repeating: 0, count: orientations.count)
    for _ in 0..<(orientations.count > 1 ? 3 : 1) {
      for (j, (o, _)) in orientations.enumerated() {
        best[j] = max(
          best[j],
          timeIt(flops: 2 * Double(m) * Double(n) * Double(k)) {
            gemm(
              transA: ta, transB: tb, m: m, n: n, k: k, a: a, lda: ta ? m : k, b: b, ldb: tb ? k : n,
              accumulate: true, c: &c, ldc: n, threads: threads, orientation: o)
          })
      }
    }
    for (j, (_, name)) in orientations.enumerated() {
      print(
        String(
          format: "m=%d n=%d k=%d%@%@%@ threads=%d: %.1f GFLOP/s, %.0f%% of peak", m, n, k, ta ? " Aᵀ" : "",
          tb ? " Bᵀ" : "", name.isEmpty ? "" : " (\(name))", threads, best[j],
          100 * best[j] / (peak * Double(threads))))
    }
  }
  exit(0)
}
// `--swiglu-rows M,N,K`: the SwiGLU projection of a training step (x[M×K]·Wᵀ, W [N×K], kept
// for the backward, and its SwiGLU [M×N/2]) two ways: the product, then a separate SwiGLU pass
// over it, against one product whose row epilogue applies SwiGLU to each finished block of rows
// (`GemmEpilogue.swigluRows`). Same bits; alternating, 7 rounds, best of each, 1 and 2 threads.
if let shape = args.string("swiglu-rows") {
  let parts = shape.split(separator: ",").compactMap { Int($0) }
  guard parts.count == 3, parts.allSatisfy({ $0 > 0 }), parts[1] % 2 == 0 else {
    args.fail("--swiglu-rows wants M,N,K (positive sizes, N even), got '\(shape)'")
  }
  let (m, n, k) = (parts[0], parts[1], parts[2])
  let x = randomArray(m * k, seed: 1), w = randomArray(n * k, seed: 2)
  var pre = [Float](repeating: 0, count: m * n), y = [Float](repeating: 0, count: m * n / 2)
  var preRows = pre, yRows = y
  let workspace = GemmWorkspace()
  for threads in [1, 2] {
    var separate = 0.0, rows = 0.0
    for _ in 0..<7 {
      separate = max(
        separate,
        timeIt(flops: 2 * Double(m) * Double(n) * Double(k)) {
          gemm(
            transA: false, transB: true, m: m, n: n, k: k, a: x, lda: k, b: w, ldb: k, accumulate: false, c: &pre,
            ldc: n, threads: threads, workspace: workspace)
          swigluForward(pre, &y, rows: m, width: n / 2, threads: threads)
        })
      rows = max(
        rows,
        timeIt(flops: 2 * Double(m) * Double(n) * Double(k)) {
          yRows.withUnsafeMutableBufferPointer { out in
            gemm(
              transA: false, transB: true, m: m, n: n, k: k, a: x, lda: k, b: w, ldb: k, accumulate: false,
              c: &preRows, ldc: n, threads: threads, workspace: workspace,
              epilogue: .swigluRows(output: out.baseAddress!))
          }
        })
    }
    let same = pre == preRows && y == yRows
    print(
      String(
        format: "m=%d n=%d k=%d threads=%d: product + SwiGLU pass %.1f GFLOP/s, row epilogue %.1f (%.2f×)%@", m, n, k,
        threads, separate, rows, rows / separate, same ? "" : " — RESULTS DIFFER"))
  }
  exit(0)
}
print(
  String(
    format: "measured FMA peak: %.1f GFLOP/s per core (%@, 16 independent FMA chains)", peak, KernelISA.best.description
  ))
// Whether a BF16 GEMM could beat FP32 here: the BF16 dot-product instruction's rate, counted
// as the FP32 operations it stands for, against the FMA peak.
if let bf16 = measuredBF16DotPeakGflops() {
  print(
    String(
      format: "measured BF16 dot-product rate (VDPBF16PS): %.1f GFLOP/s per core, %.2f× the FP32 FMA peak", bf16,
      bf16 / peak))
} else {
  print("BF16 dot product (avx512_bf16): not on this CPU")
}
let peakBothCores = measuredConcurrentFMAPeakGflops(threads: 2)
print(
  String(
    format: "measured FMA peak with 2 cores busy: %.1f GFLOP/s per core (%.0f%% of one core's; 2-thread shares below "
      + "stay of the one-core figure)", peakBothCores, 100 * peakBothCores / peak))
// Ours and numpy alternate shape by shape, `rounds` times each, best of each kept: the machine's
// speed drifts by tens of percent within minutes, and a ratio of two figures measured minutes
// apart would carry that drift.
let rounds = quick ? 1 : 3
print(
  "GEMM C = A·B, GFLOP/s (best of repeats, ours and numpy alternating \(rounds)× per shape); ISA "
    + "\(KernelISA.best); blocking mc=\(GemmBlocking.mc) nc=\(GemmBlocking.nc) kc=\(GemmBlocking.kc)"
)
var minRatio: [Int: Double?] = [:], minRatioGrad: [Int: Double?] = [:]
for threads in [1, 2] {
  let blas = NumpyReference(threads: threads)
  if blas == nil && threads == 1 {
    print("numpy's BLAS cannot run here (python3 with numpy: pip install numpy): its columns and ratios stay empty")
  }
  print(
    "\n" + pad("threads=\(threads) (M,K,N)", 22) + pad("ours", 10, left: true) + pad("ours AᵀB", 10, left: true)
      + pad("numpy", 10, left: true) + pad("numpy AᵀB", 11, left: true) + pad("ratio", 8, left: true)
      + pad("ratio AᵀB", 11, left: true))
  var worst = Double.infinity, worstGrad = Double.infinity, complete = blas != nil
  for s in shapes {
    let a = randomArray(s.m * s.k, seed: 5), b = randomArray(s.k * s.n, seed: 6)
    var c = [Float](repeating: 0, count: s.m * s.n)
    // The weight-gradient shape of the backward pass: (K x M)ᵀ · (M x N) with M the long axis.
    var w = [Float](repeating: 0, count: s.k * s.n)
    // Best GFLOP/s, forward product then weight gradient: ours, and numpy's (nil without it).
    var best = [0.0, 0.0]
    var reference: [Double?] = blas == nil ? [nil, nil] : [0, 0]
    for _ in 0..<rounds {
      for (g, weightGradient) in [false, true].enumerated() {
        let v = a.withUnsafeBufferPointer { pa in
          b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
              w.withUnsafeMutableBufferPointer { pw in
                timeIt(flops: 2.0 * Double(s.m * s.k * s.n)) {
                  if weightGradient {
                    gemm(
                      transA: true, transB: false, m: s.k, n: s.n, k: s.m, a: pa.baseAddress!, lda: s.k,
                      b: pc.baseAddress!, ldb: s.n, accumulate: false, c: pw.baseAddress!, ldc: s.n, threads: threads)
                  } else {
                    gemm(
                      transA: false, transB: false, m: s.m, n: s.n, k: s.k, a: pa.baseAddress!, lda: s.k,
                      b: pb.baseAddress!, ldb: s.n, accumulate: false, c: pc.baseAddress!, ldc: s.n, threads: threads)
                  }
                }
              }
            }
          }
        }
        best[g] = max(best[g], v)
        if let r = reference[g] { reference[g] = blas?.gflops(s, weightGradient: weightGradient).map { max(r, $0) } }
      }
    }
    let (ours, grad, ref, refGrad) = (best[0], best[1], reference[0], reference[1])
    if ref == nil || refGrad == nil { complete = false }
    let ratio = ref.map { ours / $0 }, ratioGrad = refGrad.map { grad / $0 }
    if s.trm, let ratio, let ratioGrad {
      worst = min(worst, ratio)
      worstGrad = min(worstGrad, ratioGrad)
    }
    print(
      pad("(\(s.m),\(s.k),\(s.n))", 22) + cell(ours, "%.1f", 10) + cell(grad, "%.1f", 10)
        + cell(ref, "%.1f", 10) + cell(refGrad, "%.1f", 11) + cell(ratio, "%.2f", 8)
        + cell(ratioGrad, "%.2f", 11))
  }
  minRatio[threads] = complete ? worst : nil
  minRatioGrad[threads] = complete ? worstGrad : nil
}

// MARK: - 3×3 convolution (conv mixer): forward and backward at maze shapes

print("\nconv3x3 (im2col + GEMM), GFLOP/s and share of the measured FMA peak (× threads)")
print(
  pad("threads (B,H,W,C)", 26) + pad("forward", 10, left: true) + pad("% peak", 8, left: true)
    + pad("backward", 10, left: true) + pad("% peak", 8, left: true))
var convWorstShare = Double.infinity
for threads in [1, 2] {
  for (B, H, W, C)
    in (quick
    ? [(32, 15, 15, 32), (32, 15, 15, 64)]
    : [(32, 15, 15, 32), (32, 15, 15, 64), (32, 15, 15, 128), (8, 31, 31, 64), (64, 9, 9, 128)])
  {
    let R = B * H * W
    let x = randomArray(R * C, seed: 7), w = randomArray(9 * C * C, seed: 8), dy = randomArray(R * C, seed: 9)
    var y = [Float](repeating: 0, count: R * C), col = [Float](repeating: 0, count: R * 9 * C), scratch = col
    var dx = y, dw = [Float](repeating: 0, count: 9 * C * C)
    let flops = 2.0 * Double(R) * Double(9 * C * C)
    let ws = GemmWorkspace()
    let fwd = timeIt(flops: flops) {
      conv3x3Forward(
        x, weight: w, col: &col, &y, batch: B, height: H, width: W, channels: C, threads: threads, workspace: ws)
    }
    let bwd = timeIt(flops: 2 * flops) {
      conv3x3Backward(
        dy: dy, weight: w, col: col, dx: &dx, dweight: &dw, scratch: &scratch, batch: B, height: H, width: W,
        channels: C,
        threads: threads, workspace: ws)
    }
    let pf = fwd / (peak * Double(threads)), pb = bwd / (peak * Double(threads))
    convWorstShare = min(convWorstShare, pf, pb)
    print(
      pad("\(threads) (\(B),\(H),\(W),\(C))", 26) + pad(String(format: "%.1f", fwd), 10, left: true)
        + pad(String(format: "%.0f%%", 100 * pf), 8, left: true)
        + pad(String(format: "%.1f", bwd), 10, left: true) + pad(String(format: "%.0f%%", 100 * pb), 8, left: true))
  }
}

/// A right-aligned table cell: `v` formatted, or "-" when absent.
func cell(_ v: Double?, _ format: String, _ width: Int) -> String {
  pad(v.map { String(format: format, $0) } ?? "-", width, left: true)
}
func pad(_ s: String, _ w: Int, left: Bool = false) -> String {
  let fill = String(repeating: " ", count: max(0, w - s.count))
  return left ? fill + s : s + fill
}
func js(_ v: Double??) -> String {
  if let v, let v { return String(format: "%.3f", v) }
  return "null"
}
print(
  "{\"isa\":\"\(KernelISA.best)\",\"fma_peak_gflops\":\(String(format: "%.1f", peak)),\"min_ratio_vs_blas_1t\""
    + ":\(js(minRatio[1])),\"min_ratio_vs_blas_2t\":\(js(minRatio[2])),\"min_ratio_dw_vs_blas_1t\""
    + ":\(js(minRatioGrad[1])),\"min_ratio_dw_vs_blas_2t\":\(js(minRatioGrad[2])),\"conv3x3_min_share_of_peak\""
    + ":\(String(format: "%.3f", convWorstShare))}"
)
