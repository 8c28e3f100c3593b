import Foundation
import Shared
import Testing

@Suite struct DatasetRecordTests {
    func decode(_ json: String) throws -> DatasetRecord {
        try JSONDecoder().decode(DatasetRecord.self, from: Data(json.utf8))
    }

    @Test func chatAndTextRoundTrip() throws {
        let chat = try decode(#"{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}],"id":"x"}"#)
        #expect(chat == .chat([ChatMessage(role: .user, content: "hi"), ChatMessage(role: .assistant, content: "hello")]))
        let text = try decode(#"{"text":"plain"}"#)
        #expect(text == .text("plain"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(String(decoding: try encoder.encode(chat), as: UTF8.self)
                == #"{"messages":[{"content":"hi","role":"user"},{"content":"hello","role":"assistant"}]}"#)
    }

    @Test func badRecordsAreRefused() {
        #expect(throws: DecodingError.self) { try decode(#"{"messages":[],"text":"both"}"#) }
        #expect(throws: DecodingError.self) { try decode(#"{"prompt":"neither"}"#) }
        #expect(throws: DecodingError.self) { try decode(#"{"messages":[{"role":"tool","content":"x"}]}"#) }
    }
}
