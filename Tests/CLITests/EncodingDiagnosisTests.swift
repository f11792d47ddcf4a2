// What the texts' encodings show, on traffic a real client encoded: python smpplib sends ISO-8859-1 and UCS-2
// octets under data_coding 0, a header without UDHI, a part cut inside a GSM escape and UCS-2 texts GSM 03.38 could
// carry, through the recording proxy to the simulator. The client's log of what it sent is the oracle for every
// count; decode must read the ISO-8859-1 texts as such by itself, and as told with --dcs0.

import Foundation
import TestSupport
import Testing

@Suite(
    "Encodings on a real client's traffic", .serialized,
    .enabled(
        if: Paths.binary != nil && FaultPeers.pythonSmpplib, "needs a built smppscope and python smpplib"))
struct EncodingDiagnosisTests {
    @Test func encodingFindingsAndDecodingAsThePeerWrites() throws {
        let scratch = try Scratch()
        try withRunningSimulator(["--account", "enc:secret:1000"]) { smscPort in
            let proxy = try RecordProcess(upstreamPort: smscPort, scratch: scratch, withStore: false)
            let log = scratch.path("encodings.log")
            let status = try runPythonPeer(
                "smpplib_encodings.py", ["127.0.0.1", String(proxy.port), "enc", "secret", log])
            #expect(status == 0)
            #expect(proxy.stop() == 0, "\(proxy.errors)")

            let lines = (try String(contentsOfFile: log, encoding: .utf8)).split(separator: "\n")
            #expect(lines.last == "done")
            var sent: [String: [(sequence: Int, hex: String)]] = [:]
            for line in lines.dropLast() {
                let words = line.split(separator: " ")
                sent[String(words[0]), default: []].append((Int(words[1])!, String(words[2])))
            }
            let result = try smppscope(["analyze", proxy.journal, "--format", "json"])
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
            let group = try #require(
                (json["encoding"] as? [[String: Any]])?.first {
                    $0["peer"] as? String == "enc" && $0["direction"] as? String == "submit"
                })
            #expect(group["dcs0_inferred"] as? String == "latin1" && group["dcs0_declared"] as? String == "gsm7")
            #expect(group["ucs2_under_dcs0"] as? Int == sent["ucs2-dcs0"]?.count)
            #expect(group["udh_without_udhi"] as? Int == sent["udh-no-udhi"]?.count)
            #expect(group["gsm_escape_split"] as? Int == sent["escape-split"]?.count)
            #expect(group["costlier_encoding"] as? Int == sent["ucs2-fits"]?.count)
            #expect(group["segments_saved"] as? Int == 1, "the 100-character one: two UCS-2 segments, one GSM")
            let findings = json["findings"] as? [[String: Any]] ?? []
            func finding(_ code: String) -> [String: Any]? { findings.first { $0["code"] as? String == code } }
            #expect(finding("dcs0_alphabet")?["count"] as? Int == sent["latin1"]?.count)
            #expect(finding("dcs0_alphabet")?["inferred"] as? String == "latin1")
            let ucs2 = try #require(finding("ucs2_under_dcs0"))
            let evidence = (ucs2["evidence"] as? [[String: Any]] ?? []).compactMap { $0["sequence_number"] as? Int }
            #expect(evidence == sent["ucs2-dcs0"]?.map(\.sequence))
            #expect(finding("udh_without_udhi") != nil && finding("gsm_escape_split") != nil)
            #expect(finding("costlier_encoding")?["severity"] as? String == "info")

            // decode reads the ISO-8859-1 texts as the account writes them, unless told otherwise.
            func texts(_ arguments: [String]) throws -> [Int: String] {
                let decoded = try smppscope(["decode", proxy.journal, "--format", "jsonl"] + arguments)
                var texts: [Int: String] = [:]
                for line in decoded.output.split(separator: "\n") {
                    guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                        object["command"] as? String == "submit_sm", let sequence = object["sequence_number"] as? Int
                    else { continue }
                    texts[sequence] = object["text"] as? String
                }
                return texts
            }
            let auto = try texts([])
            let gsm = try texts(["--dcs0", "gsm7"])
            for (sequence, hex) in sent["latin1"] ?? [] {
                let octets = stride(from: 0, to: hex.count, by: 2).map {
                    UInt8(hex.dropFirst($0).prefix(2), radix: 16)!
                }
                // ISO-8859-1: each octet is the code point.
                let latin1 = String(String.UnicodeScalarView(octets.map { Unicode.Scalar($0) }))
                #expect(auto[sequence] == latin1, "auto: \(auto[sequence] ?? "-")")
                #expect(gsm[sequence] != latin1)
            }
            // The plain texts read alike either way.
            for (sequence, _) in sent["gsm"] ?? [] { #expect(auto[sequence] != nil && auto[sequence] == gsm[sequence]) }
        }
    }

    /// The bundled smpplib capture sends to 7701… numbers (the client's script, Captures/tools): with two digits,
    /// every message that asked for a receipt is under 77; with none, no prefix is kept; seven is refused with the
    /// range. With --dcs0 latin1 analyze takes the SMSC to read data_coding 0 as ISO-8859-1.
    @Test func prefixDigitsAndTheDefaultAlphabetOfTheSMSC() throws {
        func receipts(_ arguments: [String]) throws -> [String: Any] {
            let result = try smppscope(["analyze", Paths.capture, "--format", "json"] + arguments)
            #expect(result.status == 0, "\(result.errors)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
            return try #require(json["delivery_receipts"] as? [String: Any])
        }
        let two = try receipts(["--prefix-digits", "2"])
        let prefixes = try #require(two["prefixes"] as? [[String: Any]])
        let accounts = try #require(two["accounts"] as? [[String: Any]])
        #expect(prefixes.map { $0["prefix"] as? String } == ["77"])
        #expect(prefixes.first?["asked"] as? Int == accounts.first?["asked"] as? Int)
        #expect((try receipts(["--prefix-digits", "0"])["prefixes"] as? [[String: Any]])?.isEmpty == true)
        let refused = try smppscope(["analyze", Paths.capture, "--prefix-digits", "7"])
        #expect(refused.status != 0 && refused.errors.contains("--prefix-digits must be between 0 and 6"))

        let told = try smppscope(["analyze", Paths.capture, "--format", "json", "--dcs0", "latin1"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(told.output.utf8)) as? [String: Any])
        let group = try #require((json["encoding"] as? [[String: Any]])?.first)
        #expect(group["dcs0_declared"] as? String == "latin1")
    }
}
