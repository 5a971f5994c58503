import Testing

@testable import ServiceKit

struct TraceContextTests {
    @Test func parsesTheSpecExample() throws {
        let context = try #require(TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
        #expect(context.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(context.parentID == "00f067aa0ba902b7")
        #expect(context.isSampled)
        #expect(context.traceparent == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    }

    @Test(arguments: [
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero parent id
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper case
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // forbidden version
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  // version 00 has 4 fields
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  // short trace id
        "",
    ])
    func refusesMalformedValues(value: String) {
        #expect(TraceContext(traceparent: value) == nil)
    }

    @Test func childKeepsTheTraceAndChangesTheSpan() {
        let parent = TraceContext.random()
        let child = parent.child()
        #expect(child.traceID == parent.traceID)
        #expect(child.parentID != parent.parentID)
        #expect(TraceContext(traceparent: child.traceparent) == child)
        #expect(parent.traceID.count == 32 && parent.parentID.count == 16)
    }
}

struct ConstantTimeTests {
    @Test func comparesBytes() {
        #expect(ConstantTime.equals("abc", "abc"))
        #expect(!ConstantTime.equals("abc", "abd"))
        #expect(!ConstantTime.equals("abc", "abcd"))
        #expect(ConstantTime.equals([UInt8](), [UInt8]()))
        #expect(!ConstantTime.equals([0x00, 0x80], [0x80, 0x00]))
    }
}
