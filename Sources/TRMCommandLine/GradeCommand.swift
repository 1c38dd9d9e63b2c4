import Foundation
import TinyRecursion

extension CommandLineTool {
  /// `trm grade`: the difficulty of every sudoku in a file by our solver's search (guesses beyond
  /// forced moves), as counts per level and percentiles.
  static func grade(_ args: [String]) throws -> Int32 {
    let a = try Arguments(args, command: "grade", flags: [], options: ["data", "limit"])
    let path = try a.required("data")
    let limit = try a.int("limit", default: 1_000_000, min: 1, max: 10_000_000)
    let set = try loadSet(path, task: .sudoku)
    var guesses: [Int] = [], givens: [Int] = []
    for case .sudoku(let s) in set.puzzles.prefix(limit) {
      guesses.append(s.guesses)
      givens.append(s.givens.filter { $0 != 0 }.count)
    }
    guard !guesses.isEmpty else { throw UsageError("\(path): no sudoku puzzles") }
    let sorted = guesses.sorted()
    func pctl(_ q: Double) -> Int { sorted[min(sorted.count - 1, Int(q * Double(sorted.count)))] }
    var rows: [[String]] = []
    for level in Sudoku.Difficulty.allCases {
      let n = guesses.filter { level.guesses.contains($0) }.count
      rows.append([level.rawValue, "\(n)", pct(Double(n) / Double(guesses.count))])
    }
    out(table(["level", "puzzles", "share"], rows))
    out(
      "\(guesses.count) puzzles, givens \(givens.min()!)–\(givens.max()!) (mean "
        + String(format: "%.1f", Double(givens.reduce(0, +)) / Double(givens.count))
        + "); guesses median \(pctl(0.5)), 90th percentile \(pctl(0.9)), max \(sorted.last!)")
    return 0
  }
}
