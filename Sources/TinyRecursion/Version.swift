/// The library's version (semantic versioning), printed by `trm --version`.
public enum TinyRecursionVersion {
  public static let string = "0.5.0"
}
