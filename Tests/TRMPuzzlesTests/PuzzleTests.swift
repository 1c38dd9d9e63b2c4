import Foundation
import TRMPuzzles
import TRMRandom
import XCTest

/// Independent twin of `Sudoku.verify` (written here, not calling the library's rules): every
/// row, column and box holds 1…N once, and the givens are kept.
func independentlySolves(_ s: Sudoku, _ grid: [Int]) -> Bool {
  let n = s.size, (bh, bw) = n == 4 ? (2, 2) : (n == 6 ? (2, 3) : (3, 3))
  guard grid.count == n * n, zip(s.givens, grid).allSatisfy({ $0 == 0 || $0 == $1 }) else { return false }
  let full = Set(1...n)
  for i in 0..<n {
    guard Set((0..<n).map { grid[i * n + $0] }) == full, Set((0..<n).map { grid[$0 * n + i] }) == full else {
      return false
    }
    let r0 = i / (n / bw) * bh, c0 = i % (n / bw) * bw
    guard Set((0..<n).map { grid[(r0 + $0 / bw) * n + c0 + $0 % bw] }) == full else { return false }
  }
  return true
}

/// Independent twin of `Maze.verify` for labels: the marked cells plus S and G form a path of
/// shortest length (breadth-first search written here).
func independentlyShortest(_ m: Maze, _ answer: [Maze.Cell]) -> Bool {
  let n = m.side
  func bfs(_ ok: (Int) -> Bool) -> [Int: Int] {
    let s = m.cells.firstIndex(of: .start)!
    var d = [s: 0], queue = [s], head = 0
    while head < queue.count {
      let c = queue[head]
      head += 1
      for nb in [c - n, c + n, c % n > 0 ? c - 1 : -1, c % n < n - 1 ? c + 1 : -1]
      where nb >= 0 && nb < n * n && ok(nb) && d[nb] == nil {
        d[nb] = d[c]! + 1
        queue.append(nb)
      }
    }
    return d
  }
  let g = m.cells.firstIndex(of: .goal)!
  guard let best = bfs({ m.cells[$0] != .wall })[g] else { return false }
  let marked = answer.indices.filter { answer[$0] == .path }
  guard marked.allSatisfy({ m.cells[$0] == .open }), marked.count == best - 1 else { return false }
  return bfs({ answer[$0] == .path || answer[$0] == .goal })[g] == best
}

final class SudokuTests: XCTestCase {
  func testGeneratedPuzzlesHaveUniqueSolutionsAndVerify() {
    for (size, givens) in [(4, 6), (6, 14), (9, 30)] {
      var rng = SplitMix64(seed: UInt64(size))
      for _ in 0..<(size == 9 ? 3 : 10) {
        let s = Sudoku.generate(size: size, givens: givens, rng: &rng)
        XCTAssertEqual(s.countSolutions(limit: 2), 1)
        XCTAssertTrue(independentlySolves(s, s.solution!))
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

  /// Each rule of the verifier alone: every wrong answer below breaks exactly one rule (the
  /// others hold), so removing that rule from `verify` would make its case pass.
  func testVerifierRejectsEachRuleOnItsOwn() throws {
    let s = try Sudoku(line: "1.3.....2......1,1234341221434321")  // givens r1c1 1, r1c3 3, r3c1 2, r4c4 1
    let good = s.solution!
    XCTAssertNil(s.verify(good))
    XCTAssertTrue(independentlySolves(s, good))
    func expect(_ answer: [Int], in puzzle: Sudoku? = nil, _ fragment: String, line: UInt = #line) {
      let verdict = (puzzle ?? s).verify(answer)
      XCTAssertTrue(
        verdict?.contains(fragment) == true, "expected '\(fragment)', got \(verdict ?? "valid")", line: line)
    }
    expect(Array(good.dropLast()), "15 cells")
    var notDigit = good
    notDigit[5] = 0  // r2c2, not a given
    expect(notDigit, "not a digit")
    // A valid sudoku grid (digits 1 and 2 swapped everywhere) that changes the givens.
    expect(good.map { $0 == 1 ? 2 : ($0 == 2 ? 1 : $0) }, "changes the given")
    // Swap two cells vertically inside one box: columns and boxes still hold 1…4, rows do not.
    var rowOnly = good
    rowOnly.swapAt(1, 5)
    expect(rowOnly, "repeats in row 1")
    // Swap two cells horizontally inside one box: rows and boxes hold, columns do not.
    var columnOnly = good
    columnOnly.swapAt(4, 5)
    expect(columnOnly, "repeats in column 1")
    // A Latin square whose rows and columns hold 1…4 but whose top-left box does not.
    let latin = try Sudoku(line: "1...............")
    expect([1, 2, 3, 4, 2, 3, 4, 1, 3, 4, 1, 2, 4, 1, 2, 3], in: latin, "repeats in box 1")
  }

  func testMalformedLinesGiveReasons() {
    XCTAssertThrowsError(try Sudoku(line: "123")) { XCTAssertTrue("\($0)".contains("3 characters")) }
    XCTAssertThrowsError(try Sudoku(line: "1.3.....2.....1x")) { XCTAssertTrue("\($0)".contains("'x'")) }
    XCTAssertThrowsError(try Sudoku(line: "11..............")) { XCTAssertTrue("\($0)".contains("repeats")) }
    XCTAssertThrowsError(try Sudoku(line: "1.3.....2......1,1234341221434312")) {
      XCTAssertTrue("\($0)".contains("inconsistent"))
    }
  }

  func testAugmentationsStayValid() {
    var rng = SplitMix64(seed: 5)
    for size in [4, 6, 9] {
      let s = Sudoku.generate(size: size, givens: size == 9 ? 36 : size * 2, rng: &rng)
      for _ in 0..<20 {
        let a = s.augmented(rng: &rng)
        XCTAssertTrue(independentlySolves(a, a.solution!))
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
      XCTAssertTrue(independentlyShortest(m, m.solution!))
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
    XCTAssertTrue(independentlyShortest(open, open.solution!))
  }

  /// Maze-Hard-style mazes: random walls anywhere, S and G at least the style's path length
  /// apart, labelled with the canonical shortest path (a valid one, checked independently).
  func testOpenPlanMazesReachTheStylePathLengthWithTheCanonicalLabel() {
    let style = OpenPlanMazeStyle(side: 12, wallDensity: 0.3...0.4, minPathLength: 25)
    var rng = SplitMix64(seed: 7)
    var walls = 0.0, bordersOpen = 0
    for _ in 0..<30 {
      let m = Maze.generateOpenPlan(style, rng: &rng)
      XCTAssertEqual(m.side, 12)
      XCTAssertEqual(m.cells.filter { $0 == .start }.count, 1)
      XCTAssertEqual(m.cells.filter { $0 == .goal }.count, 1)
      XCTAssertGreaterThanOrEqual(m.shortestPathLength() ?? 0, 25, m.line)
      XCTAssertEqual(m.solution, m.labelled().solution)
      XCTAssertTrue(independentlyShortest(m, m.solution!), m.line)
      walls += Double(m.cells.filter { $0 == .wall }.count) / 144 / 30
      if !m.hasWallBorder { bordersOpen += 1 }
    }
    XCTAssertEqual(walls, 0.35, accuracy: 0.05, "mean wall share")
    XCTAssertEqual(bordersOpen, 30, "open-plan mazes have no wall border")
    // Deterministic from the RNG state.
    var a = SplitMix64(seed: 3), b = SplitMix64(seed: 3)
    XCTAssertEqual(Maze.generateOpenPlan(style, rng: &a), Maze.generateOpenPlan(style, rng: &b))
    // A length no maze of the style reaches still ends (the longest pair found).
    let far = Maze.generateOpenPlan(OpenPlanMazeStyle(side: 6, wallDensity: 0.2...0.2, minPathLength: 500), rng: &rng)
    XCTAssertTrue(independentlyShortest(far, far.solution!))
  }

  func testOpenPlanStyleIsInferredFromAFileAndLatticeMazesHaveNone() {
    var rng = SplitMix64(seed: 11)
    let lattice = (0..<5).map { _ in Maze.generate(side: 9, loops: 0.2, minPathLength: 5, rng: &rng) }
    XCTAssertNil(OpenPlanMazeStyle.infer(from: lattice))
    let style = OpenPlanMazeStyle(side: 10, wallDensity: 0.25...0.35, minPathLength: 18)
    let open = (0..<20).map { _ in Maze.generateOpenPlan(style, rng: &rng) }
    let inferred = OpenPlanMazeStyle.infer(from: open)
    XCTAssertEqual(inferred?.side, 10)
    XCTAssertEqual(inferred?.minPathLength, open.compactMap { $0.shortestPathLength() }.min())
    XCTAssertGreaterThanOrEqual(inferred?.minPathLength ?? 0, 18)
    XCTAssertGreaterThan(inferred?.wallDensity.lowerBound ?? 0, 0.1)
    XCTAssertLessThan(inferred?.wallDensity.upperBound ?? 1, 0.5)
    XCTAssertNil(OpenPlanMazeStyle.infer(from: []))
  }

  /// Several shortest paths: the canonical label is one fixed choice, a valid shortest path,
  /// and the same whatever label the file gave.
  func testCanonicalLabelIsAFixedShortestPathWhateverTheFileSays() throws {
    // Open 4×4 room, S top-left, G bottom-right: 20 shortest paths.
    XCTAssertEqual(try Maze(line: "S..............G").shortestPathCount(cap: 100), 20)
    let viaTop = try Maze(line: "S..............G,Sooo...o...o...G")
    let viaLeft = try Maze(line: "S..............G,S...o...o...oooG")
    XCTAssertNotEqual(viaTop.solution, viaLeft.solution)
    XCTAssertEqual(viaTop.labelled().solution, viaLeft.labelled().solution)
    // Maze-Hard's rule: from S, the first of down, left, right, up that gets closer to G.
    XCTAssertEqual(viaTop.labelled().solution, viaLeft.solution)
    let detour = try Maze(line: "S.#..#.........G")
    XCTAssertEqual(detour.labelled().answerText(detour.labelled().solution!), "S.#.o#..o...oooG")
    let canonical = viaTop.labelled()
    XCTAssertTrue(independentlyShortest(canonical, canonical.solution!))
  }

  /// The shortest path nearest to a model's scores: the one the scores favour, always a valid
  /// shortest path, and the answer itself whenever the answer is a shortest path.
  func testNearestShortestPathFollowsTheScoresAndKeepsAValidAnswer() throws {
    let viaTop = try Maze(line: "S..............G,Sooo...o...o...G")
    let viaLeft = try Maze(line: "S..............G,S...o...o...oooG")
    func scores(_ m: Maze) -> [Float] { m.solution!.map { $0 == .path ? 1 : -1 } }
    XCTAssertEqual(viaTop.nearestShortestPath(pathScores: scores(viaLeft))?.solution, viaLeft.solution)
    XCTAssertEqual(viaLeft.nearestShortestPath(pathScores: scores(viaTop))?.solution, viaTop.solution)
    XCTAssertNil(viaTop.nearestShortestPath(pathScores: [1, 2]))
    var rng = SplitMix64(seed: 17)
    let style = OpenPlanMazeStyle(side: 12, wallDensity: 0.2...0.3, minPathLength: 14)
    for _ in 0..<20 {
      let m = Maze.generateOpenPlan(style, rng: &rng)
      // Random scores: still a shortest path.
      let noise = (0..<m.cells.count).map { _ in Float(rng.nextDouble() * 2 - 1) }
      let chosen = try XCTUnwrap(m.nearestShortestPath(pathScores: noise))
      XCTAssertTrue(independentlyShortest(m, chosen.solution!), m.line)
      // An answer that is a shortest path (a random one: random walk back from G along BFS
      // distances) is returned as it is, however the other cells score.
      var answer = m.cells
      let s = m.cells.firstIndex(of: .start)!, g = m.cells.firstIndex(of: .goal)!
      var d = [Int](repeating: -1, count: m.cells.count)
      d[s] = 0
      var queue = [s], head = 0
      while head < queue.count {
        let c = queue[head]
        head += 1
        for nb in [c - 12, c + 12, c % 12 > 0 ? c - 1 : -1, c % 12 < 11 ? c + 1 : -1]
        where nb >= 0 && nb < 144 && m.cells[nb] != .wall && d[nb] < 0 {
          d[nb] = d[c] + 1
          queue.append(nb)
        }
      }
      var i = g
      while d[i] > 1 {
        let back = [i - 12, i + 12, i % 12 > 0 ? i - 1 : -1, i % 12 < 11 ? i + 1 : -1]
          .filter { $0 >= 0 && $0 < 144 && d[$0] == d[i] - 1 }
        i = back[rng.nextInt(below: back.count)]
        answer[i] = .path
      }
      XCTAssertTrue(independentlyShortest(m, answer))
      let own = answer.indices.map { answer[$0] == .path ? Float(1) : Float(-rng.nextDouble()) }
      XCTAssertEqual(m.nearestShortestPath(pathScores: own)?.solution, answer)
    }
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
    // One rule each: a longer (connected) path; the shortest count but not connected; a path
    // mark on a wall; a wall turned open; a short answer.
    XCTAssertTrue(m.verify(cells("######So.##oo.##.oG######"))?.contains("path marks 4 cells") == true, "a longer path")
    XCTAssertTrue(
      m.verify(cells("######S.o##.o.##o.G######"))?.contains("do not connect") == true, "right count, not connected")
    var throughWall = viaTop.solution!
    throughWall[0] = .path
    XCTAssertTrue(m.verify(throughWall)?.contains("is marked o but is not open") == true)
    var wallGone = viaTop.solution!
    wallGone[1] = .open
    XCTAssertTrue(m.verify(wallGone)?.contains("differs from the maze") == true)
    XCTAssertTrue(m.verify(Array(viaTop.solution!.dropLast()))?.contains("24 cells") == true)
    XCTAssertTrue(independentlyShortest(m, viaTop.solution!) && independentlyShortest(m, viaLeft.solution!))
    XCTAssertThrowsError(try Maze(line: maze + ",######S.o##.o.##.oG######")) {
      XCTAssertTrue("\($0)".contains("connect") || "\($0)".contains("shortest"))
    }
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
      XCTAssertTrue(independentlyShortest(a, a.solution!), "symmetry \(k)")
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
    XCTAssertTrue(a.verify(101)?.contains("is 102, not 101") == true)
    XCTAssertTrue(a.verify(nil)?.contains("not a number") == true)
    let tokens = a.inputTokens(digits: 2)!
    XCTAssertEqual(tokens.count, Arithmetic.sequenceLength(op: .add, digits: 2))
    XCTAssertEqual(Array(tokens.prefix(4)), [12, 7, 11, 2])  // '+', 5, 9, 0 (LSB first)
    var answer = tokens
    let target = a.targetTokens(digits: 2)!
    for i in 0..<answer.count where target[i] != -100 { answer[i] = target[i] }
    XCTAssertEqual(Arithmetic.decodeText(answer, digits: 2, op: .add), "102")
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
      XCTAssertEqual(x.answer, LongNumber(UInt64(x.a.description)! * UInt64(x.b.description)!), "multiplied here")
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
    var heard: [Int] = []
    let rest = PuzzleSet.generate(task: .arithmetic, count: 1000, seed: 1, options: o, excluding: heldOut) {
      heard.append($0)
    }
    XCTAssertEqual(rest.puzzles.count, all.puzzles.count - 2)
    XCTAssertEqual(heard, Array(1...rest.puzzles.count), "progress hears each kept puzzle once, in order")
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
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let dir = root.deletingLastPathComponent().appendingPathComponent("shared/data")
    guard FileManager.default.fileExists(atPath: dir.path) else { throw XCTSkip("../shared/data not present") }
    for (name, count) in [
      ("sudoku9_kaggle_beginner.txt", 1000), ("sudoku9_kaggle_hard.txt", 1000), ("sudoku9_top1465.txt", 1465),
      ("maze30_hrm_hard_train.txt", 1000),
    ] {
      let set = try PuzzleSet.load(path: dir.appendingPathComponent(name).path)
      XCTAssertEqual(set.puzzles.count, count, name)
      XCTAssertTrue(set.puzzles.allSatisfy { $0.verifyStatedSolution() == nil }, name)
    }
  }
}

/// Held-out suites are held out: no valid or test puzzle is a training puzzle up to the
/// augmentations training applies (and valid and test are disjoint too).
final class HeldOutSuiteTests: XCTestCase {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Puzzles")

  func testSudokuKeysAreSharedByEveryAugmentedVariantOnly() {
    var rng = SplitMix64(seed: 81)
    for size in [4, 6] {
      let s = Sudoku.generate(size: size, givens: size * 2, rng: &rng)
      for _ in 0..<20 { XCTAssertEqual(s.augmented(rng: &rng).canonicalKey, s.canonicalKey) }
      let other = Sudoku.generate(size: size, givens: size * 2, rng: &rng)
      XCTAssertNotEqual(other.canonicalKey, s.canonicalKey)
    }
  }

  func testNoHeldOutPuzzleIsATrainingPuzzleUpToAugmentation() throws {
    var checked = 0
    for suite in try FileManager.default.contentsOfDirectory(atPath: Self.root.path).sorted() {
      let dir = Self.root.appendingPathComponent(suite)
      let train = dir.appendingPathComponent("train.txt")
      guard FileManager.default.fileExists(atPath: train.path) else { continue }
      var seen = Set(try PuzzleSet.load(path: train.path).puzzles.map(\.variantKey))
      for split in ["valid", "test"] {
        let url = dir.appendingPathComponent("\(split).txt")
        guard FileManager.default.fileExists(atPath: url.path) else { continue }
        let keys = try PuzzleSet.load(path: url.path).puzzles.map(\.variantKey)
        let overlap = keys.filter { seen.contains($0) }.count
        XCTAssertEqual(
          overlap, 0,
          "\(suite)/\(split).txt: \(overlap) of \(keys.count) puzzles are earlier-split puzzles up to augmentation")
        seen.formUnion(keys)
        checked += keys.count
      }
    }
    XCTAssertGreaterThan(checked, 2000)
  }

  /// The 31×31 validation suite (where the step count and attempts for extrapolation are
  /// chosen) shares no maze, up to symmetry, with the 31×31 test suite it is reported on.
  func testExtrapolationValidationMazesAreNotTestMazes() throws {
    let dir = Self.root.appendingPathComponent("maze31")
    let test = Set(try PuzzleSet.load(path: dir.appendingPathComponent("perfect.txt").path).puzzles.map(\.variantKey))
    let valid = try PuzzleSet.load(path: dir.appendingPathComponent("perfect-valid.txt").path).puzzles.map(\.variantKey)
    XCTAssertEqual(valid.count, 100)
    XCTAssertEqual(test.count, 100)
    XCTAssertTrue(valid.allSatisfy { !test.contains($0) })
  }

  /// The arithmetic benchmark suites test only problems from the share reserved for evaluation,
  /// which on-line training never draws, and train only on the rest.
  func testArithmeticHeldOutSuitesAreReservedForEvaluation() throws {
    var checked = 0
    for suite in ["add8", "mul3", "mul4", "mul5", "mul6", "add12", "add16", "add32"] {
      for split in ["train", "valid", "test"] {
        let url = Self.root.appendingPathComponent(suite).appendingPathComponent("\(split).txt")
        guard FileManager.default.fileExists(atPath: url.path) else { continue }
        for case .arithmetic(let x) in try PuzzleSet.load(path: url.path).puzzles {
          XCTAssertEqual(x.isReservedForEvaluation, split != "train", "\(suite)/\(split).txt: \(x.inputText)")
          checked += 1
        }
      }
    }
    XCTAssertGreaterThan(checked, 15000)
  }
}

/// Symmetries keep their inverse: the stated solution of a transformed puzzle maps back to the
/// original's (what verified test-time search relies on).
final class SymmetryTests: XCTestCase {
  func testEveryViewsSolutionMapsBackToTheOriginalSolution() throws {
    var rng = SplitMix64(seed: 91)
    var puzzles: [Puzzle] = [4, 6, 9].map { .sudoku(Sudoku.generate(size: $0, givens: $0 * $0 / 2, rng: &rng)) }
    puzzles.append(.maze(Maze.generate(side: 9, loops: 0.2, minPathLength: 8, rng: &rng)))
    puzzles.append(try Puzzle(line: "123*45=5535", task: .arithmetic))
    for p in puzzles {
      for _ in 0..<16 {
        let s = p.randomSymmetry(rng: &rng)
        let view = p.applying(s)
        XCTAssertNil(view.verifyStatedSolution(), "the view is a valid puzzle with its solution")
        XCTAssertEqual(p.answerBack(try XCTUnwrap(view.labelText), from: s), p.labelText)
        XCTAssertNil(p.verify(answerText: p.answerBack(view.labelText!, from: s)))
      }
    }
    // Mazes: all 8 symmetries invert.
    guard case .maze(let m) = puzzles[3] else { return XCTFail() }
    for k in 0..<8 { XCTAssertEqual(m.dihedral(k).dihedral(Maze.inverseDihedral(k)).cells, m.cells, "k=\(k)") }
  }
}

final class DifficultyTests: XCTestCase {
  func testGradesFollowTheSolversSearchAndTheGeneratorHitsALevel() throws {
    // One blank: a naked single, no guess.
    let one = try Sudoku(
      line: "123456789456789123789123456214365897365897214897214365531642978642978531978531642".replacingOccurrences(
        of: "123456789456", with: ".23456789456"))
    XCTAssertEqual(one.guesses, 0)
    XCTAssertEqual(one.difficulty, .easy)
    var rng = SplitMix64(seed: 5)
    let hard = try XCTUnwrap(Sudoku.generate(size: 9, givens: 22, difficulty: .hard, rng: &rng))
    XCTAssertEqual(hard.difficulty, .hard)
    XCTAssertTrue((301...3000).contains(hard.guesses), "\(hard.guesses)")
    XCTAssertEqual(hard.countSolutions(limit: 2), 1)
    XCTAssertTrue(independentlySolves(hard, try XCTUnwrap(hard.solution)))
    // Fewer givens mean more search, on average.
    let easyGuesses = (0..<20).map { _ in Sudoku.generate(size: 9, givens: 40, rng: &rng).guesses }
    let minimalGuesses = (0..<20).map { _ in Sudoku.generate(size: 9, givens: 17, rng: &rng).guesses }
    XCTAssertLessThan(easyGuesses.reduce(0, +), minimalGuesses.reduce(0, +))
  }

  /// Asked for fewer givens than unique-solution removal can reach, the generator stops at a
  /// minimal puzzle: every remaining given is needed (what `trm generate` reports as "minimal").
  func testGeneratorStopsAtAMinimalPuzzleWhenAskedForFewerGivens() {
    var rng = SplitMix64(seed: 11)
    for size in [6, 9] {
      for _ in 0..<3 {
        let s = Sudoku.generate(size: size, givens: 0, rng: &rng)
        XCTAssertEqual(s.countSolutions(limit: 2), 1)
        for i in s.givens.indices where s.givens[i] != 0 {
          var fewer = s
          fewer.givens[i] = 0
          XCTAssertEqual(fewer.countSolutions(limit: 2), 2, "size \(size): given \(i) could go; not minimal")
        }
      }
    }
  }

  /// The local search below a minimal puzzle: never more givens, the same unique solution, every
  /// given still needed, the same result from the same seed — and fewer givens than removal alone.
  func testReducingGivensKeepsTheSolutionAndGoesBelowTheMinimalPuzzle() {
    var rng = SplitMix64(seed: 21)
    var before = 0, after = 0
    for _ in 0..<3 {
      let start = Sudoku.generate(size: 9, givens: 0, rng: &rng)
      var again = rng
      let reduced = start.reducingGivens(to: 17, moves: 30, rng: &rng)
      XCTAssertEqual(reduced, start.reducingGivens(to: 17, moves: 30, rng: &again))
      let n0 = start.givens.filter { $0 != 0 }.count, n1 = reduced.givens.filter { $0 != 0 }.count
      XCTAssertLessThanOrEqual(n1, n0)
      XCTAssertEqual(reduced.countSolutions(limit: 2), 1)
      XCTAssertEqual(reduced.solved(), start.solution)
      XCTAssertEqual(reduced.solution, start.solution)
      for i in reduced.givens.indices where reduced.givens[i] != 0 {
        var fewer = reduced
        fewer.givens[i] = 0
        XCTAssertEqual(fewer.countSolutions(limit: 2), 2, "given \(i) could go: not minimal")
      }
      before += n0
      after += n1
    }
    XCTAssertLessThan(after, before)
    // A target already met: nothing to do.
    let easy = Sudoku.generate(size: 9, givens: 40, rng: &rng)
    XCTAssertEqual(easy.reducingGivens(to: 40, moves: 30, rng: &rng), easy)
  }

  func testSolutionCountsMatchANaiveEnumerationAndGradesStayPinned() throws {
    // Naive twin: try every digit in every blank, in cell order, checking the rules only.
    func naiveCount(_ s: Sudoku) -> Int {
      var g = s.givens
      func ok(_ i: Int, _ v: Int) -> Bool {
        let n = s.size, r = i / n, c = i % n
        let br = r / s.boxRows * s.boxRows, bc = c / s.boxCols * s.boxCols
        for k in 0..<n where g[r * n + k] == v || g[k * n + c] == v { return false }
        for rr in br..<(br + s.boxRows) { for cc in bc..<(bc + s.boxCols) where g[rr * n + cc] == v { return false } }
        return true
      }
      func go(_ i: Int) -> Int {
        if i == g.count { return 1 }
        if g[i] != 0 { return go(i + 1) }
        var total = 0
        for v in 1...s.size where ok(i, v) { g[i] = v; total += go(i + 1); g[i] = 0 }
        return total
      }
      return go(0)
    }
    var rng = SplitMix64(seed: 11)
    for size in [4, 6] {
      for blanks in [4, 8, 12, size == 4 ? 16 : 20] {
        let full = Sudoku.generate(size: size, givens: size * size, rng: &rng)
        var s = Sudoku(size: size, givens: full.givens)
        for i in rng.permutation(size * size).prefix(blanks) { s.givens[i] = 0 }
        XCTAssertEqual(s.countSolutions(limit: 100_000), naiveCount(s), "\(s.givens)")
      }
    }
    // A conflicting grid has no solution.
    XCTAssertEqual(Sudoku(size: 4, givens: [1, 1] + Array(repeating: 0, count: 14)).countSolutions(), 0)
    // The grade scale: guesses of the first three top1465 puzzles, as the array-based solver of
    // 2026-11 counted them (the bitmask search must visit the same nodes).
    let pinned = [
      ("4...3.......6..8..........1....5..9..8....6...7.2........1.27..5.3....4.9........", 4195),
      ("7.8...3.....2.1...5.........4.....263...8.......1...9..9.6....4....7.5...........", 12460),
      ("7.8...3.....6.1...5.........4.....263...8.......1...9..9.2....4....7.5...........", 35192),
    ]
    for (line, guesses) in pinned { XCTAssertEqual(try Sudoku(line: line).guesses, guesses, line) }
  }
}
