import Foundation
import TRMCommandLine
import TRMModel
import XCTest

/// Regression tests for the crashes, hangs and silent results of issue 16, through the CLI.
final class RobustnessTests: CLITestCase {
  /// A tiny sudoku checkpoint (20 optimizer steps) shared by the tests that need one.
  func checkpoint() throws -> String {
    XCTAssertEqual(run(["generate", "sudoku", "--count", "64", "--seed", "1", "--out", p("s4.txt")]), 0)
    XCTAssertEqual(
      run(["train", "--data", p("s4.txt"), "--preset", "tiny", "--optimizer-steps", "20", "--out", p("run")]), 0,
      stderr.joined())
    return p("run/model.safetensors")
  }

  func testWindowsLineEndsAndAByteOrderMarkAreReadAsLines() throws {
    let lines = ["1.3.....2......1,1234341221434321", "..34.4..2.....3.,1234341221434321"]
    let text = "\u{FEFF}# a comment\r\n" + lines.joined(separator: "\r\n") + "\r\n"
    try text.write(toFile: p("crlf.txt"), atomically: true, encoding: .utf8)
    XCTAssertEqual(run(["verify", "--data", p("crlf.txt")]), 1, "the second line's givens differ from its solution")
    XCTAssertEqual(stdout.last, "1 valid, 1 invalid")
    try ("\u{FEFF}" + lines[0] + "\r\n" + lines[0] + "\r\n").write(
      toFile: p("ok.txt"), atomically: true, encoding: .utf8)
    XCTAssertEqual(run(["verify", "--data", p("ok.txt")]), 0)
    XCTAssertEqual(stdout.last, "2 valid, 0 invalid")
    let ckpt = try checkpoint()
    XCTAssertEqual(run(["eval", "--checkpoint", ckpt, "--data", p("ok.txt")]), 0, stderr.joined())
    XCTAssertTrue(stdout.joined().contains("2  "), "two examples scored: \(stdout)")
    XCTAssertEqual(run(["solve", "--checkpoint", ckpt, "--data", p("ok.txt")]), 0, stderr.joined())
    XCTAssertEqual(stdout.count, 2)
  }

  func testGenerateByDifficultyAndGrade() throws {
    XCTAssertEqual(
      run([
        "generate", "sudoku", "--size", "9", "--givens", "22", "--difficulty", "hard", "--count", "5", "--seed", "3",
        "--out", p("hard.txt"),
      ]), 0, stderr.joined())
    XCTAssertEqual(run(["grade", "--data", p("hard.txt")]), 0, stderr.joined())
    let lines = stdout.joined(separator: "\n").split(separator: "\n")
    XCTAssertTrue(lines.contains { $0.hasPrefix("hard ") && $0.contains("100.0%") }, "\(lines)")
    XCTAssertEqual(run(["generate", "maze", "--difficulty", "hard", "--count", "1", "--out", p("m.txt")]), 2)
  }

  func testAMalformedMazeLineStartingWithAWallIsRejectedNotSkipped() throws {
    // Two S on a line that starts with '#': a maze row, so an error, not a comment.
    try "# a real comment\n######S.S##...##..G######\n".write(toFile: p("m.txt"), atomically: true, encoding: .utf8)
    XCTAssertEqual(run(["verify", "--data", p("m.txt"), "--task", "maze"]), 1)
    XCTAssertTrue(stderr.joined().contains("m.txt:2"), stderr.joined())
    XCTAssertEqual(stdout.last, "0 valid, 1 invalid")
  }

  func testEveryNumberAUserTypesIsBounded() throws {
    try "1.3.....2......1,1234341221434321\n".write(toFile: p("one.txt"), atomically: true, encoding: .utf8)
    let huge = "4611686018427387904"  // 2^62
    let train = ["train", "--data", p("one.txt"), "--out", p("r")]
    let cases: [[String]] = [
      train + ["--batch", huge], train + ["--width", huge], train + ["--threads", huge],
      train + ["--latent-steps", huge],
      train + ["--recursions", "-1"], train + ["--supervision-steps", "0"], train + ["--optimizer-steps", huge],
      train + ["--lr", "nan"], train + ["--lr", "-1"], train + ["--lr", "inf"], train + ["--batch", ""],
      train + ["--weight-decay", "1e308"], train + ["--augment", huge], train + ["--seed", "-3"],
      ["generate", "sudoku", "--count", huge, "--out", p("g")],
      ["generate", "maze", "--side", huge, "--count", "1", "--out", p("g")],
      ["generate", "maze", "--side", "301", "--count", "1", "--out", p("g")],
      ["eval", "--checkpoint", p("none"), "--data", p("one.txt"), "--supervision-steps", huge],
      [
        "sweep", "--checkpoint", p("none"), "--data", p("one.txt"), "--supervision-steps", "1," + huge, "--out", p("s"),
      ],
    ]
    for c in cases {
      XCTAssertEqual(run(c), 2, "\(c)")
      XCTAssertEqual(stderr.count, 1, "\(c): \(stderr)")
      XCTAssertTrue(stderr.first?.hasPrefix("error: ") == true, "\(c): \(stderr)")
    }
  }

  func testTrainingThatCannotFitInMemoryIsRefusedBeforeAllocating() throws {
    // A 131×131 maze with the sequence-MLP mixer: billions of weights; with conv and a huge batch,
    // terabytes of activations. Both are one-line errors, not an allocation that takes the machine.
    // A 131×131 maze: one corridor along row 2 from S to G.
    let side = 131
    var cells = [Character](repeating: "#", count: side * side)
    for c in 1..<(side - 1) { cells[side + c] = "." }
    cells[side + 1] = "S"
    cells[2 * side - 2] = "G"
    let solution = String(cells).replacingOccurrences(of: ".", with: "o")
    try (String(cells) + "," + solution + "\n").write(toFile: p("m131.txt"), atomically: true, encoding: .utf8)
    XCTAssertEqual(run(["train", "--data", p("m131.txt"), "--mixer", "mlp", "--out", p("r")]), 2)
    XCTAssertTrue(stderr.joined().contains("parameters"), stderr.joined())
    XCTAssertEqual(run(["train", "--data", p("m131.txt"), "--batch", "65536", "--out", p("r")]), 2)
    XCTAssertTrue(stderr.joined().contains("GB of activations"), stderr.joined())
  }

  func testResumeKeepsOneMetricsRecordPerStepAndNoStagingFiles() throws {
    XCTAssertEqual(run(["generate", "sudoku", "--count", "64", "--seed", "1", "--out", p("s4.txt")]), 0)
    let args = [
      "train", "--data", p("s4.txt"), "--preset", "tiny", "--optimizer-steps", "100", "--out", p("run"),
      "--checkpoint-every", "50", "--validate-every", "0",
    ]
    XCTAssertEqual(run(args), 0, stderr.joined())
    // What a kill -9 after a later record and during a save leaves behind: records past the
    // checkpoint, half a line, a staging file.
    let metrics = p("run/metrics.jsonl")
    let handle = try XCTUnwrap(FileHandle(forWritingAtPath: metrics))
    handle.seekToEndOfFile()
    handle.write(
      Data("{\"step\":150,\"elapsedSeconds\":1,\"loss\":1,\"learningRate\":0.1,\"examplesPerSecond\":1}\n{\"st".utf8))
    try handle.close()
    try Data("junk".utf8).write(to: URL(fileURLWithPath: p("run/.checkpoint.safetensors.partial")))
    XCTAssertEqual(
      run(["train", "--resume", p("run"), "--data", p("s4.txt"), "--optimizer-steps", "200", "--validate-every", "0"]),
      0,
      stderr.joined())
    let steps = try String(contentsOfFile: metrics, encoding: .utf8).split(separator: "\n").map { line -> Int in
      let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
      return obj?["step"] as? Int ?? -1
    }
    XCTAssertEqual(steps, [50, 100, 150, 200], "one record per 50 steps, none duplicated, no partial line")
    let files = try FileManager.default.contentsOfDirectory(atPath: p("run")).sorted()
    XCTAssertEqual(files, ["checkpoint.safetensors", "metrics.jsonl", "model.safetensors"])
  }

  /// A run that diverges (here: resumed with a learning rate that overflows float32) stops with a
  /// message naming the step, saves nothing, and its last good checkpoint resumes.
  func testADivergingRunStopsAndKeepsItsLastGoodCheckpoint() throws {
    XCTAssertEqual(run(["generate", "sudoku", "--count", "64", "--seed", "1", "--out", p("s4.txt")]), 0)
    XCTAssertEqual(
      run([
        "train", "--data", p("s4.txt"), "--preset", "tiny", "--optimizer-steps", "5", "--checkpoint-every", "5",
        "--validate-every", "0", "--out", p("run"),
      ]), 0, stderr.joined())
    let url = URL(fileURLWithPath: p("run/checkpoint.safetensors"))
    let good = try Data(contentsOf: url)
    var st = try SafeTensors(contentsOf: url)
    st.metadata["training"] = st.metadata["training"]!.replacingOccurrences(
      of: "\"learningRate\":0.003", with: "\"learningRate\":1e38")
    XCTAssertTrue(st.metadata["training"]!.contains("1e+38") || st.metadata["training"]!.contains("1e38"))
    try st.write(to: url)
    let bad = try Data(contentsOf: url)
    let resume = [
      "train", "--resume", p("run"), "--data", p("s4.txt"), "--optimizer-steps", "50", "--validate-every", "0",
    ]
    XCTAssertEqual(run(resume), 2)
    XCTAssertTrue(
      stderr.joined().contains("diverged") && stderr.joined().contains("still holds step 5"), stderr.joined())
    XCTAssertEqual(try Data(contentsOf: url), bad, "nothing saved after the divergence")
    try good.write(to: url)
    XCTAssertEqual(run(resume), 0, "the last good checkpoint resumes: \(stderr)")
  }

  func testCompareRejectsATestFileTheModelCannotReadBeforeTraining() throws {
    XCTAssertEqual(run(["generate", "sudoku", "--count", "32", "--seed", "1", "--out", p("s4.txt")]), 0)
    XCTAssertEqual(run(["generate", "sudoku", "--size", "6", "--count", "4", "--seed", "2", "--out", p("s6.txt")]), 0)
    let t0 = Date()
    XCTAssertEqual(
      run([
        "compare", "--data", p("s4.txt"), "--test", p("s6.txt"), "--preset", "tiny", "--optimizer-steps", "100000",
        "--out", p("cmp"),
      ]), 2)
    XCTAssertLessThan(Date().timeIntervalSince(t0), 20, "failed before training 100,000 steps")
    XCTAssertTrue(stderr.joined().contains("6×6"), stderr.joined())
  }

  func testSolveStreamsStandardInputInBatches() throws {
    let ckpt = try checkpoint()
    var fed = 0
    var outputBeforeEnd = false
    let puzzles = try String(contentsOfFile: p("s4.txt"), encoding: .utf8).split(separator: "\n")
      .filter { !$0.hasPrefix("#") }.map { String($0.prefix(16)) }
    CommandLineTool.stdinLine = { [unowned self] in
      if fed == 300 { outputBeforeEnd = self.stdout.count >= 256 }
      guard fed < 600 else { return nil }
      defer { fed += 1 }
      return puzzles[fed % puzzles.count] + (fed % 2 == 0 ? "\r" : "")
    }
    defer { CommandLineTool.stdinLine = { readLine(strippingNewline: true) } }
    stdout = []
    stderr = []
    XCTAssertEqual(CommandLineTool.main(["solve", "--checkpoint", ckpt]), 0, stderr.joined())
    XCTAssertEqual(stdout.count, 600)
    XCTAssertTrue(outputBeforeEnd, "the first batch of 256 was answered before the input ended")
  }
}
