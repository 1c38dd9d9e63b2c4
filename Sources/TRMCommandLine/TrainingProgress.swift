import Dispatch
import Foundation
import TinyRecursion

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The run being trained, so Ctrl-C can ask it to stop and checkpoint. A signal handler cannot
/// capture context, hence this one global; it is set only while `runTraining` runs.
nonisolated(unsafe) private var activeRun: TrainingRun?

extension CommandLineTool {
  static func installInterruptHandler() {
    signal(SIGINT) { _ in
      if let r = activeRun, !r.stopRequested { r.stopRequested = true } else { exit(130) }
    }
  }

  /// Trains with progress output (a live line on a terminal, a line every 10 s otherwise, with
  /// ETA); Ctrl-C stops after the current step and saves a checkpoint. Returns wall seconds.
  static func runTraining(_ run: TrainingRun, label: String) throws -> Double {
    activeRun = run
    installInterruptHandler()
    defer { activeRun = nil }
    let progress = ProgressLine(lastShown: -1)
    let total = run.trainer.config.optimizerSteps, startStep = run.trainer.step
    var lastExact: Double? = nil, estimated = false
    var afterFirst: Double? = nil
    let secs = try run.run(
      onStep: { m, _ in
        if let e = m.haltedExactAccuracy { lastExact = e }
        let wall = progress.elapsed
        let done = m.step - startStep
        // A measured estimate for this machine, from steps 2…6 (the first step warms up the
        // buffer pool), so a preset's "≤ N min" reads in this machine's minutes.
        if done == 1 { afterFirst = wall }
        if done == 6, let a = afterFirst, !estimated, total - m.step > 0 {
          estimated = true
          let perStep = (wall - a) / 5
          let line =
            "time estimate on this machine: \(formatDuration(perStep * Double(total - startStep))) for "
            + "\(total - startStep) optimizer steps (\(String(format: "%.3f", perStep)) s per step, measured on "
            + "steps 2–6; validation adds to it)"
          progress.end()
          err(line)
        }
        let rate = Double(done * run.trainer.config.batchSize) / max(wall, 1e-9)
        let eta = wall / Double(max(done, 1)) * Double(total - m.step)
        progress.show(
          String(
            format: "%@ step %d/%d  %.0f ex/s  loss %.4f  train exact %@  ETA %@", label, m.step, total,
            rate, m.loss, lastExact.map { pct($0) } ?? "-", formatDuration(eta)),
          force: m.step == total)
      },
      onRecord: { rec in
        if let v = rec.validation {
          progress.end()
          err(
            "\(label) step \(rec.step): validation exact \(pct(v.exactAccuracy)), verified \(pct(v.verifiedAccuracy)), "
              + "cells \(pct(v.cellAccuracy)) on \(v.count)")
        }
      })
    progress.end()
    if run.stopRequested {
      err("interrupted: checkpoint saved to \(run.checkpointURL.path); continue with --resume \(run.directory.path)")
    }
    return secs
  }

  static func formatDuration(_ s: Double) -> String {
    guard s.isFinite else { return "?" }
    let t = Int(s.rounded())
    if t >= 3600 { return "\(t / 3600)h\(String(format: "%02d", t / 60 % 60))m" }
    return t >= 60 ? "\(t / 60)m\(String(format: "%02d", t % 60))s" : "\(t)s"
  }
}
