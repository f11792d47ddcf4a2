// The shape every module's error takes: what kind of failure (a closed set), why, where, and what to do.

/// An error that names its kind from a closed set (`code`, with a stable snake_case name), says why in plain words
/// (`reason`) and where (`location`: a file and offset, an address, a store, a PDU offset and field), and, when the
/// user can do something about it, what (`hint`). Each module has one such type; the command line prints the reason
/// and the hint, and programs match on the code.
public protocol LocatedError: Error, Sendable, CustomStringConvertible {
    associatedtype Code: RawRepresentable & Hashable & Sendable & CaseIterable where Code.RawValue == String
    var code: Code { get }
    var reason: String { get }
    var location: String? { get }
    var hint: String? { get }
}

extension LocatedError {
    /// The code's stable name (`cannot_open`, `length_too_large`).
    public var codeName: String { code.rawValue }
}
