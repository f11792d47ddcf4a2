// Binding straight to SQLite for the inserts of a big import, where building argument arrays per row would cost
// more than the insert itself.
//
// Unsafe code, and its invariants: values are bound with SQLITE_TRANSIENT (SQLite copies them before the call
// returns), so no pointer outlives the bind; the raw handle is GRDB's statement's, used only while
// this value holds that statement.

import GRDB
import GRDBSQLite

/// A prepared statement executed many times with values bound one by one.
struct BulkStatement {
    private let statement: Statement
    private var handle: SQLiteStatement { statement.sqliteStatement }
    /// SQLite copies the value (SQLITE_TRANSIENT).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ statement: Statement) {
        self.statement = statement
    }

    func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(handle, index, value)
    }

    func bind(_ index: Int32, _ value: String?) {
        guard var value else {
            sqlite3_bind_null(handle, index)
            return
        }
        value.withUTF8 { bytes in
            _ = sqlite3_bind_text(
                handle, index, bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) },
                Int32(bytes.count), Self.transient)
        }
    }

    /// Binds `blob` (without copying it) and runs the statement.
    func step(blob: [UInt8], at index: Int32) throws {
        try blob.withUnsafeBytes { bytes in
            sqlite3_bind_blob(handle, index, bytes.baseAddress, Int32(bytes.count), nil)
            defer { sqlite3_bind_null(handle, index) }
            try step()
        }
    }

    /// Runs the statement once and resets it for the next values.
    func step() throws {
        let code = sqlite3_step(handle)
        sqlite3_reset(handle)
        guard code == SQLITE_DONE else {
            throw StoreError(.databaseFailed, "cannot write to the store: \(String(cString: sqlite3_errstr(code)))")
        }
    }
}
