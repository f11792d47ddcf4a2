// `smppscope anonymize` on every capture at hand, with tshark as the outside reader: the output has the same SMPP
// PDUs (commands, statuses, sequence numbers) and no malformed packet, none of the addresses, logins, passwords or
// texts tshark reads in the input is anywhere in the output's bytes, and analyze tells the same story.

import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

enum AnonymizeFixtures {
    /// Every capture made by other software at hand: the bundled ones, the reference set, the generated ones.
    static let captures: [String] = {
        let root = Paths.root
        var paths: [String] = []
        for folder in ["Captures", "Tests/Fixtures/reference", "Tests/Fixtures/generated"] {
            let url = root.appendingPathComponent(folder)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            for name in names.sorted() where name.hasSuffix(".pcap") || name.hasSuffix(".pcapng") {
                paths.append(url.appendingPathComponent(name).path)
            }
        }
        return paths
    }()

    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("smppscope-anonymize-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}

/// How many packets of a capture tshark's display filter matches.
func tsharkCount(_ capture: String, _ filter: String) throws -> Int {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: TShark.path)
    process.arguments = ["-r", capture, "-Y", filter, "-T", "fields", "-e", "frame.number"]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).split(separator: "\n").count
}

/// The secrets tshark reads in a capture: addresses, logins, passwords, message texts (not receipts), each as the
/// bytes that would be found if they leaked.
func secretsTSharkReads(_ capture: String) throws -> Set<[UInt8]> {
    var secrets = Set<[UInt8]>()
    func add(_ bytes: [UInt8]) {
        let alphanumeric = bytes.filter { ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A || (0x30...0x39).contains($0) }
        guard bytes.count >= 5, alphanumeric.count >= 3 else { return }
        secrets.insert(Array(bytes.prefix(16)))
    }
    for pdu in try TShark.pdus(capture) {
        for field in ["source_addr", "destination_addr", "system_id", "password"] {
            if let value = pdu[field] { add(Array(value.utf8)) }
        }
        var message = pdu.message
        guard message.count >= 5 else { continue }
        if let udhi = pdu["esm.submit.features"], udhi.contains("0x40") || udhi == "1" || udhi == "0x01" {
            message.removeFirst(min(message.count, Int(message[0]) + 1))
        }
        if message.starts(with: Array("id:".utf8)) { continue }
        // An SMSC.kz marker (`__HLR__`, `__MMS__:`; `_` is 0x11 in GSM 03.38) is kept: what follows it is secret.
        for underscore in [UInt8(0x5F), 0x11] where message.starts(with: [underscore, underscore]) {
            if let close = (2..<max(2, message.count - 1)).first(where: {
                message[$0] == underscore && message[$0 + 1] == underscore
            }) {
                message.removeFirst(close + 2)
                while let first = message.first, first == 0x3A || first == 0x20 { message.removeFirst() }
            }
        }
        add(message)
    }
    return secrets
}

/// Whether `needle` is in `haystack`. A number (digits, or digits as UCS-2) counts only where it stands on its own:
/// inside a longer run of digits it is chance (the pseudonyms of other addresses are random digits).
func contains(_ haystack: Data, _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty else { return false }
    func byte(_ at: Int) -> UInt8? {
        at >= 0 && at < haystack.count ? haystack[haystack.startIndex + at] : nil
    }
    func digit(_ at: Int) -> Bool { byte(at).map { (0x30...0x39).contains($0) } ?? false }
    let digits = needle.allSatisfy { (0x30...0x39).contains($0) }
    let wideDigits =
        needle.count % 2 == 0
        && needle.enumerated().allSatisfy { $0.offset % 2 == 0 ? $0.element == 0 : (0x30...0x39).contains($0.element) }
    var from = haystack.startIndex
    while let range = haystack.range(of: Data(needle), in: from..<haystack.endIndex) {
        let start = range.lowerBound - haystack.startIndex
        let end = range.upperBound - haystack.startIndex
        let alone: Bool
        if digits {
            alone = !digit(start - 1) && !digit(end)
        } else if wideDigits {
            alone =
                !(byte(start - 2) == 0 && digit(start - 1))
                && !(byte(end) == 0 && digit(end + 1))
        } else {
            alone = true
        }
        if alone { return true }
        from = range.lowerBound + 1
    }
    return false
}

/// analyze's JSON without what names an account (its login is pseudonymized, so lists by account may come in
/// another order): everything else must be equal.
func contentIndependent(_ json: Any) -> Any {
    func text(_ value: Any) -> String {
        guard JSONSerialization.isValidJSONObject([value]),
            let data = try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys])
        else { return "\(value)" }
        return String(decoding: data, as: UTF8.self)
    }
    let named: Set<String> = ["system_id", "account", "peer", "message"]
    if let dictionary = json as? [String: Any] {
        var result: [String: Any] = [:]
        for (key, value) in dictionary {
            if named.contains(key) { continue }
            if key == "latency_by_system_id", let byName = value as? [String: Any] {
                result[key] = byName.values.map { text(contentIndependent($0)) }.sorted()
                continue
            }
            result[key] = contentIndependent(value)
        }
        return result
    }
    if let array = json as? [Any] {
        let normalized = array.map(contentIndependent)
        let byAccount = array.contains { ($0 as? [String: Any])?.keys.contains { named.contains($0) } == true }
        return byAccount ? normalized.map(text).sorted() : normalized
    }
    return json
}

func analyzeJSON(_ capture: String) throws -> String {
    let result = try smppscope(["analyze", capture, "--format", "json"])
    #expect(result.status == 0, "\(result.errors)")
    let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8))
    let data = try JSONSerialization.data(withJSONObject: contentIndependent(object), options: [.sortedKeys])
    return String(decoding: data, as: UTF8.self)
}

@Suite(
    "anonymize",
    .enabled(if: Paths.binary != nil && TShark.available, "needs a built smppscope and tshark"))
struct AnonymizeCommandTests {
    @Test(arguments: AnonymizeFixtures.captures)
    func theOutputDecodesAsTheInputDidAndHoldsNoneOfItsSecrets(capture: String) throws {
        let folder = try AnonymizeFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let key = folder.appendingPathComponent("key").path
        let output = folder.appendingPathComponent(capture.hasSuffix(".pcapng") ? "out.pcapng" : "out.pcap").path
        let result = try smppscope(["anonymize", capture, "-o", output, "--key", key, "--check", "--format", "json"])
        #expect(result.status == 0, "\(result.errors)")
        let report = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        #expect(report?["secrets_found"] as? Int == 0)
        #expect((report?["pdus"] as? Int ?? 0) > 0)

        // tshark: the same PDUs, in the same order, none malformed.
        let before = try TShark.pdus(capture)
        let after = try TShark.pdus(output)
        #expect(after.count == before.count)
        #expect(after.map(\.commandID) == before.map(\.commandID))
        #expect(after.map(\.commandStatus) == before.map(\.commandStatus))
        #expect(after.map(\.sequenceNumber) == before.map(\.sequenceNumber))
        #expect(try tsharkCount(output, "_ws.malformed") == tsharkCount(capture, "_ws.malformed"))
        #expect(try tsharkCount(output, "frame") == tsharkCount(capture, "frame"))
        #expect(try badChecksums(output) == 0)

        // No address, login, password or text tshark reads in the input is in the output: as it was, as UCS-2, as
        // hexadecimal text.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: output))
        let secrets = try secretsTSharkReads(capture)
        #expect(secrets.count > 3)
        for secret in secrets {
            let hex = Array(secret.map { String(format: "%02x", $0) }.joined().utf8)
            let wide: [UInt8] = secret.flatMap { [0, $0] }
            let found = contains(bytes, secret) || contains(bytes, wide) || contains(bytes, hex)
            #expect(!found, "\(secret) (\(String(decoding: secret, as: UTF8.self))) is in \(output)")
        }

        // analyze: every figure but the accounts' names is the same.
        #expect(try analyzeJSON(output) == analyzeJSON(capture))
    }

    @Test func theSameKeyGivesTheSameBytesAndTheKeyFileIsPrivate() throws {
        let folder = try AnonymizeFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let key = folder.appendingPathComponent("made.key").path
        let first = folder.appendingPathComponent("1.pcap").path
        let second = folder.appendingPathComponent("2.pcap").path
        let third = folder.appendingPathComponent("3.pcap").path
        let made = try smppscope(["anonymize", Paths.capture, "-o", first, "--key", key])
        #expect(made.status == 0, "\(made.errors)")
        #expect(made.errors.contains("created the key"))
        let attributes = try FileManager.default.attributesOfItem(atPath: key)
        #expect((attributes[.posixPermissions] as? Int ?? 0) & 0o077 == 0)
        #expect(
            (try? String(contentsOfFile: key, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines).count
                == 64)
        #expect(try smppscope(["anonymize", Paths.capture, "-o", second, "--key", key]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: first)) == Data(contentsOf: URL(fileURLWithPath: second)))
        let outputAttributes = try FileManager.default.attributesOfItem(atPath: first)
        #expect((outputAttributes[.posixPermissions] as? Int ?? 0) & 0o077 == 0)
        // Another key, other pseudonyms.
        let other = folder.appendingPathComponent("other.key").path
        try Data(repeating: 7, count: 32).write(to: URL(fileURLWithPath: other))
        chmod(other, 0o600)
        #expect(try smppscope(["anonymize", Paths.capture, "-o", third, "--key", other]).status == 0)
        let a = try TShark.pdus(first).compactMap { $0["destination_addr"] }
        let b = try TShark.pdus(third).compactMap { $0["destination_addr"] }
        #expect(a.count == b.count && a != b)
        // A key others can read is used, with a warning.
        chmod(other, 0o644)
        let warned = try smppscope(["anonymize", Paths.capture, "-o", third, "--key", other])
        #expect(warned.status == 0 && warned.errors.contains("can be read by others"))
    }

    @Test func ipAddressesAreMappedAndChecksumsStayRight() throws {
        let folder = try AnonymizeFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("mapped.pcapng").path
        let capture = Paths.root.appendingPathComponent("Tests/Fixtures/generated/stress_sll.pcap").path
        let result = try smppscope([
            "anonymize", capture, "-o", output, "--key", folder.appendingPathComponent("k").path, "--map-ips",
        ])
        #expect(result.status == 0, "\(result.errors)")
        #expect(try tsharkCount(output, "ip.addr == 10.1.0.1 || ip.addr == 10.2.0.10 || ip.addr == 10.2.0.11") == 0)
        #expect(try TShark.pdus(output).count == TShark.pdus(capture).count)
        #expect(try badChecksums(output) == 0)
        // The link type stays (Linux cooked), in a pcapng.
        #expect(try tsharkCount(output, "sll") == tsharkCount(capture, "sll"))
    }

    @Test func aStoreIsAnonymizedIntoACaptureOrAnotherStore() throws {
        let folder = try AnonymizeFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = folder.appendingPathComponent("in.sqlite").path
        let shared = folder.appendingPathComponent("shared.sqlite").path
        let output = folder.appendingPathComponent("out.pcap").path
        let key = folder.appendingPathComponent("k").path
        #expect(try smppscope(["import", Paths.capture, "--store", store]).status == 0)
        let toCapture = try smppscope(["anonymize", "--store", store, "-o", output, "--key", key, "--check"])
        #expect(toCapture.status == 0, "\(toCapture.errors)")
        #expect(toCapture.output.contains("secrets found: 0"))
        let before = try TShark.pdus(Paths.capture)
        let after = try TShark.pdus(output)
        #expect(after.map(\.commandID) == before.map(\.commandID))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: output))
        for secret in try secretsTSharkReads(Paths.capture) {
            let found = contains(bytes, secret)
            #expect(!found, "\(secret) (\(String(decoding: secret, as: UTF8.self))) is in \(output)")
        }
        let toStore = try smppscope(["anonymize", "--store", store, "--output-store", shared, "--key", key])
        #expect(toStore.status == 0, "\(toStore.errors)")
        let decoded = try smppscope(["decode", "--store", shared, "--format", "jsonl", "--pdus-only"])
        #expect(decoded.status == 0, "\(decoded.errors)")
        #expect(decoded.output.split(separator: "\n").count == before.count)
        for address in Set(before.compactMap { $0["destination_addr"] }) where address.count > 6 {
            #expect(!decoded.output.contains("\"\(address)\""), "\(address) is in the anonymized store")
        }
    }

    @Test func wrongUseSaysWhatToDo() throws {
        let folder = try AnonymizeFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let key = folder.appendingPathComponent("k").path
        let out = folder.appendingPathComponent("o.pcap").path
        let cases: [([String], String)] = [
            (["anonymize", Paths.capture, "--key", key], "give -o FILE"),
            (["anonymize", "-o", out, "--key", key], "give a capture, or --store FILE"),
            (
                ["anonymize", Paths.capture, "-o", out, "--key", key, "--keep-digits", "20"],
                "--keep-digits takes 0 to 15"
            ),
            (["anonymize", Paths.capture, "-o", out, "--key", key, "--unknown-tlvs", "maybe"], "keep or drop"),
            (["anonymize", Paths.capture, "-o", "-", "--key", key, "--check"], "--check reads the output back"),
            (["anonymize", Paths.capture, "-o", Paths.capture, "--key", key], "would overwrite the input"),
            (["anonymize", Paths.capture, "-o", out], "--key"),
        ]
        for (arguments, message) in cases {
            let result = try smppscope(arguments)
            #expect(result.status != 0)
            #expect(result.errors.contains(message), "\(arguments): \(result.errors)")
        }
        let notACapture = folder.appendingPathComponent("notes.txt").path
        try Data("hello".utf8).write(to: URL(fileURLWithPath: notACapture))
        let refused = try smppscope(["anonymize", notACapture, "-o", out, "--key", key])
        #expect(refused.status == 1 && refused.errors.contains("is not a pcap or pcapng capture"))
        #expect(!FileManager.default.fileExists(atPath: out))
        let short = folder.appendingPathComponent("short.key").path
        try Data("tiny".utf8).write(to: URL(fileURLWithPath: short))
        let weak = try smppscope(["anonymize", Paths.capture, "-o", out, "--key", short])
        #expect(weak.status == 1 && weak.errors.contains("too short to be a secret"))
    }
}
