import TRMKernels
import TRMTensor
import TRMTestSupport
import XCTest

final class GraphSemanticsTests: XCTestCase {
  func testInferenceModeRecordsNothingAndGivesNoGradient() {
    let w = Parameter(name: "w", value: randomTensor([3, 3], seed: 1))
    let x = randomTensor([2, 3], seed: 2)
    // Computed without recording, then used as an input of a recorded computation.
    let inf = Graph(recording: false)
    let hidden = inf.linear(inf.constant(x), inf.param(w))
    XCTAssertEqual(inf.recordedCount, 0)
    XCTAssertFalse(hidden.requiresGrad)
    let g = Graph(recording: true)
    let out = g.sum(g.linear(g.constant(hidden.value), g.param(w)))
    w.zeroGrad()
    g.backward(out)
    // Gradient of sum(h Wᵀ) w.r.t. W with h constant is column sums of h per output row.
    var expected = [Float](repeating: 0, count: 9)
    for n in 0..<3 { for k in 0..<3 { expected[n * 3 + k] = hidden.value[flat: k] + hidden.value[flat: 3 + k] } }
    let got = w.grad.scalars
    for i in 0..<9 { XCTAssertEqual(got[i], expected[i], accuracy: 1e-5) }
  }

  func testFusedLinearSwiGLUMatchesTheTwoOpsAndRecordsThemWhenTraining() {
    let w = Parameter(name: "w", value: randomTensor([2 * 19, 23], seed: 5))
    let x = randomTensor([3, 7, 23], seed: 6)
    let plain = Graph(recording: false)
    let want = plain.swiglu(plain.linear(plain.constant(x), plain.param(w))).value
    let fused = Graph(recording: false).linearSwiGLU(Graph(recording: false).constant(x), plain.param(w)).value
    XCTAssertEqual(fused.shape, [3, 7, 19])
    XCTAssertLessThan(maxRelativeDifference(fused.scalars, want.scalars).error, 1e-5)
    // Recording with a trainable weight: one node (the row-epilogue GEMM), and the gradient flows.
    let g = Graph(recording: true)
    let y = g.linearSwiGLU(g.constant(x), g.param(w))
    XCTAssertEqual(g.recordedCount, 2, "param and linearSwiGLU nodes")
    XCTAssertLessThan(maxRelativeDifference(y.value.scalars, want.scalars).error, 1e-5)
    w.zeroGrad()
    g.backward(g.sum(y))
    XCTAssertGreaterThan(w.grad.scalars.map(abs).max()!, 0)
  }

  /// While training, linearSwiGLU is one op with a row epilogue (K within one k block, N within
  /// `GemmBlocking.rowEpilogueMaxColumns`) or the product and a separate pass (longer K, wider
  /// N); either way its output and both gradients are the bits of swiglu(linear(x, w)) recorded
  /// as two ops.
  func testRecordedLinearSwiGLUGivesTheBitsOfTheTwoOps() {
    for (k, n) in [(23, 74), (GemmBlocking.kc + 9, 74), (19, GemmBlocking.rowEpilogueMaxColumns + 2)] {
      let w = Parameter(name: "w", value: randomTensor([n, k], seed: 15))
      let xp = Parameter(name: "x", value: randomTensor([2, 211, k], seed: 16))
      let seed = randomTensor([2, 211, n / 2], seed: 17)
      func run(fused: Bool) -> (y: [Float], dx: [Float], dw: [Float]) {
        w.zeroGrad()
        xp.zeroGrad()
        let g = Graph(recording: true)
        let x = g.param(xp), wv = g.param(w)
        let y = fused ? g.linearSwiGLU(x, wv) : g.swiglu(g.linear(x, wv))
        g.backward(y, seed: seed)
        return (y.value.scalars, xp.grad.scalars, w.grad.scalars)
      }
      let a = run(fused: true), b = run(fused: false)
      XCTAssertTrue(a.y == b.y, "k=\(k) n=\(n): outputs differ")
      XCTAssertTrue(a.dx == b.dx, "k=\(k) n=\(n): input gradients differ")
      XCTAssertTrue(a.dw == b.dw, "k=\(k) n=\(n): weight gradients differ")
    }
  }

  /// A graph that owns its parameter gradients leaves `Parameter.grad` alone and keeps exactly
  /// what it would have added there — also for a parameter used twice (two leaves, summed).
  func testAGraphThatOwnsItsParameterGradientsKeepsThemApart() {
    let w = Parameter(name: "w", value: randomTensor([5, 3], seed: 7))
    let unused = Parameter(name: "u", value: randomTensor([2], seed: 8))
    let x = randomTensor([4, 3], seed: 9)
    func loss(_ g: Graph) -> Var {
      let h = g.linear(g.constant(x), g.param(w))
      return g.sum(g.mul(h, g.linear(g.constant(x), g.param(w))))
    }
    w.zeroGrad()
    let shared = Graph(recording: true)
    shared.backward(loss(shared))
    let want = w.grad.scalars
    w.zeroGrad()
    let owning = Graph(recording: true, ownsParameterGradients: true)
    owning.backward(loss(owning))
    XCTAssertEqual(w.grad.scalars, [Float](repeating: 0, count: 15), "Parameter.grad untouched")
    XCTAssertEqual(owning.parameterGradient(w)?.scalars, want)
    XCTAssertNil(owning.parameterGradient(unused))
    XCTAssertGreaterThan(want.map(abs).max()!, 0)
  }

  func testDetachCutsTheGradientPath() {
    let w = Parameter(name: "w", value: randomTensor([4], seed: 3))
    let g = Graph(recording: true)
    let a = g.param(w)
    let twice = g.add(a, g.detach(a))  // d/dw = 1 (not 2) because the second path is detached
    w.zeroGrad()
    g.backward(g.sum(twice))
    XCTAssertEqual(w.grad.scalars, [1, 1, 1, 1])
    // Without detach the gradient is 2: the test above would fail if detach leaked.
    let g2 = Graph(recording: true)
    let b = g2.param(w)
    w.zeroGrad()
    g2.backward(g2.sum(g2.add(b, b)))
    XCTAssertEqual(w.grad.scalars, [2, 2, 2, 2])
  }

  func testGradientsAccumulateAcrossBackwardPasses() {
    let w = Parameter(name: "w", value: Tensor([1, 2], shape: [2]))
    w.zeroGrad()
    for _ in 0..<3 {
      let g = Graph(recording: true)
      g.backward(g.sum(g.scale(g.param(w), 2)))
    }
    XCTAssertEqual(w.grad.scalars, [6, 6])
  }

  func testRepeatedStepsReuseBuffersFromThePool() {
    let pool = BufferPool()
    let w = Parameter(name: "w", value: randomTensor([16, 16], seed: 4))
    let x = randomTensor([32, 16], seed: 5)
    var owned: [Int] = []
    for _ in 0..<5 {
      let g = Graph(recording: true, pool: pool)
      let y = g.rmsNorm(g.linear(g.constant(x), g.param(w)))
      g.backward(g.sum(y))
      owned.append(pool.floatsOwned)
    }
    XCTAssertGreaterThan(owned[0], 0)
    XCTAssertEqual(owned[1], owned[4], "pool grew across identical steps: \(owned)")
  }

  /// Tensor memory starts on a cache line, pooled or not, small or large (the allocator's own
  /// large blocks start 16 bytes past a page boundary, which made every 16-float GEMM load and
  /// store of a row straddle two lines).
  func testTensorMemoryStartsOnACacheLine() {
    let pool = BufferPool()
    for count in [1, 3, 17, 1000, 300_000] {
      for p in [nil, pool] {
        let t = Tensor(repeating: 1, shape: [count], pool: p)
        XCTAssertEqual(Int(bitPattern: t.storage.pointer) % 64, 0, "\(count) floats, pooled: \(p != nil)")
      }
    }
    let g = Graph(recording: true, pool: pool)
    let y = g.linear(g.constant(randomTensor([37, 19], seed: 6)), g.constant(randomTensor([23, 19], seed: 7)))
    XCTAssertEqual(Int(bitPattern: y.value.storage.pointer) % 64, 0)
  }
}
