import Foundation
import TinyRecursion

extension CommandLineTool {
  /// `trm demo`, the README's main job: TRM vs. baseline on a shipped suite, in a few minutes on 2 cores.
  static func demo(_ args: [String]) throws -> Int32 {
    let a = try Arguments(
      args, command: "demo", flags: [], options: ["suite", "optimizer-steps", "threads", "out"],
      aliases: ["steps": "optimizer-steps"])
    let suite = a.string("suite") ?? "Puzzles/sudoku4"
    guard FileManager.default.fileExists(atPath: suite + "/train.txt") else {
      throw UsageError(
        "suite \(suite) not found (run from the repository root, or pass --suite DIR with train.txt and test.txt)")
    }
    var forwarded = [
      "--data", suite + "/train.txt", "--test", suite + "/test.txt",
      "--optimizer-steps", "\(try a.int("optimizer-steps", default: 600, min: 1, max: 100_000_000))",
      "--out", a.string("out") ?? "runs/demo", "--threads", "\(try threads(a))",
    ]
    if FileManager.default.fileExists(atPath: suite + "/valid.txt") {
      forwarded += ["--valid", suite + "/valid.txt", "--validate-every", "0"]
    }
    return try compare(forwarded)
  }
}
