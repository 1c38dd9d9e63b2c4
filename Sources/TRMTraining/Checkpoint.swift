import Foundation
import TRMModel
import TRMRandom
import TRMTensor

/// Saving and loading models and full training state as safetensors.
///
/// Keys: parameters under their dotted names (`net.blocks.0.mlp.gateUp.weight`), the fixed
/// init vectors as `buffers.yInit` / `buffers.zInit`, and with training state `ema.<name>`,
/// `optim.m.<name>`, `optim.v.<name>`, `carry.y`, `carry.z`. `__metadata__` holds
/// `format` = `tinyrecursion`, `version`, the model config (JSON), and the training config and
/// loop state (JSON) so that `resume` continues bit for bit.
public enum Checkpoint {
  public static let format = "tinyrecursion"
  public static let version = "1"

  struct LoopState: Codable {
    var step: Int
    var optimizerSteps: Int
    var rngState: UInt64
    var order: [Int]
    var cursor: Int
    var slotExample: [Int]
    var slotInputs: [[Int32]]
    var slotTargets: [[Int32]]
    var slotSteps: [Int]
    var halted: [Bool]
  }

  static func modelTensors(_ model: RecursiveModel) -> [String: Tensor] {
    var t: [String: Tensor] = [:]
    for p in model.parameters { t[p.name] = p.value }
    t["buffers.yInit"] = model.yInit
    t["buffers.zInit"] = model.zInit
    return t
  }

  static func encodeJSON<T: Encodable>(_ v: T) throws -> String {
    let enc = JSONEncoder()
    enc.outputFormatting = [.sortedKeys]
    return String(decoding: try enc.encode(v), as: UTF8.self)
  }

  /// Saves a model alone (for inference). With `ema`, the EMA weights are also stored and
  /// `load(…, preferEMA: true)` returns them.
  public static func save(model: RecursiveModel, ema: EMA? = nil, extraMetadata: [String: String] = [:], to url: URL) throws {
    var st = SafeTensors(tensors: modelTensors(model))
    if let ema { for (k, v) in ema.shadow { st.tensors["ema." + k] = v } }
    st.metadata = extraMetadata
    st.metadata["format"] = format
    st.metadata["version"] = version
    st.metadata["model"] = try encodeJSON(model.config)
    try st.write(to: url)
  }

  /// Saves everything needed to resume training exactly.
  public static func save(trainer t: Trainer, extraMetadata: [String: String] = [:], to url: URL) throws {
    var st = SafeTensors(tensors: modelTensors(t.model))
    for (k, v) in t.ema.shadow { st.tensors["ema." + k] = v }
    for (k, v) in t.optimizer.m { st.tensors["optim.m." + k] = v }
    for (k, v) in t.optimizer.v { st.tensors["optim.v." + k] = v }
    st.tensors["carry.y"] = t.carry.y
    st.tensors["carry.z"] = t.carry.z
    st.metadata = extraMetadata
    st.metadata["format"] = format
    st.metadata["version"] = version
    st.metadata["model"] = try encodeJSON(t.model.config)
    st.metadata["training"] = try encodeJSON(t.config)
    st.metadata["loop"] = try encodeJSON(LoopState(
      step: t.step, optimizerSteps: t.optimizer.stepCount, rngState: t.rng.state, order: t.order, cursor: t.cursor,
      slotExample: t.slotExample, slotInputs: t.slotData.map(\.inputs), slotTargets: t.slotData.map(\.targets),
      slotSteps: t.slotSteps, halted: t.halted))
    try st.write(to: url)
  }

  /// Reads and validates the container and model config.
  static func open(_ url: URL) throws -> (SafeTensors, ModelConfig) {
    let st = try SafeTensors(contentsOf: url)
    guard st.metadata["format"] == format else {
      throw ModelError.checkpoint("\(url.path): not a TinyRecursion checkpoint (metadata format is \(st.metadata["format"].map { "'\($0)'" } ?? "missing"))")
    }
    guard st.metadata["version"] == version else {
      throw ModelError.checkpoint("\(url.path): checkpoint version \(st.metadata["version"] ?? "?") is not supported (this build reads version \(version))")
    }
    guard let json = st.metadata["model"], let config = try? JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8)) else {
      throw ModelError.checkpoint("\(url.path): model configuration missing or unreadable")
    }
    return (st, config)
  }

  /// Copies tensors into the model's parameters, checking names and shapes.
  static func assign(_ st: SafeTensors, to model: RecursiveModel, prefix: String, source: String) throws {
    for p in model.parameters {
      guard let t = st.tensors[prefix + p.name] else { throw ModelError.checkpoint("\(source): tensor '\(prefix + p.name)' is missing") }
      guard t.shape == p.shape else {
        throw ModelError.checkpoint("\(source): tensor '\(prefix + p.name)' has shape \(t.shape), the model expects \(p.shape)")
      }
      guard t.scalars.allSatisfy({ $0.isFinite }) else { throw ModelError.checkpoint("\(source): tensor '\(prefix + p.name)' contains NaN or infinity") }
      p.value = t
    }
  }

  /// Loads a model. With `preferEMA` and EMA weights present, the parameters are the EMA
  /// weights (what evaluation should use).
  public static func loadModel(from url: URL, preferEMA: Bool = true) throws -> RecursiveModel {
    let (st, config) = try open(url)
    let model = try RecursiveModel(config: config, seed: 0)
    let useEMA = preferEMA && st.tensors.keys.contains { $0.hasPrefix("ema.") }
    try assign(st, to: model, prefix: useEMA ? "ema." : "", source: url.path)
    guard let y = st.tensors["buffers.yInit"], let z = st.tensors["buffers.zInit"] else {
      throw ModelError.checkpoint("\(url.path): buffers.yInit / buffers.zInit missing")
    }
    try model.setInits(y: y, z: z)
    return model
  }

  /// Metadata stored with a checkpoint (task description, etc.).
  public static func metadata(of url: URL) throws -> [String: String] { try open(url).0.metadata }

  /// Rebuilds a trainer from a checkpoint written by `save(trainer:)`, on the same data.
  /// `steps` replaces the run's total number of optimizer steps (to train longer, or stop
  /// earlier); the learning-rate schedule then spans the new total.
  public static func resumeTrainer(from url: URL, data: [Example], threads: Int? = nil, steps: Int? = nil) throws -> Trainer {
    let (st, config) = try open(url)
    let src = url.path
    guard let tj = st.metadata["training"], var tc = try? JSONDecoder().decode(TrainingConfig.self, from: Data(tj.utf8)),
          let lj = st.metadata["loop"], let loop = try? JSONDecoder().decode(LoopState.self, from: Data(lj.utf8))
    else { throw ModelError.checkpoint("\(src): no training state (was it saved with save(model:)?)") }
    if let threads { tc.threads = threads }
    if let steps {
      guard steps >= loop.step else { throw ModelError.invalidConfig("--steps \(steps) is below the \(loop.step) steps this run has done") }
      tc.steps = steps
    }
    let model = try RecursiveModel(config: config, seed: 0)
    try assign(st, to: model, prefix: "", source: src)
    guard let y = st.tensors["buffers.yInit"], let z = st.tensors["buffers.zInit"] else { throw ModelError.checkpoint("\(src): buffers missing") }
    try model.setInits(y: y, z: z)
    let t = try Trainer(model: model, config: tc, data: data)
    var ema: [String: Tensor] = [:], m: [String: Tensor] = [:], v: [String: Tensor] = [:]
    for p in model.parameters {
      guard let e = st.tensors["ema." + p.name], e.shape == p.shape else { throw ModelError.checkpoint("\(src): ema.\(p.name) missing or misshapen") }
      ema[p.name] = e
      if loop.optimizerSteps > 0 {
        guard let mm = st.tensors["optim.m." + p.name], let vv = st.tensors["optim.v." + p.name], mm.shape == p.shape, vv.shape == p.shape
        else { throw ModelError.checkpoint("\(src): optimizer moments for \(p.name) missing or misshapen") }
        m[p.name] = mm
        v[p.name] = vv
      }
    }
    t.ema.restore(ema)
    t.optimizer.restore(stepCount: loop.optimizerSteps, m: m, v: v)
    guard loop.slotExample.count == tc.batchSize, loop.order.allSatisfy({ $0 >= 0 && $0 < data.count }),
          loop.slotExample.allSatisfy({ $0 >= -1 && $0 < data.count })
    else { throw ModelError.checkpoint("\(src): training state does not match this data set (\(data.count) examples)") }
    guard let cy = st.tensors["carry.y"], let cz = st.tensors["carry.z"], cy.shape == t.carry.y.shape, cz.shape == t.carry.z.shape
    else { throw ModelError.checkpoint("\(src): carry missing or misshapen") }
    t.step = loop.step
    t.rng = SplitMix64(seed: loop.rngState)
    t.order = loop.order
    t.cursor = loop.cursor
    t.slotExample = loop.slotExample
    let L = config.sequenceLength
    guard loop.slotInputs.count == tc.batchSize, loop.slotTargets.count == tc.batchSize,
          loop.slotInputs.allSatisfy({ $0.count == L }), loop.slotTargets.allSatisfy({ $0.count == L })
    else { throw ModelError.checkpoint("\(src): slot contents missing or misshapen") }
    t.slotData = zip(loop.slotInputs, loop.slotTargets).map { Example(inputs: $0, targets: $1) }
    t.slotSteps = loop.slotSteps
    t.halted = loop.halted
    t.carry = Carry(y: cy, z: cz)
    return t
  }
}
