import Foundation
import TRMFuzzing
import XCTest

/// The CI slice of `swift run -c release Fuzz` (which runs 1,000,000 lines and 100,000
/// checkpoints): every case returns a value or an error, none crashes, none takes 2 s.
final class FuzzTests: XCTestCase {
  func testFuzzedPuzzleLinesNeverCrashOrHang() {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let corpus = Fuzzer.corpus(root: root)
    XCTAssertGreaterThan(corpus.count, 100)
    let r = Fuzzer.fuzzLines(count: 20_000, seed: 7, corpus: corpus)
    XCTAssertEqual(r.cases, 20_000)
    XCTAssertGreaterThan(r.accepted, 1_000, "mutations still reach the deep paths: \(r)")
    XCTAssertGreaterThan(r.rejected, 1_000, "\(r)")
    XCTAssertLessThan(r.slowest, 2, "\(r)")
  }

  func testFuzzedCheckpointsNeverCrashOrHang() throws {
    let r = try Fuzzer.fuzzCheckpoints(count: 1_500, seed: 7)
    XCTAssertGreaterThan(r.accepted, 20, "some mutations still load and train: \(r)")
    XCTAssertGreaterThan(r.rejected, 500, "\(r)")
    XCTAssertLessThan(r.slowest, 2, "\(r)")
  }
}
