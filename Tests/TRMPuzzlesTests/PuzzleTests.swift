import Foundation
import TRMPuzzles
import TRMRandom
import XCTest

final class SudokuTests: XCTestCase {
  func testGeneratedPuzzlesHaveUniqueSolutionsAndVerify() {
    for (size, givens) in [(4, 6), (6, 14), (9, 30)] {
      var rng = SplitMix64(seed: UInt64(size))
      for _ in 0..<(size == 9 ? 3 : 10) {
        let s = Sudoku.generate(size: size, givens: givens, rng: &rng)
        XCTAssertEqual(s.countSolutions(limit: 2), 1)
        XCTAssertNil(s.verify(s.solution!))
        XCTAssertEqual(s.solved(), s.solution)
        XCTAssertLessThanOrEqual(s.givens.filter { $0 != 0 }.count, max(givens, size == 9 ? 40 : givens + 4))
      }
    }
  }

  func testRoundTripAndTokens() throws {
    let line = "1.3.....2......1,1234341221434321"
    let s = try Sudoku(line: line)
    XCTAssertEqual(s.line, line)
    XCTAssertEqual(try Sudoku(line: s.line), s)
    XCTAssertEqual(s.inputTokens.prefix(3), [2, 1, 4])
    XCTAssertEqual(s.decode(s.targetTokens!), s.solution)
    XCTAssertEqual(try Sudoku(line: "1030000020000001").givens[1], 0, "0 is a blank too")
  }

  func testVerifierRejectsEachKindOfInvalidAnswer() throws {
    let s = try Sudoku(line: "1.3.....2......1,1234341221434321")
    XCTAssertNil(s.verify(s.solution!))
    var changedGiven = s.solution!
    changedGiven[0] = 2; changedGiven[1] = 1
    XCTAssertNotNil(s.verify(changedGiven))
    var rowDup = s.solution!
    rowDup.swapAt(1, 3)  // keeps givens? cell 1 is blank, cell 3 blank: swap breaks columns
    XCTAssertNotNil(s.verify(rowDup))
    XCTAssertNotNil(s.verify(Array(s.solution!.dropLast())))
    var zero = s.solution!
    zero[5] = 0
    XCTAssertNotNil(s.verify(zero))
  }

  func testMalformedLinesGiveReasons() {
    XCTAssertThrowsError(try Sudoku(line: "123")) { XCTAssertTrue("\($0)".contains("3 characters")) }
    XCTAssertThrowsError(try Sudoku(line: "1.3.....2.....1x")) { XCTAssertTrue("\($0)".contains("'x'")) }
    XCTAssertThrowsError(try Sudoku(line: "11..............")) { XCTAssertTrue("\($0)".contains("repeats")) }
    XCTAssertThrowsError(try Sudoku(line: "1.3.....2......1,1234341221434312")) { XCTAssertTrue("\($0)".contains("inconsistent")) }
  }

  func testAugmentationsStayValid() {
    var rng = SplitMix64(seed: 5)
    for size in [4, 6, 9] {
      let s = Sudoku.generate(size: size, givens: size == 9 ? 36 : size * 2, rng: &rng)
      for _ in 0..<20 {
        let a = s.augmented(rng: &rng)
        XCTAssertNil(a.verify(a.solution!))
        XCTAssertEqual(a.countSolutions(limit: 2), 1)
        XCTAssertEqual(a.givens.filter { $0 != 0 }.count, s.givens.filter { $0 != 0 }.count)
      }
    }
  }
}

final class MazeTests: XCTestCase {
  func testGeneratedMazesHaveShortestPathLabelsAndLoops() {
    var rng = SplitMix64(seed: 1)
    for side in [7, 15, 31] {
      let m = Maze.generate(side: side, loops: 0.2, minPathLength: side, rng: &rng)
      XCTAssertNil(m.verify(m.solution!))
      XCTAssertGreaterThanOrEqual(m.shortestPathLength()!, side)
      XCTAssertEqual(m.solution!.filter { $0 == .path }.count, m.shortestPathLength()! - 1)
    }
  }

  func testGeneratedLabelsAreTheOnlyShortestPath() throws {
    // The open 3×3 room has several shortest paths: counted, and a generator would reject it.
    XCTAssertEqual(try Maze(line: "######S..##...##..G######").shortestPathCount(cap: 100), 6)
    var rng = SplitMix64(seed: 3)
    var sawLoop = false
    for _ in 0..<40 {
      let loopy = Maze.generate(side: 9, loops: 0.4, minPathLength: 6, rng: &rng)
      XCTAssertEqual(loopy.shortestPathCount(cap: 100), 1, loopy.line)
      // A loop: more open cells than a tree on the rooms needs (rooms + rooms − 1 corridors).
      if loopy.cells.filter({ $0 != .wall }).count > 16 + 15 { sawLoop = true }
      let perfect = Maze.generate(side: 9, loops: 0, minPathLength: 1, rng: &rng)
      XCTAssertEqual(perfect.cells.filter { $0 != .wall }.count, 16 + 15, "a perfect maze is a tree on its 4×4 rooms")
      XCTAssertEqual(perfect.shortestPathCount(cap: 100), 1)
    }
    XCTAssertTrue(sawLoop)
    // Settings where no far pair has a unique path (every inner wall removed) still end, with
    // the farthest unique pair instead of a hang.
    let open = Maze.generate(side: 9, loops: 1, minPathLength: 60, rng: &rng)
    XCTAssertEqual(open.shortestPathCount(cap: 100), 1)
    XCTAssertNil(open.verify(open.solution!))
  }

  func testDecodeTakesWallsStartAndGoalFromTheMaze() throws {
    let m = try Maze(line: "######S..##.#.##..G######")
    let allPath = [Int32](repeating: Maze.Cell.path.rawValue, count: m.cells.count)
    let a = m.decode(allPath)
    XCTAssertEqual(a.indices.filter { a[$0] == .path }, m.cells.indices.filter { m.cells[$0] == .open })
    XCTAssertEqual(a.indices.filter { a[$0] != .path }.map { a[$0] }, m.cells.filter { $0 != .open })
    let targets = m.labelled().openCellTargets(ignore: -100)!
    XCTAssertEqual(targets.indices.filter { targets[$0] != -100 }, m.cells.indices.filter { m.cells[$0] == .open })
  }

  func testVerifierAcceptsAnyShortestPathAndRejectsBadOnes() throws {
    // Open 3x3 room inside walls: S top-left, G bottom-right, several shortest paths.
    let maze = "######S..##...##..G######"
    let m = try Maze(line: maze)
    XCTAssertEqual(m.shortestPathLength(), 4)
    let viaTop = try Maze(line: maze + ",######Soo##..o##..G######")
    let viaLeft = try Maze(line: maze + ",######S..##o..##ooG######")
    XCTAssertNil(m.verify(viaTop.solution!))
    XCTAssertNil(m.verify(viaLeft.solution!))
    func cells(_ t: String) -> [Maze.Cell] {
      t.map { ["#": .wall, ".": .open, "S": .start, "G": .goal, "o": .path][$0]! }
    }
    XCTAssertNotNil(m.verify(cells("######So.##oo.##.oG######")), "a longer path")
    XCTAssertNotNil(m.verify(cells("######S.o##.o.##o.G######")), "right count, not connected")
    var throughWall = viaTop.solution!
    throughWall[0] = .path
    XCTAssertNotNil(m.verify(throughWall))
    XCTAssertThrowsError(try Maze(line: maze + ",######S.o##.o.##.oG######")) { XCTAssertTrue("\($0)".contains("connect") || "\($0)".contains("shortest")) }
  }

  func testMalformedMazes() {
    XCTAssertThrowsError(try Maze(line: "#####")) { XCTAssertTrue("\($0)".contains("square")) }
    XCTAssertThrowsError(try Maze(line: "S..G,S..G")) { XCTAssertTrue("\($0)".contains("shortest")) }
    XCTAssertThrowsError(try Maze(line: "S#.#..#.G")) { XCTAssertTrue("\($0)".contains("no path")) }
    XCTAssertThrowsError(try Maze(line: "S..x")) { XCTAssertTrue("\($0)".contains("'x'")) }
    XCTAssertThrowsError(try Maze(line: "S...")) { XCTAssertTrue("\($0)".contains("one S and one G")) }
  }

  func testDihedralSymmetriesStayValidAndAreDistinct() {
    var rng = SplitMix64(seed: 2)
    let m = Maze.generate(side: 9, loops: 0.2, minPathLength: 8, rng: &rng)
    var seen = Set<String>()
    for k in 0..<8 {
      let a = m.dihedral(k)
      XCTAssertNil(a.verify(a.solution!), "symmetry \(k)")
      XCTAssertEqual(a.shortestPathLength(), m.shortestPathLength())
      seen.insert(a.inputText)
    }
    XCTAssertEqual(seen.count, 8)
  }
}

final class ArithmeticTests: XCTestCase {
  func testParseVerifyEncodeDecode() throws {
    let a = try Arithmetic(line: "95+7=102")
    XCTAssertNil(a.verify(102))
    XCTAssertNotNil(a.verify(101))
    let tokens = a.inputTokens(digits: 2)!
    XCTAssertEqual(tokens.count, Arithmetic.sequenceLength(op: .add, digits: 2))
    XCTAssertEqual(Array(tokens.prefix(4)), [12, 7, 11, 2])  // '+', 5, 9, 0 (LSB first)
    var answer = tokens
    let target = a.targetTokens(digits: 2)!
    for i in 0..<answer.count where target[i] != -100 { answer[i] = target[i] }
    XCTAssertEqual(Arithmetic.decode(answer, digits: 2, op: .add), 102)
    XCTAssertEqual(try Arithmetic(line: "007*3").a, 7)
    XCTAssertEqual(a.swapped.result, a.result)
    let m = try Arithmetic(line: "123*456")
    XCTAssertEqual(m.result, 56088)
    XCTAssertNil(m.inputTokens(digits: 1), "operand too long for the layout")
  }

  func testMalformedArithmetic() {
    XCTAssertThrowsError(try Arithmetic(line: "12-3")) { XCTAssertTrue("\($0)".contains("operator")) }
    XCTAssertThrowsError(try Arithmetic(line: "1a+3")) { XCTAssertTrue("\($0)".contains("'1a'")) }
    XCTAssertThrowsError(try Arithmetic(line: "1+3=5")) { XCTAssertTrue("\($0)".contains("inconsistent")) }
    XCTAssertThrowsError(try Arithmetic(line: "1+3=4=4")) { _ in }
  }

  func testGeneratedOperandsHaveTheRequestedDigits() {
    var rng = SplitMix64(seed: 3)
    for _ in 0..<50 {
      let x = Arithmetic.generate(op: .multiply, digits: 3, rng: &rng)
      XCTAssert((100...999).contains(x.a) && (100...999).contains(x.b))
      XCTAssertNil(x.verify(x.answer))
    }
  }

  func testGeneratorsSkipHeldOutPuzzlesAndTheirAugmentedVariants() {
    var o = GeneratorOptions()
    o.op = .multiply
    o.digits = 1
    // 1-digit products: asking for more than exist gives every ordered pair. Hold out 3×7
    // written as 7*3: neither order may appear, nothing else goes missing.
    let heldOut = [Puzzle.arithmetic(Arithmetic(a: 7, b: 3, op: .multiply, answer: 21))]
    let all = PuzzleSet.generate(task: .arithmetic, count: 1000, seed: 1, options: o)
    XCTAssertTrue(all.puzzles.contains { $0.inputText == "3*7" } && all.puzzles.contains { $0.inputText == "7*3" })
    let rest = PuzzleSet.generate(task: .arithmetic, count: 1000, seed: 1, options: o, excluding: heldOut)
    XCTAssertEqual(rest.puzzles.count, all.puzzles.count - 2)
    XCTAssertFalse(rest.puzzles.contains { ["3*7", "7*3"].contains($0.inputText) })
    // Mazes: a held-out maze excludes its rotations and mirror images too.
    var m = GeneratorOptions()
    m.mazeSide = 5
    m.mazeMinPath = 1
    let mazes = PuzzleSet.generate(task: .maze, count: 30, seed: 4, options: m)
    guard case .maze(let first) = mazes.puzzles[0] else { return XCTFail("not a maze") }
    let rotated = Puzzle.maze(first.dihedral(5))
    XCTAssertNotEqual(rotated.inputText, mazes.puzzles[0].inputText)
    let others = PuzzleSet.generate(task: .maze, count: 30, seed: 4, options: m, excluding: [rotated])
    XCTAssertFalse(others.puzzles.contains { $0.variantKey == mazes.puzzles[0].variantKey })
    XCTAssertEqual(others.puzzles.first?.inputText, mazes.puzzles[1].inputText)
  }
}

final class PuzzleFileTests: XCTestCase {
  func testErrorsNameFileAndLineAndSkipModeCounts() throws {
    let text = "# a comment\n\n1.3.....2......1,1234341221434321\n1.3.....2......1,12343412\n"
    XCTAssertThrowsError(try PuzzleSet.parse(text, task: nil, source: "f.txt")) { e in
      XCTAssertTrue("\(e)".hasPrefix("f.txt:4:"), "\(e)")
    }
    let set = try PuzzleSet.parse(text, task: nil, source: "f.txt", skipMalformed: true)
    XCTAssertEqual(set.puzzles.count, 1)
    XCTAssertEqual(set.skipped.count, 1)
    XCTAssertEqual(set.task, .sudoku)
  }

  func testCSVLayoutAndMazeLinesStartingWithHash() throws {
    let csv = "source,question,answer,rating\nx,1.3.....2......1,1234341221434321,0\n"
    XCTAssertEqual(try PuzzleSet.parse(csv, task: nil).puzzles.count, 1)
    let mazes = "# header comment\n######S..##...##..G######\n"
    let set = try PuzzleSet.parse(mazes, task: nil)
    XCTAssertEqual(set.task, .maze)
    XCTAssertEqual(set.puzzles.count, 1)
  }

  func testGoldenFirstExamplesForFixedSeeds() {
    var o = GeneratorOptions()
    o.sudokuSize = 4; o.sudokuGivens = 6
    XCTAssertEqual(PuzzleSet.generate(task: .sudoku, count: 1, seed: 42, options: o).puzzles[0].line, GOLDEN_SUDOKU)
    o.mazeSide = 7; o.mazeMinPath = 6
    XCTAssertEqual(PuzzleSet.generate(task: .maze, count: 1, seed: 42, options: o).puzzles[0].line, GOLDEN_MAZE)
    o.digits = 4
    XCTAssertEqual(PuzzleSet.generate(task: .arithmetic, count: 1, seed: 42, options: o).puzzles[0].line, GOLDEN_ADD)
  }

  func testWriteThenLoadRoundTrip() throws {
    let set = PuzzleSet.generate(task: .maze, count: 5, seed: 7)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("mazes-\(UUID().uuidString).txt").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try set.write(path: path, header: "test mazes\nseed 7")
    XCTAssertEqual(try PuzzleSet.load(path: path).puzzles, set.puzzles)
  }

  /// Every line of the real files written by others must load and verify as is.
  func testRealSharedFilesLoadAndVerify() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let dir = root.deletingLastPathComponent().appendingPathComponent("shared/data")
    guard FileManager.default.fileExists(atPath: dir.path) else { throw XCTSkip("../shared/data not present") }
    for (name, count) in [("sudoku9_kaggle_beginner.txt", 1000), ("sudoku9_kaggle_hard.txt", 1000), ("sudoku9_top1465.txt", 1465), ("maze30_hrm_hard_train.txt", 1000)] {
      let set = try PuzzleSet.load(path: dir.appendingPathComponent(name).path)
      XCTAssertEqual(set.puzzles.count, count, name)
      XCTAssertTrue(set.puzzles.allSatisfy { $0.verifyStatedSolution() == nil }, name)
    }
  }
}
