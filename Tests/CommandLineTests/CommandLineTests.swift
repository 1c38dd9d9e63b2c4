import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TRMCommandLine
import XCTest

/// End to end through the CLI entry point, in process: generate → train → eval → solve → sweep.
final class CommandLineTests: XCTestCase {
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

  func testGenerateTrainEvalSolveSweepEndToEnd() throws {
    XCTAssertEqual(run(["generate", "sudoku", "--size", "4", "--givens", "8", "--count", "64", "--seed", "1", "--out", p("train.txt")]), 0, stderr.joined())
    XCTAssertEqual(run(["verify", "--data", p("train.txt")]), 0)
    XCTAssertEqual(stdout.last, "64 valid, 0 invalid")
    XCTAssertEqual(run(["train", "--data", p("train.txt"), "--valid", p("train.txt"), "--preset", "tiny", "--steps", "400",
                        "--threads", "2", "--out", p("run"), "--validate-every", "0"]), 0, stderr.joined(separator: "\n"))
    XCTAssertTrue(FileManager.default.fileExists(atPath: p("run/model.safetensors")))
    let metrics = try String(contentsOfFile: p("run/metrics.jsonl"), encoding: .utf8).split(separator: "\n")
    XCTAssertGreaterThanOrEqual(metrics.count, 8)
    XCTAssertEqual(run(["eval", "--checkpoint", p("run/model.safetensors"), "--data", p("train.txt"), "--json", p("eval.json")]), 0)
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: p("eval.json")))) as! [String: Any]
    for key in ["count", "exact_accuracy", "verified_accuracy", "cell_accuracy", "mean_steps", "ms_per_example"] { XCTAssertNotNil(json[key], key) }
    XCTAssertEqual(json["count"] as? Int, 64)
    XCTAssertGreaterThan(json["cell_accuracy"] as! Double, 0.5, "the tiny preset learns something on its training set")

    XCTAssertEqual(run(["solve", "--checkpoint", p("run/model.safetensors"), "--data", p("train.txt"), "--verify"]), 0)
    XCTAssertEqual(stdout.count, 64)
    XCTAssertEqual(stderr.count, 64)
    XCTAssertTrue(stdout[0].contains(","))
    // Solver output is itself a verifiable file: verify accepts exactly the lines solve called valid.
    try stdout.joined(separator: "\n").write(toFile: p("solved.txt"), atomically: true, encoding: .utf8)
    let validCount = stderr.filter { $0.contains(": valid") }.count
    _ = run(["verify", "--data", p("solved.txt")])
    XCTAssertEqual(stdout.last, "\(validCount) valid, \(64 - validCount) invalid")

    XCTAssertEqual(run(["sweep", "--checkpoint", p("run/model.safetensors"), "--data", p("train.txt"), "--steps", "1,2,4",
                        "--latent-steps", "1,2", "--out", p("sweep")]), 0)
    let svg = try Data(contentsOf: URL(fileURLWithPath: p("sweep/sweep.svg")))
    let parser = XMLParser(data: svg)
    let counter = PointCounter()
    parser.delegate = counter
    XCTAssertTrue(parser.parse(), "sweep.svg is not well-formed XML")
    XCTAssertEqual(counter.points, 6, "two series (n = 1, 2) × three step counts")
    let csv = try String(contentsOfFile: p("sweep/sweep.csv"), encoding: .utf8).split(separator: "\n")
    XCTAssertEqual(csv.count, 7)
    XCTAssertTrue(csv[1].hasPrefix("1,2,1,8,"), "n=1, T=2, K=1: depth 1·2·2·2 = 8, got \(csv[1])")

    // A fresh run in a used directory starts a new metrics file (one line per 50 steps).
    XCTAssertEqual(run(["train", "--data", p("train.txt"), "--preset", "tiny", "--steps", "100", "--out", p("run"), "--validate-every", "0"]), 0)
    let again = try String(contentsOfFile: p("run/metrics.jsonl"), encoding: .utf8).split(separator: "\n")
    XCTAssertEqual(again.count, 2, "old lines were kept: \(again.count) lines")
    // Generating with --exclude keeps a held-out file out of the new set.
    XCTAssertEqual(run(["generate", "sudoku", "--size", "4", "--givens", "8", "--count", "64", "--seed", "1", "--exclude", p("train.txt"), "--out", p("other.txt")]), 0)
    let held = Set(try String(contentsOfFile: p("train.txt"), encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") })
    let other = try String(contentsOfFile: p("other.txt"), encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }
    XCTAssertEqual(other.count, 64)
    XCTAssertTrue(held.isDisjoint(with: other))
  }

  func testArgumentErrorsExitWith2AndOneLine() throws {
    let cases: [[String]] = [
      ["frobnicate"], ["generate", "sudoku", "--count", "x", "--out", p("a")], ["generate", "sudoku", "--count", "3", "--out", p("a"), "--colour", "red"],
      ["train", "--data", p("missing.txt"), "--out", p("r")], ["eval", "--data", p("x")], ["generate", "maze", "--side", "8", "--count", "2", "--out", p("m")],
    ]
    for c in cases {
      XCTAssertEqual(run(c), 2, "\(c)")
      XCTAssertEqual(stderr.count, 1, "\(c): \(stderr)")
      XCTAssertTrue(stderr[0].hasPrefix("error: "), stderr[0])
    }
    try "1.3.....2......1,1234341221434321\n12\n".write(toFile: p("bad.txt"), atomically: true, encoding: .utf8)
    XCTAssertEqual(run(["verify", "--data", p("bad.txt")]), 1)
    XCTAssertEqual(stdout.last, "1 valid, 1 invalid")
    XCTAssertEqual(run(["eval", "--checkpoint", p("bad.txt"), "--data", p("bad.txt")]), 2)
    XCTAssertTrue(stderr[0].contains("bad checkpoint"), stderr[0])
  }
}

final class PointCounter: NSObject, XMLParserDelegate {
  var points = 0
  func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
    if name == "circle" && attributes["class"] == "point" { points += 1 }
  }
}
