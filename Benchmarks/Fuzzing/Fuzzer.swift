import Dispatch
import Foundation
import TRMModel
import TRMRandom
import TRMTensor
import TRMTraining
import TinyRecursion

/// Fuzzing the two doors untrusted bytes come in by: puzzle lines (random and mutated) and
/// checkpoints (mutated bytes, truncations, edited header and metadata JSON). A case passes when
/// it returns — with a value or a thrown error — within `slowCase` seconds; a crash ends the
/// process, so a finished run with `slowest < slowCase` is the result. Used by `swift run -c
/// release Fuzz` (long runs) and by the tests (a bounded slice in CI).
public enum Fuzzer {
  public struct Report: CustomStringConvertible, Sendable {
    public var cases = 0
    public var accepted = 0
    public var rejected = 0
    public var slowest = 0.0
    public var description: String {
      String(
        format: "%d cases: %d accepted, %d rejected with an error, slowest %.3f s", cases, accepted, rejected, slowest)
    }
  }

  static let alphabet = Array("0123456789..##SGo +*=,\r\t\u{FEFF}-x\"é\n")

  /// A random line: noise, or a mutation of a real line (replace, insert, delete, duplicate).
  static func line(_ rng: inout SplitMix64, corpus: [String]) -> String {
    if corpus.isEmpty || rng.nextInt(below: 4) == 0 {
      let lengths = [0, 1, 3, 16, 17, 25, 36, 49, 81, 82, 121, rng.nextInt(below: 200)]
      let n = lengths[rng.nextInt(below: lengths.count)]
      return String((0..<n).map { _ in alphabet[rng.nextInt(below: alphabet.count)] })
    }
    var chars = Array(corpus[rng.nextInt(below: corpus.count)])
    for _ in 0..<(1 + rng.nextInt(below: 4)) {
      let i = chars.isEmpty ? 0 : rng.nextInt(below: chars.count)
      let c = alphabet[rng.nextInt(below: alphabet.count)]
      switch rng.nextInt(below: 4) {
      case 0: if !chars.isEmpty { chars[i] = c }
      case 1: chars.insert(c, at: i)
      case 2: if !chars.isEmpty { chars.remove(at: i) }
      default: if !chars.isEmpty { chars += chars[i...].prefix(1 + rng.nextInt(below: 10)) }
      }
    }
    return String(chars)
  }

  /// Parses `count` fuzzed lines under every task setting, and drives every puzzle that parses
  /// through verification, keys, layouts, encoding and decoding of random predicted tokens.
  public static func fuzzLines(count: Int, seed: UInt64, corpus: [String]) -> Report {
    var rng = SplitMix64(seed: seed)
    var r = Report()
    for _ in 0..<count {
      let text = line(&rng, corpus: corpus)
      let t0 = DispatchTime.now().uptimeNanoseconds
      r.cases += 1
      var ok = false
      for task in [nil, TaskKind.sudoku, .maze, .arithmetic] {
        do {
          let set = try PuzzleSet.parse(text, task: task, source: "fuzz")
          ok = true
          for p in set.puzzles {
            _ = p.verifyStatedSolution()
            _ = p.variantKey
            _ = p.randomVariant(rng: &rng)
            guard let layout = try? TaskLayout.infer(from: set) else { continue }
            _ = try? layout.example(p)
            let tokens = (0..<layout.sequenceLength).map { _ in Int32(rng.nextInt(below: layout.vocabularySize + 2)) - 1
            }
            _ = layout.answer(for: p, tokens: tokens)
          }
        } catch {}
      }
      if ok { r.accepted += 1 } else { r.rejected += 1 }
      r.slowest = max(r.slowest, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    return r
  }

  /// A small real checkpoint (a trainer after two steps on 4×4 sudoku) and its training data.
  public static func seedCheckpoint() throws -> (bytes: Data, data: [Example]) {
    var o = GeneratorOptions()
    o.sudokuGivens = 8
    let set = PuzzleSet.generate(task: .sudoku, count: 16, seed: 5, options: o)
    var setup = try TrainingSetup(puzzles: set, preset: "tiny")
    setup.training.batchSize = 4
    let trainer = try setup.makeTrainer(train: set.puzzles)
    trainer.trainStep()
    trainer.trainStep()
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "fuzz-seed-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try Checkpoint.save(
      trainer: trainer, annotations: .init(task: try setup.layout.checkpointJSON(), elapsedSeconds: 1),
      to: url)
    return (try Data(contentsOf: url), try set.puzzles.map { try setup.layout.example($0) })
  }

  static let extremes: [Any] = [
    -1, 0, 1, 3, 1 << 31, 1 << 62, -(1 << 62), 1e300, -1e-300, "x", "", [Int](), [1 << 40, 1 << 40],
    NSNull(), true, [String: Int](),
  ]

  /// Replaces a random value (or renames a random key) somewhere inside a JSON object.
  static func mutateJSON(_ obj: inout [String: Any], _ rng: inout SplitMix64, depth: Int = 0) {
    guard !obj.isEmpty else { return }
    let keys = obj.keys.sorted()
    let k = keys[rng.nextInt(below: keys.count)]
    if var inner = obj[k] as? [String: Any], depth < 3, rng.nextInt(below: 2) == 0 {
      mutateJSON(&inner, &rng, depth: depth + 1)
      obj[k] = inner
    } else if var arr = obj[k] as? [Any], !arr.isEmpty, rng.nextInt(below: 2) == 0 {
      switch rng.nextInt(below: 3) {
      case 0: arr.removeLast(1 + rng.nextInt(below: arr.count))
      case 1: arr[rng.nextInt(below: arr.count)] = extremes[rng.nextInt(below: extremes.count)]
      default: arr.append(arr[0])
      }
      obj[k] = arr
    } else if let s = obj[k] as? String, let json = s.data(using: .utf8),
      var inner = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any], rng.nextInt(below: 4) != 0
    {
      mutateJSON(&inner, &rng, depth: depth + 1)
      obj[k] = (try? JSONSerialization.data(withJSONObject: inner)).map { String(decoding: $0, as: UTF8.self) } ?? s
    } else if rng.nextInt(below: 5) == 0 {
      obj[k + "x"] = obj.removeValue(forKey: k)
    } else {
      obj[k] = extremes[rng.nextInt(below: extremes.count)]
    }
  }

  static func mutate(_ bytes: Data, _ rng: inout SplitMix64) -> Data {
    var b = bytes
    let n = Int(b.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
    switch rng.nextInt(below: 4) {
    case 0:  // flip bytes, mostly in the header
      for _ in 0..<(1 + rng.nextInt(below: 8)) {
        let i = rng.nextInt(below: 2) == 0 ? rng.nextInt(below: min(b.count, 8 + n)) : rng.nextInt(below: b.count)
        b[i] ^= UInt8(1 + rng.nextInt(below: 255))
      }
      return b
    case 1:  // truncate
      return b.prefix(rng.nextInt(below: b.count))
    default:  // edit the header JSON (tensor entries, metadata, the JSON inside metadata)
      guard n > 0, 8 + n <= b.count,
        var header = (try? JSONSerialization.jsonObject(with: b.subdata(in: 8..<(8 + n)))) as? [String: Any]
      else { return b }
      for _ in 0..<(1 + rng.nextInt(below: 3)) { mutateJSON(&header, &rng) }
      guard let json = try? JSONSerialization.data(withJSONObject: header) else { return b }
      var out = Data()
      var len = UInt64(json.count).littleEndian
      withUnsafeBytes(of: &len) { out.append(contentsOf: $0) }
      out.append(json)
      out.append(b.subdata(in: (8 + n)..<b.count))
      return out
    }
  }

  /// Loads `count` mutated checkpoints as a model, a task layout and a trainer (and, for some
  /// that load, runs a training step and a solve).
  public static func fuzzCheckpoints(count: Int, seed: UInt64) throws -> Report {
    let (bytes, data) = try seedCheckpoint()
    var rng = SplitMix64(seed: seed)
    var r = Report()
    for i in 0..<count {
      let mutated = mutate(bytes, &rng)
      let t0 = DispatchTime.now().uptimeNanoseconds
      r.cases += 1
      do {
        let c = try Checkpoint.read(data: mutated, source: "fuzz")
        let model = try c.model()
        let layout = try c.taskLayout()
        let trainer = try c.trainer(data: data, threads: 1)
        if i % 16 == 0 {
          trainer.trainStep()
          _ = try Reasoner(model: model, layout: layout).solve("1.3.....2......1", supervisionSteps: 2)
        }
        r.accepted += 1
      } catch {
        r.rejected += 1
      }
      r.slowest = max(r.slowest, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    return r
  }

  /// Real lines to mutate: the first lines of every shipped suite (and `../shared/data` files).
  public static func corpus(root: URL) -> [String] {
    var lines: [String] = []
    for dir in [
      root.appendingPathComponent("Puzzles"), root.deletingLastPathComponent().appendingPathComponent("shared/data"),
    ] {
      guard let walk = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil) else { continue }
      for case let url as URL in walk where ["txt", "csv"].contains(url.pathExtension) {
        guard let h = FileHandle(forReadingAtPath: url.path) else { continue }
        let head = String(decoding: h.readData(ofLength: 1 << 15), as: UTF8.self)
        try? h.close()
        lines += head.split(separator: "\n").dropLast().prefix(20).map(String.init)
      }
    }
    return lines
  }
}
