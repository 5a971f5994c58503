import Foundation
import Testing

@testable import ServiceKit

struct LoggerTests {
    /// 2000-03-01T01:02:03.0425Z: 10,957 days to 2000-01-01 (7 leap days since 1970), plus 31 + 29 days,
    /// plus 3,723.0425 s. The half millisecond keeps the expectation away from a rounding boundary.
    static let fixedDate = Date(timeIntervalSince1970: Double(11_017 * 86_400) + 3_723.0425)

    func makeLogger(threshold: LogLevel = .info) -> (Logger, LogSink) {
        let sink = LogSink.memory()
        let logger = Logger(service: "tierguard-test", threshold: threshold, sink: sink, clock: { Self.fixedDate })
        return (logger, sink)
    }

    @Test func timestampIsRFC3339UTCWithMilliseconds() {
        #expect(Logger.rfc3339Milliseconds(Self.fixedDate) == "2000-03-01T01:02:03.042Z")
        #expect(Logger.rfc3339Milliseconds(Date(timeIntervalSince1970: 0.5)) == "1970-01-01T00:00:00.500Z")
    }

    @Test func lineHasFixedFieldsThenSortedMetadata() {
        let (logger, sink) = makeLogger()
        logger.with(jobID: 42, kind: "score_customer", attempt: 2).with(Logger.Key.traceID, "4bf92f3577b34da6a3ce929d0e0e4736")
            .info("job done")
        #expect(sink.lines == [
            #"{"timestamp":"2000-03-01T01:02:03.042Z","level":"info","service":"tierguard-test","message":"job done","#
                + #""job.attempt":"2","job.id":"42","job.kind":"score_customer","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}"#
        ])
    }

    @Test func eachLineIsValidJSON() throws {
        let (logger, sink) = makeLogger()
        logger.warning("quote \" backslash \\ newline \n tab \t bell \u{07} 中文", metadata: ["level": "shadow"])
        let object = try JSONSerialization.jsonObject(with: Data(sink.lines[0].utf8)) as? [String: String]
        #expect(object?["message"] == "quote \" backslash \\ newline \n tab \t bell \u{07} 中文")
        #expect(object?["level"] == "warning")
        #expect(object?["metadata.level"] == "shadow")
    }

    @Test func linesBelowThresholdAreDropped() {
        let (logger, sink) = makeLogger(threshold: .warning)
        logger.info("quiet")
        logger.debug("quieter")
        logger.error("loud")
        #expect(sink.lines.count == 1)
        #expect(sink.lines[0].contains("\"level\":\"error\""))
    }

    @Test func personalDataIsMaskedInMessageAndMetadata() {
        let (logger, sink) = makeLogger()
        logger.info(
            "customer 11010519491231002X phone 13812345678 card 4111111111111111",
            metadata: ["phone": "13912345678", Logger.Key.jobID: "13812345678"])
        let line = sink.lines[0]
        #expect(line.contains("customer 110105********002X phone 138****5678 card 411111******1111"))
        #expect(line.contains("\"phone\":\"139****5678\""))
        // Job ids are exempt: they are not personal data and must stay searchable.
        #expect(line.contains("\"job.id\":\"13812345678\""))
        #expect(!line.contains("11010519491231002X"))
    }

    @Test func loggingFromManyThreadsKeepsLinesWhole() async {
        let (logger, sink) = makeLogger()
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for line in 0..<100 { logger.info("task \(task) line \(line)") }
                }
            }
        }
        #expect(sink.lines.count == 800)
        #expect(sink.lines.allSatisfy { $0.hasPrefix("{") && $0.hasSuffix("}") })
    }
}

struct PersonalDataScrubberTests {
    @Test(arguments: [
        ("身份证11010519491231002X已核验", "身份证110105********002X已核验"),
        ("id 110105194912310021.", "id 110105********0021."),
        ("id 11010519491231002x", "id 110105********002x"),
        ("call 13812345678 now", "call 138****5678 now"),
        ("19912345678", "199****5678"),
        // 13-digit Luhn-valid run: 6 kept, 3 masked, 4 kept.
        ("card=4222222222222;", "card=422222***2222;"),
        ("6011111111111117", "601111******1117"),
    ])
    func masksIdentifierShapes(input: String, expected: String) {
        #expect(PersonalDataScrubber.scrub(input) == expected)
    }

    @Test(arguments: [
        "12812345678",  // 11 digits but not 1[3-9]
        "138123456789",  // 12 digits: the phone shape needs a maximal 11-digit run
        "4111111111111112",  // 16 digits failing Luhn
        "12345678901234567890",  // 20 digits
        "job 42 took 1234 ms",
        "",
    ])
    func leavesOtherNumbersAlone(input: String) {
        #expect(PersonalDataScrubber.scrub(input) == input)
    }

    @Test func luhnCheckMatchesHandComputedExamples() {
        // 79927398713: the textbook example, digit sum 70.
        #expect(PersonalDataScrubber.isLuhnValid(Array("79927398713".utf8)))
        #expect(!PersonalDataScrubber.isLuhnValid(Array("79927398710".utf8)))
    }
}
