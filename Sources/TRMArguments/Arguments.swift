// The command-line parser of `trm` and the benchmark executables (no dependencies).
import Foundation

/// A user error: printed as one line, exit code 2.
public struct UsageError: Error, CustomStringConvertible, LocalizedError, Sendable {
  public let description: String
  public init(_ s: String) { description = s }
  public var errorDescription: String? { description }
}

/// Hand-written `--name value` / `--flag` parsing with typo-proof unknown-option errors.
public struct Arguments {
  public private(set) var positional: [String] = []
  public private(set) var options: [String: String] = [:]
  public private(set) var flags: Set<String> = []
  public let command: String
  /// How messages name the command: `trm COMMAND` unless given (a benchmark passes its own name).
  public let label: String

  /// `aliases` maps an earlier spelling of an option to its name (e.g. `steps` → `optimizer-steps`),
  /// so published commands keep working after a rename.
  public init(
    _ args: [String], command: String, label: String? = nil, flags allowedFlags: Set<String>,
    options allowedOptions: Set<String>, aliases: [String: String] = [:]
  ) throws {
    self.command = command
    self.label = label ?? "trm \(command)"
    var i = 0
    while i < args.count {
      let a = args[i]
      if a.hasPrefix("--") {
        var name = String(a.dropFirst(2))
        var inline: String? = nil
        if let eq = name.firstIndex(of: "=") {
          inline = String(name[name.index(after: eq)...])
          name = String(name[..<eq])
        }
        name = aliases[name] ?? name
        if allowedFlags.contains(name) {
          flags.insert(name)
        } else if allowedOptions.contains(name) {
          if let inline {
            options[name] = inline
          } else {
            guard i + 1 < args.count else {
              throw UsageError("option --\(name) needs a value (see '\(self.label) --help')")
            }
            options[name] = args[i + 1]
            i += 1
          }
        } else {
          let all = (allowedFlags.union(allowedOptions)).sorted().map { "--" + $0 }.joined(separator: " ")
          throw UsageError("unknown option --\(name) for '\(self.label)' (known: \(all))")
        }
      } else {
        positional.append(a)
      }
      i += 1
    }
  }

  public func string(_ name: String) -> String? { options[name] }

  public func required(_ name: String) throws -> String {
    guard let v = options[name] else {
      throw UsageError("'\(label)' needs --\(name) (see '\(label) --help')")
    }
    return v
  }

  /// Every integer a user types is bounded (no flag needs more than a billion), so a typo such as
  /// 2^62 is an error rather than an overflow or a run that never ends.
  public static let largestInteger = 1_000_000_000

  public func int(
    _ name: String, default d: Int? = nil, min lo: Int = Int.min, max hi: Int = largestInteger
  ) throws -> Int? {
    guard let s = options[name] else { return d }
    guard let v = Int(s), v >= lo, v <= hi else {
      let range = "in \(lo == Int.min ? -hi : lo)…\(hi)"
      throw UsageError("--\(name) expects an integer \(range), got '\(s)'")
    }
    return v
  }

  /// `int` with a default: never nil.
  public func int(
    _ name: String, default d: Int, min lo: Int = Int.min, max hi: Int = largestInteger
  ) throws -> Int {
    try int(name, default: Optional(d), min: lo, max: hi) ?? d
  }

  /// `double` with a default: never nil.
  public func double(
    _ name: String, default d: Double, min lo: Double = -1e9, max hi: Double = 1e9
  ) throws -> Double {
    try double(name, default: Optional(d), min: lo, max: hi) ?? d
  }

  public func double(
    _ name: String, default d: Double? = nil, min lo: Double = -1e9, max hi: Double = 1e9
  ) throws -> Double? {
    guard let s = options[name] else { return d }
    guard let v = Double(s), v.isFinite, v >= lo, v <= hi else {
      throw UsageError("--\(name) expects a number in \(lo)…\(hi), got '\(s)'")
    }
    return v
  }

  public func intList(_ name: String, max hi: Int = 1 << 20) throws -> [Int]? {
    guard let s = options[name] else { return nil }
    let parts = s.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    let values = parts.compactMap { $0 }
    guard !values.isEmpty, values.count == parts.count, values.allSatisfy({ $0 >= 1 && $0 <= hi }) else {
      throw UsageError("--\(name) expects a comma-separated list of integers in 1…\(hi), got '\(s)'")
    }
    return values
  }

  public func has(_ flag: String) -> Bool { flags.contains(flag) }
}
