// The command line of a benchmark executable, parsed by `trm`'s own parser (`TRMArguments`):
// a typo or a missing value is one line on stderr and exit code 2 — never the full benchmark run
// by default (35–45 min on 2 cores); `--help` prints the usage and exits 0.
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import TRMArguments

public struct BenchmarkArguments {
  public let program: String
  private let parsed: Arguments

  /// Parses `arguments` (without the program name); exits on an unknown name, a missing value or `--help`.
  public init(
    _ arguments: [String] = Array(CommandLine.arguments.dropFirst()), program: String, usage: String,
    flags knownFlags: Set<String>, options knownOptions: Set<String>
  ) {
    self.program = program
    if arguments.contains("--help") || arguments.contains("-h") {
      print(usage)
      exit(0)
    }
    do {
      parsed = try Arguments(arguments, command: program, label: program, flags: knownFlags, options: knownOptions)
    } catch {
      fputs("\(program): \(error)\n", stderr)  // the parser's own line names the option and the known ones
      exit(2)
    }
    if let stray = parsed.positional.first { Self.fail(program, "unexpected argument '\(stray)'") }
  }

  public func has(_ flag: String) -> Bool { parsed.has(flag) }

  public func string(_ name: String) -> String? { parsed.string(name) }

  /// The value of `--name` as a whole number ≥ `minimum`, or nil when absent; anything else exits.
  public func int(_ name: String, minimum: Int = 1) -> Int? {
    guard let s = parsed.string(name) else { return nil }
    guard let v = Int(s), v >= minimum else {
      Self.fail(program, "--\(name) wants a whole number ≥ \(minimum), got '\(s)'")
    }
    return v
  }

  /// The value of `--name`, which must be one of `choices`, or nil when absent; anything else exits.
  public func choice(_ name: String, _ choices: [String]) -> String? {
    guard let s = parsed.string(name) else { return nil }
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
