// Runs one of the python peers of Tests/Peers to its end, its output discarded (each peer logs to a file of its own).

import Foundation
import TestSupport

/// Runs `Tests/Peers/SCRIPT` with python3 and `arguments`; returns its exit status.
func runPythonPeer(_ script: String, _ arguments: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", Paths.root.appendingPathComponent("Tests/Peers/\(script)").path] + arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}

/// Kannel sending `count` messages with reports through `port` (Tests/Peers/kannel_receipts.py, in `scratch`'s
/// folder, with `msgIDType` and more smsc-group `settings`): the counts it prints ("sent", "linked", "not-found",
/// "not-acked"), its exit status and what it wrote. Kannel's boxes listen on ports picked free just before; when one
/// was taken in between by a test running beside (the boxes stop before anything is sent: no "sent" line), it is
/// started again on others, twice at most.
func runKannel(
    scratch: Scratch, port: Int, msgIDType: String, count: Int, settings: [String] = []
) throws -> (counts: [String: Int], status: Int32, output: String) {
    var attempt = 0
    while true {
        attempt += 1
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            [
                "python3", Paths.root.appendingPathComponent("Tests/Peers/kannel_receipts.py").path,
                scratch.url.path, String(port), msgIDType, String(count),
            ] + (0..<4).map { _ in String(freePort()) } + settings
        let output = Pipe()
        process.standardOutput = output
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problems = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        var counts: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2, let value = Int(words[1]) { counts[String(words[0])] = value }
        }
        if counts["sent"] == nil, attempt < 3 { continue }
        return (counts, process.terminationStatus, text + problems)
    }
}
