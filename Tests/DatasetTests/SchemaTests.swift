import Foundation
@testable import Shared
import Testing

@Suite struct SchemaTests {
    func convert(_ json: String, _ spec: SchemaSpec? = nil) throws -> ConvertedRecord {
        let value = try DatasetFixtures.json(json)
        guard let spec = spec ?? SchemaSpec.detect(value) else { throw LFError("no schema") }
        return try SchemaConverter(spec).convert(value)
    }

    func problem(_ json: String, _ spec: SchemaSpec? = nil) -> RecordProblem? {
        do { _ = try convert(json, spec); return nil } catch let p as RecordProblem { return p } catch { return nil }
    }

    @Test func detection() throws {
        #expect(SchemaSpec.detect(try DatasetFixtures.json(#"{"instruction":"a","output":"b"}"#))?.schema == .alpaca)
        #expect(SchemaSpec.detect(try DatasetFixtures.json(#"{"conversations":[{"from":"human","value":"a"}]}"#))?.schema == .sharegpt)
        let roleConversations = SchemaSpec.detect(try DatasetFixtures.json(#"{"conversations":[{"role":"user","content":"a"}]}"#))
        #expect(roleConversations?.tags.roleKey == "role")
        #expect(SchemaSpec.detect(try DatasetFixtures.json(#"{"messages":[{"role":"user","content":"a"}]}"#))?.schema == .openai)
        let fromMessages = SchemaSpec.detect(try DatasetFixtures.json(#"{"messages":[{"from":"human","value":"a"}]}"#))
        #expect(fromMessages?.schema == .sharegpt && fromMessages?.columns.messages == "messages")
        #expect(SchemaSpec.detect(try DatasetFixtures.json(#"{"text":"a","source":"x.pdf"}"#))?.schema == .text)
        #expect(SchemaSpec.detect(try DatasetFixtures.json(#"{"question":"a"}"#)) == nil)
    }

    @Test func alpacaJoinsInstructionAndInputAndReadsHistory() throws {
        let r = try convert(#"{"instruction":"Translate","input":"chat","output":"cat","system":"sys","history":[["hi","hello"]]}"#)
        #expect(r == .chat(system: "sys", turns: [Turn(.user, "hi"), Turn(.assistant, "hello"), Turn(.user, "Translate\nchat"),
                                                  Turn(.assistant, "cat")], tools: ""))
        #expect(try convert(#"{"instruction":"Q","input":"","output":"A"}"#) == .chat(system: "", turns: [Turn(.user, "Q"), Turn(.assistant, "A")], tools: ""))
    }

    @Test func alpacaProblems() {
        #expect(problem(#"{"instruction":"Q","input":""}"#, SchemaSpec(schema: .alpaca))?.field == "output")
        #expect(problem(#"{"instruction":"Q","output":3}"#)?.message.contains("must be a string") == true)
        #expect(problem(#"{"instruction":"Q","output":"A","history":[["only one"]]}"#)?.field == "history[0]")
        #expect(problem(#"{"output":"A"}"#)?.field == "instruction")
    }

    @Test func alpacaWithoutResponseColumnIsPretrainingText() throws {
        let spec = SchemaSpec(schema: .alpaca, columns: ColumnMap(prompt: "text"))
        #expect(try convert(#"{"text":"a document"}"#, spec) == .text("a document"))
    }

    @Test func sharegptSystemFirstAndToolTurns() throws {
        let r = try convert("""
            {"conversations":[{"from":"system","value":"S"},{"from":"human","value":"weather?"},
             {"from":"function_call","value":"{\\"name\\":\\"w\\",\\"arguments\\":{}}"},{"from":"observation","value":"sunny"},
             {"from":"gpt","value":"It is sunny."}],"tools":"[{\\"name\\":\\"w\\"}]"}
            """)
        #expect(r == .chat(system: "S", turns: [Turn(.user, "weather?"), Turn(.functionCall, #"{"name":"w","arguments":{}}"#),
                                                Turn(.observation, "sunny"), Turn(.assistant, "It is sunny.")], tools: #"[{"name":"w"}]"#))
        let (record, used) = ToolTurns.canonical(r, policy: .inline)
        #expect(used)
        guard case .chat(let messages)? = record else { Issue.record("no chat"); return }
        #expect(messages.map(\.role) == [.system, .user, .assistant, .user, .assistant])
        #expect(messages[0].content.hasPrefix("S\n\n# Tools\n"))
        #expect(messages[0].content.contains("<tools>\n{\"type\":\"function\",\"function\":{\"name\":\"w\"}}\n</tools>"))
        #expect(messages[2].content == "<tool_call>\n{\"name\":\"w\",\"arguments\":{}}\n</tool_call>")
        #expect(messages[3].content == "<tool_response>\nsunny\n</tool_response>")
        #expect(ToolTurns.canonical(r, policy: .reject).record == nil)
    }

    @Test(arguments: [
        (#"{"conversations":[{"from":"gpt","value":"a"},{"from":"human","value":"b"}]}"#, RecordProblem.Kind.roleOrder, "turn 1"),
        (#"{"conversations":[{"from":"human","value":"a"}]}"#, .roleOrder, "must end"),
        (#"{"conversations":[{"from":"human","value":"a"},{"from":"system","value":"s"}]}"#, .roleOrder, "system message"),
        (#"{"conversations":[{"from":"bing","value":"a"}]}"#, .badRecord, "unknown role \"bing\""),
        (#"{"conversations":[{"from":"human"}]}"#, .badRecord, "missing field \"value\""),
        (#"{"conversations":"hi"}"#, .badRecord, "must be a list"),
        (#"{"conversations":[]}"#, .roleOrder, "no messages"),
    ])
    func sharegptProblems(json: String, kind: RecordProblem.Kind, message: String) {
        let p = problem(json, SchemaSpec(schema: .sharegpt))
        #expect(p?.kind == kind, "\(json): \(String(describing: p))")
        #expect(p?.message.contains(message) == true, "\(json): \(String(describing: p))")
    }

    @Test func openAIToolCallsPartsAndParallelResults() throws {
        let r = try convert("""
            {"messages":[{"role":"system","content":"S"},{"role":"user","content":[{"type":"text","text":"two"},{"type":"text","text":"parts"}]},
             {"role":"assistant","content":null,"tool_calls":[{"type":"function","function":{"name":"f","arguments":"{\\"x\\":1}"}},
               {"type":"function","function":{"name":"g","arguments":"{}"}}]},
             {"role":"tool","content":"r1"},{"role":"tool","content":"r2"},{"role":"assistant","content":"done"}]}
            """)
        guard case .chat(let system, let turns, _) = r else { Issue.record("not chat"); return }
        #expect(system == "S")
        #expect(turns.map(\.role) == [.user, .functionCall, .observation, .assistant])
        #expect(turns[0].content == "two\nparts")
        let (record, _) = ToolTurns.canonical(r, policy: .inline)
        guard case .chat(let messages)? = record else { return }
        #expect(messages[2].content == "<tool_call>\n{\"name\":\"f\",\"arguments\":{\"x\":1}}\n</tool_call>\n<tool_call>\n{\"name\":\"g\",\"arguments\":{}}\n</tool_call>")
        #expect(messages[3].content == "<tool_response>\nr1\n</tool_response>\n<tool_response>\nr2\n</tool_response>")
    }

    @Test func columnAndTagOverrides() throws {
        var spec = SchemaSpec(schema: .alpaca)
        try spec.columns.apply([("prompt", "question"), ("output", "answer")])
        #expect(try convert(#"{"question":"Q","answer":"A"}"#, spec) == .chat(system: "", turns: [Turn(.user, "Q"), Turn(.assistant, "A")], tools: ""))
        #expect(throws: LFError.self) { var copy = spec; try copy.columns.apply([("nonsense", "x")]) }
        var tags = RoleTags.sharegpt
        try tags.apply([("user_tag", "me"), ("assistant_tag", "bot")])
        #expect(tags.user == ["me"])
        #expect(throws: LFError.self) { var copy = tags; try copy.apply([("speaker", "x")]) }
        #expect(try parseKeyValueList(["a=b,c=d", "e=f"], option: "--columns").map { "\($0.0)=\($0.1)" } == ["a=b", "c=d", "e=f"])
        #expect(throws: LFError.self) { try parseKeyValueList(["oops"], option: "--columns") }
    }
}

@Suite struct DatasetInfoTests {
    var info: String { DatasetFixtures.datasets + "/dataset_info.json" }

    @Test func readsLLaMAFactoryEntries() throws {
        let entries = try DatasetInfo.load(path: DatasetFixtures.datasets, names: ["alpaca_en_demo", "glaive_toolcall_en_demo"])
        #expect(entries[0].spec.schema == .alpaca)
        #expect(entries[0].spec.columns == ColumnMap(prompt: "instruction", query: "input", response: "output", messages: "conversations"))
        #expect(entries[0].files == [DatasetFixtures.datasets + "/alpaca_en_demo.json"])
        #expect(entries[1].spec.schema == .sharegpt)
        #expect(entries[1].spec.columns.messages == "conversations" && entries[1].spec.columns.tools == "tools")
        #expect(entries[1].spec.columns.prompt == nil)  // "columns" given: the others are unused
        #expect(entries[1].spec.tags.user == ["human"])
    }

    @Test(arguments: [
        ("dpo_en_demo", "preference (ranking)"),
        ("alpaca_en", "hub"),
        ("mllm_demo", "multimodal"),
        ("no_such_dataset", "no dataset named"),
        ("alpaca_zh", "hub"),
    ])
    func refusals(name: String, message: String) {
        do {
            _ = try DatasetInfo.load(path: info, names: [name])
            Issue.record("\(name) accepted")
        } catch {
            #expect("\(error)".contains(message), "\(name): \(error)")
            #expect("\(error)".contains("dataset_info.json"), "\(error)")
        }
    }

    @Test func tagsAndPretrainingColumns() throws {
        let dir = try DatasetFixtures.temporaryFile("data.jsonl", #"{"body":"doc one"}"# + "\n")
        let folder = (dir as NSString).deletingLastPathComponent
        try Data("""
            {"pt": {"file_name": "data.jsonl", "columns": {"prompt": "body"}},
             "chat": {"file_name": "data.jsonl", "formatting": "sharegpt", "columns": {"messages": "messages"},
                      "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"}},
             "bad": {"file_name": "data.parquet"}}
            """.utf8).write(to: URL(fileURLWithPath: folder + "/dataset_info.json"))
        let entries = try DatasetInfo.load(path: folder, names: ["pt", "chat"])
        #expect(entries[0].spec.columns.response == nil)
        let value = try DatasetFixtures.json(#"{"body":"doc one"}"#)
        #expect(try SchemaConverter(entries[0].spec).convert(value) == .text("doc one"))
        #expect(entries[1].spec.tags.roleKey == "role")
        #expect(entries[1].spec.tags.system.isEmpty)  // not named in "tags": unused, as in LLaMA-Factory
        #expect(throws: LFError.self) { try DatasetInfo.load(path: folder, names: ["bad"]) }
    }
}
