// The command line of a benchmark executable: `--flag` and `--name value` (or `--name=value`),
// checked against the names the benchmark knows. A typo or a missing value is one line on stderr
// and exit code 2 — never the full benchmark run by default (an hour on 2 cores); `--help`
// prints the usage and exits 0.
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

public struct BenchmarkArguments {
  public let program: String
  private var flags: Set<String> = []
  private var values: [String: String] = [:]

  /// Parses `arguments` (without the program name); exits on an unknown name, a missing value or `--help`.
  public init(
    _ arguments: [String] = Array(CommandLine.arguments.dropFirst()), program: String, usage: String,
    flags knownFlags: Set<String>, options knownOptions: Set<String>
  ) {
    self.program = program
    var i = 0
    while i < arguments.count {
      let a = arguments[i]
      if a == "--help" || a == "-h" {
        print(usage)
        exit(0)
      }
      guard a.hasPrefix("--") else { Self.fail(program, "unexpected argument '\(a)'") }
      var name = String(a.dropFirst(2))
      var inline: String? = nil
      if let eq = name.firstIndex(of: "=") {
        inline = String(name[name.index(after: eq)...])
        name = String(name[..<eq])
      }
      if knownFlags.contains(name), inline == nil {
        flags.insert(name)
      } else if knownOptions.contains(name) {
        if let inline {
          values[name] = inline
        } else {
          guard i + 1 < arguments.count, !arguments[i + 1].hasPrefix("--") else {
            Self.fail(program, "option --\(name) needs a value")
          }
          values[name] = arguments[i + 1]
          i += 1
        }
      } else {
        let known = knownFlags.union(knownOptions).sorted().map { "--" + $0 }.joined(separator: " ")
        Self.fail(program, "unknown option --\(name); known: \(known)")
      }
      i += 1
    }
  }

  public func has(_ flag: String) -> Bool { flags.contains(flag) }

  public func string(_ name: String) -> String? { values[name] }

  /// The value of `--name` as a whole number ≥ `minimum`, or nil when absent; anything else exits.
  public func int(_ name: String, minimum: Int = 1) -> Int? {
    guard let s = values[name] else { return nil }
    guard let v = Int(s), v >= minimum else {
      Self.fail(program, "--\(name) wants a whole number ≥ \(minimum), got '\(s)'")
    }
    return v
  }

  /// The value of `--name`, which must be one of `choices`, or nil when absent; anything else exits.
  public func choice(_ name: String, _ choices: [String]) -> String? {
    guard let s = values[name] else { return nil }
    guard choices.contains(s) else {
      Self.fail(program, "--\(name) wants one of \(choices.joined(separator: ", ")), got '\(s)'")
    }
    return s
  }

  /// One line on stderr, exit code 2.
  public func fail(_ message: String) -> Never { Self.fail(program, message) }

  private static func fail(_ program: String, _ message: String) -> Never {
    fputs("\(program): \(message) (\(program) --help shows the usage)\n", stderr)
    exit(2)
  }
}
