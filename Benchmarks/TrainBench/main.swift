// TrainBench: training and inference throughput of the TRM on 9×9-sudoku shapes, next to the
// PyTorch reference (../shared/bench/trm_torch.py, eager CPU, same thread count) in the same run.
//
//   swift run -c release TrainBench [--quick] [--no-torch] [--steps N] [--rounds R] [--profile]
//                                   [--mode train|infer] [--mixer mlp|attention] [--width D] [--threads N]
//                                   [--whole-batch] [--micro-batches K]
//                                   (the filters are for profiling one configuration)
//
// With N threads the batch is split N ways and the parts run side by side, one kernel thread
// each (training: `TrainingConfig.microBatches` = N; inference: N half batches, as `Evaluator`
// runs them) — the same computation, without a hand-off between threads inside every op.
// `--whole-batch` measures the other way: the whole batch, every op spread over the N threads.
// `--micro-batches K` splits the batch K ways instead (K/N parts per thread, one after another:
// smaller working sets, fewer trips to memory).
//
// Every figure is also given as a share of this machine's FMA peak, measured at start (a
// calibrated loop of independent FMAs), so runs on different machines compare. `--profile`
// prints, per configuration, where one step's time goes: each differentiable op (forward and
// backward), the phases outside the graph (optimizer, EMA, slots, scoring), and the rest.
//
// Unit: sample-steps/s = batch rows × supervision steps per second (inference: puzzles/s at 16
// supervision steps = that / 16). Last line: JSON with min_train_ratio_vs_torch and
// min_infer_ratio_vs_torch (worst ours/torch over the configurations; null without torch).
import Dispatch
import BenchmarkArguments
import Foundation
import TinyRecursion
import TRMKernels
import TRMTensor
import TRMTraining

setvbuf(stdout, nil, _IOLBF, 0)  // line-buffered, so progress shows up in logs
let args = BenchmarkArguments(
  program: "TrainBench",
  usage: """
    usage: swift run -c release TrainBench [--quick] [--no-torch] [--steps N] [--rounds R] [--profile]
                                           [--mode train|infer] [--mixer mlp|attention] [--width D] [--threads N]
                                           [--whole-batch] [--micro-batches K] [--debug-pool]
      the full run (no options) takes 35–45 min on 2 cores (--rounds 2: twice that); --quick drops the B = 256 rows
    """,
  flags: ["quick", "no-torch", "profile", "whole-batch", "debug-pool"],
  options: ["steps", "rounds", "mode", "mixer", "width", "threads", "micro-batches"])
let quick = args.has("quick")
let useTorch = !args.has("no-torch")
let timedSteps = args.int("steps") ?? 5
// `--rounds R`: each row measures ours and torch R times, alternating, and keeps the faster of
// each — this machine's speed drifts by tens of percent within minutes.
let rounds = args.int("rounds") ?? 1
let modes = args.choice("mode", ["train", "infer"]).map { [$0 == "train"] } ?? [true, false]
let threadCounts = args.int("threads").map { [$0] } ?? [1, 2]
let profiling = args.has("profile")
let wholeBatch = args.has("whole-batch")
let mixerFilter = args.choice("mixer", ["mlp", "attention"])
let widthFilter = args.int("width")
let microBatchesOption = args.int("micro-batches")
struct Setting { let mixer: TokenMixer; let width: Int; let batch: Int }
var settings = [
  Setting(mixer: .mlp, width: 128, batch: 64), Setting(mixer: .mlp, width: 256, batch: 64),
  Setting(mixer: .attention, width: 128, batch: 64),
]
if !quick { settings += [Setting(mixer: .mlp, width: 128, batch: 256), Setting(mixer: .mlp, width: 256, batch: 256)] }
if let m = mixerFilter { settings = settings.filter { $0.mixer.rawValue == m } }
if let w = widthFilter { settings = settings.filter { $0.width == w } }
if settings.isEmpty { args.fail("no row matches --mixer / --width (the rows: mlp D = 128 and 256, attention D = 128)") }

let peak = measuredFMAPeakGflops()
print(String(format: "measured FMA peak: %.1f GFLOP/s per core (ISA %@)", peak, "\(KernelISA.best)"))
// The same loop on both cores at once: the ceiling of a 2-thread step (% peak stays of the one-core figure).
let peakBothCores = measuredConcurrentFMAPeakGflops(threads: 2)
print(
  String(
    format: "measured FMA peak with 2 cores busy: %.1f GFLOP/s per core (%.0f%% of one core's)", peakBothCores,
    100 * peakBothCores / peak))

func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }
let widths = [6, 10, 5, 5, 4, 12, 15, 13, 8, 13, 16, 13, 7]

/// The profile of one configuration's timed steps, as a table (ms per step, share of the step).
func report(_ p: OpProfile, steps: Int, stepSeconds: Double, threads threadsNow: Int, label: String) {
  let per = 1000 / Double(steps)
  let step = stepSeconds * 1000
  print("  profile, \(label): \(String(format: "%.1f", step)) ms per step")
  print(
    "  "
      + ["op / phase", "calls", "fwd ms", "bwd ms", "share"].enumerated()
      .map { pad($1, [30, 7, 9, 9, 8][$0]) }.joined())
  for (name, e) in p.entries.sorted(by: { $0.value.total > $1.value.total }) {
    let row = [
      name, String(format: "%.1f", Double(e.calls) / Double(steps)), String(format: "%.2f", e.forwardSeconds * per),
      String(format: "%.2f", e.backwardSeconds * per), String(format: "%.1f%%", 100 * e.total * per / step),
    ]
    print("  " + row.enumerated().map { pad($1, [30, 7, 9, 9, 8][$0]) }.joined())
  }
  if !p.gemms.isEmpty {
    print("  " + ["GEMM (C[m×n] = op(A)[m×k]·op(B)[k×n])", "calls", "ms", "GFLOP/s", "% peak"].enumerated()
      .map { pad($1, [40, 7, 9, 9, 8][$0]) }.joined())
    for (key, e) in p.gemms.sorted(by: { $0.value.seconds > $1.value.seconds }) {
      let row = [
        key, String(format: "%.1f", Double(e.calls) / Double(steps)), String(format: "%.2f", e.seconds * per),
        String(format: "%.1f", e.gflops), String(format: "%.0f%%", 100 * e.gflops / (peak * Double(threadsNow))),
      ]
      print("  " + row.enumerated().map { pad($1, [40, 7, 9, 9, 8][$0]) }.joined())
    }
  }
  // The GEMM calls themselves, from the shape table (a SwiGLU epilogue runs inside its GEMM;
  // conv3x3's unfolding around its GEMMs counts as other here).
  let gemm = p.gemms.values.reduce(0) { $0 + $1.seconds } * per
  let timed = p.totalSeconds * per
  print(
    String(
      format: "  GEMM calls %.1f%%, other ops and phases %.1f%%, untimed (graph set-up, between steps) %.1f%%",
      100 * gemm / step, 100 * (timed - gemm) / step, 100 * max(0, step - timed) / step))
}

func config(_ s: Setting) -> ModelConfig {
  var c = ModelConfig(vocabSize: 11, sequenceLength: 81)
  c.width = s.width
  c.mixer = s.mixer
  c.heads = max(1, s.width / 64)  // head dim 64, as the reference
  c.swigluMultiple = 256  // reference rounding
  c.prefixLength = 1  // the halting head's position (the PyTorch script reads cell 0 instead)
  c.latentSteps = 6
  c.recursions = 3
  c.supervisionSteps = 16
  return c
}

final class Box<T>: @unchecked Sendable {
  var value: T
  init(_ value: T) { self.value = value }
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[s.count / 2] }

/// Median seconds per optimizer step (train) or per supervision step (infer).
func measureOurs(_ s: Setting, threads: Int, train: Bool) throws -> Double {
  let c = config(s)
  let model = try RecursiveModel(config: c, seed: 0)
  var rng = SplitMix64(seed: 1)
  let data = (0..<(s.batch * 4)).map { _ in
    Example(
      inputs: (0..<81).map { _ in Int32(1 + rng.nextInt(below: 10)) },
      targets: (0..<81).map { _ in Int32(2 + rng.nextInt(below: 9)) })
  }
  var times: [Double] = []
  if train {
    var tc = TrainingConfig()
    tc.batchSize = s.batch
    tc.threads = threads
    tc.microBatches = threads > 1 && !wholeBatch ? (microBatchesOption ?? threads) : nil
    tc.loss = .softmax
    tc.learningRate = 1e-4
    tc.weightDecay = 1.0
    let t = try Trainer(model: model, config: tc, data: data)
    for _ in 0..<2 { t.trainStep() }
    let profile = profiling ? OpProfile() : nil
    t.profile = profile
    for _ in 0..<timedSteps {
      let t0 = now(); t.trainStep(); times.append(now() - t0);
      if args.has("debug-pool") { print("pool floats", t.pool.floatsOwned) }
    }
    if let profile {
      report(
        profile, steps: timedSteps, stepSeconds: times.reduce(0, +) / Double(times.count), threads: threads,
        label: "train \(s.mixer.rawValue) D=\(s.width) B=\(s.batch) \(threads) thr")
    }
  } else {
    let parts = threads > 1 && !wholeBatch ? threads : 1
    let rows = splitRange(s.batch, chunks: parts)
    let tokens = rows.map { data[$0].flatMap(\.inputs) }
    let pools = rows.map { _ in BufferPool() }
    let carries = rows.map { Box(model.initialCarry(batch: $0.count)) }
    let profile = profiling ? OpProfile() : nil
    for i in 0..<(2 + timedSteps) {
      let t0 = now()
      parallelFor(rows.count, threads: threads) { p in
        let g = Graph(recording: false, threads: parts == 1 ? threads : 1, pool: pools[p])
        if i >= 2 && p == 0 { g.profile = profile }
        let o = model.step(g, tokens: tokens[p], carry: carries[p].value)
        carries[p].value = o.carry
        _ = argmax(o.logits.value, rows: rows[p].count * 81, vocab: 11)
      }
      if i >= 2 { times.append(now() - t0) }
    }
    if let profile {
      report(
        profile, steps: timedSteps, stepSeconds: times.reduce(0, +) / Double(times.count), threads: threads,
        label: "infer \(s.mixer.rawValue) D=\(s.width) B=\(s.batch) \(threads) thr")
    }
  }
  return median(times)
}

/// The PyTorch reference script, ../shared/bench/trm_torch.py.
let torchScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent()
  .deletingLastPathComponent().appendingPathComponent("shared/bench/trm_torch.py").path

/// Why the torch columns would stay empty (no script, no `python3` with torch), or nil when they will not.
func torchMissing() -> String? {
  guard FileManager.default.fileExists(atPath: torchScript) else { return "\(torchScript) is not there" }
  let p = Process()
  p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  p.arguments = ["python3", "-c", "import torch"]
  p.standardOutput = FileHandle.nullDevice
  p.standardError = FileHandle.nullDevice
  do { try p.run() } catch { return "python3 cannot be started" }
  p.waitUntilExit()
  return p.terminationStatus == 0 ? nil : "python3 cannot import torch (pip install \"torch==2.13.0+cpu\")"
}

/// The PyTorch reference's median step seconds, or nil when torch is unavailable.
func measureTorch(_ s: Setting, threads: Int, train: Bool) -> Double? {
  guard useTorch else { return nil }
  let script = torchScript
  guard FileManager.default.fileExists(atPath: script) else { return nil }
  let p = Process()
  p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  p.arguments = [
    "python3", script, "--variant", s.mixer == .mlp ? "mlp_t" : "attn", "--H", "\(s.width)", "--B", "\(s.batch)",
    "--threads", "\(threads)", "--mode", train ? "train" : "infer", "--steps", "\(timedSteps)", "--no-wait",
  ]
  let pipe = Pipe()
  p.standardOutput = pipe
  p.standardError = FileHandle.nullDevice
  do { try p.run() } catch { return nil }
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  p.waitUntilExit()
  guard p.terminationStatus == 0, let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
    let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
    let med = obj["step_s_median"] as? Double
  else { return nil }
  return med
}

// Said before the hour of measuring starts, not discovered in its empty columns.
if useTorch, let why = torchMissing() {
  args.fail("the PyTorch reference cannot run: \(why); --no-torch measures ours alone")
}

print(
  "TRM throughput, 9×9 sudoku shapes (L=81, V=11), n=6, T=3; ISA \(KernelISA.best); \(timedSteps) timed steps, median; "
    + (wholeBatch ? "whole batch, ops spread over the threads" : "batch split over the threads (micro-batches)")
    + (rounds > 1 ? "; ours and torch alternating \(rounds)× per row, the faster of each" : ""))
print(
  [
    "mode", "mixer", "D", "B", "thr", "ours s/step", "ours samp-st/s", "ours GFLOP/s", "% peak", "torch s/step",
    "torch samp-st/s", "torch % peak", "ratio",
  ].enumerated()
    .map { pad($1, widths[$0]) }.joined())
var worst: [Bool: Double] = [:]
var torchSeen = false
for train in modes {
  for s in settings {
    for threads in threadCounts {
      var ours = Double.infinity
      var torch: Double? = useTorch ? .infinity : nil
      for _ in 0..<rounds {
        ours = min(ours, try measureOurs(s, threads: threads, train: train))
        if let t = torch { torch = measureTorch(s, threads: threads, train: train).map { min(t, $0) } }
      }
      let model = try RecursiveModel(config: config(s), seed: 0)
      let flops = train ? model.trainFlopsPerExample() : model.forwardFlopsPerExample()
      let ratio = torch.map { $0 / ours }
      if let ratio { torchSeen = true; worst[train] = min(worst[train] ?? .infinity, ratio) }
      let B = Double(s.batch), machine = peak * Double(threads)
      let oursGflops: Double = B * flops / ours / 1e9
      let torchGflops: Double? = torch.map { B * flops / $0 / 1e9 }
      var row: [String] = [train ? "train" : "infer", s.mixer.rawValue, "\(s.width)", "\(s.batch)", "\(threads)"]
      row += [String(format: "%.3f", ours), String(format: "%.1f", B / ours), String(format: "%.1f", oursGflops)]
      row.append(String(format: "%.0f%%", 100 * oursGflops / machine))
      row.append(torch.map { String(format: "%.3f", $0) } ?? "-")
      row.append(torch.map { String(format: "%.1f", B / $0) } ?? "-")
      row.append(torchGflops.map { String(format: "%.0f%%", 100 * $0 / machine) } ?? "-")
      row.append(ratio.map { String(format: "%.2f", $0) } ?? "-")
      print(row.enumerated().map { pad($1, widths[$0]) }.joined())
    }
  }
}
func js(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "null" }
print(
  "{\"isa\":\"\(KernelISA.best)\",\"fma_peak_gflops\":" + String(format: "%.1f", peak)
    + ",\"min_train_ratio_vs_torch\":\(torchSeen ? js(worst[true]) : "null")"
    + ",\"min_infer_ratio_vs_torch\":\(torchSeen ? js(worst[false]) : "null")}"
)
