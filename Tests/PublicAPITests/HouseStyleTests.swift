import Foundation
import XCTest

/// House rules checked in CI: every Swift line fits 120 characters (`.swift-format` has the same
/// width; `swift format format -i -r Sources Tests Benchmarks` keeps code there), and the licence
/// ships with the code.
final class HouseStyleTests: XCTestCase {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  func testEverySwiftLineFitsTheHouseWidth() throws {
    var long: [String] = []
    var files = 0
    for dir in ["Sources", "Tests", "Benchmarks"] {
      let base = Self.root.appendingPathComponent(dir)
      guard let walk = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { continue }
      for case let url as URL in walk where url.pathExtension == "swift" && !url.path.contains("/runs/") {
        files += 1
        let text = try String(contentsOf: url, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (i, line) in lines.enumerated() where line.count > 120 {
          long.append("\(url.path.dropFirst(Self.root.path.count + 1)):\(i + 1) (\(line.count))")
        }
      }
    }
    XCTAssertGreaterThan(files, 40, "the walk found the sources")
    XCTAssertEqual(long, [], "lines over 120 characters")
  }

  func testLicenceAndFormatterConfigurationShip() throws {
    let licence = try String(contentsOf: Self.root.appendingPathComponent("LICENSE"), encoding: .utf8)
    XCTAssertTrue(licence.hasPrefix("MIT License"))
    let configURL = Self.root.appendingPathComponent(".swift-format")
    let config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL))
    XCTAssertEqual((config as? [String: Any])?["lineLength"] as? Int, 120)
  }
}
