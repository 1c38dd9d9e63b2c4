import CTRMKernels
import TRMKernels
import TRMRandom
import TRMTestSupport
import XCTest

final class KernelTests: XCTestCase {
  func testGemmMatchesReferenceOnOddShapesForEveryISAAndLayout() {
    for isa in KernelISA.supported {
      for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
        let shapes = [
          (1, 1, 1), (3, 17, 63), (129, 63, 17), (17, 129, 300), (63, 3, 129), (200, 530, 260), (37, 45, 5000),
          // B read in place (rows 64 or 128 floats apart, few rows of op(A)), with a split k.
          (150, 64, 300), (40, 128, 5000),
        ]
        for (m, n, k) in shapes {
          let a = randomTensor([m * k], seed: 1).scalars, b = randomTensor([k * n], seed: 2).scalars
          for accumulate in [false, true] {
            var c1 = randomTensor([m * n], seed: 3).scalars, c2 = c1
            gemm(
              transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, a: a, lda: ta ? m : k, b: b, ldb: tb ? k : n,
              accumulate: accumulate, c: &c1, ldc: n, threads: 2, isa: isa)
            gemmReference(
              transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, a: a, lda: ta ? m : k, b: b, ldb: tb ? k : n,
              accumulate: accumulate, c: &c2, ldc: n)
            let (err, at) = maxRelativeDifference(c1, c2)
            XCTAssertLessThan(err, 1e-4, "\(isa) ta=\(ta) tb=\(tb) \(m)x\(n)x\(k) acc=\(accumulate) at \(at)")
          }
        }
      }
    }
  }

  func testGemmSwiGLUEpilogueMatchesGemmThenSwiGLU() {
    // C[m, h] = silu(op(A)·gate) ⊙ (op(A)·up) with op(B) = [gate | up], h odd and smaller than
    // one register tile's half, k beyond the usual k block, every ISA and layout.
    for isa in KernelISA.supported {
      for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
        for (m, h, k) in [(1, 1, 1), (13, 3, 82), (129, 17, 63), (37, 100, 300)] {
          let n = 2 * h, ldc = h + 2
          let a = randomTensor([m * k], seed: 11).scalars, b = randomTensor([k * n], seed: 12).scalars
          var full = [Float](repeating: 0, count: m * n), want = [Float](repeating: 0, count: m * h)
          gemmReference(
            transA: ta, transB: tb, m: m, n: n, k: k, a: a, lda: ta ? m : k, b: b, ldb: tb ? k : n,
            accumulate: false, c: &full, ldc: n)
          swigluForwardReference(full, &want, rows: m, width: h)
          var outs: [[Float]] = []
          for threads in [1, 2, 3] {
            var c = [Float](repeating: 7, count: m * ldc)
            gemm(
              transA: ta, transB: tb, m: m, n: n, k: k, a: a, lda: ta ? m : k, b: b, ldb: tb ? k : n,
              accumulate: false, c: &c, ldc: ldc, threads: threads, isa: isa, epilogue: .swiglu)
            let got = (0..<m).flatMap { i in c[(i * ldc)..<(i * ldc + h)] }
            let (err, at) = maxRelativeDifference(got, want)
            XCTAssertLessThan(err, 1e-4, "\(isa) ta=\(ta) tb=\(tb) \(m)x\(h)x\(k) threads=\(threads) at \(at)")
            XCTAssertEqual(c[h], 7, "columns past h must be untouched")
            outs.append(got)
          }
          XCTAssertEqual(outs[0], outs[1], "\(isa) \(m)x\(h)x\(k): 1 and 2 threads differ")
          XCTAssertEqual(outs[0], outs[2], "\(isa) \(m)x\(h)x\(k): 1 and 3 threads differ")
        }
      }
    }
  }

  func testGemmSwiGLURowEpilogueKeepsTheProductAndItsSwiGLUBitForBit() {
    // C = x·Wᵀ exactly as the plain product, and SwiGLU of each finished block of rows exactly as
    // the separate row kernel: odd sizes, more rows than one row block, n wider than one column
    // block, every ISA, 1–3 threads.
    for isa in KernelISA.supported {
      for (m, h, k) in [(1, 1, 1), (13, 3, 82), (203, 17, 63), (401, 700, 130)] {
        let n = 2 * h
        let x = randomTensor([m * k], seed: 13).scalars, w = randomTensor([n * k], seed: 14).scalars
        var want = [Float](repeating: 0, count: m * n), wantY = [Float](repeating: 0, count: m * h)
        gemm(
          transA: false, transB: true, m: m, n: n, k: k, a: x, lda: k, b: w, ldb: k, accumulate: false, c: &want,
          ldc: n, isa: isa)
        swigluForward(want, &wantY, rows: m, width: h, threads: 1, isa: isa)
        for threads in [1, 2, 3] {
          var c = [Float](repeating: 7, count: m * n), y = [Float](repeating: 7, count: m * h)
          y.withUnsafeMutableBufferPointer { out in
            gemm(
              transA: false, transB: true, m: m, n: n, k: k, a: x, lda: k, b: w, ldb: k, accumulate: false, c: &c,
              ldc: n, threads: threads, isa: isa, epilogue: .swigluRows(output: out.baseAddress!))
          }
          XCTAssertTrue(c == want, "\(isa) \(m)x\(n)x\(k) threads=\(threads): the product differs")
          XCTAssertTrue(y == wantY, "\(isa) \(m)x\(n)x\(k) threads=\(threads): its SwiGLU differs")
        }
      }
    }
  }

  func testGemmIsBitIdenticalAcrossThreadCounts() {
    let (m, n, k) = (517, 1100, 300)
    let a = randomTensor([m * k], seed: 4).scalars, b = randomTensor([k * n], seed: 5).scalars
    var c1 = [Float](repeating: 0, count: m * n), c2 = c1, c3 = c1
    gemm(
      transA: false, transB: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, accumulate: false, c: &c1, ldc: n,
      threads: 1)
    gemm(
      transA: false, transB: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, accumulate: false, c: &c2, ldc: n,
      threads: 2)
    gemm(
      transA: false, transB: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, accumulate: false, c: &c3, ldc: n,
      threads: 3)
    XCTAssertEqual(c1, c2)
    XCTAssertEqual(c1, c3)
    // A weight-gradient shape (small output, long sum) whose k range is split into chunks.
    let (m2, n2, k2) = (130, 90, 9000)
    let a2 = randomTensor([m2 * k2], seed: 8).scalars, b2 = randomTensor([k2 * n2], seed: 9).scalars
    var outs: [[Float]] = []
    for threads in [1, 2, 3] {
      var c = randomTensor([m2 * n2], seed: 10).scalars
      gemm(
        transA: true, transB: false, m: m2, n: n2, k: k2, a: a2, lda: m2, b: b2, ldb: n2, accumulate: true, c: &c,
        ldc: n2, threads: threads)
      outs.append(c)
    }
    XCTAssertEqual(outs[0], outs[1])
    XCTAssertEqual(outs[0], outs[2])
  }

  /// A row of C depends only on its row of op(A) and on op(B), not on how many rows are computed
  /// with it nor how B is packed (`GemmBlocking.packsBPerTask`): one row block packs its blocks of
  /// B as it goes; more rows pack all of B up front, or — with a long sum and a large B — pack
  /// per task and sweep their row blocks (all of them on 1 thread, a group each on 2; with B read
  /// in place, on 1 thread only). The same
  /// products in the same order, so the same bits. Every ISA and layout; plain, split-k and
  /// SwiGLU products; 1 and 2 threads.
  func testGemmRowsAreTheSameBitsWhetherBIsPackedPerTaskOrUpFront() {
    let mSmall = GemmBlocking.mc - 42, mLarge = GemmBlocking.mc + 58
    XCTAssertTrue(GemmBlocking.packsBPerTask(m: mSmall, k: 700, bFloats: 700 * 100, bInPlace: false, threads: 2))
    XCTAssertFalse(GemmBlocking.packsBPerTask(m: mLarge, k: 700, bFloats: 700 * 100, bInPlace: false, threads: 1))
    XCTAssertTrue(GemmBlocking.packsBPerTask(m: mLarge, k: 2000, bFloats: 2000 * 300, bInPlace: false, threads: 2))
    XCTAssertTrue(GemmBlocking.packsBPerTask(m: mLarge, k: 2000, bFloats: 2000 * 320, bInPlace: true, threads: 1))
    XCTAssertFalse(GemmBlocking.packsBPerTask(m: mLarge, k: 2000, bFloats: 2000 * 320, bInPlace: true, threads: 2))
    for isa in KernelISA.supported {
      for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
        // The last case reads B in place when it is not transposed (rows 320 floats apart).
        let cases = [
          (100, 700, GemmEpilogue.none), (70, 5000, .none), (100, 300, .swiglu), (300, 2000, .none), (320, 2000, .none),
        ]
        for (n, k, epilogue) in cases {
          let a = randomTensor([mLarge * k], seed: 31).scalars, b = randomTensor([k * n], seed: 32).scalars
          let cols = epilogue == .swiglu ? n / 2 : n
          for threads in [1, 2] {
            // Rows r0..<r1 of op(A) alone: a slice of A's rows, or of A's columns when transposed.
            func rows(_ r0: Int, _ r1: Int) -> [Float] {
              var c = [Float](repeating: 0, count: (r1 - r0) * cols)
              a.withUnsafeBufferPointer { pa in
                gemm(
                  transA: ta, transB: tb, m: r1 - r0, n: n, k: k, a: pa.baseAddress! + (ta ? r0 : r0 * k),
                  lda: ta ? mLarge : k, b: b, ldb: tb ? k : n, accumulate: false, c: &c, ldc: cols, threads: threads,
                  isa: isa, epilogue: epilogue)
              }
              return c
            }
            let what = "\(isa) ta=\(ta) tb=\(tb) n=\(n) k=\(k) \(epilogue) threads=\(threads)"
            XCTAssertTrue(rows(0, mLarge) == rows(0, mSmall) + rows(mSmall, mLarge), what)
          }
        }
      }
    }
  }

  /// A weight-gradient product computed the other way round (Cᵀ = Bᵀ·A, then transposed) gives
  /// the same bits as the product as asked: with and without accumulation, alpha ≠ 1, a split k,
  /// ragged tiles, in-place and packed B, every ISA, 1 and 2 threads; and both match the naive twin.
  func testWeightGradientOrientationsAreBitIdentical() {
    for isa in KernelISA.supported {
      for (m, n, k) in [(1, 1, 1), (13, 40, 300), (64, 257, 700), (40, 128, 900), (37, 45, 4100)] {
        let a = randomTensor([k * m], seed: 21).scalars, b = randomTensor([k * n], seed: 22).scalars
        for accumulate in [false, true] {
          for threads in [1, 2] {
            let start = randomTensor([m * n], seed: 23).scalars
            var outs: [[Float]] = []
            for o in [GemmOrientation.asGiven, .transposed, .automatic] {
              var c = start
              gemm(
                transA: true, transB: false, m: m, n: n, k: k, alpha: 0.5, a: a, lda: m, b: b, ldb: n,
                accumulate: accumulate, c: &c, ldc: n, threads: threads, isa: isa, orientation: o)
              outs.append(c)
            }
            let what = "\(isa) \(m)x\(n)x\(k) acc=\(accumulate) threads=\(threads)"
            XCTAssertEqual(outs[0], outs[1], what)
            XCTAssertEqual(outs[0], outs[2], what)
            if threads == 2 { continue }
            var want = start
            gemmReference(
              transA: true, transB: false, m: m, n: n, k: k, alpha: 0.5, a: a, lda: m, b: b, ldb: n,
              accumulate: accumulate, c: &want, ldc: n)
            XCTAssertLessThan(maxRelativeDifference(outs[1], want).error, 1e-4, what)
          }
        }
      }
    }
  }

  func testGemmWithStridedOperandsAndZeroK() {
    // Leading dimensions larger than the logical width (as attention uses on qkv).
    let (m, n, k, lda, ldb, ldc) = (5, 7, 9, 20, 11, 13)
    let a = randomTensor([m * lda], seed: 6).scalars, b = randomTensor([k * ldb], seed: 7).scalars
    var c1 = [Float](repeating: 2, count: m * ldc), c2 = c1
    gemm(
      transA: false, transB: false, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, accumulate: false, c: &c1,
      ldc: ldc)
    gemmReference(
      transA: false, transB: false, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, accumulate: false, c: &c2,
      ldc: ldc)
    XCTAssertLessThan(maxRelativeDifference(c1, c2).error, 1e-5)
    XCTAssertEqual(c1[n], 2, "padding columns beyond n must be untouched")
    var c3 = [Float](repeating: 3, count: 4)
    gemm(transA: false, transB: false, m: 2, n: 2, k: 0, a: a, lda: 1, b: b, ldb: 2, accumulate: false, c: &c3, ldc: 2)
    XCTAssertEqual(c3, [0, 0, 0, 0])
  }

  func testFMAPeakProbesCountEachCoreOnce() {
    // Per core: all cores busy cannot beat one core alone by much (a count of the flops of every
    // thread against one thread's time would read twice the one-core figure).
    let one = measuredFMAPeakGflops(repeats: 3)
    let both = measuredConcurrentFMAPeakGflops(threads: 2, repeats: 3)
    XCTAssertGreaterThan(one, 0.1)
    XCTAssertGreaterThan(both, 0.1)
    XCTAssertLessThan(both, 1.5 * one, "per-core figure with 2 cores busy: \(both) vs one core \(one)")
    XCTAssertLessThan(measuredConcurrentFMAPeakGflops(threads: 1, repeats: 3), 1.5 * one)
  }

  func testBF16DotProbeComputesWhatItCounts() throws {
    var flops = 0
    let sink = trm_bf16_dot_peak_loop(1000, &flops)
    try XCTSkipIf(flops == 0, "no avx512_bf16 on this CPU")
    // 16 chains × 16 lanes × 4 operations per round; every round adds 2 · 1 · 2⁻²⁰ to each
    // lane, so lane 0 of the chains' sum is Σ 0.001·i + 16 · 1000 · 2⁻¹⁹.
    XCTAssertEqual(flops, 4 * 16 * 16 * 1000)
    XCTAssertEqual(Double(sink), 0.12 + 16 * 1000 / 524_288, accuracy: 1e-5)
    let gflops = try XCTUnwrap(measuredBF16DotPeakGflops(repeats: 2))
    XCTAssertGreaterThan(gflops, 0.1)
  }

  func testConv3x3MatchesNaiveTwinOnOddShapesAndThreadCounts() {
    for (B, H, W, C) in [(1, 1, 1, 1), (2, 3, 5, 7), (3, 7, 4, 17), (2, 9, 9, 32)] {
      let R = B * H * W
      let x = randomTensor([R * C], seed: 10).scalars, w = randomTensor([C * 9 * C], seed: 11).scalars
      let dy = randomTensor([R * C], seed: 12).scalars
      var yRef = [Float](repeating: 0, count: R * C), dxRef = randomTensor([R * C], seed: 13).scalars
      var dwRef = randomTensor([C * 9 * C], seed: 14).scalars
      let dx0 = dxRef, dw0 = dwRef
      conv3x3ForwardNaive(x, weight: w, &yRef, batch: B, height: H, width: W, channels: C)
      conv3x3BackwardNaive(
        dy: dy, x: x, weight: w, dx: &dxRef, dweight: &dwRef, batch: B, height: H, width: W, channels: C)
      var results: [[Float]] = []
      for threads in [1, 2] {
        var y = [Float](repeating: .nan, count: R * C), col = [Float](repeating: .nan, count: R * 9 * C)
        var scratch = col, dx = dx0, dw = dw0
        conv3x3Forward(x, weight: w, col: &col, &y, batch: B, height: H, width: W, channels: C, threads: threads)
        conv3x3Backward(
          dy: dy, weight: w, col: col, dx: &dx, dweight: &dw, scratch: &scratch, batch: B, height: H, width: W,
          channels: C, threads: threads)
        XCTAssertLessThan(maxRelativeDifference(y, yRef).error, 1e-4, "forward \(B)x\(H)x\(W)x\(C)")
        XCTAssertLessThan(maxRelativeDifference(dx, dxRef).error, 1e-4, "dx \(B)x\(H)x\(W)x\(C)")
        XCTAssertLessThan(maxRelativeDifference(dw, dwRef).error, 1e-4, "dweight \(B)x\(H)x\(W)x\(C)")
        results.append(y + dx + dw)
      }
      XCTAssertEqual(results[0], results[1], "1 and 2 threads differ at \(B)x\(H)x\(W)x\(C)")
    }
  }

  func testDepthwise3x3MatchesNaiveTwinAndThreadCounts() {
    for (B, H, W, C) in [(1, 1, 1, 1), (2, 3, 5, 7), (3, 9, 9, 88)] {
      let R = B * H * W
      let x = randomTensor([R * C], seed: 20).scalars, w = randomTensor([9 * C], seed: 21).scalars
      var yRef = [Float](repeating: 0, count: R * C)
      depthwise3x3ForwardNaive(x, weight: w, &yRef, batch: B, height: H, width: W, channels: C)
      var outs: [[Float]] = []
      for threads in [1, 2] {
        var y = [Float](repeating: .nan, count: R * C)
        depthwise3x3Forward(x, weight: w, &y, batch: B, height: H, width: W, channels: C, threads: threads)
        XCTAssertLessThan(maxRelativeDifference(y, yRef).error, 1e-5, "\(B)x\(H)x\(W)x\(C)")
        // Backward against the adjoint identity ⟨dy, conv(x)⟩ = ⟨dx, x⟩ (linear in x)
        // and = ⟨dw, w⟩ (linear in w).
        let dy = randomTensor([R * C], seed: 22).scalars
        var dx = [Float](repeating: 0, count: R * C), dw = [Float](repeating: 0, count: 9 * C)
        depthwise3x3Backward(
          dy: dy, x: x, weight: w, dx: &dx, dweight: &dw, batch: B, height: H, width: W, channels: C, threads: threads)
        let lhs = zip(dy, yRef).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let viaX = zip(dx, x).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let viaW = zip(dw, w).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        XCTAssertEqual(viaX, lhs, accuracy: 1e-3 * max(1, abs(lhs)))
        XCTAssertEqual(viaW, lhs, accuracy: 1e-3 * max(1, abs(lhs)))
        outs.append(y + dx + dw)
      }
      XCTAssertEqual(outs[0], outs[1], "1 and 2 threads differ at \(B)x\(H)x\(W)x\(C)")
    }
  }

  func testRowKernelsMatchReferencesAndThreadCounts() {
    let failures = verifyRowKernels()
    XCTAssertTrue(failures.isEmpty, failures.joined(separator: "\n"))
  }

  func testStablemaxCrossEntropyAgainstHandComputedValues() {
    // logits (1, -1, 0), label 0: s = (2, 0.5, 1), p0 = 2/3.5, loss = -log(2/3.5) = 0.5596157879
    let logits: [Float] = [1, -1, 0]
    var probs = [Float](repeating: 0, count: 3), loss: [Float] = [0]
    crossEntropyForward(
      logits, labels: [0], rows: 1, vocab: 3, kind: .stablemax, ignore: -100, probs: &probs, losses: &loss)
    XCTAssertEqual(loss[0], 0.5596157879, accuracy: 1e-6)
    crossEntropyForward(
      logits, labels: [0], rows: 1, vocab: 3, kind: .softmax, ignore: -100, probs: &probs, losses: &loss)
    // softmax: -log(e / (e + e^-1 + 1)) = 0.4076059644
    XCTAssertEqual(loss[0], 0.4076059644, accuracy: 1e-6)
    crossEntropyForward(
      logits, labels: [-100], rows: 1, vocab: 3, kind: .stablemax, ignore: -100, probs: &probs, losses: &loss)
    XCTAssertEqual(loss[0], 0)
  }
}

final class RotaryTableTests: XCTestCase {
  /// Score of a fixed query at position p against a fixed key at position r after rotation.
  private func score(_ t: RotaryTables, _ q: [Double], _ k: [Double], _ p: Int, _ r: Int) -> Double {
    let d = t.headDim, h = d / 2
    func rotate(_ v: [Double], _ pos: Int) -> [Double] {
      (0..<d).map { i in
        let c = Double(t.cos[pos * d + i]), s = Double(t.sin[pos * d + i])
        return i < h ? v[i] * c - v[i + h] * s : v[i] * c + v[i - h] * s
      }
    }
    return zip(rotate(q, p), rotate(k, r)).reduce(0) { $0 + $1.0 * $1.1 }
  }

  func testGridPositionsDependOnlyOnRowAndColumnOffsets() {
    var rng = SplitMix64(seed: 5)
    let d = 8
    let q = (0..<d).map { _ in rng.nextDouble() - 0.5 }, k = (0..<d).map { _ in rng.nextDouble() - 0.5 }
    let prefix = 2
    let narrow = RotaryTables(length: prefix + 25, headDim: d, grid: (5, prefix))
    let wide = RotaryTables(length: prefix + 49, headDim: d, grid: (7, prefix))
    func cell(_ cols: Int, _ row: Int, _ col: Int) -> Int { prefix + row * cols + col }
    // A vertical neighbour scores the same in a 5-wide and a 7-wide grid, and anywhere in it.
    let v5 = score(narrow, q, k, cell(5, 1, 1), cell(5, 2, 1))
    XCTAssertEqual(v5, score(wide, q, k, cell(7, 1, 1), cell(7, 2, 1)), accuracy: 1e-5)
    XCTAssertEqual(v5, score(wide, q, k, cell(7, 4, 5), cell(7, 5, 5)), accuracy: 1e-5)
    // Diagonal offset (+2, −1) likewise; and the offsets are distinguishable.
    let d5 = score(narrow, q, k, cell(5, 0, 3), cell(5, 2, 2))
    XCTAssertEqual(d5, score(wide, q, k, cell(7, 3, 6), cell(7, 5, 5)), accuracy: 1e-5)
    XCTAssertGreaterThan(abs(v5 - d5), 1e-3)
    XCTAssertGreaterThan(
      abs(v5 - score(narrow, q, k, cell(5, 1, 1), cell(5, 1, 2))), 1e-3,
      "vertical and horizontal neighbours must differ")
    // Prefix tokens sit outside the grid: token j at (−1−j, −1); and 1-D tables are not grids
    // (cell 5 of a 5-wide grid is not one step from cell 0 in 1-D).
    XCTAssertEqual(score(narrow, q, k, 1, cell(5, 0, 0)), score(narrow, q, k, 0, cell(5, 1, 0)), accuracy: 1e-5)
    let flat = RotaryTables(length: prefix + 25, headDim: d)
    XCTAssertGreaterThan(
      abs(score(flat, q, k, cell(5, 0, 0), cell(5, 1, 0)) - score(flat, q, k, cell(5, 1, 0), cell(5, 1, 1))), 1e-3)
  }
}

final class AttentionLongSequenceTests: XCTestCase {
  /// The backward at lengths beyond the GEMM blocks (gradcheck elsewhere uses L ≤ 8): directional
  /// derivatives of Σ out·R along random directions against central differences of the forward.
  func testBackwardMatchesDirectionalDifferencesAtLength97() {
    var rng = SplitMix64(seed: 9)
    let (batch, L, heads, d) = (2, 97, 2, 16)
    let D = heads * d
    for rotary in [nil, RotaryTables(length: L, headDim: d, grid: (8, 1)), RotaryTables(length: L, headDim: d)] {
      let qkv = (0..<batch * L * 3 * D).map { _ in Float(rng.nextDouble() * 2 - 1) }
      let R = (0..<batch * L * D).map { _ in Float(rng.nextDouble() * 2 - 1) }
      func loss(_ x: [Float]) -> Double {
        var out = [Float](repeating: 0, count: batch * L * D),
          probs = [Float](repeating: 0, count: batch * heads * L * L)
        attentionForward(
          qkv: x, out: &out, probs: &probs, batch: batch, length: L, heads: heads, headDim: d, rotary: rotary,
          threads: 2)
        return zip(out, R).reduce(0) { $0 + Double($1.0) * Double($1.1) }
      }
      var out = [Float](repeating: 0, count: batch * L * D), probs = [Float](repeating: 0, count: batch * heads * L * L)
      attentionForward(
        qkv: qkv, out: &out, probs: &probs, batch: batch, length: L, heads: heads, headDim: d, rotary: rotary,
        threads: 2)
      var grad = [Float](repeating: 0, count: qkv.count)
      attentionBackward(
        qkv: qkv, probs: probs, dout: R, dqkv: &grad, batch: batch, length: L, heads: heads, headDim: d, rotary: rotary,
        threads: 2)
      for part in 0..<3 {  // directions confined to q, to k, to v
        var v = [Float](repeating: 0, count: qkv.count)
        for i in v.indices where (i % (3 * D)) / D == part { v[i] = Float(rng.nextDouble() * 2 - 1) }
        let eps: Float = 1e-2
        let fd = (loss(zip(qkv, v).map { $0 + eps * $1 }) - loss(zip(qkv, v).map { $0 - eps * $1 })) / Double(2 * eps)
        let an = zip(grad, v).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        XCTAssertEqual(
          an, fd, accuracy: 2e-2 * max(1, abs(fd)), "part \(part) rotary \(rotary == nil ? "none" : "set")")
      }
    }
  }
}
