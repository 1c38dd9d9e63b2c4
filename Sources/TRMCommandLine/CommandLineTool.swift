import Dispatch
import Foundation
import TinyRecursion

/// The `trm` command. `main` returns the exit code: 0 success, 1 failed check (e.g. invalid
/// answers in `verify`), 2 user error (one line on stderr).
public enum CommandLineTool {
  /// Where output goes (replaceable in tests).
  nonisolated(unsafe) public static var out: (String) -> Void = { print($0) }
  nonisolated(unsafe) public static var err: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
  nonisolated(unsafe) public static var stdinLines: () -> [String] = {
    var lines: [String] = []
    while let l = readLine(strippingNewline: true) { lines.append(l) }
    return lines
  }

  static let usage = """
  trm — Tiny Recursion Models in pure Swift

  usage: trm <command> [options]     (trm <command> --help for details)

    demo       train a small TRM and its parameter-matched baseline on a shipped suite, print both
    generate   write a puzzle file: trm generate sudoku|maze|arithmetic --count N --seed S --out FILE
    train      train a model on a puzzle file into a run directory (resumable)
    eval       accuracy of a checkpoint on a labelled file
    solve      print INPUT,ANSWER lines for puzzles from a file or stdin
    verify     check every INPUT,ANSWER line of a file with the exact verifiers
    sweep      accuracy vs. test-time supervision steps: sweep.csv and sweep.svg
    trace      one puzzle's answer after every supervision step, as an SVG strip (watch it think)
    compare    train TRM and the baseline under the same budget; Markdown + JSON table
    help       this text
  """

  public static func main(_ args: [String]) -> Int32 {
    guard let cmd = args.first else { out(usage); return 0 }
    let rest = Array(args.dropFirst())
    do {
      if rest.contains("--help") || rest.contains("-h") { out(help[cmd] ?? usage); return help[cmd] == nil ? 2 : 0 }
      switch cmd {
      case "help", "--help", "-h": out(usage); return 0
      case "generate": return try generate(rest)
      case "train": return try train(rest)
      case "eval": return try evaluate(rest)
      case "solve": return try solve(rest)
      case "verify": return try verify(rest)
      case "sweep": return try sweep(rest)
      case "trace": return try trace(rest)
      case "compare": return try compare(rest)
      case "demo": return try demo(rest)
      default: throw UsageError("unknown command '\(cmd)'; run 'trm help' for the list")
      }
    } catch let e as UsageError {
      err("error: \(e.description)")
    } catch let e as PuzzleError {
      err("error: \(e.description)")
    } catch let e as ModelError {
      err("error: \(e.description)")
    } catch let e as TaskError {
      err("error: \(e.description)")
    } catch {
      err("error: \(error)")
    }
    return 2
  }

  static let help: [String: String] = [
    "generate": """
    trm generate <sudoku|maze|arithmetic> --count N --seed S --out FILE [task options]
      sudoku:     --size 4|6|9 (4) --givens G (size-dependent default: 6, 14, 30)
      maze:       --side S odd ≥ 5 (9) --loops P in [0,1] (0.15) --min-path K (side)
      arithmetic: --op + or * (+) --digits D (3)
      --exclude FILE[,FILE]: skip puzzles equal, up to the training augmentation's symmetries, to one in these files (held-out suites)
    """,
    "train": """
    trm train --data TRAIN_FILE --out RUN_DIR [--valid FILE] [--task T] [--model trm|baseline] [--preset NAME]
              [--width D] [--heads H] [--blocks B] [--mixer conv|depthwise|attention|mlp] [--positions 1d|2d] [--latent-steps n] [--recursions T]
              [--supervision-steps N] [--steps S] [--batch B] [--lr X] [--weight-decay X] [--halt-loss-weight X] [--supervision-warmup S] [--loss stablemax|softmax]
              [--augment K] [--augment-online] [--generate-online | --no-generate-online] [--loop-share P] [--loss-cells open|all]
              [--no-ema] [--one-step-gradient] [--seed S] [--threads N] [--checkpoint-every S] [--validate-every S]
    trm train --resume RUN_DIR --data TRAIN_FILE [--valid FILE] [--threads N] [--steps S (new total)] [--checkpoint-every S]
              [--validate-every S] [--eval-steps K]
      presets: \(Preset.all.keys.sorted().joined(separator: ", "))
      --positions 2d: rotary positions by (row, column) on grid tasks (attention mixer) instead of the index in the flattened grid
      --mixer conv: 3×3 convolution over the grid (sudoku, maze): the checkpoint runs on grids of any size
      --mixer depthwise: a depthwise 3×3 convolution inside the SwiGLU instead (nano-trm's variant), also any size
      --generate-online (maze; on in the maze preset): every slot gets a freshly generated maze of the training side
      --loop-share P: share of generated mazes with loops (unique shortest path), the rest perfect (default 0.75)
      --loss-cells open (maze; on in the maze preset): supervise and score open cells only (walls, S, G are given)
      writes RUN_DIR/checkpoint.safetensors (resumable), RUN_DIR/model.safetensors (EMA, for eval), RUN_DIR/metrics.jsonl
    """,
    "eval": "trm eval --checkpoint FILE --data FILE [--steps K] [--halt] [--json OUT] [--threads N]",
    "solve": "trm solve --checkpoint FILE [--data FILE | stdin] [--steps K] [--no-halt] [--verify] [--threads N]",
    "trace": "trm trace --checkpoint FILE --data FILE [--index N (1)] [--steps K] --out FILE.svg [--threads N]",
    "verify": "trm verify --data FILE [--task sudoku|maze|arithmetic]   (exit 0 only if every line is valid)",
    "sweep": """
    trm sweep --checkpoint FILE --data FILE[,FILE…] --steps 1,2,4,8,16,32 [--latent-steps 2,6] [--recursions 1,3] [--baseline CHECKPOINT] [--halt] --out DIR [--threads N]
      one curve per file and (n, T) in one chart; sweep.csv has the effective depth K·T·(n+1)·blocks of each point. Files of
      another size than the training set run the same weights (size extrapolation; conv and attention mixers).
    """,
    "compare": "trm compare --data TRAIN --test FILE [--valid FILE] --budget-steps N [--preset NAME] [--out DIR] [--threads N] [--seed S]\n          [any model/training option of trm train, e.g. --batch B --lr X --augment-online --supervision-warmup S]",
    "demo": "trm demo [--suite Puzzles/sudoku4] [--steps N] [--threads N]   (train + evaluate TRM vs. baseline on a shipped suite)",
  ]

  // MARK: - Shared helpers

  static func loadSet(_ path: String, task: TaskKind?) throws -> PuzzleSet {
    try PuzzleSet.load(path: path, task: task)
  }

  static func task(_ a: Arguments) throws -> TaskKind? {
    guard let t = a.string("task") else { return nil }
    guard let k = TaskKind(rawValue: t) else { throw UsageError("--task must be sudoku, maze or arithmetic, got '\(t)'") }
    return k
  }

  static func threads(_ a: Arguments) throws -> Int {
    try a.int("threads", default: min(2, ProcessInfo.processInfo.activeProcessorCount), min: 1)!
  }

  static func pct(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }

  static func table(_ header: [String], _ rows: [[String]]) -> String {
    var w = header.map(\.count)
    for r in rows { for (i, c) in r.enumerated() { w[i] = max(w[i], c.count) } }
    func line(_ r: [String]) -> String { r.enumerated().map { i, c in c.padding(toLength: w[i], withPad: " ", startingAt: 0) }.joined(separator: "  ") }
    return ([line(header), w.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + rows.map(line)).joined(separator: "\n")
  }

  static func writeJSON<T: Encodable>(_ v: T, to path: String) throws {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    do { try enc.encode(v).write(to: URL(fileURLWithPath: path)) } catch { throw UsageError("cannot write \(path): \(error.localizedDescription)") }
  }

  // MARK: - generate

  static func generate(_ args: [String]) throws -> Int32 {
    let a = try Arguments(args, command: "generate", flags: [], options: ["count", "seed", "out", "size", "givens", "side", "loops", "min-path", "op", "digits", "exclude"])
    guard let t = a.positional.first, let kind = TaskKind(rawValue: t) else { throw UsageError("generate needs a task: sudoku, maze or arithmetic") }
    let count = try a.int("count", min: 1) ?? { throw UsageError("generate needs --count N") }()
    let seed = UInt64(try a.int("seed", default: 0, min: 0)!)
    let path = try a.required("out")
    var o = GeneratorOptions()
    o.sudokuSize = try a.int("size", default: 4)!
    guard Sudoku.sizes.contains(o.sudokuSize) else { throw UsageError("--size must be 4, 6 or 9") }
    o.sudokuGivens = try a.int("givens", default: [4: 6, 6: 14, 9: 30][o.sudokuSize]!, min: 0)!
    o.mazeSide = try a.int("side", default: 9)!
    guard o.mazeSide >= 5 && o.mazeSide % 2 == 1 else { throw UsageError("--side must be odd and ≥ 5, got \(o.mazeSide)") }
    o.mazeLoops = try a.double("loops", default: 0.15)!
    guard (0...1).contains(o.mazeLoops) else { throw UsageError("--loops must be in [0, 1]") }
    o.mazeMinPath = try a.int("min-path", default: o.mazeSide, min: 1)!
    let op = a.string("op") ?? "+"
    guard let parsedOp = Arithmetic.Op(rawValue: Character(op.count == 1 ? op : "?")) else { throw UsageError("--op must be + or *") }
    o.op = parsedOp
    o.digits = try a.int("digits", default: 3, min: 1)!
    guard o.digits <= 9 else { throw UsageError("--digits must be 1…9") }
    var excluded: [Puzzle] = []
    for file in (a.string("exclude") ?? "").split(separator: ",") where !file.isEmpty {
      excluded += try loadSet(String(file), task: kind).puzzles
    }
    let set = PuzzleSet.generate(task: kind, count: count, seed: seed, options: o, excluding: excluded)
    let cmdline = (["trm", "generate"] + args).joined(separator: " ")
    try set.write(path: path, header: "generated by: \(cmdline)\n\(set.puzzles.count) puzzles")
    out("wrote \(set.puzzles.count) \(kind.rawValue) puzzles to \(path)\(set.puzzles.count < count ? " (only \(set.puzzles.count) distinct ones exist)" : "")")
    return 0
  }

  // MARK: - verify

  static func verify(_ args: [String]) throws -> Int32 {
    let a = try Arguments(args, command: "verify", flags: [], options: ["data", "task"])
    let path = try a.required("data")
    let set = try PuzzleSet.parse(try readText(path), task: try task(a), source: path, skipMalformed: true)
    var invalid: [String] = set.skipped.map { "malformed: \($0)" }
    var valid = 0
    for (i, p) in set.puzzles.enumerated() {
      if let r = p.verifyStatedSolution() { invalid.append("puzzle \(i + 1): \(r)") } else { valid += 1 }
    }
    for line in invalid.prefix(50) { err(line) }
    out("\(valid) valid, \(invalid.count) invalid")
    return invalid.isEmpty ? 0 : 1
  }

  static func readText(_ path: String) throws -> String {
    guard let d = FileManager.default.contents(atPath: path) else { throw UsageError("cannot read \(path)") }
    guard let s = String(data: d, encoding: .utf8) else { throw UsageError("\(path) is not UTF-8") }
    return s
  }
}
