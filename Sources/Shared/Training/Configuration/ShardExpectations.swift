import Foundation

extension TrainingConfiguration.ShardExpectations {
    /// LLaMA-Factory template names whose lf built-in has another name. Names found neither here
    /// nor among lf's built-ins cannot be compared with the shards' template.
    static let templateAliases = [
        "qwen": "chatml", "qwen2": "chatml", "qwen2_5": "chatml", "phi": "phi3", "empty": "plain",
        "deepseekr1": "deepseek-r1",
    ]

    /// Checks the settings a LLaMA-Factory YAML gives for the data (template, cutoff_len, packing,
    /// train_on_prompt, mask_history) against the shards lf-tokenize made. lf-train cannot re-make
    /// the data, so a disagreement is an error rather than a silent difference.
    ///
    /// `shards` names the shard directory in the error. Returns notes for what could not be
    /// compared (a LLaMA-Factory template name lf has no template for).
    @discardableResult
    public func check(against manifest: ShardManifest, shards: String) throws -> [String] {
        let manifestPath = (shards as NSString).appendingPathComponent(ShardManifest.fileName)
        var differences: [String] = []
        var notes: [String] = []
        if let template {
            let actual = manifest.template?.name ?? "none (text records)"
            let wanted = Self.templateAliases[template] ?? template
            if ChatTemplate.builtin(named: wanted) == nil && Self.templateAliases[template] == nil {
                notes.append("\(manifestPath): note: template \(template) is not one of lf's; the shards use \(actual)")
            } else if wanted != actual {
                differences.append("template: the shards use \(actual), the configuration says \(template)")
            }
        }
        if let cutoffLen, cutoffLen != manifest.maxLength {
            differences.append("cutoff_len: the shards were cut at \(manifest.maxLength) tokens, the configuration says \(cutoffLen)")
        }
        if let packing, packing != manifest.packing {
            differences.append("packing: the shards are \(manifest.packing ? "" : "not ")packed, the configuration says \(packing)")
        }
        if let trainOnPrompt, trainOnPrompt != manifest.settings.trainOnPrompt {
            differences.append("train_on_prompt: the shards have \(manifest.settings.trainOnPrompt), the configuration says \(trainOnPrompt)")
        }
        if let maskHistory, maskHistory != manifest.settings.maskHistory {
            differences.append("mask_history: the shards have \(manifest.settings.maskHistory), the configuration says \(maskHistory)")
        }
        guard !differences.isEmpty else { return notes }
        throw LFError("the shards were made with other settings than the configuration gives:\n  " + differences.joined(separator: "\n  "),
                      at: SourceLocation(file: manifestPath),
                      hint: "re-make the shards with lf-tokenize pack (--template, --max-len, --packing, --train-on-prompt, --mask-history), or remove those keys from the configuration",
                      status: .usage)
    }
}
