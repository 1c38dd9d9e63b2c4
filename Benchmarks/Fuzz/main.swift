// Fuzz: puzzle lines and checkpoints from untrusted bytes must give a value or an error, never a
// crash or a hang.
//
//   swift run -c release Fuzz [--lines N (1,000,000)] [--checkpoints N (100,000)] [--seed S]
//
// Prints the counts; exits 1 if a case took longer than 2 s (a crash ends the process instead).
import BenchmarkArguments
import Foundation
import TRMFuzzing

let args = BenchmarkArguments(
  program: "Fuzz",
  usage: "usage: swift run -c release Fuzz [--lines N (1,000,000)] [--checkpoints N (100,000)] [--seed S]",
  flags: [], options: ["lines", "checkpoints", "seed"])
let lines = args.int("lines", minimum: 0) ?? 1_000_000
let checkpoints = args.int("checkpoints", minimum: 0) ?? 100_000
let seed = UInt64(args.int("seed", minimum: 0) ?? 1)
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent()
let corpus = Fuzzer.corpus(root: root)
let t0 = Date()
let l = Fuzzer.fuzzLines(count: lines, seed: seed, corpus: corpus)
print("lines (corpus of \(corpus.count) real lines): \(l)")
let c = try Fuzzer.fuzzCheckpoints(count: checkpoints, seed: seed)
print("checkpoints: \(c)")
print(String(format: "no crash; %.0f s in all", Date().timeIntervalSince(t0)))
exit(max(l.slowest, c.slowest) > 2 ? 1 : 0)
