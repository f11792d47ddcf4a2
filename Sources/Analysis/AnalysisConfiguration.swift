// What the analysis is told: limits to compare with, from the command line or a Kannel configuration.

import SMPP

/// Settings of an analysis.
public struct AnalysisConfiguration: Sendable {
    /// Silences longer than this between consecutive PDUs of a session are idle violations (SMSC.kz: 120 s).
    public var idleLimit: Double = 120
    /// The account's submit_sm per second limit to compare with (SMSC.kz default 30), if known.
    public var throughputLimit: Double?
    /// The window (outstanding requests) the client was configured with, if known.
    public var window: Int?
    /// The enquire_link interval the client was configured with, in seconds, if known.
    public var enquireLinkInterval: Double?
    /// A run of ESME_RTHROTTLED ends where the next one comes this many seconds or more after the previous one.
    public var throttleEpisodeGap: Double = 1
    /// Identical submits within this many seconds are duplicates (SMSC.kz loop protection: 60 s).
    public var duplicateWindow: Double = 60
    /// How long (capture time) a submitted message waits for its receipt before it is forgotten.
    public var receiptWindow: Double = 7_200
    /// A DELIVRD receipt sooner than this after its submit_sm_resp is faster than any handset answers (paging a
    /// phone alone takes longer): seconds.
    public var receiptTooFast: Double = 0.1
    /// Below this share of accepted messages with a final receipt, an account's receipt coverage is low.
    public var receiptCoverageThreshold: Double = 0.97
    /// Receipt figures are also given per destination prefix of this many digits (country and network code;
    /// at most ``DestinationPrefix/maximumDigits``); 0 for none.
    public var destinationPrefixDigits = 4
    /// What the SMSC reads data_coding 0 as (`--dcs0`); nil for what each session's system_type says (GSM 03.38,
    /// or ISO-8859-1 with SMSC.kz's `ISO`).
    public var defaultAlphabet: DefaultAlphabet?

    public init() {}
}

/// The `smsc` group of a Kannel configuration: what the client was set up to do.
public struct KannelSMSCGroup: Hashable, Sendable {
    public var id: String?
    public var host: String?
    public var port: Int?
    public var username: String?
    public var systemType: String?
    /// `throughput`: submits per second Kannel allows itself.
    public var throughput: Double?
    /// `max-pending-submits`: the window.
    public var maxPendingSubmits: Int?
    /// `enquire-link-interval`, seconds.
    public var enquireLinkInterval: Double?
    public var transceiverMode: Bool?

    /// Parses the `group = smsc` sections of a Kannel configuration file (`key = value` lines, `#` comments,
    /// quoted values, blank lines between groups).
    public static func parse(_ text: String) -> [KannelSMSCGroup] {
        var groups: [KannelSMSCGroup] = []
        var current: [String: String]?
        func close() {
            guard let values = current, values["group"] == "smsc" else {
                current = nil
                return
            }
            var group = KannelSMSCGroup()
            group.id = values["smsc-id"]
            group.host = values["host"]
            group.port = values["port"].flatMap { Int($0) }
            group.username = values["smsc-username"]
            group.systemType = values["system-type"]
            group.throughput = values["throughput"].flatMap { Double($0) }
            group.maxPendingSubmits = values["max-pending-submits"].flatMap { Int($0) }
            group.enquireLinkInterval = values["enquire-link-interval"].flatMap { Double($0) }
            group.transceiverMode = values["transceiver-mode"].map {
                ["true", "yes", "1", "on"].contains($0.lowercased())
            }
            groups.append(group)
            current = nil
        }
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = line.trimmingCharacters(in: " \t\r")
            if trimmed.isEmpty {
                close()
                continue
            }
            guard let equals = trimmed.firstIndex(of: "=") else { continue }
            let key = trimmed[..<equals].trimmingCharacters(in: " \t").lowercased()
            var value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: " \t")
            if value.count >= 2, value.first == "\"", value.last == "\"" {
                value = String(value.dropFirst().dropLast())
            }
            if key == "group" {
                close()
                current = [:]
            }
            if current == nil { current = [:] }
            current?[key] = value
        }
        close()
        return groups
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        var result = self[...]
        while let first = result.first, characters.contains(first) { result = result.dropFirst() }
        while let last = result.last, characters.contains(last) { result = result.dropLast() }
        return String(result)
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String { self[...].trimmingCharacters(in: set) }
}
