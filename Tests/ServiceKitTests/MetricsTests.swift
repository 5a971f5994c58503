import Synchronization
import Testing

@testable import ServiceKit

struct MetricsTests {
    @Test func smallRegistryRendersExactPrometheusText() async {
        let registry = MetricsRegistry()
        let completed = registry.counter(
            "tierguard_jobs_completed_total", help: "Jobs completed, by kind.", labelNames: ["kind"])
        completed.increment(by: 2, labels: ["kind": "score_customer"])
        completed.increment(labels: ["kind": "apply_feed"])
        let workers = registry.gauge("tierguard_workers", help: "Live workers.\nSecond line with \\.")
        workers.set(3)
        let duration = registry.histogram(
            "tierguard_job_duration_seconds", help: "Run time of one job.", labelNames: ["kind"], buckets: [0.1, 1])
        for value in [0.0625, 0.5, 3] { duration.observe(value, labels: ["kind": "score"]) }
        registry.gaugeCallback("tierguard_queue_depth", help: "Available jobs.", labelNames: ["queue"]) {
            [MetricSample(labels: ["queue": "scorer"], value: 7), MetricSample(labels: ["queue": "ingest"], value: 0)]
        }
        let escaped = registry.counter("tierguard_odd_total", help: "Escaping.", labelNames: ["reason"])
        escaped.increment(labels: ["reason": "a\"b\\c\nd"])

        let expected = """
            # HELP tierguard_job_duration_seconds Run time of one job.
            # TYPE tierguard_job_duration_seconds histogram
            tierguard_job_duration_seconds_bucket{kind="score",le="0.1"} 1
            tierguard_job_duration_seconds_bucket{kind="score",le="1"} 2
            tierguard_job_duration_seconds_bucket{kind="score",le="+Inf"} 3
            tierguard_job_duration_seconds_sum{kind="score"} 3.5625
            tierguard_job_duration_seconds_count{kind="score"} 3
            # HELP tierguard_jobs_completed_total Jobs completed, by kind.
            # TYPE tierguard_jobs_completed_total counter
            tierguard_jobs_completed_total{kind="apply_feed"} 1
            tierguard_jobs_completed_total{kind="score_customer"} 2
            # HELP tierguard_odd_total Escaping.
            # TYPE tierguard_odd_total counter
            tierguard_odd_total{reason="a\\"b\\\\c\\nd"} 1
            # HELP tierguard_queue_depth Available jobs.
            # TYPE tierguard_queue_depth gauge
            tierguard_queue_depth{queue="ingest"} 0
            tierguard_queue_depth{queue="scorer"} 7
            # HELP tierguard_workers Live workers.\\nSecond line with \\\\.
            # TYPE tierguard_workers gauge
            tierguard_workers 3

            """
        #expect(await registry.render() == expected)
    }

    @Test func unlabelledMetricsShowZeroBeforeFirstUse() async {
        let registry = MetricsRegistry()
        _ = registry.counter("tierguard_reconnects_total", help: "Reconnects.")
        _ = registry.histogram("tierguard_wait_seconds", help: "Wait.", buckets: [1])
        let text = await registry.render()
        #expect(text.contains("tierguard_reconnects_total 0\n"))
        #expect(text.contains("tierguard_wait_seconds_bucket{le=\"+Inf\"} 0\n"))
        #expect(text.contains("tierguard_wait_seconds_count 0\n"))
    }

    @Test func registeringTheSameMetricTwiceReturnsTheSameObject() {
        let registry = MetricsRegistry()
        let first = registry.counter("tierguard_x_total", help: "x", labelNames: ["a"])
        let second = registry.counter("tierguard_x_total", help: "x", labelNames: ["a"])
        first.increment(labels: ["a": "1"])
        #expect(second.value(labels: ["a": "1"]) == 1)
    }

    @Test func gaugeCallbackIsEvaluatedAtEachScrape() async {
        let registry = MetricsRegistry()
        let depth = Gauge(name: "scratch", help: "", labelNames: [])
        registry.gaugeCallback("tierguard_queue_depth", help: "Depth.") { [MetricSample(value: depth.value())] }
        depth.set(1)
        #expect(await registry.render().contains("tierguard_queue_depth 1\n"))
        depth.set(12)
        #expect(await registry.render().contains("tierguard_queue_depth 12\n"))
    }

    @Test func histogramBucketsAreInclusiveUpperBounds() {
        let registry = MetricsRegistry()
        let histogram = registry.histogram("tierguard_h_seconds", help: "h", buckets: [1, 2])
        histogram.observe(1)  // le=1
        histogram.observe(2)  // le=2
        histogram.observe(.milliseconds(2500))  // +Inf only
        let counts = histogram.series.withLock { $0[[]]!.counts }
        #expect(counts == [1, 1, 1])
        #expect(histogram.snapshot().sum == 5.5)
    }

    @Test(arguments: [
        ("tierguard_jobs_total", MetricName.Kind.counter, [String](), true),
        ("tierguard_jobs", .counter, [], false),  // counters end in _total
        ("tierguard_depth_total", .gauge, [], false),  // only counters end in _total
        ("9starts_with_digit", .gauge, [], false),
        ("has-dash", .gauge, [], false),
        ("ns:sub_metric", .gauge, [], true),
        ("tierguard_g", .gauge, ["kind", "queue"], true),
        ("tierguard_g", .gauge, ["__reserved"], false),
        ("tierguard_g", .gauge, ["kind", "kind"], false),
        ("tierguard_g", .gauge, ["bad-label"], false),
        ("tierguard_h_seconds", .histogram, ["le"], false),
    ])
    func namesAreValidated(name: String, kind: MetricName.Kind, labels: [String], isValid: Bool) {
        let valid: Bool
        do {
            try MetricName.validate(name, kind: kind, labelNames: labels)
            valid = true
        } catch {
            valid = false
        }
        #expect(valid == isValid)
    }

    @Test func numbersFormatAsPrometheusExpects() {
        #expect(MetricsRegistry.format(3) == "3")
        #expect(MetricsRegistry.format(-2) == "-2")
        #expect(MetricsRegistry.format(0.25) == "0.25")
        #expect(MetricsRegistry.format(.infinity) == "+Inf")
        #expect(MetricsRegistry.format(-.infinity) == "-Inf")
        #expect(MetricsRegistry.format(.nan) == "NaN")
        #expect(MetricsRegistry.format(1e20) == "1e+20")
    }
}
