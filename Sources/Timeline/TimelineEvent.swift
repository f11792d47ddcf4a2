// The event model every input path produces: files, live capture, and later the proxy.

import Capture
import NIOCore
import Reassembly
import SMPP

/// One event of a timeline, in capture order.
public enum TimelineEvent {
    indirect case sessionOpened(Session)
    case pdu(TimelinePDU)
    case gap(StreamGap)
    /// The first FIN or RST of a session.
    indirect case sessionEnded(ConnectionEnd, Session)
    case streamDiagnostic(StreamDiagnostic)
    case captureDiagnostic(CaptureDiagnostic)
}
