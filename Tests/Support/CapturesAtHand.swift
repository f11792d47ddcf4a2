// Every capture file the repository holds: the bundled ones (real software, Captures/), the generated test fixtures
// and the reference captures with their ground truth. Suites that must hold on all of them take this list.

import Foundation

public enum CapturesAtHand {
    /// The repository's root.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    public static let bundled = [
        "kannel_simulator_port3701.pcap", "smpplib_simulator_port3700.pcap", "smpplib_smsckz_port3700.pcap",
    ]
    .map { root.appendingPathComponent("Captures/\($0)").path }

    public static let generated = [
        "clean_ethernet.pcap", "clean_sll.pcapng", "stress_sll.pcap", "stress_ethernet.pcapng",
    ]
    .map { root.appendingPathComponent("Tests/Fixtures/generated/\($0)").path }

    public static let reference = [
        "smpplib_trx_burst_query_unbind.pcap", "raw_tcp_segmentation_stress_mss88_port8775.pcap",
        "smpplib_linux_any_sll2_port2776.pcap",
    ].map { root.appendingPathComponent("Tests/Fixtures/reference/\($0)").path }

    public static let all = bundled + generated + reference
}
