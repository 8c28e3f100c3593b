import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Shared
import TestSupport

/// The elements of an XML document, parsed strictly by Foundation's XMLParser (libxml2).
final class ElementCollector: NSObject, XMLParserDelegate {
    struct Element {
        var name: String
        var attributes: [String: String]
        var text = ""
    }
    var elements: [Element] = []
    private var open: [Int] = []
    var error: Error?

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append(Element(name: name, attributes: attributes))
        open.append(elements.count - 1)
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        open.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let i = open.last { elements[i].text += string }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) { error = parseError }

    /// Parses `text`; nil (and a recorded issue) if it is not well-formed.
    static func parse(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> [Element]? {
        let collector = ElementCollector()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = collector
        guard parser.parse() else {
            Issue.record("not well-formed XML: \(String(describing: collector.error ?? parser.parserError))", sourceLocation: sourceLocation)
            return nil
        }
        return collector.elements
    }
}

func polylinePoints(_ element: ElementCollector.Element) -> [(x: Double, y: Double)] {
    (element.attributes["points"] ?? "").split(separator: " ").map { pair in
        let xy = pair.split(separator: ",").map { Double($0)! }
        return (xy[0], xy[1])
    }
}

@Suite struct LossPlotTests {
    static let train = [4.0, 3.0, 3.5, 2.0, 2.5].enumerated().map { LossPlot.Point(step: ($0.offset + 1) * 10, loss: $0.element) }
    static let eval = [LossPlot.Point(step: 20, loss: 3.2), LossPlot.Point(step: 50, loss: 2.6)]

    @Test func smoothingIsLlamaFactorys() {
        // LLaMA-Factory's extras/ploting.py smooth([4, 3, 3.5, 2, 2.5]), run in Python.
        let expected = [4.0, 3.1119177015944364, 3.4565667211329636, 2.163015599648146, 2.462285480439441]
        let smoothed = LossPlot.smooth(Self.train.map(\.loss))
        #expect(smoothed.count == expected.count)
        for (a, b) in zip(smoothed, expected) { #expect(abs(a - b) < 1e-12, "\(a) vs \(b)") }
        #expect(LossPlot.smooth([]) == [])
    }

    @Test func svgIsWellFormedAndHoldsBothSeries() throws {
        let plot = LossPlot(train: Self.train, eval: Self.eval, title: "training loss of out/<run> & co")
        let svg = plot.svg()
        let elements = try #require(ElementCollector.parse(svg))
        #expect(elements.first?.name == "svg")
        #expect(elements.first?.attributes["xmlns"] == "http://www.w3.org/2000/svg")

        let original = try #require(elements.first { $0.attributes["id"] == "train-original" })
        let smoothed = try #require(elements.first { $0.attributes["id"] == "train-smoothed" })
        #expect(original.attributes["stroke-opacity"] == "0.4")
        let raw = polylinePoints(original), smooth = polylinePoints(smoothed)
        #expect(raw.count == 5 && smooth.count == 5)
        // Same steps; a lower loss is drawn lower on the page (a larger y), in both series.
        #expect(zip(raw, smooth).allSatisfy { $0.x == $1.x })
        #expect(raw[3].y > raw[2].y && raw[0].y < raw[1].y)
        #expect(smooth[3].y > smooth[2].y)
        // The plotted smoothed values are the EMA's, mapped linearly: ratios of differences agree.
        let s = LossPlot.smooth(Self.train.map(\.loss))
        let scale = (smooth[4].y - smooth[0].y) / (s[4] - s[0])
        #expect(abs((smooth[2].y - smooth[0].y) - scale * (s[2] - s[0])) < 0.05)

        let evalGroup = try #require(elements.firstIndex { $0.attributes["id"] == "eval" })
        let circles = elements[evalGroup...].filter { $0.name == "circle" }
        #expect(circles.count == 2)
        // The eval point at step 20 sits at the train curve's step-20 x.
        #expect(Double(circles[0].attributes["cx"]!) == raw[1].x)

        let texts = elements.filter { $0.name == "text" }.map(\.text)
        #expect(texts.contains("training loss of out/<run> & co"))
        #expect(texts.contains("step") && texts.contains("loss"))
        #expect(texts.contains("original") && texts.contains("smoothed") && texts.contains("eval"))
        // Tick labels on both axes: whole steps, and losses covering the data.
        #expect(texts.contains("10") && texts.contains("50"))
        let yLabels = elements.filter { $0.name == "text" && $0.attributes["text-anchor"] == "end" }.compactMap { Double($0.text) }
        #expect(yLabels.count >= 3)
        #expect((yLabels.min() ?? 9) <= 2.0 && (yLabels.max() ?? 0) >= 4.0)
    }

    @Test func degenerateInputsStillDraw() throws {
        let empty = try #require(ElementCollector.parse(LossPlot(train: [], eval: []).svg()))
        #expect(empty.contains { $0.text == "no loss logged yet" })
        #expect(!empty.contains { $0.name == "polyline" })

        let one = try #require(ElementCollector.parse(LossPlot(train: [.init(step: 1, loss: 2)], eval: []).svg()))
        #expect(polylinePoints(one.first { $0.attributes["id"] == "train-original" }!).count == 1)

        // A diverged step (NaN) is left out rather than breaking the picture.
        let nan = LossPlot(train: [.init(step: 1, loss: 2), .init(step: 2, loss: .nan), .init(step: 3, loss: 1)], eval: [])
        #expect(nan.train.count == 2)
        #expect(!nan.svg().contains("nan"))
    }

    @Test func sameLossesSameBytesAndAtomicSave() throws {
        let plot = LossPlot(history: [
            .training(step: 10, epoch: 0.5, loss: 2, gradNorm: nil, learningRate: 1e-4),
            .evaluation(step: 10, epoch: 0.5, loss: 2.2, runtime: 1, samples: 1, batches: 1),
            .training(step: 20, epoch: 1, loss: 1.5, gradNorm: nil, learningRate: 1e-4),
        ])
        #expect(plot.train.map(\.step) == [10, 20] && plot.eval.map(\.step) == [10])
        #expect(plot.svg() == plot.svg())
        let dir = try Fixtures.temporaryDirectory("lf-loss-plot")
        defer { try? FileManager.default.removeItem(at: dir) }
        try plot.save(in: dir.path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["training_loss.svg"])
        #expect(try String(contentsOfFile: dir.appendingPathComponent("training_loss.svg").path, encoding: .utf8) == plot.svg())
    }

    @Test func niceTicks() {
        let a = LossPlot.Axis(low: 1.93, high: 4.02, integers: false)
        #expect(a.step == 0.5)
        #expect(a.ticks.first == 1.5 && a.ticks.last == 4.5)
        #expect(a.label(2) == "2.0")
        let steps = LossPlot.Axis(low: 10, high: 50, integers: true)
        #expect(steps.step == 10 && steps.ticks == [10, 20, 30, 40, 50])
        #expect(steps.label(30) == "30")
        let tiny = LossPlot.Axis(low: 3, high: 3, integers: true)
        #expect(tiny.low < 3 && tiny.high > 3)
    }
}
