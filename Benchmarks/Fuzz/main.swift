// Fuzz: puzzle lines and checkpoints from untrusted bytes must give a value or an error, never a
// crash or a hang.
//
//   swift run -c release Fuzz [--lines N (1,000,000)] [--checkpoints N (100,000)] [--seed S]
//
// Prints the counts; exits 1 if a case took longer than 2 s (a crash ends the process instead).
import Foundation
import TRMFuzzing

var lines = 1_000_000, checkpoints = 100_000, seed: UInt64 = 1
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
  guard let v = args.popFirst(), let n = Int(v), n >= 0 else {
    print("usage: Fuzz [--lines N] [--checkpoints N] [--seed S]")
    exit(2)
  }
  switch a {
  case "--lines": lines = n
  case "--checkpoints": checkpoints = n
  case "--seed": seed = UInt64(n)
  default:
    print("unknown option \(a)")
    exit(2)
  }
}
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
