import Foundation
import TinyRecursion

extension CommandLineTool {
  /// `trm sweep`: accuracy vs. test-time supervision steps (and n, T) for one or more files, as
  /// sweep.csv and sweep.svg. The model is loaded once; every point only changes the run-time
  /// recursion budget.
  static func sweep(_ args: [String]) throws -> Int32 {
    let a = try Arguments(
      args, command: "sweep", flags: ["halt", "until-stable"],
      options: ["checkpoint", "data", "supervision-steps", "latent-steps", "recursions", "baseline", "out", "threads"],
      aliases: ["steps": "supervision-steps"])
    let trained = try Reasoner(checkpoint: URL(fileURLWithPath: try a.required("checkpoint")), threads: try threads(a))
    let halt = try scoringStop(a, trained)
    // Several files (e.g. 15×15, 31×31, 59×59 mazes): one curve per file in the same chart.
    let paths = try a.required("data").split(separator: ",").map(String.init)
    let suites = try paths.map { path -> (PuzzleSet, Reasoner) in
      let set = try loadSet(path, task: trained.layout.task)
      let r = try trained.adapted(to: TaskLayout.infer(from: set))
      if r.layout != trained.layout {
        out("extrapolating: model trained on \(trained.layout.summary), evaluated on \(r.layout.summary) (\(path))")
      }
      return (set, r)
    }
    let trainedBudget = trained.model.config.budget
    let ks = try a.intList("supervision-steps", max: 1024) ?? [1, 2, 4, 8, 16, 32]
    let ns = try a.intList("latent-steps", max: 256) ?? [trainedBudget.latentSteps]
    let ts = try a.intList("recursions", max: 256) ?? [trainedBudget.recursions]
    let dir = try a.required("out")
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var csv =
      "data,latent_steps,recursions,supervision_steps,effective_depth,exact_accuracy,verified_accuracy,cell_accuracy"
      + ",mean_steps\n"
    var series: [LineChart.Series] = []
    let colors = ["#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#e377c2", "#7f7f7f"]
    for (path, (set, r)) in zip(paths, suites) {
      for n in ns {
        for t in ts {
          r.budget.latentSteps = n
          r.budget.recursions = t
          var pts: [(x: Double, y: Double)] = []
          for k in ks {
            let sc = try r.score(set.puzzles, supervisionSteps: k, halt: halt)
            // Effective depth: network blocks applied per answer = K · T · (n + 1) · blocks.
            let depth = k * t * (n + 1) * r.model.config.blocks
            csv +=
              "\(path),\(n),\(t),\(k),\(depth),\(sc.exactAccuracy),\(sc.verifiedAccuracy),\(sc.cellAccuracy)"
              + ",\(sc.meanSupervisionSteps)\n"
            pts.append((Double(k), sc.verifiedAccuracy))
            out(
              "\(r.layout.summary) n=\(n) T=\(t) steps \(k) (depth \(depth)): exact \(pct(sc.exactAccuracy)) "
                + "verified \(pct(sc.verifiedAccuracy)) cells \(pct(sc.cellAccuracy)) mean steps "
                + "\(String(format: "%.2f", sc.meanSupervisionSteps))"
            )
          }
          var label = ns.count * ts.count == 1 ? "TRM" : "TRM n=\(n) T=\(t)"
          if paths.count > 1 { label += " \(r.layout.summary)" }
          series.append(.init(name: label, points: pts, color: colors[series.count % colors.count]))
        }
      }
    }
    var refs: [LineChart.Reference] = []
    if let b = a.string("baseline") {
      let baseline = try Reasoner(checkpoint: URL(fileURLWithPath: b), threads: trained.threads)
      for (set, r) in suites {
        let sc = try baseline.adapted(to: r.layout).score(set.puzzles, supervisionSteps: 1)
        let name = "baseline\(suites.count > 1 ? " " + r.layout.summary : "") \(pct(sc.verifiedAccuracy))"
        refs.append(.init(name: name, y: sc.verifiedAccuracy, color: "#d62728"))
        out("\(name): exact \(pct(sc.exactAccuracy)) verified \(pct(sc.verifiedAccuracy))")
      }
    }
    try csv.write(toFile: dir + "/sweep.csv", atomically: true, encoding: .utf8)
    let chart = LineChart(
      title: "TRM trained on \(trained.layout.summary): verified accuracy vs. supervision steps",
      xLabel: "supervision steps K (log scale; trained with N_sup = \(trainedBudget.supervisionSteps))",
      yLabel: "verified accuracy", series: series, references: refs)
    try chart.svg().write(toFile: dir + "/sweep.svg", atomically: true, encoding: .utf8)
    out("wrote \(dir)/sweep.csv and \(dir)/sweep.svg")
    return 0
  }
}
