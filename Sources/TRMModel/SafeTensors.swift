import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TRMTensor

/// A set of named F32 tensors plus string metadata in the safetensors layout:
/// 8-byte little-endian header length N, N bytes of JSON header
/// `{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}`,
/// then the raw little-endian data. Readable by the `safetensors` Python package.
public struct SafeTensors {
  public var tensors: [String: Tensor] = [:]
  public var metadata: [String: String] = [:]

  public init(tensors: [String: Tensor] = [:], metadata: [String: String] = [:]) {
    self.tensors = tensors
    self.metadata = metadata
  }

  /// Serialises to bytes (tensors in sorted-name order, offsets contiguous).
  public func encoded() throws -> Data {
    var header: [String: Any] = [:]
    var offset = 0
    let names = tensors.keys.sorted()
    for name in names {
      let t = tensors[name]!
      header[name] =
        ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.count]] as [String: Any]
      offset += 4 * t.count
    }
    if !metadata.isEmpty { header["__metadata__"] = metadata }
    var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    while json.count % 8 != 0 { json.append(0x20) }  // pad with spaces so the data is 8-byte aligned
    var out = Data()
    var n = UInt64(json.count).littleEndian
    withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
    out.append(json)
    for name in names {
      let t = tensors[name]!
      var le = t.scalars.map { $0.bitPattern.littleEndian }
      le.withUnsafeMutableBytes { out.append(contentsOf: $0) }
    }
    return out
  }

  /// Writes atomically: the bytes go to `partialURL(for: url)` first, which is then renamed over
  /// `url`, so an interrupted save (even `kill -9`) never leaves a half-written checkpoint in
  /// place, and the only leftover it can leave has a fixed name that the next save overwrites.
  public func write(to url: URL) throws {
    let partial = Self.partialURL(for: url)
    do {
      try encoded().write(to: partial)
      try FileManager.default.moveItemReplacing(at: partial, to: url)
    } catch {
      try? FileManager.default.removeItem(at: partial)
      throw ModelError.checkpoint("\(url.path): cannot write (\(error.localizedDescription))")
    }
  }

  /// Where `write(to: url)` stages its bytes: a hidden file beside `url`.
  public static func partialURL(for url: URL) -> URL {
    url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial")
  }

  /// Parses bytes, throwing `ModelError.checkpoint` with the reason for anything malformed:
  /// truncated file, bad header, unknown dtype, offsets outside the data, size/shape mismatch.
  public init(data: Data, source: String = "data") throws {
    func bad(_ s: String) -> ModelError { .checkpoint("\(source): \(s)") }
    guard data.count >= 8 else { throw bad("file is \(data.count) bytes, too short for a safetensors header") }
    let n = data.prefix(8).withUnsafeBytes { raw in raw.loadUnaligned(as: UInt64.self) }.littleEndian
    guard n > 1, n <= UInt64(data.count - 8), n < 100_000_000 else {
      throw bad("header length \(n) does not fit in a \(data.count)-byte file (truncated or not a safetensors file)")
    }
    let headerData = data.subdata(in: 8..<(8 + Int(n)))
    guard let obj = try? JSONSerialization.jsonObject(with: headerData), let header = obj as? [String: Any] else {
      throw bad("header is not a JSON object")
    }
    let body = data.subdata(in: (8 + Int(n))..<data.count)
    for (name, value) in header {
      if name == "__metadata__" {
        guard let m = value as? [String: String] else { throw bad("__metadata__ must map strings to strings") }
        metadata = m
        continue
      }
      guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
        let shape = info["shape"] as? [Int], let offs = info["data_offsets"] as? [Int], offs.count == 2
      else { throw bad("entry '\(name)' lacks dtype/shape/data_offsets") }
      guard dtype == "F32" else { throw bad("tensor '\(name)' has dtype \(dtype); only F32 is supported") }
      guard shape.allSatisfy({ $0 >= 0 }) else { throw bad("tensor '\(name)' has a negative extent in \(shape)") }
      // Every size product is checked: a hostile shape such as [2^40, 2^40] is an error, not a trap.
      var count = 1
      for extent in shape {
        let (c, overflow) = count.multipliedReportingOverflow(by: extent)
        guard !overflow, c <= body.count / 4 else {
          throw bad("tensor '\(name)' has shape \(shape), more than the \(body.count)-byte data section holds")
        }
        count = c
      }
      guard offs[0] >= 0, offs[1] >= offs[0], offs[1] <= body.count else {
        throw bad(
          "tensor '\(name)' data [\(offs[0]), \(offs[1])) lies outside the \(body.count)-byte data section (file "
            + "truncated?)"
        )
      }
      guard offs[1] - offs[0] == 4 * count else {
        throw bad("tensor '\(name)' has \(offs[1] - offs[0]) bytes but shape \(shape) needs \(4 * count)")
      }
      var t = Tensor(uninitializedShape: shape)
      body.withUnsafeBytes { raw in
        t.withMutableData { p in
          for i in 0..<count {
            let bits = raw.loadUnaligned(fromByteOffset: offs[0] + 4 * i, as: UInt32.self)
            p[i] = Float(bitPattern: UInt32(littleEndian: bits))
          }
        }
      }
      tensors[name] = t
    }
  }

  /// Reads a file; see `init(data:source:)` for the errors.
  public init(contentsOf url: URL) throws {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      throw ModelError.checkpoint("\(url.path): cannot read (\(error.localizedDescription))")
    }
    try self.init(data: data, source: url.path)
  }
}

extension FileManager {
  /// rename(2): atomically replaces `destination` (same directory, same file system).
  package func moveItemReplacing(at source: URL, to destination: URL) throws {
    guard rename(source.path, destination.path) == 0 else {
      throw ModelError.checkpoint(
        "cannot rename \(source.lastPathComponent) to \(destination.lastPathComponent) (errno \(errno))")
    }
  }
}
