import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TRMCommandLine
import XCTest

/// Runs `trm` in process with its output captured, in a fresh temporary directory per test.
class CLITestCase: XCTestCase {
  var dir: URL!
  var stdout: [String] = []
  var stderr: [String] = []

  override func setUp() {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("trm-cli-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    CommandLineTool.out = { [unowned self] in self.stdout.append($0) }
    CommandLineTool.err = { [unowned self] in self.stderr.append($0) }
  }
  override func tearDown() { try? FileManager.default.removeItem(at: dir) }

  func run(_ args: [String]) -> Int32 {
    stdout = []
    stderr = []
    return CommandLineTool.main(args)
  }

  func p(_ name: String) -> String { dir.appendingPathComponent(name).path }
}

/// End to end through the CLI entry point, in process: generate → train → eval → solve → sweep.
final class CommandLineTests: CLITestCase {
  func testGenerateTrainEvalSolveSweepEndToEnd() throws {
    XCTAssertEqual(
      run([
        "generate", "sudoku", "--size", "4", "--givens", "8", "--count", "64", "--seed", "1", "--out", p("train.txt"),
      ]), 0, stderr.joined())
    XCTAssertEqual(run(["verify", "--data", p("train.txt")]), 0)
    XCTAssertEqual(stdout.last, "64 valid, 0 invalid")
    XCTAssertEqual(
      run([
        "train", "--data", p("train.txt"), "--valid", p("train.txt"), "--preset", "tiny", "--optimizer-steps", "400",
        "--threads", "2", "--out", p("run"), "--validate-every", "0",
      ]), 0, stderr.joined(separator: "\n"))
    XCTAssertTrue(FileManager.default.fileExists(atPath: p("run/model.safetensors")))
    let metrics = try String(contentsOfFile: p("run/metrics.jsonl"), encoding: .utf8).split(separator: "\n")
    XCTAssertGreaterThanOrEqual(metrics.count, 8)
    XCTAssertEqual(
      run(["eval", "--checkpoint", p("run/model.safetensors"), "--data", p("train.txt"), "--json", p("eval.json")]), 0)
    let json =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: p("eval.json")))) as! [String: Any]
    for key in ["count", "exact_accuracy", "verified_accuracy", "cell_accuracy", "mean_steps", "ms_per_example"] {
      XCTAssertNotNil(json[key], key)
    }
    XCTAssertEqual(json["count"] as? Int, 64)
    XCTAssertGreaterThan(json["cell_accuracy"] as! Double, 0.5, "the tiny preset learns something on its training set")

    // --until-stable: at most K steps, fewer where the answer settles; not together with --halt.
    XCTAssertEqual(
      run([
        "eval", "--checkpoint", p("run/model.safetensors"), "--data", p("train.txt"), "--until-stable",
        "--supervision-steps", "6", "--json", p("stable.json"),
      ]), 0, stderr.joined())
    let stableJSON =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: p("stable.json"))))
      as! [String: Any]
    XCTAssertLessThanOrEqual(stableJSON["mean_steps"] as! Double, 6)
    XCTAssertGreaterThanOrEqual(stableJSON["mean_steps"] as! Double, 2)
    XCTAssertEqual(
      run(["eval", "--checkpoint", p("run/model.safetensors"), "--data", p("train.txt"), "--until-stable", "--halt"]),
      2)
    XCTAssertTrue(stderr.last?.contains("choose one") == true, "\(stderr)")

    XCTAssertEqual(run(["solve", "--checkpoint", p("run/model.safetensors"), "--data", p("train.txt"), "--verify"]), 0)
    XCTAssertEqual(stdout.count, 64)
    XCTAssertEqual(stderr.count, 64)
    XCTAssertTrue(stdout[0].contains(","))
    // Solver output is itself a verifiable file: verify accepts exactly the lines solve called valid.
    try stdout.joined(separator: "\n").write(toFile: p("solved.txt"), atomically: true, encoding: .utf8)
    let validCount = stderr.filter { $0.contains(": valid") }.count
    _ = run(["verify", "--data", p("solved.txt")])
    XCTAssertEqual(stdout.last, "\(validCount) valid, \(64 - validCount) invalid")
    // Stop rules: --halting-head is the tiny preset's own (same answers); two rules at once are refused.
    let defaultAnswers = try String(contentsOfFile: p("solved.txt"), encoding: .utf8).split(separator: "\n")
      .map(String.init)
    XCTAssertEqual(
      run(["solve", "--checkpoint", p("run/model.safetensors"), "--data", p("train.txt"), "--halting-head"]), 0)
    XCTAssertEqual(stdout, defaultAnswers)
    XCTAssertEqual(
      run([
        "solve", "--checkpoint", p("run/model.safetensors"), "--data", p("train.txt"), "--halting-head",
        "--until-stable",
      ]), 2)
    XCTAssertTrue(stderr.last?.contains("--until-stable and --halting-head contradict") == true, "\(stderr)")

    XCTAssertEqual(
      run([
        "sweep", "--checkpoint", p("run/model.safetensors"), "--data", p("train.txt"), "--supervision-steps", "1,2,4",
        "--latent-steps", "1,2", "--out", p("sweep"),
      ]), 0)
    let svg = try Data(contentsOf: URL(fileURLWithPath: p("sweep/sweep.svg")))
    let parser = XMLParser(data: svg)
    let counter = PointCounter()
    parser.delegate = counter
    XCTAssertTrue(parser.parse(), "sweep.svg is not well-formed XML")
    XCTAssertEqual(counter.points, 6, "two series (n = 1, 2) × three step counts")
    let csv = try String(contentsOfFile: p("sweep/sweep.csv"), encoding: .utf8).split(separator: "\n")
    XCTAssertEqual(csv.count, 7)
    XCTAssertTrue(csv[1].hasPrefix(p("train.txt") + ",1,2,1,8,"), "n=1, T=2, K=1: depth 1·2·2·2 = 8, got \(csv[1])")

    // --resume takes a new total of steps (train longer) and refuses one below the steps done.
    XCTAssertEqual(
      run([
        "train", "--resume", p("run"), "--data", p("train.txt"), "--optimizer-steps", "450", "--validate-every", "0",
      ]), 0, stderr.joined())
    XCTAssertTrue(stdout.contains { $0.contains("at step 400/450") }, "\(stdout)")
    XCTAssertEqual(run(["train", "--resume", p("run"), "--data", p("train.txt")]), 0)
    XCTAssertTrue(stdout.contains { $0.contains("at step 450/450") }, "\(stdout)")
    XCTAssertEqual(run(["train", "--resume", p("run"), "--data", p("train.txt"), "--optimizer-steps", "100"]), 2)
    XCTAssertTrue(stderr.last?.contains("below the 450 steps") == true, "\(stderr)")

    // Micro-batches from the command line: kept in the checkpoint's training config.
    XCTAssertEqual(
      run([
        "train", "--data", p("train.txt"), "--preset", "tiny", "--optimizer-steps", "20", "--micro-batches", "2",
        "--threads", "2", "--out", p("mb"), "--validate-every", "0",
      ]), 0, stderr.joined())
    let mbCheckpoint = String(
      decoding: try Data(contentsOf: URL(fileURLWithPath: p("mb/checkpoint.safetensors"))), as: UTF8.self)
    // (The training config is JSON inside the safetensors JSON header, so its quotes are escaped.)
    XCTAssertTrue(mbCheckpoint.contains("microBatches\\\":2"), "the checkpoint's training config keeps K")

    // A fresh run in a used directory starts a new metrics file (one line per 50 steps); the earlier
    // spelling --steps still means optimizer steps.
    XCTAssertEqual(
      run([
        "train", "--data", p("train.txt"), "--preset", "tiny", "--steps", "100", "--out", p("run"), "--validate-every",
        "0",
      ]), 0)
    let again = try String(contentsOfFile: p("run/metrics.jsonl"), encoding: .utf8).split(separator: "\n")
    XCTAssertEqual(again.count, 2, "old lines were kept: \(again.count) lines")
    // Generating with --exclude keeps a held-out file out of the new set.
    XCTAssertEqual(
      run([
        "generate", "sudoku", "--size", "4", "--givens", "8", "--count", "64", "--seed", "1", "--exclude",
        p("train.txt"), "--out", p("other.txt"),
      ]), 0)
    let held = Set(
      try String(contentsOfFile: p("train.txt"), encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") })
    let other = try String(contentsOfFile: p("other.txt"), encoding: .utf8).split(separator: "\n").filter {
      !$0.hasPrefix("#")
    }
    XCTAssertEqual(other.count, 64)
    XCTAssertTrue(held.isDisjoint(with: other))
  }

  /// `generate sudoku` says how many givens the puzzles got, and why when that is more than asked.
  func testGenerateSudokuReportsTheGivensItReached() throws {
    func givens(_ file: String) throws -> [Int] {
      try String(contentsOfFile: p(file), encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }.map {
        $0.split(separator: ",")[0].filter { $0 != "." && $0 != "0" }.count
      }
    }
    XCTAssertEqual(run(["generate", "sudoku", "--size", "9", "--givens", "17", "--count", "4", "--out", p("m.txt")]), 0)
    let reached = try givens("m.txt")
    XCTAssertEqual(reached.count, 4)
    XCTAssertTrue(reached.allSatisfy { $0 > 17 }, "\(reached)")  // 9×9 minimal puzzles have 21 or more
    let report = try XCTUnwrap(stdout.last)
    XCTAssertTrue(report.hasPrefix("givens: \(reached.min()!)–\(reached.max()!) (mean "), report)
    XCTAssertTrue(report.contains("4 of 4 kept more than the 17 asked for"), report)
    XCTAssertTrue(report.contains("minimal"), report)
    // The local search goes below what removal reached, on the same seed's grids.
    XCTAssertEqual(
      run([
        "generate", "sudoku", "--size", "9", "--givens", "17", "--search-moves", "40", "--count", "4", "--out",
        p("s.txt"),
      ]), 0)
    let searched = try givens("s.txt")
    XCTAssertLessThan(searched.reduce(0, +), reached.reduce(0, +), "\(searched) vs \(reached)")
    XCTAssertTrue(try XCTUnwrap(stdout.last).contains("after 40 search moves"))
    XCTAssertEqual(
      run(["generate", "maze", "--search-moves", "5", "--count", "2", "--out", p("x.txt")]), 2, "mazes have no clues")
    XCTAssertEqual(run(["generate", "sudoku", "--size", "9", "--givens", "40", "--count", "3", "--out", p("e.txt")]), 0)
    XCTAssertEqual(try givens("e.txt"), [40, 40, 40])
    XCTAssertEqual(stdout.last, "givens: 40 (mean 40.0)")
  }

  /// `generate maze --like FILE`: more mazes in an open-plan file's style (Maze-Hard's kind), at
  /// its side or another one; a lattice file or --loops is refused with one line.
  func testGenerateMazesLikeAnOpenPlanFile() throws {
    XCTAssertEqual(
      run(["generate", "maze", "--side", "9", "--count", "5", "--seed", "1", "--out", p("lattice.txt")]), 0)
    let seedFile = [
      "S.#.......#...#..#.......#..#....#.#.....#....#..#.........#..#....#..#.....#...#.#.#..G...........#",
      "..#..#.......S.#...#.......#.#........#...#..#..........#.....#.#......#....#..........#.G.#..#.#...",
    ].joined(separator: "\n")
    try seedFile.write(toFile: p("open.txt"), atomically: true, encoding: .utf8)
    XCTAssertEqual(
      run(["generate", "maze", "--like", p("open.txt"), "--count", "6", "--seed", "2", "--out", p("more.txt")]), 0,
      stderr.joined())
    let more = try String(contentsOfFile: p("more.txt"), encoding: .utf8).split(separator: "\n")
      .filter { !$0.hasPrefix("#") || $0.count == 100 + 1 + 100 }
    XCTAssertEqual(more.count, 6, more.joined(separator: "\n"))
    XCTAssertTrue(more.allSatisfy { $0.count == 201 && $0.contains("o") }, "10×10 mazes with a labelled path")
    XCTAssertEqual(run(["verify", "--data", p("more.txt")]), 0, stderr.joined())
    XCTAssertEqual(
      run(["generate", "maze", "--like", p("open.txt"), "--side", "16", "--count", "3", "--out", p("big.txt")]), 0)
    XCTAssertEqual(run(["verify", "--data", p("big.txt")]), 0, stderr.joined())
    XCTAssertNotEqual(run(["generate", "maze", "--like", p("lattice.txt"), "--count", "3", "--out", p("x.txt")]), 0)
    XCTAssertTrue(stderr.joined().contains("lattice mazes"), stderr.joined())
    XCTAssertNotEqual(
      run(["generate", "maze", "--like", p("open.txt"), "--loops", "0.2", "--count", "3", "--out", p("y.txt")]), 0)
    XCTAssertFalse(FileManager.default.fileExists(atPath: p("x.txt")))
    XCTAssertFalse(FileManager.default.fileExists(atPath: p("y.txt")))
    // The style given directly: wall shares and path length.
    XCTAssertEqual(
      run([
        "generate", "maze", "--walls", "0.3-0.4", "--side", "12", "--min-path", "20", "--count", "4", "--out",
        p("walls.txt"),
      ]), 0, stderr.joined())
    XCTAssertEqual(run(["verify", "--data", p("walls.txt")]), 0, stderr.joined())
    for bad in [["--walls", "1.5"], ["--walls", "0.4-0.3"], ["--walls", "x"], ["--walls", "0.3", "--loops", "0.1"]] {
      let code = run(["generate", "maze", "--count", "2", "--out", p("bad.txt")] + bad)
      XCTAssertEqual(code, 2, bad.joined(separator: " "))
      XCTAssertTrue(stderr.joined().contains("--walls"), stderr.joined())
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: p("bad.txt")))
  }

  func testMazeModelsRunOnBiggerGridsInEveryCommand() throws {
    for (name, side, seed) in [("m7.txt", "7", "1"), ("m9.txt", "9", "2"), ("m11.txt", "11", "3")] {
      XCTAssertEqual(
        run([
          "generate", "maze", "--side", side, "--loops", "0", "--min-path", side, "--count", "6", "--seed", seed,
          "--out", p(name),
        ]), 0)
    }
    XCTAssertEqual(
      run([
        "train", "--data", p("m7.txt"), "--preset", "maze", "--optimizer-steps", "20", "--threads", "2", "--out",
        p("conv"),
        "--validate-every", "0",
      ]), 0, stderr.joined(separator: "\n"))
    let ckpt = p("conv/model.safetensors")
    XCTAssertEqual(
      run(["solve", "--checkpoint", ckpt, "--data", p("m9.txt"), "--supervision-steps", "3"]), 0, stderr.joined())
    XCTAssertEqual(stdout.count, 6)
    XCTAssertEqual(stdout[0].split(separator: ",").map(\.count), [81, 81], "9×9 answers from a 7×7 model")
    XCTAssertEqual(
      run(["eval", "--checkpoint", ckpt, "--data", p("m11.txt"), "--supervision-steps", "2"]), 0, stderr.joined())
    XCTAssertEqual(
      run([
        "sweep", "--checkpoint", ckpt, "--data", p("m7.txt") + "," + p("m11.txt"), "--supervision-steps", "1,2",
        "--out", p("sw"),
      ]), 0)
    let counter = PointCounter()
    let parser = XMLParser(data: try Data(contentsOf: URL(fileURLWithPath: p("sw/sweep.svg"))))
    parser.delegate = counter
    XCTAssertTrue(parser.parse())
    XCTAssertEqual(counter.points, 4, "one curve per size × two step counts")
    // Watch it think: one frame per supervision step, well-formed SVG.
    XCTAssertEqual(
      run([
        "trace", "--checkpoint", ckpt, "--data", p("m9.txt"), "--index", "2", "--supervision-steps", "5", "--out",
        p("trace.svg"),
      ]), 0, stderr.joined())
    XCTAssertEqual(stdout.filter { $0.hasPrefix("step ") }.count, 5)
    let trace = try String(contentsOfFile: p("trace.svg"), encoding: .utf8)
    XCTAssertTrue(XMLParser(data: Data(trace.utf8)).parse(), "trace.svg is not well-formed XML")
    XCTAssertEqual(trace.components(separatedBy: ">step ").count - 1, 5)
    XCTAssertEqual(run(["trace", "--checkpoint", ckpt, "--data", p("m9.txt"), "--index", "7", "--out", p("t.svg")]), 2)
    // Curriculum over sizes: --init continues the 7×7 weights on 9×9 mazes (step 0 of the new run
    // is those weights: same answers as the 7×7 checkpoint); a model of another shape is refused.
    XCTAssertEqual(
      run([
        "train", "--data", p("m9.txt"), "--preset", "maze", "--init", ckpt, "--optimizer-steps", "2",
        "--no-ema", "--lr", "1e-9", "--threads", "2", "--out", p("conv9"), "--validate-every", "0",
      ]), 0, stderr.joined(separator: "\n"))
    XCTAssertEqual(run(["solve", "--checkpoint", p("conv9/model.safetensors"), "--data", p("m9.txt"), "--no-halt"]), 0)
    let continued = stdout
    XCTAssertEqual(run(["solve", "--checkpoint", ckpt, "--data", p("m9.txt"), "--no-halt"]), 0)
    XCTAssertEqual(continued, stdout, "learning rate 1e-9: the continued model answers as the 7×7 model")
    XCTAssertEqual(
      run([
        "train", "--data", p("m9.txt"), "--preset", "maze", "--init", ckpt, "--width", "16", "--optimizer-steps", "2",
        "--out", p("bad"),
      ]), 2)
    XCTAssertTrue(stderr.joined().contains("--init"), stderr.joined())
    XCTAssertTrue(stderr.joined().contains("width 32"), stderr.joined())
    // A file mixing sizes: solve groups it by size (answers in input order); training rejects it
    // at the first line of another size, naming file and line.
    let m7 = try String(contentsOfFile: p("m7.txt"), encoding: .utf8).split(separator: "\n").filter {
      !$0.hasPrefix("# ")
    }
    let m9 = try String(contentsOfFile: p("m9.txt"), encoding: .utf8).split(separator: "\n").filter {
      !$0.hasPrefix("# ")
    }
    try ([m7[0], m9[0], m7[1]].joined(separator: "\n") + "\n").write(
      toFile: p("mixed.txt"), atomically: true, encoding: .utf8)
    XCTAssertEqual(
      run(["solve", "--checkpoint", ckpt, "--data", p("mixed.txt"), "--supervision-steps", "2"]), 0, stderr.joined())
    XCTAssertEqual(stdout.map { $0.split(separator: ",")[0].count }, [49, 81, 49])
    XCTAssertEqual(
      run(["train", "--data", p("mixed.txt"), "--preset", "maze", "--optimizer-steps", "2", "--out", p("mixrun")]), 2)
    XCTAssertTrue(stderr.count == 1 && stderr[0].contains("mixed.txt:2") && stderr[0].contains("9×9"), "\(stderr)")
    // A model whose mixer is sized by the grid refuses other sizes in one line naming both.
    XCTAssertEqual(
      run([
        "train", "--data", p("m7.txt"), "--preset", "maze", "--mixer", "mlp", "--optimizer-steps", "2", "--out",
        p("mlp"), "--validate-every", "0",
      ]), 0,
      stderr.joined())
    XCTAssertEqual(run(["eval", "--checkpoint", p("mlp/model.safetensors"), "--data", p("m9.txt")]), 2)
    XCTAssertEqual(stderr.count, 1)
    XCTAssertTrue(stderr[0].contains("MLP") && stderr[0].contains("49") && stderr[0].contains("81"), stderr[0])
  }

  /// An arithmetic-grid checkpoint reads `A+B` lines of any length up to the documented limit
  /// and writes `A+B=C`; a longer operand is one line naming file, line and limit.
  func testArithmeticCheckpointsSolveNumbersOfAnyLength() throws {
    let generate = ["generate", "arithmetic", "--op", "+", "--digits", "3", "--count", "20", "--seed", "1"]
    XCTAssertEqual(run(generate + ["--out", p("a.txt")]), 0)
    XCTAssertEqual(
      run([
        "train", "--data", p("a.txt"), "--preset", "addition", "--optimizer-steps", "20", "--threads", "2", "--out",
        p("add"), "--validate-every", "0",
      ]), 0, stderr.joined(separator: "\n"))
    let ckpt = p("add/model.safetensors")
    let forty = String(repeating: "1234567890", count: 4)
    try "12+34\n\(forty)+\(forty)\n7+5=12\n".write(toFile: p("in.txt"), atomically: true, encoding: .utf8)
    XCTAssertEqual(run(["solve", "--checkpoint", ckpt, "--data", p("in.txt")]), 0, stderr.joined())
    XCTAssertEqual(stdout.count, 3)
    for (line, input) in zip(stdout, ["12+34", "\(forty)+\(forty)", "7+5"]) {
      XCTAssertTrue(line.hasPrefix(input + "="), line)
      XCTAssertTrue(line.split(separator: "=").last!.allSatisfy(\.isNumber) || line.hasSuffix("=?"), line)
    }
    let long = "1" + String(repeating: "0", count: 100)
    try "1+1\n\(long)+1\n".write(toFile: p("long.txt"), atomically: true, encoding: .utf8)
    XCTAssertEqual(run(["solve", "--checkpoint", ckpt, "--data", p("long.txt")]), 2)
    XCTAssertTrue(
      stderr.count == 1 && stderr[0].contains("long.txt:2") && stderr[0].contains("limit of 100"), "\(stderr)")
    try "12*34\n".write(toFile: p("mul.txt"), atomically: true, encoding: .utf8)
    XCTAssertEqual(run(["solve", "--checkpoint", ckpt, "--data", p("mul.txt")]), 2)
    XCTAssertTrue(stderr.count == 1 && stderr[0].contains("not * problems"), "\(stderr)")
  }

  func testArgumentErrorsExitWith2AndOneLine() throws {
    let cases: [[String]] = [
      ["frobnicate"], ["generate", "sudoku", "--count", "x", "--out", p("a")],
      ["generate", "sudoku", "--count", "3", "--out", p("a"), "--colour", "red"],
      ["train", "--data", p("missing.txt"), "--out", p("r")], ["eval", "--data", p("x")],
      ["generate", "maze", "--side", "8", "--count", "2", "--out", p("m")],
      ["generate", "arithmetic", "--digits", "101", "--count", "2", "--out", p("m")],
      ["generate", "arithmetic", "--digits", "4", "--carry-chain", "4", "--count", "2", "--out", p("m")],
      ["train", "--data", p("sums.txt"), "--out", p("r"), "--halt-exploration", "1.5"],
      ["train", "--data", p("sums.txt"), "--out", p("r"), "--micro-batches", "3", "--batch", "8"],
      ["train", "--data", p("sums.txt"), "--out", p("r"), "--solve-stop-rule", "never"],
    ]
    try "1+1\n".write(toFile: p("sums.txt"), atomically: true, encoding: .utf8)
    for c in cases {
      XCTAssertEqual(run(c), 2, "\(c)")
      XCTAssertEqual(stderr.count, 1, "\(c): \(stderr)")
      XCTAssertTrue(stderr[0].hasPrefix("error: "), stderr[0])
      if c.contains("--halt-exploration") { XCTAssertTrue(stderr[0].contains("halt-exploration"), stderr[0]) }
      if c.contains("never") { XCTAssertTrue(stderr[0].contains("halting-head or until-stable"), stderr[0]) }
    }
    try "1.3.....2......1,1234341221434321\n12\n".write(toFile: p("bad.txt"), atomically: true, encoding: .utf8)
    XCTAssertEqual(run(["verify", "--data", p("bad.txt")]), 1)
    XCTAssertEqual(stdout.last, "1 valid, 1 invalid")
    XCTAssertEqual(run(["eval", "--checkpoint", p("bad.txt"), "--data", p("bad.txt")]), 2)
    XCTAssertTrue(stderr[0].contains("bad checkpoint"), stderr[0])
  }

  func testChartDrawsTheSearchCurvesOfEvalFiles() throws {
    // Three eval files of two puzzle files, one that solved nothing (no cost point), the
    // baseline's and an unrelated file (both left out).
    func eval(_ name: String, verified: Double, meanSteps: Double, flops: Double) throws {
      let json = """
        {"count": 200, "exact_accuracy": \(verified), "verified_accuracy": \(verified), "cell_accuracy": 0.9,
         "mean_steps": \(meanSteps), "ms_per_example": 5, "flops_per_example": \(flops)}
        """
      try json.write(toFile: p(name), atomically: true, encoding: .utf8)
    }
    try eval("eval-hard-attempts1.json", verified: 0.331, meanSteps: 8, flops: 1e10)
    try eval("eval-hard-attempts32.json", verified: 0.995, meanSteps: 30.08, flops: 5e10)
    try eval("eval-top-attempts1.json", verified: 0, meanSteps: 8, flops: 1e10)
    try eval("eval-top-attempts8.json", verified: 0.5, meanSteps: 40, flops: 4e10)
    try eval("eval-baseline-hard-attempts1.json", verified: 0, meanSteps: 1, flops: 1e9)
    try "{}".write(toFile: p("metrics.json"), atomically: true, encoding: .utf8)
    XCTAssertEqual(run(["chart", "--evals", dir.path]), 0, stderr.joined())
    XCTAssertEqual(stdout.last, "wrote \(p("attempts.svg"))")
    XCTAssertTrue(stdout.contains { $0.contains("hard") && $0.contains("99.5%") && $0.contains("3.76") }, "\(stdout)")
    let svg = try Data(contentsOf: URL(fileURLWithPath: p("attempts.svg")))
    let parser = XMLParser(data: svg)
    let counter = PointCounter()
    parser.delegate = counter
    XCTAssertTrue(parser.parse(), "attempts.svg is not well-formed XML")
    XCTAssertEqual(counter.points, 4 + 3, "4 accuracy points; 3 cost points (top at K = 1 solved nothing)")
    let text = String(decoding: svg, as: UTF8.self)
    for label in ["99.5%", "33.1%", "3.76 views", "5.00 views", "GFLOP per solved puzzle"] {
      XCTAssertTrue(text.contains(">\(label)<"), label)
    }
    XCTAssertFalse(text.contains("baseline"), "the baseline's eval file is left out")
    XCTAssertEqual(run(["chart", "--evals", dir.path, "--steps-per-view", "16", "--out", p("c.svg")]), 0)
    XCTAssertTrue(try String(contentsOfFile: p("c.svg"), encoding: .utf8).contains(">1.88 views<"))

    // Nothing to draw, a broken file, a missing directory: one line, exit 2, no chart written.
    let empty = p("empty")
    try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
    XCTAssertEqual(run(["chart", "--evals", empty]), 2)
    XCTAssertTrue(stderr.count == 1 && stderr[0].contains("no eval-NAME-attemptsK.json"), "\(stderr)")
    try "{\"count\": 3}".write(toFile: empty + "/eval-x-attempts2.json", atomically: true, encoding: .utf8)
    XCTAssertEqual(run(["chart", "--evals", empty]), 2)
    XCTAssertTrue(stderr.count == 1 && stderr[0].contains("eval-x-attempts2.json"), "\(stderr)")
    XCTAssertEqual(run(["chart", "--evals", p("missing")]), 2)
    XCTAssertTrue(stderr.count == 1 && stderr[0].contains("cannot read the directory"), "\(stderr)")
    XCTAssertFalse(FileManager.default.fileExists(atPath: empty + "/attempts.svg"))
  }

  func testVersionPrintsTheLibraryVersion() {
    XCTAssertEqual(run(["--version"]), 0)
    XCTAssertEqual(stdout, ["trm \(CommandLineTool.version)"])
    XCTAssertTrue(CommandLineTool.version.split(separator: ".").count == 3, "semantic version")
  }
}

final class PointCounter: NSObject, XMLParserDelegate {
  var points = 0
  func parser(
    _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
    attributes: [String: String] = [:]
  ) {
    if name == "circle" && attributes["class"] == "point" { points += 1 }
  }
}
