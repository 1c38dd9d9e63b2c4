import Foundation
import TinyRecursion

extension CommandLineTool {
  /// `trm chart --evals DIR`: verified test-time search at a glance, from the `trm eval --attempts K
  /// --json` files of a directory. Reads every `eval-NAME-attemptsK.json` (the baseline's
  /// `eval-baseline-*` files are left out) and draws, one curve per NAME, the verified accuracy and
  /// the forward GFLOP per solved puzzle against the attempt cap K, side by side in one SVG.
  static func chart(_ args: [String]) throws -> Int32 {
    let a = try Arguments(args, command: "chart", flags: [], options: ["evals", "steps-per-view", "out"])
    let dir = try a.required("evals")
    // Views used = mean supervision steps / the steps one view runs (the model's N_sup).
    let stepsPerView = try a.double("steps-per-view", default: 8, min: 1, max: 1024)
    let files: [String]
    do { files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted() } catch {
      throw UsageError("cannot read the directory \(dir): \(error.localizedDescription)")
    }
    var runs: [String: [(attempts: Int, score: SuiteScore)]] = [:]
    for file in files {
      guard let (name, attempts) = evalFileName(file) else { continue }
      let path = (dir as NSString).appendingPathComponent(file)
      do {
        let score = try JSONDecoder().decode(SuiteScore.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        runs[name, default: []].append((attempts, score))
      } catch {
        throw UsageError("\(path): not the JSON of `trm eval --json` (\(error.localizedDescription))")
      }
    }
    guard !runs.isEmpty else {
      throw UsageError("no eval-NAME-attemptsK.json files in \(dir) (write them with trm eval --attempts K --json)")
    }
    let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
    var accuracy: [LineChart.Series] = [], cost: [LineChart.Series] = []
    var rows: [[String]] = []
    for (i, name) in runs.keys.sorted().enumerated() {
      let points = runs[name]!.sorted { $0.attempts < $1.attempts }
      let color = colors[i % colors.count]
      accuracy.append(
        .init(
          name: name, points: points.map { (Double($0.attempts), $0.score.verifiedAccuracy) }, color: color,
          labels: points.map { pct($0.score.verifiedAccuracy) }))
      let solved = points.filter { $0.score.flopsPerSolved != nil }  // nothing solved: no cost
      cost.append(
        .init(
          name: name, points: solved.map { (Double($0.attempts), $0.score.flopsPerSolved! / 1e9) }, color: color,
          labels: solved.map { String(format: "%.2f views", $0.score.meanSupervisionSteps / stepsPerView) }))
      for p in points {
        rows.append([
          name, "\(p.attempts)", pct(p.score.verifiedAccuracy),
          String(format: "%.2f", p.score.meanSupervisionSteps / stepsPerView),
          p.score.flopsPerSolved.map { String(format: "%.4g", $0 / 1e9) } ?? "-",
        ])
      }
    }
    let xLabel = "attempt cap K (views; log scale)"
    let left = LineChart(
      title: "Verified test-time search: accuracy", xLabel: xLabel, yLabel: "verified accuracy", series: accuracy)
    var right = LineChart(
      title: "Forward cost per solved puzzle", xLabel: xLabel, yLabel: "GFLOP per solved puzzle", series: cost)
    right.percentY = false
    right.yRange = 0...max(1e-9, 1.1 * (cost.flatMap { $0.points.map(\.y) }.max() ?? 1))
    let path = a.string("out") ?? (dir as NSString).appendingPathComponent("attempts.svg")
    do { try LineChart.sideBySide([left, right]).write(toFile: path, atomically: true, encoding: .utf8) } catch {
      throw UsageError("cannot write \(path): \(error.localizedDescription)")
    }
    out(table(["file", "attempts", "verified", "views used", "GFLOP/solved"], rows))
    out("wrote \(path)")
    return 0
  }

  /// ("NAME", K) for `eval-NAME-attemptsK.json`, nil for other files and the baseline's.
  static func evalFileName(_ file: String) -> (String, Int)? {
    guard file.hasPrefix("eval-"), !file.hasPrefix("eval-baseline-"), file.hasSuffix(".json") else { return nil }
    let stem = file.dropFirst("eval-".count).dropLast(".json".count)
    guard let mark = stem.range(of: "-attempts", options: .backwards), let k = Int(stem[mark.upperBound...]), k > 0
    else { return nil }
    let name = String(stem[..<mark.lowerBound])
    return name.isEmpty ? nil : (name, k)
  }
}
