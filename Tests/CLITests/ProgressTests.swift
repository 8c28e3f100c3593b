import Foundation
import Shared
import Testing

@Suite struct ProgressTests {
    @Test func durationsReadLikeAClock() {
        #expect(ProgressReporter.duration(0.4) == "0s")
        #expect(ProgressReporter.duration(59) == "59s")
        #expect(ProgressReporter.duration(243) == "4m03s")
        #expect(ProgressReporter.duration(7500) == "2h05m")
    }

    @Test func lineStyleShowsCountsPercentAndRate() {
        let p = ProgressReporter("tokenize", total: 200, unit: "records", style: .lines)
        p.advance(by: 50)
        let text = p.render(final: false)
        #expect(text.hasPrefix("tokenize   25%  50/200 records"))
        #expect(text.contains("records/s"))
        #expect(!text.contains("["))  // no bar outside a terminal
    }

    @Test func barStyleDrawsABar() {
        let p = ProgressReporter("train", total: 4, unit: "steps", style: .bar)
        p.set(2)
        #expect(p.render(final: false).contains("[############............]"))
        #expect(p.render(final: true).contains("in "))
    }

    @Test func unknownTotalShowsCountOnly() {
        let p = ProgressReporter("read", unit: "lines", style: .lines)
        p.advance(by: 7)
        #expect(p.render(final: false).hasPrefix("read  7 lines"))
    }
}
