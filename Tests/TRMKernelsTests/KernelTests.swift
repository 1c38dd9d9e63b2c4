import TRMKernels
import TRMTestSupport
import XCTest

final class KernelTests: XCTestCase {
  func testGemmMatchesReferenceOnOddShapesForEveryISAAndLayout() {
    let sizes = [1, 3, 17, 63, 129]
    for isa in KernelISA.supported {
      for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
        for (m, n, k) in [(1, 1, 1), (3, 17, 63), (129, 63, 17), (17, 129, 300), (63, 3, 129), (200, 530, 260)] {
          let a = randomTensor([m * k], seed: 1).scalars, b = randomTensor([k * n], seed: 2).scalars
          for accumulate in [false, true] {
            var c1 = randomTensor([m * n], seed: 3).scalars, c2 = c1
            gemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, a: a, lda: ta ? m : k, b: b, ldb: tb ? k : n,
                 accumulate: accumulate, c: &c1, ldc: n, threads: 2, isa: isa)
            gemmReference(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, a: a, lda: ta ? m : k, b: b, ldb: tb ? k : n,
                          accumulate: accumulate, c: &c2, ldc: n)
            let (err, at) = maxRelativeDifference(c1, c2)
            XCTAssertLessThan(err, 1e-4, "\(isa) ta=\(ta) tb=\(tb) \(m)x\(n)x\(k) acc=\(accumulate) at \(at)")
          }
        }
      }
    }
    _ = sizes
  }

  func testGemmIsBitIdenticalAcrossThreadCounts() {
    let (m, n, k) = (517, 1100, 300)
    let a = randomTensor([m * k], seed: 4).scalars, b = randomTensor([k * n], seed: 5).scalars
    var c1 = [Float](repeating: 0, count: m * n), c2 = c1, c3 = c1
    gemm(transA: false, transB: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, accumulate: false, c: &c1, ldc: n, threads: 1)
    gemm(transA: false, transB: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, accumulate: false, c: &c2, ldc: n, threads: 2)
    gemm(transA: false, transB: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, accumulate: false, c: &c3, ldc: n, threads: 3)
    XCTAssertEqual(c1, c2)
    XCTAssertEqual(c1, c3)
  }

  func testGemmWithStridedOperandsAndZeroK() {
    // Leading dimensions larger than the logical width (as attention uses on qkv).
    let (m, n, k, lda, ldb, ldc) = (5, 7, 9, 20, 11, 13)
    let a = randomTensor([m * lda], seed: 6).scalars, b = randomTensor([k * ldb], seed: 7).scalars
    var c1 = [Float](repeating: 2, count: m * ldc), c2 = c1
    gemm(transA: false, transB: false, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, accumulate: false, c: &c1, ldc: ldc)
    gemmReference(transA: false, transB: false, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, accumulate: false, c: &c2, ldc: ldc)
    XCTAssertLessThan(maxRelativeDifference(c1, c2).error, 1e-5)
    XCTAssertEqual(c1[n], 2, "padding columns beyond n must be untouched")
    var c3 = [Float](repeating: 3, count: 4)
    gemm(transA: false, transB: false, m: 2, n: 2, k: 0, a: a, lda: 1, b: b, ldb: 2, accumulate: false, c: &c3, ldc: 2)
    XCTAssertEqual(c3, [0, 0, 0, 0])
  }

  func testRowKernelsMatchReferencesAndThreadCounts() {
    let failures = verifyRowKernels()
    XCTAssertTrue(failures.isEmpty, failures.joined(separator: "\n"))
  }

  func testStablemaxCrossEntropyAgainstHandComputedValues() {
    // logits (1, -1, 0), label 0: s = (2, 0.5, 1), p0 = 2/3.5, loss = -log(2/3.5) = 0.5596157879
    let logits: [Float] = [1, -1, 0]
    var probs = [Float](repeating: 0, count: 3), loss: [Float] = [0]
    crossEntropyForward(logits, labels: [0], rows: 1, vocab: 3, kind: .stablemax, ignore: -100, probs: &probs, losses: &loss)
    XCTAssertEqual(loss[0], 0.5596157879, accuracy: 1e-6)
    crossEntropyForward(logits, labels: [0], rows: 1, vocab: 3, kind: .softmax, ignore: -100, probs: &probs, losses: &loss)
    // softmax: -log(e / (e + e^-1 + 1)) = 0.4076059644
    XCTAssertEqual(loss[0], 0.4076059644, accuracy: 1e-6)
    crossEntropyForward(logits, labels: [-100], rows: 1, vocab: 3, kind: .stablemax, ignore: -100, probs: &probs, losses: &loss)
    XCTAssertEqual(loss[0], 0)
  }
}
