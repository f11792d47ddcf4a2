// Text encodings, user data headers, concatenation, delivery receipts, message ids and the SMSC.kz dialect.

import NIOCore
@_spi(Lent) import SMPP
import TestSupport
import Testing

@Suite("Text encodings")
struct TextTests {
    @Test func gsmDefaultAlphabetOneSeptetPerOctet() {
        #expect(GSM0338.decode([0x11]).text == "_")
        #expect(GSM0338.decode([0x00, 0x02, 0x10, 0x1F, 0x5D, 0x7F]).text == "@$ΔÉÑà")
        #expect(GSM0338.decode([0x48, 0x69, 0x1B, 0x65, 0x1B, 0x28, 0x1B, 0x29]).text == "Hi€{}")
        #expect(GSM0338.decode([0x1B, 0x41]).text == "A", "unlisted escape reads as the basic character")
        #expect(GSM0338.decode([0x41, 0xE9]).invalidOctets == 1)
    }

    @Test func gsmEncodeRoundTrip() throws {
        let text = "Hello @ world_ € [x] ~ ^ | \\ {} Δ ÄÖÑÜ§ ¿ àèé"
        let octets = try #require(GSM0338.encode(text))
        #expect(GSM0338.decode(octets).text == text)
        #expect(GSM0338.encode("Привет") == nil)
        #expect(GSM0338.canEncode("Price: 5€"))
    }

    @Test func dataCodingZeroIsLatin1UnderTheISOFlag() {
        let octets: [UInt8] = [0x43, 0x61, 0x66, 0xE9, 0x40]
        #expect(MessageText.decode(octets, dataCoding: 0, hasUDH: false).text == "Café¡")
        #expect(MessageText.decode(octets, dataCoding: 0, hasUDH: false, isoDefault: true).text == "Café@")
    }

    @Test func ucs2WithSurrogatePairs() {
        let octets: [UInt8] = [0x04, 0x1F, 0x04, 0x40, 0xD8, 0x3D, 0xDE, 0x00]
        let decoded = MessageText.decode(octets, dataCoding: 8, hasUDH: false)
        #expect(decoded.text == "Пр😀")
        #expect(decoded.problems.isEmpty)
        #expect(MessageText.encode("Пр😀", dataCoding: 8) == octets)
        let odd = MessageText.decode([0x04, 0x1F, 0x04], dataCoding: 8, hasUDH: false)
        #expect(odd.text == "П")
        #expect(odd.problems.count == 1)
        let lone = MessageText.decode([0xD8, 0x3D, 0x00, 0x41], dataCoding: 8, hasUDH: false)
        #expect(lone.text == "\u{FFFD}A")
    }

    /// Random UCS-2 and Latin-1 octets, surrogates and their halves included, read as a scalar-by-scalar decoder
    /// reads them: the same text, and the lone surrogates counted.
    @Test func ucs2AndLatin1AgreeWithAScalarDecoder() {
        var random = SplitMix64(seed: 0x0C52)
        for _ in 0..<3_000 {
            let length = Int(random.next() % 24)
            let octets = (0..<length).map { _ in
                random.next() % 4 == 0
                    ? [0xD8, 0xDB, 0xDC, 0xDF, 0x00][Int(random.next() % 5)] : UInt8(truncatingIfNeeded: random.next())
            }
            var units: [UInt16] = []
            var index = 0
            while index + 1 < octets.count {
                units.append(UInt16(octets[index]) << 8 | UInt16(octets[index + 1]))
                index += 2
            }
            var scalars = String.UnicodeScalarView()
            var lone = 0
            var iterator = units.makeIterator()
            var decoder = UTF16()
            loop: while true {
                switch decoder.decode(&iterator) {
                case .scalarValue(let scalar): scalars.append(scalar)
                case .emptyInput: break loop
                case .error:
                    lone += 1
                    scalars.append("\u{FFFD}")
                }
            }
            let decoded = MessageText.decode(octets, dataCoding: 8, hasUDH: false)
            #expect(decoded.text == String(scalars), "\(octets)")
            #expect(decoded.problems.contains { $0.hasPrefix("\(lone) lone") } == (lone > 0), "\(octets)")
            let latin1 = String(String.UnicodeScalarView(octets.map { Unicode.Scalar($0) }))
            #expect(MessageText.decode(octets, dataCoding: 3, hasUDH: false).text == latin1)
        }
    }

    @Test func codingGroupsAndCharsets() {
        #expect(DataCoding(0x01).charset() == .ascii)
        #expect(DataCoding(0x02).charset() == .binary)
        #expect(DataCoding(0x03).charset() == .latin1)
        #expect(DataCoding(0x04).charset() == .binary)
        #expect(DataCoding(0x06).charset() == .cyrillic)
        #expect(DataCoding(0x08).charset() == .ucs2)
        #expect(DataCoding(0xF0).charset() == .gsm7)
        #expect(DataCoding(0xF1).charset() == .gsm7)
        #expect(DataCoding(0xF4).charset() == .binary)
        #expect(DataCoding(0xF6).charset() == .binary)
        #expect(DataCoding(0x18).charset() == .ucs2)
        #expect(DataCoding(0x11).charset() == .gsm7)
        #expect(DataCoding(0x30).charset() == .compressed)
        #expect(MessageText.decode([0xC0, 0xE0, 0xF0], dataCoding: 6, hasUDH: false).text == "Рр\u{2116}")
        #expect(MessageText.decode([1, 2, 0xFF], dataCoding: 4, hasUDH: false).text == nil)
    }

    @Test func latin1AndIA5() {
        #expect(MessageText.decode([0x48, 0xE9], dataCoding: 3, hasUDH: false).text == "Hé")
        #expect(MessageText.encode("Hé", dataCoding: 3) == [0x48, 0xE9])
        #expect(MessageText.decode(Array("plain".utf8), dataCoding: 1, hasUDH: false).text == "plain")
    }
}

@Suite("User data headers and concatenation")
struct UDHTests {
    @Test func concatenationWith8And16BitReferences() {
        let eight = UserDataHeader.parse([0x05, 0x00, 0x03, 0x42, 0x03, 0x01, 0x41])
        #expect(eight.header?.concatenation == Concatenation(reference: 0x42, total: 3, sequence: 1, referenceBits: 8))
        #expect(eight.header?.length == 6)
        let sixteen = UserDataHeader.parse([0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x02])
        #expect(
            sixteen.header?.concatenation == Concatenation(reference: 0x1234, total: 2, sequence: 2, referenceBits: 16))
    }

    @Test func portsAndOtherElements() {
        let parsed = UserDataHeader.parse([0x0B, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x24, 0x01, 0x02, 0x70, 0x00])
        #expect(parsed.problem == nil)
        #expect(parsed.header?.ports?.destination == 2948)
        #expect(parsed.header?.ports?.origin == 9200)
        #expect(parsed.header?.elements.last?.identifier == 0x70)
        let eightBit = UserDataHeader.parse([0x04, 0x04, 0x02, 0x10, 0x20])
        #expect(eightBit.header?.ports?.destination == 0x10)
        #expect(parsed.header?.encoded == [0x0B, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x24, 0x01, 0x02, 0x70, 0x00])
    }

    @Test func damagedHeaders() {
        #expect(UserDataHeader.parse([0x09, 0x00, 0x03]).header == nil)
        #expect(UserDataHeader.parse([]).problem != nil)
        let truncatedElement = UserDataHeader.parse([0x03, 0x00, 0x05, 0x01, 0x41])
        #expect(truncatedElement.problem != nil)
        #expect(truncatedElement.header?.length == 4)
    }

    @Test func textAfterTheHeader() {
        let decoded = MessageText.decode([0x05, 0x00, 0x03, 0x01, 0x02, 0x01, 0x48, 0x69], dataCoding: 0, hasUDH: true)
        #expect(decoded.text == "Hi")
        #expect(decoded.udh?.concatenation?.total == 2)
    }

    @Test func reassemblerInAnyOrderWithDuplicatesAndGaps() {
        var reassembler = ConcatenationReassembler<Int>()
        let key = ConcatenationReassembler<Int>.Key(source: "A", destination: "B", reference: 7, total: 3)
        guard case .waiting(1, 3) = reassembler.add(key: key, sequence: 3, octets: [0x43], context: 3) else {
            Issue.record("expected waiting")
            return
        }
        _ = reassembler.add(key: key, sequence: 1, octets: [0x41], context: 1)
        guard case .duplicate(1) = reassembler.add(key: key, sequence: 1, octets: [0x41], context: 1) else {
            Issue.record("expected duplicate")
            return
        }
        guard case .complete(let message) = reassembler.add(key: key, sequence: 2, octets: [0x42], context: 2) else {
            Issue.record("expected complete")
            return
        }
        #expect(message.octets == [0x41, 0x42, 0x43])
        #expect(message.parts.map(\.context) == [1, 2, 3])

        let other = ConcatenationReassembler<Int>.Key(source: "A", destination: "B", reference: 8, total: 4)
        _ = reassembler.add(key: other, sequence: 2, octets: [1], context: 0)
        guard case .invalid = reassembler.add(key: other, sequence: 5, octets: [1], context: 0) else {
            Issue.record("expected invalid")
            return
        }
        let left = reassembler.flush()
        #expect(left.count == 1)
        #expect(left.first?.missing == [1, 3, 4])
    }

    @Test func reassemblerIsBounded() {
        var reassembler = ConcatenationReassembler<Int>(maximumPending: 2)
        for reference in 0..<5 {
            let key = ConcatenationReassembler<Int>.Key(
                source: "A", destination: "B", reference: UInt16(reference), total: 2)
            _ = reassembler.add(key: key, sequence: 1, octets: [], context: reference)
        }
        #expect(reassembler.evicted.count == 3)
        #expect(reassembler.flush().count == 5)
    }
}

@Suite("Delivery receipts and message ids")
struct ReceiptTests {
    @Test func standardReceipt() throws {
        let receipt = try #require(
            DeliveryReceipt.parse(
                text:
                    "id:854019 sub:001 dlvrd:001 submit date:1108202241 done date:1108202241 stat:DELIVRD err:000 text:Hello stat:x"
            ))
        #expect(receipt.id == "854019")
        #expect(receipt.sub == "001")
        #expect(receipt.dlvrd == "001")
        #expect(receipt.submitDate == "1108202241")
        #expect(receipt.doneDate == "1108202241")
        #expect(receipt.stat == "DELIVRD")
        #expect(receipt.err == "000")
        #expect(receipt.text == "Hello stat:x")
        #expect(receipt.isFinal)
        #expect(DeliveryReceipt.epochSeconds(ofDate: "1108202241") == 1_313_880_060)
    }

    @Test func receiptDatesFoundWithoutReadingTheRest() {
        func dates(_ text: String) -> ReceiptDates {
            var text = text
            return text.withUTF8 { DeliveryReceipt.dates(in: UnsafeRawBufferPointer($0)) }
        }
        // 2011-08-20 22:41 UTC is 1 313 880 060 s; a minute later, 60 more; seconds written, 7 more.
        let standard = dates("id:1 sub:001 dlvrd:001 submit date:1108202241 done date:1108202242 stat:DELIVRD err:0")
        #expect(standard == ReceiptDates(submit: 1_313_880_060, done: 1_313_880_120, doneResolution: 60))
        let seconds = dates("ID:1 Submit_Date:110820224100 Done_Date:110820224107 Stat:DELIVRD")
        #expect(seconds == ReceiptDates(submit: 1_313_880_060, done: 1_313_880_067, doneResolution: 1))
        let upper = dates("id:1 SUBMIT DATE:1108202241 DONE DATE:1108202241")
        #expect(upper.submit == 1_313_880_060 && upper.done == 1_313_880_060)
        // Not dates: too many digits, too few, a month 13, a word that only ends in "date".
        #expect(dates("id:1 submit date:11082022411 done date:110820224") == ReceiptDates())
        #expect(dates("id:1 submit date:1113202241 update:1108202241") == ReceiptDates())
        #expect(dates("id:1 stat:DELIVRD") == ReceiptDates())
        #expect(dates("date:") == ReceiptDates())
        // Kept in one word and read back alike.
        for kept in [standard, seconds, upper, ReceiptDates(), ReceiptDates(done: 1_313_880_120)] {
            #expect(ReceiptDates(word: kept.word) == kept)
        }
    }

    @Test func lenientVariants() throws {
        let shuffled = try #require(
            DeliveryReceipt.parse(text: "STAT:undeliv ID:0A1B2C Err:001 Submit_Date:261126083406"))
        #expect(shuffled.id == "0A1B2C")
        #expect(shuffled.state == "UNDELIV")
        #expect(shuffled.submitDate == "261126083406")
        #expect(DeliveryReceipt.epochSeconds(ofDate: "261126083406") != nil)
        let partial = try #require(DeliveryReceipt.parse(text: "id:77 stat:EXPIRED"))
        #expect(partial.dlvrd == nil)
        #expect(partial.state == "EXPIRED")
        #expect(DeliveryReceipt.parse(text: "Hello, how are you?") == nil)
    }

    @Test func smsckzHLRFields() throws {
        let receipt = try #require(
            DeliveryReceipt.parse(
                text:
                    "id:855469 stat:DELIVRD err:000 imsi:250023012345678 msc:79010000000 mcc:250 mnc:02 cn:Russia net:Mega%20Fon rcn:Russia rnet:MegaFon"
            ))
        #expect(receipt.id == "855469")
        let hlr = Dictionary(uniqueKeysWithValues: receipt.hlr.map { ($0.key, $0.value) })
        #expect(hlr["imsi"] == "250023012345678")
        #expect(hlr["mcc"] == "250")
        #expect(hlr["mnc"] == "02")
        #expect(hlr["net"] == "Mega Fon")
        #expect(hlr["rnet"] == "MegaFon")
        #expect(hlr["cn"] == "Russia")
        #expect(receipt.hlr.count == 8)
    }

    @Test func receiptFromTLVsAlone() throws {
        var b = WireBuilder()
        b.cstr(""); b.u8(1); b.u8(1); b.cstr("7701"); b.u8(0); b.u8(0); b.cstr("ME")
        b.u8(0x04); b.u8(0); b.u8(0); b.cstr(""); b.cstr(""); b.u8(0); b.u8(0); b.u8(0); b.u8(0); b.u8(0)
        b.tlv(0x001E, Array("ABC".utf8) + [0]); b.tlv(0x0427, [5])
        let pdu = try decode(b.pdu(id: 5, sequence: 1))
        let receipt = try #require(pdu.deliveryReceipt())
        #expect(receipt.messageID == "ABC")
        #expect(receipt.state == "UNDELIV")
    }

    @Test func moMessageIsNotAReceipt() throws {
        var b = WireBuilder()
        b.cstr(""); b.u8(1); b.u8(1); b.cstr("7701"); b.u8(0); b.u8(0); b.cstr("ME")
        b.u8(0); b.u8(0); b.u8(0); b.cstr(""); b.cstr(""); b.u8(0); b.u8(0); b.u8(0); b.u8(0)
        let text = Array("Hello, my id: is 5".utf8)
        b.u8(UInt8(text.count)); b.octets(text)
        #expect(try decode(b.pdu(id: 5, sequence: 1)).deliveryReceipt() == nil)
    }

    @Test func messageIDForms() {
        #expect(MessageID.equivalent("00a1f", "A1F"))
        #expect(MessageID.equivalent("1A2B", "6699"))
        #expect(MessageID.equivalent("6699", "1a2b"))
        #expect(MessageID.equivalent("000123", "123"))
        #expect(!MessageID.equivalent("123", "124"))
        #expect(MessageID.canonical("000") == "0")
    }

    @Test func timeFields() {
        guard case .success(.absolute(let absolute)) = SMPPTime.parse("261126083406800+") else {
            Issue.record("expected absolute")
            return
        }
        #expect(absolute.year == 2026)
        #expect(absolute.tenths == 8)
        #expect(absolute.epochSeconds == 1_795_682_046.8)
        guard case .success(.absolute(let east)) = SMPPTime.parse("261126083406004+") else {
            Issue.record("expected absolute")
            return
        }
        #expect(east.epochSeconds == 1_795_682_046 - 3_600)
        guard case .success(.relative(let relative)) = SMPPTime.parse("000002030000000R") else {
            Issue.record("expected relative")
            return
        }
        #expect(relative.days == 2)
        #expect(relative.hours == 3)
        #expect(relative.approximateSeconds == 2 * 86_400 + 3 * 3_600)
        let bad: [(String, SMPPTime.ParseError.Code)] = [
            ("2611260834", .wrongLength), ("26112608340680+", .wrongLength), ("261326083406800+", .invalidField),
            ("26112608340680X+", .invalidField), ("261126083406800Z", .invalidKind),
        ]
        for (text, code) in bad {
            guard case .failure(let error) = SMPPTime.parse(text) else {
                Issue.record("\(text) should not parse")
                continue
            }
            #expect(error.code == code, "\(text): \(error)")
            #expect(error.location == "\"\(text)\"")
        }
    }
}

@Suite("SMSC.kz dialect")
struct DialectTests {
    @Test func systemTypeFlags() {
        let flags = SystemTypeFlags(systemType: "ISO,SINGLE, MCON3,extra")
        #expect(flags.iso)
        #expect(flags.single)
        #expect(flags.maxConnections == 3)
        #expect(flags.others == ["extra"])
        #expect(SystemTypeFlags(systemType: "SMPP").maxConnections == nil)
        #expect(SystemTypeFlags(systemType: "MCON0").others == ["MCON0"])
        #expect(SystemTypeFlags(systemType: "mcon9").maxConnections == 9)
    }

    @Test func commentsAndChannels() {
        let plain = SMSCKZMessage(text: "Your code 1234\n~~~\norder 77")
        #expect(plain.channel == .sms)
        #expect(plain.text == "Your code 1234")
        #expect(plain.comment == "order 77")

        let mms = SMSCKZMessage(text: "__MMS__: Picture of the day\nsubj:Hello")
        #expect(mms.channel == .mms)
        #expect(mms.text == "Picture of the day")
        #expect(mms.subject == "Hello")

        let call = SMSCKZMessage(text: "__CALL__: Your code is 1 2 3\nvoice:w3\n~~~\nparam=1")
        #expect(call.channel == .call)
        #expect(call.voice == "w3")
        #expect(call.comment == "param=1")

        let bot = SMSCKZMessage(text: "__BOT__: hi\nbot:@shop_bot")
        #expect(bot.channel == .bot)
        #expect(bot.bot == "@shop_bot")

        #expect(SMSCKZMessage(text: "__HLR__").channel == .hlr)
        #expect(SMSCKZMessage(text: "__PING__").channel == .ping)
        #expect(SMSCKZMessage(text: "__VIBER__: promo").channel == .viber)
        #expect(SMSCKZMessage(text: "__SOC__: hi").channel == .social)
        #expect(SMSCKZMessage(text: "__MAIL__: body\nsubj:S").subject == "S")
    }
}

@Suite("Message id keys")
struct MessageIDKeyTests {
    /// The key worked out with the shape is the key alone, for ids of every form (digits, letters, zeros, spaces,
    /// long ones, empty), and the shape's flags are what the bytes show.
    @Test func keyAndShapeInOnePass() {
        var ids = [
            "", " ", "0", "00", "000123", "123", "1A2B3C", "1a2b3c", "00BB42DD", " 42 ", "999999999999999999",
            "9999999999999999999", "0000000000000000000001", "abc-DEF_01", "ß", "12 34",
        ]
        var random = UInt64(0x5EED)
        let alphabet = Array("0123456789abcdefABCDEF -x".utf8)
        for _ in 0..<2_000 {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let length = Int(random >> 59)
            var id: [UInt8] = []
            for index in 0..<length {
                id.append(alphabet[Int((random >> UInt64(index * 2 % 50)) % UInt64(alphabet.count))])
            }
            ids.append(String(decoding: id, as: UTF8.self))
        }
        for id in ids {
            var text = id
            text.withUTF8 { bytes in
                let raw = UnsafeRawBufferPointer(bytes)
                let (key, shape) = MessageID.linkKeyAndShape(raw)
                #expect(key == MessageID.linkKey(raw), "\"\(id)\"")
                #expect(Int(shape & 0xFF) == min(raw.count, 255))
                let trimmed = id.trimmingCharacters(in: .init(charactersIn: " "))
                #expect((shape & 0x100 != 0) == (!trimmed.isEmpty && trimmed.allSatisfy(\.isASCIIDigit)), "\"\(id)\"")
                #expect((shape & 0x200 != 0) == trimmed.hasPrefix("0"), "\"\(id)\"")
                #expect((shape & 0x400 != 0) == trimmed.contains { $0.isLowercase && $0.isASCII }, "\"\(id)\"")
                #expect((shape & 0x800 != 0) == trimmed.contains { $0.isUppercase && $0.isASCII }, "\"\(id)\"")
            }
        }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
