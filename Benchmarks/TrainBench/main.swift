// TrainBench: training and inference throughput of the TRM on 9×9-sudoku shapes, next to the
// PyTorch reference (../shared/bench/trm_torch.py, eager CPU, same thread count) in the same run.
//
//   swift run -c release TrainBench [--quick] [--no-torch] [--steps N]
//                                   [--mode train|infer] [--mixer mlp|attention] [--threads N]
//                                   (the filters are for profiling one configuration)
//
// Unit: sample-steps/s = batch rows × supervision steps per second (inference: puzzles/s at 16
// supervision steps = that / 16). Last line: JSON with min_train_ratio_vs_torch and
// min_infer_ratio_vs_torch (worst ours/torch over the configurations; null without torch).
import Dispatch
import Foundation
import TinyRecursion
import TRMKernels
import TRMTensor
import TRMTraining

setvbuf(stdout, nil, _IOLBF, 0)  // line-buffered, so progress shows up in logs
let args = CommandLine.arguments
let quick = args.contains("--quick")
let useTorch = !args.contains("--no-torch")
func option(_ name: String) -> String? {
  args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil }
}
let timedSteps = option("--steps").flatMap { Int($0) } ?? 5
let modes = option("--mode").map { [$0 == "train"] } ?? [true, false]
let threadCounts = option("--threads").flatMap { Int($0) }.map { [$0] } ?? [1, 2]

struct Setting { let mixer: TokenMixer; let width: Int; let batch: Int }
var settings = [
  Setting(mixer: .mlp, width: 128, batch: 64), Setting(mixer: .mlp, width: 256, batch: 64),
  Setting(mixer: .attention, width: 128, batch: 64),
]
if !quick { settings += [Setting(mixer: .mlp, width: 128, batch: 256), Setting(mixer: .mlp, width: 256, batch: 256)] }
if let m = option("--mixer") { settings = settings.filter { $0.mixer.rawValue == m } }

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
    tc.loss = .softmax
    tc.learningRate = 1e-4
    tc.weightDecay = 1.0
    let t = try Trainer(model: model, config: tc, data: data)
    for _ in 0..<2 { t.trainStep() }
    for _ in 0..<timedSteps {
      let t0 = now(); t.trainStep(); times.append(now() - t0);
      if args.contains("--debug-pool") { print("pool floats", t.pool.floatsOwned) }
    }
  } else {
    let tokens = data.prefix(s.batch).flatMap(\.inputs)
    let pool = BufferPool()
    var carry = model.initialCarry(batch: s.batch)
    for i in 0..<(2 + timedSteps) {
      let t0 = now()
      let g = Graph(recording: false, threads: threads, pool: pool)
      let o = model.step(g, tokens: tokens, carry: carry)
      carry = o.carry
      _ = argmax(o.logits.value, rows: s.batch * 81, vocab: 11)
      if i >= 2 { times.append(now() - t0) }
    }
  }
  return median(times)
}

/// The PyTorch reference's median step seconds, or nil when torch is unavailable.
func measureTorch(_ s: Setting, threads: Int, train: Bool) -> Double? {
  guard useTorch else { return nil }
  let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("shared/bench/trm_torch.py").path
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

func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }

print(
  "TRM throughput, 9×9 sudoku shapes (L=81, V=11), n=6, T=3; ISA \(KernelISA.best); \(timedSteps) timed steps, median")
print(
  [
    "mode", "mixer", "D", "B", "thr", "ours s/step", "ours samp-st/s", "ours GFLOP/s", "torch s/step",
    "torch samp-st/s", "ratio",
  ].enumerated()
    .map { pad($1, [6, 10, 5, 5, 4, 12, 15, 13, 13, 16, 7][$0]) }.joined())
var worst: [Bool: Double] = [:]
var torchSeen = false
for train in modes {
  for s in settings {
    for threads in threadCounts {
      let ours = try measureOurs(s, threads: threads, train: train)
      let model = try RecursiveModel(config: config(s), seed: 0)
      let flops = train ? model.trainFlopsPerExample() : model.forwardFlopsPerExample()
      let torch = measureTorch(s, threads: threads, train: train)
      let ratio = torch.map { $0 / ours }
      if let ratio { torchSeen = true; worst[train] = min(worst[train] ?? .infinity, ratio) }
      let row = [
        train ? "train" : "infer", s.mixer.rawValue, "\(s.width)", "\(s.batch)", "\(threads)",
        String(format: "%.3f", ours), String(format: "%.1f", Double(s.batch) / ours),
        String(format: "%.1f", Double(s.batch) * flops / ours / 1e9),
        torch.map { String(format: "%.3f", $0) } ?? "-",
        torch.map { String(format: "%.1f", Double(s.batch) / $0) } ?? "-",
        ratio.map { String(format: "%.2f", $0) } ?? "-",
      ]
      print(row.enumerated().map { pad($1, [6, 10, 5, 5, 4, 12, 15, 13, 13, 16, 7][$0]) }.joined())
    }
  }
}
func js(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "null" }
print(
  "{\"isa\":\"\(KernelISA.best)\",\"min_train_ratio_vs_torch\":\(torchSeen ? js(worst[true]) : "null")"
    + ",\"min_infer_ratio_vs_torch\":\(torchSeen ? js(worst[false]) : "null")}"
)
