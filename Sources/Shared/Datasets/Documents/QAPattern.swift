import Foundation

/// A document as lf-format sees it: lf-extract's record (`text`, optional `title`, `source`, `id`)
/// or any record with a `text` field.
public struct DocumentText: Sendable {
    public var text: String
    public var title: String?
    public var source: String?

    public init(text: String, title: String? = nil, source: String? = nil) {
        self.text = text
        self.title = title
        self.source = source
    }

    /// Reads `text`, `title` and `source` from a raw record.
    public init?(_ value: JSONValue) {
        guard case .string(let text)? = value["text"] else { return nil }
        self.text = text
        if case .string(let t)? = value["title"], !t.isEmpty { title = t }
        if case .string(let s)? = value["source"], !s.isEmpty { source = s }
    }
}

/// A section of a Markdown-style document: the text under one heading, up to the next heading.
public struct DocumentSection: Equatable, Sendable {
    /// The heading's text (without the `#`s); the document title for text before the first heading.
    public var heading: String
    /// The headings above and including this one, outermost first.
    public var path: [String]
    public var body: String
}

public enum DocumentSections {
    /// Splits at ATX headings (`#` … `######` at the start of a line, then a space). Text before the
    /// first heading is a section headed by `title`. Sections with an empty body are left out.
    public static func sections(of text: String, title: String) -> [DocumentSection] {
        var result: [DocumentSection] = []
        var stack: [(level: Int, text: String)] = []
        var heading = title
        var path: [String] = []
        var body: [Substring] = []
        func flush() {
            let joined = body.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            if !joined.isEmpty { result.append(DocumentSection(heading: heading, path: path.isEmpty ? [heading] : path, body: joined)) }
            body = []
        }
        var inFence = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") || line.hasPrefix("~~~") { inFence.toggle() }
            if !inFence, let (level, headingText) = atxHeading(line) {
                flush()
                while let last = stack.last, last.level >= level { stack.removeLast() }
                stack.append((level, headingText))
                heading = headingText
                path = stack.map(\.text)
                continue
            }
            body.append(line)
        }
        flush()
        return result
    }

    static func atxHeading(_ line: Substring) -> (Int, String)? {
        var level = 0
        var rest = line[...]
        while rest.first == "#" && level < 7 {
            level += 1
            rest = rest.dropFirst()
        }
        guard (1...6).contains(level), rest.first == " " || rest.first == "\t" else { return nil }
        var text = rest.trimmingCharacters(in: .whitespaces)
        // A closing sequence of #s is not part of the heading.
        while text.hasSuffix("#") { text.removeLast() }
        text = text.trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? nil : (level, text)
    }
}

/// `--mode qa --pattern FILE`: instruction records made from documents by a user-written pattern,
/// deterministically, without a model. The pattern is a JSON object:
///
///     {
///       "unit": "section",
///       "questions": ["Explain {heading}.", "What does {title} say about {heading}?"],
///       "answer": "{body}",
///       "choose": "all",
///       "system": "You answer questions about the ACME manual.",
///       "min_chars": 80
///     }
///
/// - `unit`: `section` (the text under each Markdown heading, the default), `paragraph` (each
///   paragraph, with the heading above it) or `document` (the whole text);
/// - `questions`: one or more templates for the user turn; `choose`: `all` (a record per template,
///   the default) or `one` (one template per unit, picked by a hash of the unit's text);
/// - `answer`: the template for the assistant turn (default `{body}`);
/// - `system`: an optional system prompt; `min_chars`: units whose body is shorter are skipped.
///
/// Placeholders: `{title}` (the record's `title`, else its first heading, else its file name),
/// `{heading}`, `{path}` (headings joined by " > "), `{body}`, `{first_sentence}`, `{source}`.
/// `{{` and `}}` are literal braces.
public struct QAPattern: Sendable {
    public enum Unit: String, Sendable { case section, paragraph, document }

    public var unit: Unit
    public var questions: [String]
    public var answer: String
    public var chooseOne: Bool
    public var system: String?
    public var minChars: Int

    static let placeholders: Set<String> = ["title", "heading", "path", "body", "first_sentence", "source"]

    public init(unit: Unit = .section, questions: [String], answer: String = "{body}", chooseOne: Bool = false,
                system: String? = nil, minChars: Int = 1) {
        self.unit = unit
        self.questions = questions
        self.answer = answer
        self.chooseOne = chooseOne
        self.system = system
        self.minChars = minChars
    }

    /// Reads and checks a pattern file; errors name the file and the field.
    public static func load(path: String) throws -> QAPattern {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LFError.io("read the pattern", path: path, errno: ENOENT, hint: "--pattern takes a JSON file; see lf-format --help")
        }
        let value: JSONValue
        do { value = try JSONParser.parse(data) } catch let e as JSONParseError {
            throw LFError.input(e.description, file: path, line: DatasetInfo.lineOf(byte: e.column - 1, in: data))
        }
        return try parse(value, file: path)
    }

    public static func parse(_ value: JSONValue, file: String) throws -> QAPattern {
        func fail(_ field: String, _ message: String) -> LFError { LFError.input(message, file: file, field: field) }
        guard case .object(let entries) = value else { throw LFError.input("a pattern is a JSON object", file: file) }
        let known: Set<String> = ["unit", "questions", "question", "answer", "choose", "system", "min_chars"]
        for (key, _) in entries where !known.contains(key) {
            throw fail(key, "unknown key \"\(key)\" (a pattern has \(known.sorted().joined(separator: ", ")))")
        }
        var pattern = QAPattern(questions: [])
        if let u = value["unit"] {
            guard case .string(let s) = u, let unit = Unit(rawValue: s) else { throw fail("unit", "\"unit\" is section, paragraph or document") }
            pattern.unit = unit
        }
        switch value["questions"] ?? value["question"] {
        case .string(let s)?: pattern.questions = [s]
        case .array(let items)?:
            for (i, item) in items.enumerated() {
                guard case .string(let s) = item else { throw fail("questions[\(i)]", "each question template is a string") }
                pattern.questions.append(s)
            }
        case nil: break
        default: throw fail("questions", "\"questions\" is a list of templates")
        }
        if pattern.questions.isEmpty { throw fail("questions", "the pattern needs at least one question template") }
        if let a = value["answer"] {
            guard case .string(let s) = a else { throw fail("answer", "\"answer\" is a template string") }
            pattern.answer = s
        }
        if let c = value["choose"] {
            guard case .string(let s) = c, s == "all" || s == "one" else { throw fail("choose", "\"choose\" is all or one") }
            pattern.chooseOne = s == "one"
        }
        if let s = value["system"] {
            guard case .string(let text) = s else { throw fail("system", "\"system\" is a string") }
            pattern.system = text.isEmpty ? nil : text
        }
        if let m = value["min_chars"] {
            guard case .int(let n) = m, n >= 0 else { throw fail("min_chars", "\"min_chars\" is a non-negative integer") }
            pattern.minChars = n
        }
        for (i, q) in pattern.questions.enumerated() { try check(q, field: "questions[\(i)]", file: file) }
        try check(pattern.answer, field: "answer", file: file)
        if let system = pattern.system { try check(system, field: "system", file: file) }
        return pattern
    }

    static func check(_ template: String, field: String, file: String) throws {
        do { _ = try fill(template, [:], strict: true) } catch let e as TemplateError {
            throw LFError.input(e.message, file: file, field: field,
                                hint: "placeholders are \(placeholders.sorted().map { "{\($0)}" }.joined(separator: ", ")); write {{ and }} for braces")
        }
    }

    struct TemplateError: Error { var message: String }

    /// Replaces `{name}` by `values[name]` (empty when absent); with `strict`, unknown names and
    /// unbalanced braces are errors.
    static func fill(_ template: String, _ values: [String: String], strict: Bool = false) throws -> String {
        var out = ""
        var i = template.startIndex
        while i < template.endIndex {
            let c = template[i]
            let next = template.index(after: i)
            if c == "{" {
                if next < template.endIndex && template[next] == "{" { out.append("{"); i = template.index(after: next); continue }
                guard let close = template[next...].firstIndex(of: "}") else {
                    throw TemplateError(message: "unclosed { in \"\(template)\"")
                }
                let name = String(template[next..<close])
                if strict && !placeholders.contains(name) {
                    throw TemplateError(message: "unknown placeholder {\(name)}")
                }
                out += values[name] ?? ""
                i = template.index(after: close)
                continue
            }
            if c == "}" {
                if next < template.endIndex && template[next] == "}" { out.append("}"); i = template.index(after: next); continue }
                if strict { throw TemplateError(message: "a lone } in \"\(template)\" (write }} for a brace)") }
            }
            out.append(c)
            i = next
        }
        return out
    }

    /// The records the pattern makes from one document, in document order.
    public func records(for document: DocumentText) -> [DatasetRecord] {
        let sections = DocumentSections.sections(of: document.text, title: "")
        let firstHeading = sections.first(where: { !$0.heading.isEmpty })?.heading
        let fileTitle = document.source.map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension }
        let title = document.title ?? firstHeading ?? fileTitle ?? "the document"
        var units: [(heading: String, path: [String], body: String)] = []
        switch unit {
        case .document:
            units = [(title, [title], document.text.trimmingCharacters(in: .whitespacesAndNewlines))]
        case .section:
            units = DocumentSections.sections(of: document.text, title: title).map { ($0.heading, $0.path, $0.body) }
        case .paragraph:
            for section in DocumentSections.sections(of: document.text, title: title) {
                for paragraph in section.body.components(separatedBy: "\n\n") {
                    let p = paragraph.trimmingCharacters(in: .whitespacesAndNewlines)
                    if !p.isEmpty { units.append((section.heading, section.path, p)) }
                }
            }
        }
        var records: [DatasetRecord] = []
        for unit in units where TextMeasure.characters(unit.body) >= max(minChars, 1) {
            let values: [String: String] = [
                "title": title, "heading": unit.heading, "path": unit.path.joined(separator: " > "),
                "body": unit.body, "first_sentence": Self.firstSentence(unit.body), "source": document.source ?? "",
            ]
            var templates = questions
            if chooseOne && questions.count > 1 {
                var state: UInt64 = 0
                for b in (unit.path.joined(separator: "\u{1F}") + "\u{1E}" + unit.body).utf8 { state = (state ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
                templates = [questions[Int(mix64(state) % UInt64(questions.count))]]
            }
            let answerText = (try? Self.fill(answer, values)) ?? answer
            for template in templates {
                var messages: [ChatMessage] = []
                if let system, let s = try? Self.fill(system, values), !s.isEmpty { messages.append(ChatMessage(role: .system, content: s)) }
                messages.append(ChatMessage(role: .user, content: (try? Self.fill(template, values)) ?? template))
                messages.append(ChatMessage(role: .assistant, content: answerText))
                records.append(.chat(messages))
            }
        }
        return records
    }

    /// The text up to the first sentence end (`.`, `!`, `?` before whitespace, or `。！？`).
    static func firstSentence(_ text: String) -> String {
        let chunker = DocumentChunker(size: .max, overlap: 0, unit: .characters)
        return chunker.sentences(text.components(separatedBy: "\n\n").first ?? text).first?.text ?? text
    }
}
