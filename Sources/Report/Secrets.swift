// The one rule for passwords in output: unless the user asks for them (`--show-secrets`), every rendering of a PDU
// that can carry one (bind_*, outbind, well-formed or not) starts from its bytes with the password overwritten by
// '*' (`PasswordRedaction`), and a decoded password field reads `<redacted>`. Fields, hex dumps of damaged bodies,
// trailing bytes and diagnostics are all made from those bytes, so none of them can show it.

import Reassembly
import SMPP
import Timeline

extension TimelinePDU {
    /// This PDU as output may show it: its password redacted unless `options` shows secrets.
    public func forOutput(_ options: RenderOptions) -> TimelinePDU {
        guard !options.showSecrets, header.commandID.carriesPassword, let redacted = PasswordRedaction.redacted(raw)
        else {
            return self
        }
        return TimelinePDU(
            session: session, timestamp: timestamp, frame: frame, source: source, destination: destination,
            fromClient: fromClient, streamOffset: streamOffset, header: header, raw: redacted,
            digest: PDUDigest(frame: redacted), pdu: nil, isoDefault: isoDefault)
    }
}
