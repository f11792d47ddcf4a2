// Conversions the commands share: seconds given on the command line as NIO time amounts, and TLS version names.

import NIOCore
import Transport

/// A number of seconds (checked by the caller to be finite and in range) as a time amount.
func timeAmount(seconds: Double) -> TimeAmount {
    .nanoseconds(Int64((seconds * 1e9).rounded()))
}

/// The TLS version a `--tls-minimum-version` value names.
func tlsVersion(_ text: String) -> TLSMinimumVersion? { TLSMinimumVersion(rawValue: text) }
