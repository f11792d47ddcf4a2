// What can go wrong when the web API is asked something: a parameter it cannot read, a thing the store does not
// have, the store failing. Each maps to an HTTP status and is answered as JSON.

import SMPP

/// A failure of an API request: a code, a reason, the parameter or path concerned, and a hint.
public struct ServeError: LocatedError, Hashable {
    /// The kind of problem. A closed set.
    public enum Code: String, Hashable, Sendable, CaseIterable {
        /// A query parameter or path part that is not valid (HTTP 400).
        case invalidParameter = "invalid_parameter"
        /// The store has no such session, source or page (HTTP 404).
        case notFound = "not_found"
        /// Basic authentication is required and was not given or wrong (HTTP 401).
        case unauthorized = "unauthorized"
        /// The store failed to answer (HTTP 500).
        case storeFailed = "store_failed"
    }

    public var code: Code
    public var reason: String
    /// The parameter, path or store concerned.
    public var location: String?
    public var hint: String?

    public init(_ code: Code, _ reason: String, location: String? = nil, hint: String? = nil) {
        self.code = code
        self.reason = reason
        self.location = location
        self.hint = hint
    }

    public var description: String { reason }

    /// The HTTP status the error is answered with.
    public var httpStatus: Int {
        switch code {
        case .invalidParameter: 400
        case .notFound: 404
        case .unauthorized: 401
        case .storeFailed: 500
        }
    }
}
