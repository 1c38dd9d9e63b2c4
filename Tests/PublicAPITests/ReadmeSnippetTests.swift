// The README's component example, verbatim: this file compiles it, and the test below checks
// that the README still prints exactly these lines.
import Foundation
import TinyRecursion
import XCTest

// BEGIN README SNIPPET
func readmeExample() throws {
  // Train from Swift: a preset's settings for the task, changed like any struct, with progress.
  let train = try PuzzleSet.load(path: "Puzzles/sudoku4/train.txt")
  var setup = try TrainingSetup(puzzles: train)  // the task's preset, here `sudoku4`
  setup.training.optimizerSteps = 300
  setup.training.threads = 2
  let trained = try Reasoner.train(setup, on: train.puzzles) { m in
    if m.step % 100 == 0 { print("step", m.step, "loss", m.loss) }
  }
  try trained.save(to: URL(fileURLWithPath: "sudoku4.safetensors"))  // loads in Reasoner, `trm eval`, `trm solve`

  // A sudoku checkpoint from `trm train --data Puzzles/sudoku6/train.txt --out runs/s6`.
  let reasoner = try Reasoner(checkpoint: URL(fileURLWithPath: "runs/s6/model.safetensors"))
  let s = try reasoner.solve("451...2......3...1...56.546.1.3....5")  // a 6×6 puzzle line, blanks as "."
  print(s.answer)  // predicted grid, same text format
  print(s.isValid)  // exact verifier (constraints, givens kept), independent of the model
  print(s.supervisionSteps, s.confidence ?? 0)  // supervision steps used, halting probability
  let score = try reasoner.score(try PuzzleSet.load(path: "Puzzles/sudoku6/test.txt").puzzles)
  print(score.exactAccuracy, score.verifiedAccuracy)

  // Think longer without reloading: the recursion budget (n, T, N_sup) is a run-time value.
  reasoner.budget.supervisionSteps = 32
  reasoner.budget.latentSteps = 6

  // One maze checkpoint (`trm train --preset maze …`) solves mazes of any size: same weights,
  // more supervision steps for bigger mazes.
  let mazes = try Reasoner(checkpoint: URL(fileURLWithPath: "runs/maze/model.safetensors"))
  let big = try PuzzleSet.load(path: "Puzzles/maze31/perfect.txt").puzzles
  let solved = try mazes.solve(big, supervisionSteps: 32)
  print(solved.filter(\.isValid).count, "of", big.count, "31×31 mazes solved")
  // Verified search: a maze whose answer is not a shortest S→G path is solved again on another
  // of its 8 symmetric views, up to 16 views (the preset's checkpoint: 90 of 100 at 16 steps).
  let searched = try mazes.solve(big, supervisionSteps: 16, halt: false, attempts: 16)
  print(searched.filter(\.isValid).count, "solved with search")
  let trace = try mazes.trace(big[0], supervisionSteps: 24)  // the answer after every step
  let svg = ThinkingTraceSVG(trace: trace, title: "31×31").svg()
  try svg.write(toFile: "trace.svg", atomically: true, encoding: .utf8)
}
// END README SNIPPET

final class ReadmeSnippetTests: XCTestCase {
  func testTheREADMEPrintsTheCompiledSnippet() throws {
    let here = URL(fileURLWithPath: #filePath)
    let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
    let source = try String(contentsOf: here, encoding: .utf8)
    let begin = source.range(of: "// BEGIN README SNIPPET\n")!, end = source.range(of: "// END README SNIPPET")!
    let snippet = "import Foundation\nimport TinyRecursion\n\n" + source[begin.upperBound..<end.lowerBound]
    XCTAssertTrue(
      readme.contains("```swift\n" + snippet + "```"),
      "README.md's component example differs from \(here.lastPathComponent)")
  }
}
