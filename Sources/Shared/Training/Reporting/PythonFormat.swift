import Foundation

/// The few Python formatting rules the training logs must follow so that they read like the ones
/// LLaMA-Factory and the HF Trainer write (scripts and LLaMA-Board parse them).
enum PythonFormat {
    /// Python's `round(x, digits)`: the double nearest to x rounded to that many decimals. printf
    /// rounds the exact binary value correctly, as Python does, so the text round trip is exact.
    static func round(_ x: Double, _ digits: Int) -> Double {
        guard x.isFinite else { return x }
        return Double(String(format: "%.\(digits)f", x)) ?? x
    }

    /// `str(datetime.timedelta(seconds=int(s)))`: "0:01:23", "12:00:00", "1 day, 2:03:04".
    static func timedelta(_ seconds: Double) -> String {
        let total = seconds.isFinite ? max(Int(seconds), 0) : 0
        let days = total / 86_400
        let rest = total % 86_400
        let clock = String(format: "%d:%02d:%02d", rest / 3600, rest % 3600 / 60, rest % 60)
        return days == 0 ? clock : "\(days) day\(days == 1 ? "" : "s"), \(clock)"
    }

    /// Reads what `timedelta` writes back into seconds (nil if it is not that form).
    static func seconds(fromTimedelta text: String) -> Double? {
        var days = 0
        var clock = Substring(text)
        if let comma = text.firstIndex(of: ",") {
            let words = text[..<comma].split(separator: " ")
            guard words.count == 2, words[1].hasPrefix("day"), let d = Int(words[0]) else { return nil }
            days = d
            clock = text[text.index(after: comma)...].drop { $0 == " " }
        }
        let parts = clock.split(separator: ":").map { Int($0) }
        guard parts.count == 3, let h = parts[0], let m = parts[1], let s = parts[2] else { return nil }
        return Double(days * 86_400 + h * 3600 + m * 60 + s)
    }

    /// `json.dumps(dict)` of a flat object: keys in the given order, `", "` and `": "` separators,
    /// floats as Python's repr.
    static func jsonLine(_ entries: [(String, JSONValue)]) -> String {
        "{" + entries.map { key, value in
            JSONValue.string(key).serialized(pretty: false) + ": " + value.serialized(pretty: false)
        }.joined(separator: ", ") + "}"
    }

    /// `json.dump(dict, indent=n, sort_keys=True)` of a flat object (no newline at the end, as the
    /// HF Trainer writes train_results.json).
    static func indentedObject(_ entries: [(String, JSONValue)], indent: Int) -> String {
        if entries.isEmpty { return "{}" }
        let pad = String(repeating: " ", count: indent)
        return "{\n" + entries.sorted { $0.0 < $1.0 }.map { key, value in
            pad + JSONValue.string(key).serialized(pretty: false) + ": " + value.serialized(pretty: false)
        }.joined(separator: ",\n") + "\n}"
    }
}
