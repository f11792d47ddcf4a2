// Address rewriting for replays: `FROM=TO` rules, exact or by prefix.

/// Rewrites an address: `FROM=TO`, exact, or with a trailing `*` on both sides to keep the rest
/// (`7701*=7999*` turns 77011234567 into 79991234567).
public struct AddressRewrite: Sendable, Hashable, CustomStringConvertible {
    public var from: String
    public var to: String

    public init?(_ specification: String) {
        let parts = specification.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else { return nil }
        // `*=TO` sends everything to one address; otherwise a prefix rule has a star on both sides.
        if parts[0] != "*", parts[0].hasSuffix("*") != parts[1].hasSuffix("*") { return nil }
        from = parts[0]
        to = parts[1]
    }

    public func apply(_ address: String) -> String? {
        if from == "*", !to.hasSuffix("*") { return to }
        if from.hasSuffix("*") {
            let prefix = from.dropLast()
            guard address.hasPrefix(prefix) else { return nil }
            return String(to.dropLast()) + address.dropFirst(prefix.count)
        }
        return address == from ? to : nil
    }

    public var description: String { "\(from)=\(to)" }
}

extension Array where Element == AddressRewrite {
    /// The first rule that matches, or the address unchanged.
    public func apply(_ address: String) -> String {
        for rule in self {
            if let rewritten = rule.apply(address) { return rewritten }
        }
        return address
    }
}
