import TRMKernels
import TRMTensor
import TRMTestSupport
import XCTest

/// Finite-difference checks of every differentiable op in Ops.swift, plus a composite network.
final class GradientTests: XCTestCase {
  func param(_ name: String, _ shape: [Int], seed: UInt64, scale: Float = 1) -> Parameter {
    Parameter(name: name, value: randomTensor(shape, seed: seed, scale: scale))
  }

  func assertGrad(
    _ params: [Parameter], step: Float = 1e-2, file: StaticString = #filePath, line: UInt = #line, _ f: (Graph) -> Var
  ) {
    let r = gradCheck(params, step: step, f)
    XCTAssertTrue(r.passed, r.description, file: file, line: line)
    XCTAssertGreaterThan(r.checked, 0, file: file, line: line)
  }

  func testLinear() {
    let x = param("x", [2, 3, 5], seed: 1), w = param("w", [4, 5], seed: 2)
    assertGrad([x, w]) { g in g.linear(g.param(x), g.param(w)) }
  }

  func testAddSameShapeAndBroadcast() {
    let a = param("a", [3, 4, 5], seed: 3), b = param("b", [3, 4, 5], seed: 4), c = param("c", [5], seed: 5)
    assertGrad([a, b]) { g in g.add(g.param(a), g.param(b)) }
    assertGrad([a, c]) { g in g.add(g.param(a), g.param(c)) }
  }

  func testMulAndScale() {
    let a = param("a", [3, 7], seed: 6), b = param("b", [3, 7], seed: 7)
    assertGrad([a, b]) { g in g.mul(g.param(a), g.param(b)) }
    assertGrad([a]) { g in g.scale(g.param(a), -2.5) }
  }

  func testSiLUAndSwiGLU() {
    let a = param("a", [3, 19], seed: 8, scale: 3), gu = param("gu", [2, 3, 34], seed: 9, scale: 3)
    assertGrad([a], step: 1e-3) { g in g.silu(g.param(a)) }
    assertGrad([gu], step: 1e-3) { g in g.swiglu(g.param(gu)) }
  }

  func testLinearSwiGLU() {
    let x = param("x", [2, 5, 13], seed: 30), w = param("w", [2 * 7, 13], seed: 31)
    assertGrad([x, w], step: 1e-3) { g in g.linearSwiGLU(g.param(x), g.param(w)) }
  }

  func testRMSNorm() {
    let a = param("a", [4, 17], seed: 10)
    assertGrad([a], step: 1e-3) { g in g.rmsNorm(g.param(a)) }
  }

  func testFusedAddRMSNorm() {
    let a = param("a", [2, 3, 17], seed: 30), b = param("b", [2, 3, 17], seed: 31)
    assertGrad([a, b], step: 1e-3) { g in g.addRMSNorm(g.param(a), g.param(b)) }
    // Same gradient through the same input twice (both paths accumulate into one buffer).
    assertGrad([a], step: 1e-3) { g in g.addRMSNorm(g.param(a), g.param(a)) }
  }

  func testGradientsAddUpWhenOneValueFeedsSeveralOps() {
    // Ops whose backward stores into a value's gradient when it is the first to reach it and adds
    // afterwards (`Graph.gradTarget`): one Var used twice, by the same op and by different ops.
    let a = param("a", [2, 3, 6], seed: 32), w = param("w", [4, 6], seed: 33), gu = param("gu", [3, 8], seed: 34)
    assertGrad([a], step: 1e-3) { g in
      let p = g.param(a)
      return g.addRMSNorm(p, p)
    }
    assertGrad([a, w], step: 1e-3) { g in
      let x = g.param(a), wp = g.param(w)
      return g.add(g.linear(x, wp), g.linear(g.transposeLast2(g.transposeLast2(x)), wp))
    }
    assertGrad([gu], step: 1e-3) { g in
      let p = g.param(gu)
      return g.add(g.swiglu(p), g.rmsNorm(g.add(g.swiglu(p), g.swiglu(p))))
    }
  }

  func testTransposeReshapeConcatSlice() {
    let a = param("a", [2, 3, 5], seed: 11), b = param("b", [2, 4, 5], seed: 12)
    assertGrad([a]) { g in g.transposeLast2(g.param(a)) }
    assertGrad([a]) { g in g.reshape(g.param(a), [6, 5]) }
    assertGrad([a, b]) { g in g.concat(g.param(a), g.param(b)) }
    assertGrad([b]) { g in g.slice(g.param(b), axis1: 1..<3) }
  }

  func testEmbeddingIncludingRepeatedIds() {
    let table = param("table", [6, 4], seed: 13)
    assertGrad([table]) { g in g.embedding([0, 5, 5, 2, 0, 1], shape: [2, 3], table: g.param(table)) }
  }

  func testAttentionWithAndWithoutRotary() {
    let qkv = param("qkv", [2, 5, 3 * 2 * 4], seed: 14)
    let rot = RotaryTables(length: 5, headDim: 4)
    assertGrad([qkv], step: 1e-3) { g in g.attention(g.param(qkv), heads: 2, rotary: rot) }
    assertGrad([qkv], step: 1e-3) { g in g.attention(g.param(qkv), heads: 2, rotary: nil) }
  }

  func testConv3x3OnOddGrids() {
    // 3×5 and 1×4 grids: every border case (corners, single row) and channels not a SIMD multiple.
    let x = param("x", [2, 15, 3], seed: 40), w = param("w", [3, 27], seed: 41, scale: 0.5)
    assertGrad([x, w]) { g in g.conv3x3(g.param(x), g.param(w), height: 3, width: 5) }
    let x1 = param("x1", [1, 4, 2], seed: 42), w1 = param("w1", [2, 18], seed: 43)
    assertGrad([x1, w1]) { g in g.conv3x3(g.param(x1), g.param(w1), height: 1, width: 4) }
  }

  func testDepthwise3x3OnOddGrids() {
    let x = param("x", [2, 15, 5], seed: 45), w = param("w", [9, 5], seed: 46)
    assertGrad([x, w]) { g in g.depthwise3x3(g.param(x), g.param(w), height: 5, width: 3) }
    let x1 = param("x1", [1, 3, 17], seed: 47), w1 = param("w1", [9, 17], seed: 48)
    assertGrad([x1, w1]) { g in g.depthwise3x3(g.param(x1), g.param(w1), height: 3, width: 1) }
  }

  func testMeanAxis1() {
    let a = param("a", [2, 5, 3], seed: 44)
    assertGrad([a]) { g in g.meanAxis1(g.param(a)) }
  }

  func testCrossEntropySoftmaxAndStablemaxWithIgnore() {
    let logits = param("logits", [2, 3, 5], seed: 15, scale: 2)
    let labels: [Int32] = [1, -100, 4, 0, 2, -100]
    for kind in CrossEntropyKind.allCases {
      assertGrad([logits], step: 1e-3) { g in g.crossEntropy(g.param(logits), labels: labels, kind: kind) }
    }
  }

  func testBCEWithLogitsSumMean() {
    let x = param("x", [6], seed: 16, scale: 4)
    assertGrad([x], step: 1e-3) { g in g.bceWithLogits(g.param(x), targets: [0, 1, 1, 0, 1, 0]) }
    assertGrad([x]) { g in g.sum(g.param(x)) }
    assertGrad([x]) { g in g.mean(g.param(x)) }
  }

  func testBCEAgainstHandComputedValues() {
    let g = Graph(recording: false)
    let y = g.bceWithLogits(g.constant(Tensor([0, 2, -3], shape: [3])), targets: [1, 0, 1]).value.scalars
    XCTAssertEqual(y[0], 0.6931471806, accuracy: 1e-6)  // log 2
    XCTAssertEqual(y[1], 2.1269280110, accuracy: 1e-6)  // 2 + log(1 + e^-2)
    XCTAssertEqual(y[2], 3.0485873516, accuracy: 1e-6)  // 3 + log(1 + e^-3)
  }

  /// Two post-norm blocks (attention mixer, SwiGLU MLP) with shared input reuse, end to end.
  func testCompositeTwoBlockNetwork() {
    let B = 2, L = 5, D = 8, V = 4
    let emb = param("emb", [V, D], seed: 20)
    var ws: [Parameter] = []
    for i in 0..<2 {
      ws.append(param("qkv\(i)", [3 * D, D], seed: 21 + UInt64(i), scale: 0.4))
      ws.append(param("o\(i)", [D, D], seed: 31 + UInt64(i), scale: 0.4))
      ws.append(param("gu\(i)", [2 * 12, D], seed: 41 + UInt64(i), scale: 0.4))
      ws.append(param("down\(i)", [D, 12], seed: 51 + UInt64(i), scale: 0.4))
    }
    let head = param("head", [V, D], seed: 60)
    let rot = RotaryTables(length: L, headDim: 4)
    let ids: [Int32] = [0, 1, 2, 3, 1, 2, 2, 0, 3, 1]
    let labels: [Int32] = [1, 2, 3, 0, -100, 2, 0, 1, 1, 3]
    let r = gradCheck([emb, head] + ws, step: 1e-3, atol: 2e-3, maxEntries: 12) { g in
      var h = g.embedding(ids, shape: [B, L], table: g.param(emb))
      let x = h
      for i in 0..<2 {
        h = g.add(h, x)
        let a = g.attention(g.linear(h, g.param(ws[4 * i])), heads: 2, rotary: rot)
        h = g.rmsNorm(g.add(h, g.linear(a, g.param(ws[4 * i + 1]))))
        let m = g.linear(g.swiglu(g.linear(h, g.param(ws[4 * i + 2]))), g.param(ws[4 * i + 3]))
        h = g.rmsNorm(g.add(h, m))
      }
      return g.crossEntropy(g.linear(h, g.param(head)), labels: labels, kind: .stablemax)
    }
    XCTAssertTrue(r.passed, r.description)
  }
}
