import Foundation
import TinyRecursion
import XCTest

/// Issue 16 regressions that need the library API: a short run's evaluation weights, and answers
/// too long for 64 bits.
final class RobustTrainingTests: XCTestCase {
  var dir: URL!
  override func setUp() {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("trm-robust-api-\(UUID().uuidString)")
  }
  override func tearDown() { try? FileManager.default.removeItem(at: dir) }

  func sudoku4(count: Int, seed: UInt64, excluding: [Puzzle] = []) -> PuzzleSet {
    var o = GeneratorOptions()
    o.sudokuSize = 4
    o.sudokuGivens = 8
    return PuzzleSet.generate(task: .sudoku, count: count, seed: seed, options: o, excluding: excluding)
  }

  /// 100 held-out 4×4 puzzles, 400 training puzzles disjoint from them, and the `tiny` preset for
  /// a short 2-thread run.
  func tinySudokuJob(optimizerSteps: Int) throws -> (heldOut: PuzzleSet, train: PuzzleSet, setup: TrainingSetup) {
    let heldOut = sudoku4(count: 100, seed: 2)
    let train = sudoku4(count: 400, seed: 3, excluding: heldOut.puzzles)
    var setup = try TrainingSetup(puzzles: train, preset: "tiny")
    setup.training.optimizerSteps = optimizerSteps
    setup.training.threads = 2
    return (heldOut, train, setup)
  }

  /// A short run must not read 0% because the evaluation (EMA) weights are still mostly the
  /// initialisation: the bias-corrected EMA scores like the raw weights do.
  func testAShortRunsEvaluationWeightsAreTrainedWeights() throws {
    let (heldOut, train, tiny) = try tinySudokuJob(optimizerSteps: 150)
    var setup = tiny
    setup.training.emaDecay = 0.999  // a long-run decay on a short run: the reference EMA is 86% init here
    let ema = try Reasoner.train(setup, on: train.puzzles).score(heldOut.puzzles)
    setup.training.useEMA = false
    let raw = try Reasoner.train(setup, on: train.puzzles).score(heldOut.puzzles)
    XCTAssertGreaterThan(raw.verifiedAccuracy, 0.2, "the raw weights learned something: \(raw.verifiedAccuracy)")
    XCTAssertGreaterThanOrEqual(
      ema.verifiedAccuracy, 0.5 * raw.verifiedAccuracy,
      "EMA \(ema.verifiedAccuracy) vs raw \(raw.verifiedAccuracy)")
  }

  /// 10-digit factors: valid input, a 20-digit answer layout. A predicted 20-digit answer is a
  /// wrong answer with its digits shown, not an overflow trap; operands beyond the documented
  /// 100 digits are an error naming the line and the limit.
  func testTwentyDigitAnswersAreScoredNotTrapped() throws {
    let set = try PuzzleSet.parse("1234567890*9876543210\n", task: .arithmetic)
    let layout = try TaskLayout.infer(from: set)
    XCTAssertEqual(layout, .arithmetic(op: .multiply, digits: 10))
    var tokens = try layout.inputTokens(set.puzzles[0])
    for i in (tokens.count - 20)..<tokens.count { tokens[i] = 11 }  // twenty 9s
    let (text, verdict) = layout.answer(for: set.puzzles[0], tokens: tokens)
    XCTAssertEqual(text, String(repeating: "9", count: 20))
    XCTAssertTrue(verdict?.contains("12193263111263526900") == true, verdict ?? "accepted")
    let long = String(repeating: "9", count: 100)
    // (10^100 − 1)² = 99…9 8 00…0 1: the longest problem is read and answered exactly.
    let square = String(repeating: "9", count: 99) + "8" + String(repeating: "0", count: 99) + "1"
    let big = try PuzzleSet.parse("\(long)*\(long)=\(square)\n", task: .arithmetic).puzzles[0]
    XCTAssertNil(big.verifyStatedSolution())
    XCTAssertNotNil(big.verify(answerText: square.dropLast() + "2"))
    XCTAssertThrowsError(try PuzzleSet.parse("1+1\n\(long)9+1\n", task: .arithmetic)) {
      let text = "\($0)"
      XCTAssertTrue(text.contains("input:2") && text.contains("101 digits") && text.contains("limit of 100"), text)
    }
  }

  /// Verified test-time search on a weakly trained model: more views never lose a verified
  /// answer, solve more, and a puzzle verified on the first view costs one attempt.
  func testVerifiedSearchSolvesMoreAndStopsAtTheFirstVerifiedAnswer() throws {
    let (heldOut, train, setup) = try tinySudokuJob(optimizerSteps: 60)
    let r = try Reasoner.train(setup, on: train.puzzles)
    let one = try r.solve(heldOut.puzzles, halt: false)
    let eight = try r.solve(heldOut.puzzles, halt: false, attempts: 8)
    for (a, b) in zip(one, eight) {
      if a.isValid { XCTAssertEqual(b.attempts, 1) }
      XCTAssertEqual(b.isValid, b.puzzle.verify(answerText: b.answer) == nil)
      XCTAssertLessThanOrEqual(b.attempts, 8)
    }
    let solvedOne = one.filter(\.isValid).count, solvedEight = eight.filter(\.isValid).count
    XCTAssertLessThan(solvedOne, 100, "a weak model leaves puzzles for the search")
    XCTAssertGreaterThan(solvedEight, solvedOne, "search solved more: \(solvedOne) → \(solvedEight)")
    XCTAssertEqual(
      try r.solve(heldOut.puzzles, halt: false, attempts: 8).map(\.answer), eight.map(\.answer), "deterministic")
  }
}
