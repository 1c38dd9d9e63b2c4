import Foundation
import TRMModel
import TRMRandom
import TRMTensor

/// Saving and loading models and full training state as safetensors. This type owns the whole
/// checkpoint schema: every tensor name and metadata key is written and read here.
///
/// Tensors: parameters under their dotted names (`net.blocks.0.mlp.gateUp.weight`), the fixed
/// init vectors as `buffers.yInit` / `buffers.zInit`, EMA weights as `ema.<name>`, and with
/// training state `optim.m.<name>`, `optim.v.<name>`, `carry.y`, `carry.z`.
/// Metadata (`Key`): `format` = `tinyrecursion`, `version`, `model` (the `ModelConfig` as JSON),
/// with training state `training` (`TrainingConfig`) and `loop` (`TrainerState`), and the
/// caller's `Annotations` (`task`, `elapsed_seconds`).
public enum Checkpoint {
  public static let format = "tinyrecursion"
  public static let version = "1"

  /// Every metadata key a checkpoint may hold.
  public enum Key: String, CaseIterable, Sendable {
    case format, version, model, training, loop, task
    case elapsedSeconds = "elapsed_seconds"
  }

  /// What the layers above store with the weights: the task layout as JSON (written and read by
  /// `TinyRecursion`, which owns that type) and the training time so far.
  public struct Annotations: Equatable, Sendable {
    public var task: String?
    public var elapsedSeconds: Double?
    public init(task: String? = nil, elapsedSeconds: Double? = nil) {
      self.task = task
      self.elapsedSeconds = elapsedSeconds
    }
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

  static func metadata(config: ModelConfig, annotations: Annotations) throws -> [String: String] {
    var m: [String: String] = [
      Key.format.rawValue: format, Key.version.rawValue: version,
      Key.model.rawValue: try encodeJSON(config),
    ]
    if let task = annotations.task { m[Key.task.rawValue] = task }
    if let s = annotations.elapsedSeconds { m[Key.elapsedSeconds.rawValue] = String(format: "%.3f", s) }
    return m
  }

  /// Saves a model alone (for inference). With `ema`, the EMA weights are also stored and
  /// `model(preferEMA: true)` returns them.
  public static func save(
    model: RecursiveModel, ema: EMA? = nil, annotations: Annotations = .init(), to url: URL
  ) throws {
    var st = SafeTensors(tensors: modelTensors(model))
    if let ema { for (k, v) in ema.shadow { st.tensors["ema." + k] = v } }
    st.metadata = try metadata(config: model.config, annotations: annotations)
    try st.write(to: url)
  }

  /// Saves everything needed to resume training exactly.
  public static func save(trainer t: Trainer, annotations: Annotations = .init(), to url: URL) throws {
    var st = SafeTensors(tensors: modelTensors(t.model))
    for (k, v) in t.ema.shadow { st.tensors["ema." + k] = v }
    for (k, v) in t.optimizer.m { st.tensors["optim.m." + k] = v }
    for (k, v) in t.optimizer.v { st.tensors["optim.v." + k] = v }
    let carry = t.fullCarry()  // collective in a data-parallel run: every process calls save
    guard (t.communicator?.rank ?? 0) == 0 else { return }  // rank 0 alone writes
    st.tensors["carry.y"] = carry.y
    st.tensors["carry.z"] = carry.z
    st.metadata = try metadata(config: t.model.config, annotations: annotations)
    st.metadata[Key.training.rawValue] = try encodeJSON(t.config)
    st.metadata[Key.loop.rawValue] = try encodeJSON(t.state)
    try st.write(to: url)
  }

  /// Reads a checkpoint file once, checking its format, version and model configuration.
  public static func read(_ url: URL) throws -> LoadedCheckpoint {
    try read(SafeTensors(contentsOf: url), url: url)
  }

  /// Reads checkpoint bytes held in memory (`source` names them in errors).
  public static func read(data: Data, source: String = "checkpoint") throws -> LoadedCheckpoint {
    try read(SafeTensors(data: data, source: source), url: URL(fileURLWithPath: source))
  }

  static func read(_ st: SafeTensors, url: URL) throws -> LoadedCheckpoint {
    let meta = st.metadata
    guard meta[Key.format.rawValue] == format else {
      let found = meta[Key.format.rawValue].map { "'\($0)'" } ?? "missing"
      throw ModelError.checkpoint("\(url.path): not a TinyRecursion checkpoint (metadata format is \(found))")
    }
    guard meta[Key.version.rawValue] == version else {
      throw ModelError.checkpoint(
        "\(url.path): checkpoint version \(meta[Key.version.rawValue] ?? "?") is not supported "
          + "(this build reads version \(version))")
    }
    guard let json = meta[Key.model.rawValue],
      let config = try? JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8))
    else {
      throw ModelError.checkpoint("\(url.path): model configuration missing or unreadable")
    }
    let elapsed = meta[Key.elapsedSeconds.rawValue].flatMap(Double.init)
    return LoadedCheckpoint(
      url: url, config: config,
      annotations: Annotations(task: meta[Key.task.rawValue], elapsedSeconds: elapsed), contents: st)
  }

  /// Loads a model (EMA weights when present and `preferEMA`).
  public static func loadModel(from url: URL, preferEMA: Bool = true) throws -> RecursiveModel {
    try read(url).model(preferEMA: preferEMA)
  }
}

/// A checkpoint file read into memory: its model configuration and annotations, and what can be
/// built from it (a model for inference, a trainer to resume).
public struct LoadedCheckpoint {
  public let url: URL
  public let config: ModelConfig
  public let annotations: Checkpoint.Annotations
  let contents: SafeTensors

  /// Whether the file holds training state (written by `Checkpoint.save(trainer:)`).
  public var hasTrainingState: Bool { contents.metadata[Checkpoint.Key.loop.rawValue] != nil }

  func tensor(_ name: String, shape: [Int]) throws -> Tensor {
    guard let t = contents.tensors[name] else {
      throw ModelError.checkpoint("\(url.path): tensor '\(name)' is missing")
    }
    guard t.shape == shape else {
      throw ModelError.checkpoint("\(url.path): tensor '\(name)' has shape \(t.shape), the model expects \(shape)")
    }
    guard t.scalars.allSatisfy({ $0.isFinite }) else {
      throw ModelError.checkpoint("\(url.path): tensor '\(name)' contains NaN or infinity")
    }
    return t
  }

  /// Builds the model. With `preferEMA` and EMA weights present, the parameters are the EMA
  /// weights (what evaluation should use).
  public func model(preferEMA: Bool = true) throws -> RecursiveModel {
    let useEMA = preferEMA && contents.tensors.keys.contains { $0.hasPrefix("ema.") }
    return try model(prefix: useEMA ? "ema." : "")
  }

  func model(prefix: String) throws -> RecursiveModel {
    let model = try RecursiveModel(config: config, seed: 0)
    for p in model.parameters { p.value = try tensor(prefix + p.name, shape: p.shape) }
    try model.setInits(
      y: try tensor("buffers.yInit", shape: [config.width]), z: try tensor("buffers.zInit", shape: [config.width]))
    return model
  }

  /// Rebuilds the trainer saved in this file, on the same data. `optimizerSteps` replaces the
  /// run's total (to train longer, or stop earlier); the learning-rate schedule then spans it.
  public func trainer(
    data: [Example], threads: Int? = nil, optimizerSteps: Int? = nil,
    communicator: Communicator? = nil
  ) throws -> Trainer {
    let meta = contents.metadata
    guard let tj = meta[Checkpoint.Key.training.rawValue],
      var tc = try? JSONDecoder().decode(TrainingConfig.self, from: Data(tj.utf8)),
      let lj = meta[Checkpoint.Key.loop.rawValue],
      let state = try? JSONDecoder().decode(TrainerState.self, from: Data(lj.utf8))
    else { throw ModelError.checkpoint("\(url.path): no training state (was it saved with save(model:)?)") }
    if let threads { tc.threads = threads }
    if let optimizerSteps {
      guard optimizerSteps >= state.step else {
        throw ModelError.invalidConfig(
          "--optimizer-steps \(optimizerSteps) is below the \(state.step) steps this run has done")
      }
      tc.optimizerSteps = optimizerSteps
    }
    let model = try model(prefix: "")
    let t = try Trainer(model: model, config: tc, data: data, communicator: communicator)
    var ema: [String: Tensor] = [:], m: [String: Tensor] = [:], v: [String: Tensor] = [:]
    for p in model.parameters {
      ema[p.name] = try tensor("ema." + p.name, shape: p.shape)
      if state.step > 0 {
        m[p.name] = try tensor("optim.m." + p.name, shape: p.shape)
        v[p.name] = try tensor("optim.v." + p.name, shape: p.shape)
      }
    }
    t.ema.restore(ema)
    let carryShape = [tc.batchSize, config.totalLength, config.width]
    let carry = Carry(y: try tensor("carry.y", shape: carryShape), z: try tensor("carry.z", shape: carryShape))
    do { try t.restore(state: state, moments: (m, v), carry: carry) } catch let ModelError.checkpoint(why) {
      throw ModelError.checkpoint("\(url.path): \(why)")
    }
    return t
  }
}
