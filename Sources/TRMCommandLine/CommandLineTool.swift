import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TRMDistributed
import TinyRecursion

/// The `trm` command. `main` returns the exit code: 0 success, 1 failed check (e.g. invalid
/// answers in `verify`), 2 user error (one line on stderr).
public enum CommandLineTool {
  /// Where output goes (replaceable in tests).
  nonisolated(unsafe) public static var out: (String) -> Void = { print($0) }
  nonisolated(unsafe) public static var err: (String) -> Void = {
    FileHandle.standardError.write(Data(($0 + "\n").utf8))
  }
  /// One line of standard input at a time (nil at the end); replaceable in tests.
  nonisolated(unsafe) public static var stdinLine: () -> String? = { readLine(strippingNewline: true) }
  /// Pushes buffered standard output out (after each batch of a streaming solve).
  nonisolated(unsafe) public static var flushOut: () -> Void = { fflush(stdout) }

  static let usage = """
    trm — Tiny Recursion Models in pure Swift

    usage: trm <command> [options]     (trm <command> --help for details)

      demo       train a small TRM and its parameter-matched baseline on a shipped suite, print both
      generate   write a puzzle file: trm generate sudoku|maze|arithmetic --count N --seed S --out FILE
      train      train a model on a puzzle file into a run directory (resumable)
      eval       accuracy of a checkpoint on a labelled file
      solve      print INPUT,ANSWER lines for puzzles from a file or stdin
      verify     check every INPUT,ANSWER line of a file with the exact verifiers
      grade      sudoku difficulty by our solver's search: counts per level, percentiles
      sweep      accuracy vs. test-time supervision steps: sweep.csv and sweep.svg
      trace      one puzzle's answer after every supervision step, as an SVG strip (watch it think)
      chart      accuracy and cost vs. the attempt cap, from trm eval --attempts K --json files (SVG)
      compare    train TRM and the baseline under the same budget; Markdown + JSON table
      help       this text          (trm --version: the version)
    """

  /// The version `trm --version` prints (also `TinyRecursion.version`).
  public static var version: String { TinyRecursionVersion.string }

  /// The MPI process group when `trm train` runs under mpiexec/srun with several processes.
  nonisolated(unsafe) static var communicator: MPICommunicator?

  public static func main(_ args: [String]) -> Int32 {
    if args.first == "train" && MPICommunicator.launchedInParallel {
      do { communicator = try MPICommunicator() } catch {
        err("error: \(error.localizedDescription)")
        return 2
      }
    }
    guard let c = communicator, c.size > 1 else { return dispatch(args) }
    // Rank 0 alone prints; an error on any rank ends the whole job (no rank waits for ever).
    if c.rank > 0 { out = { _ in } }
    let errOut = err
    if c.rank > 0 { err = { line in if line.hasPrefix("error:") { errOut("rank \(c.rank): " + line) } } }
    let code = dispatch(args)
    if code != 0 && code != 130 {
      errOut("rank \(c.rank) of \(c.size) stopped (exit \(code)); ending the job")
      c.abort(code: code)
    }
    c.finalize()
    return code
  }

  static func dispatch(_ args: [String]) -> Int32 {
    guard let cmd = args.first else { out(usage); return 0 }
    if cmd == "--version" || cmd == "version" { out("trm \(version)"); return 0 }
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
      case "grade": return try grade(rest)
      case "sweep": return try sweep(rest)
      case "trace": return try trace(rest)
      case "chart": return try chart(rest)
      case "compare": return try compare(rest)
      case "demo": return try demo(rest)
      default: throw UsageError("unknown command '\(cmd)'; run 'trm help' for the list")
      }
    } catch {
      err("error: \(error.localizedDescription)")
    }
    return 2
  }

  static let help: [String: String] = [
    "generate": """
    trm generate <sudoku|maze|arithmetic> --count N --seed S --out FILE [task options]
      sudoku:     --size 4|6|9 (4) --givens G (size-dependent default: 6, 14, 30): clues are removed while the
                  solution stays unique, down to G or to a minimal puzzle (9×9: 21–28 givens); the counts are printed
                  --search-moves N: then up to N local-search steps toward G (put one clue back, remove others
                  while unique): fewer givens than removal alone reaches (9×9 with 200: 19–22), slower
                  --difficulty easy|medium|hard|extreme: keep only puzzles of that grade (see trm grade)
      maze:       --side S odd ≥ 5 (9) --loops P in [0,1] (0.15) --min-path K (side)
                  --walls P or LO-HI: open-plan mazes instead (random walls, no border: Maze-Hard's kind), each
                  with a wall share drawn from LO…HI, any --side ≥ 5 (30), S and G at least --min-path apart (side)
                  --like FILE: open-plan mazes with FILE's wall shares and shortest path length; --side S then sets
                  another side (path length scaled), --min-path K another length
      arithmetic: --op + or * (+) --digits D (3, at most 100) --split train|eval: only problems outside / inside
                  the share reserved for evaluation (1 in 16 by a fixed hash; on-line training never draws them)
                  --carry-chain L (addition): sums whose carry travels through exactly L positions
      --exclude FILE[,FILE]: skip puzzles equal, up to the training augmentation's symmetries, to one in these
                             files (held-out suites)
    """,
    "train": """
    trm train --data TRAIN_FILE --out RUN_DIR [--valid FILE] [--task T] [--model trm|baseline] [--preset NAME]
              [--width D] [--heads H] [--blocks B] [--mixer conv|depthwise|attention|mlp] [--positions 1d|2d]
              [--latent-steps n] [--recursions T] [--supervision-steps N_sup] [--optimizer-steps S] [--batch B]
              [--lr X] [--weight-decay X] [--halt-loss-weight X] [--halt-exploration P] [--supervision-warmup S]
              [--loss stablemax|softmax] [--solve-stop-rule halting-head|until-stable]
              [--augment K] [--augment-online] [--generate-online | --no-generate-online] [--loop-share P]
              [--curriculum H] [--loss-cells open|all] [--maze-labels canonical|nearest|file] [--no-ema]
              [--one-step-gradient] [--seed S]
              [--threads N] [--micro-batches K] [--init CHECKPOINT]
              [--checkpoint-every S] [--validate-every S] [--valid-supervision-steps K]
    trm train --resume RUN_DIR --data TRAIN_FILE [--valid FILE] [--threads N] [--optimizer-steps S (new total)]
              [--checkpoint-every S] [--validate-every S] [--valid-supervision-steps K]
      presets: \(Preset.all.keys.sorted().joined(separator: ", "))
      optimizer steps update the weights; supervision steps (N_sup) are answer refinements per puzzle
      (earlier spellings --steps and --eval-steps still work)
      --positions 2d: rotary positions by (row, column) on grid tasks (attention mixer) instead of the index in
                      the flattened grid
      --mixer conv: 3×3 convolution over the grid (sudoku, maze): the checkpoint runs on grids of any size
      --mixer depthwise: a depthwise 3×3 convolution inside the SwiGLU instead (nano-trm's variant), also any size
      --generate-online (maze, sudoku, arithmetic; on in the maze, addition and multiplication presets): every slot
                        gets a freshly generated puzzle of the training size (sudoku: givens drawn over a range that
                        reaches minimal, hard puzzles; arithmetic: operands of 1…D digits each, never a problem
                        reserved for evaluation; mazes like the training file's: lattice mazes, or open-plan
                        ones — random walls, no border, Maze-Hard — with the file's wall shares and path length)
      --loop-share P: share of generated mazes with loops (unique shortest path), the rest perfect (default 0.75)
      --curriculum H (generated sudoku; 0 = off, the default): easy to hard — over the first 20% of
                     the steps the fewest givens drawn falls from 30 to minimal, then the share of puzzles that
                     must grade hard or extreme (trm grade) rises to H at 80% of the steps
      --loss-cells open (maze; on in the maze preset): supervise and score open cells only (walls, S, G are given)
      --maze-labels canonical (the maze preset's): train on the canonical shortest path of each maze (BFS, fixed
                    neighbour order) instead of the file's, which is arbitrary where several exist (Maze-Hard);
                    nearest: at every step, the shortest path nearest to the model's answer (any one is accepted)
      --init CHECKPOINT: start from that model's weights (EMA) instead of a random init, with this run's data,
                         optimizer and schedule: e.g. a conv model trained on 15×15 mazes continued on 30×30
      --halt-exploration P: share of slots that keep going past a halt to a random 2…N_sup steps (default 0.1)
      --solve-stop-rule R: how trm solve stops a puzzle early by default, stored in the checkpoint (halting-head, the
                           default; until-stable in the arithmetic presets, whose heads stop after one step)
      --micro-batches K: split every batch into K parts whose gradients are averaged; the parts run side by side,
                         one per thread (with --threads K: no hand-off between threads inside an op, ~20% faster
                         on 2 cores). Results depend on K, not on --threads
      writes RUN_DIR/checkpoint.safetensors (resumable), RUN_DIR/model.safetensors (EMA, for eval),
      RUN_DIR/metrics.jsonl
    """,
    "eval": """
    trm eval --checkpoint FILE --data FILE [--supervision-steps K] [--halt | --until-stable] [--attempts K]
             [--json OUT] [--threads N]
      --until-stable: stop each puzzle at the first step (from the 2nd on) that leaves its answer unchanged, up to
                      K steps; the halting head is not consulted (use it on bigger inputs than the training ones)
    """,
    "solve": """
    trm solve --checkpoint FILE [--data FILE | stdin] [--supervision-steps K]
              [--no-halt | --until-stable | --halting-head] [--attempts K] [--verify] [--threads N]
      stops each puzzle early by the checkpoint's rule (trm train --solve-stop-rule): the halting head, or for
      arithmetic checkpoints the first step that leaves the answer unchanged; at most K steps
      --until-stable, --halting-head: that rule instead; --no-halt: all K steps
    """,
    "trace":
      "trm trace --checkpoint FILE --data FILE [--index N (1)] [--supervision-steps K] --out FILE.svg [--threads N]",
    "verify": "trm verify --data FILE [--task sudoku|maze|arithmetic]   (exit 0 only if every line is valid)",
    "grade": """
    trm grade --data FILE [--limit N]   sudoku difficulty: guesses of a most-constrained-first backtracking solver
      beyond forced moves (easy ≤ 20, medium ≤ 300, hard ≤ 3,000, extreme > 3,000)
    """,
    "sweep": """
    trm sweep --checkpoint FILE --data FILE[,FILE…] --supervision-steps 1,2,4,8,16,32 [--latent-steps 2,6]
              [--recursions 1,3] [--baseline CHECKPOINT] [--halt | --until-stable] --out DIR [--threads N]
      one curve per file and (n, T) in one chart; sweep.csv has the effective depth K·T·(n+1)·blocks of each point.
      The model is loaded once: n, T and K are run-time. Files of another size than the training set run the same
      weights (size extrapolation; conv and attention mixers).
    """,
    "chart": """
    trm chart --evals DIR [--steps-per-view N_sup] [--out FILE]
      reads DIR/eval-NAME-attemptsK.json (as trm eval --attempts K --json writes them; eval-baseline-* files are
      left out) and writes DIR/attempts.svg: verified accuracy and forward GFLOP per solved puzzle against the attempt
      cap K, one curve per NAME, each point labelled (views used = mean steps / --steps-per-view, default 8).
    """,
    "compare": """
    trm compare --data TRAIN --test FILE [--valid FILE] --optimizer-steps N [--preset NAME] [--out DIR] [--threads N]
                [--seed S] [any model/training option of trm train, e.g. --batch B --lr X --augment-online]
    """,
    "demo":
      "trm demo [--suite Puzzles/sudoku4] [--optimizer-steps N] [--threads N]   (TRM vs. baseline on a shipped suite)",
  ]

  // MARK: - Shared helpers

  static func loadSet(_ path: String, task: TaskKind?) throws -> PuzzleSet {
    try PuzzleSet.load(path: path, task: task)
  }

  static func task(_ a: Arguments) throws -> TaskKind? {
    guard let t = a.string("task") else { return nil }
    guard let k = TaskKind(rawValue: t) else {
      throw UsageError("--task must be sudoku, maze or arithmetic, got '\(t)'")
    }
    return k
  }

  /// `eval` and `sweep`'s stop flags: sets `r.stopRule` and returns the calls' `halt`. `--halt`
  /// is the halting head whatever rule the checkpoint names (the published "with halting"
  /// figures); `--until-stable` stops where the answer settles; neither: all K steps.
  static func scoringStop(_ a: Arguments, _ r: Reasoner) throws -> Bool {
    if a.has("halt") && a.has("until-stable") {
      throw UsageError("--halt and --until-stable are two stop rules: choose one")
    }
    r.stopRule = a.has("until-stable") ? .untilStable : .haltingHead
    return a.has("halt") || a.has("until-stable")
  }

  static func threads(_ a: Arguments) throws -> Int {
    try a.int("threads", default: min(2, ProcessInfo.processInfo.activeProcessorCount), min: 1, max: 256)
  }

  static func pct(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }

  static func table(_ header: [String], _ rows: [[String]]) -> String {
    var w = header.map(\.count)
    for r in rows { for (i, c) in r.enumerated() { w[i] = max(w[i], c.count) } }
    func line(_ r: [String]) -> String {
      r.enumerated().map { i, c in c.padding(toLength: w[i], withPad: " ", startingAt: 0) }.joined(separator: "  ")
    }
    return ([line(header), w.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + rows.map(line))
      .joined(separator: "\n")
  }

  static func writeJSON<T: Encodable>(_ v: T, to path: String) throws {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    do { try enc.encode(v).write(to: URL(fileURLWithPath: path)) } catch {
      throw UsageError("cannot write \(path): \(error.localizedDescription)")
    }
  }
}
