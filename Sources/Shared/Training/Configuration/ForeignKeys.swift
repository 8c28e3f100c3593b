/// Keys of LLaMA-Factory and HF Trainer YAML files that are not lf settings. A LLaMA-Factory YAML
/// carries many: those that do not change what is trained (precision flags, reporting, data-loader
/// workers, the task stage) are read with a note, so the file works as it is; those that would
/// change the results and that lf cannot honour are errors, with what to do instead. Any other key
/// is an unknown-key error.
enum ForeignKeys {
    /// A key read with a note. `allowed` lists the values (lowercased) lf behaves the same for; any
    /// other value is an error, since lf would silently do something else.
    struct Accepted {
        var note: String
        var allowed: [String]?
    }

    static let accepted: [String: Accepted] = {
        var table: [String: Accepted] = [:]
        func add(_ names: [String], _ note: String, allowed: [String]? = nil) {
            for name in names { table[name] = Accepted(note: note, allowed: allowed) }
        }
        add(["stage"], "lf-train always trains LoRA on shards; whether prompts count in the loss was fixed by lf-tokenize",
            allowed: ["sft", "pt"])
        add(["finetuning_type"], "lf-train trains LoRA adapters only", allowed: ["lora"])
        add(["do_train"], "lf-train always trains", allowed: ["true"])
        add(["do_eval"], "lf-train evaluates when eval_data is set")
        add(["do_predict"], "predictions are lf-eval's job", allowed: ["false"])
        // A plain `no` is YAML 1.1's false, as PyYAML reads HF's "no" strategy.
        add(["eval_strategy", "evaluation_strategy"], "lf-train evaluates every eval_steps when eval_data is set",
            allowed: ["steps", "no", "false"])
        add(["save_strategy", "logging_strategy"], "lf-train counts in steps", allowed: ["steps"])
        add(["metric_for_best_model"], "the best checkpoint is the one with the lowest eval loss",
            allowed: ["eval_loss", "loss"])
        add(["greater_is_better"], "a lower eval loss is better", allowed: ["false"])
        add(["dataset", "eval_dataset", "dataset_dir", "media_dir"],
            "lf-train reads the shards named by data and eval_data (made by lf-format and lf-tokenize pack)")
        // These only shape what LLaMA-Factory reads from `dataset`, which lf-train does not read;
        // the shards already hold the records chosen (every LLaMA-Factory example sets max_samples).
        add(["max_samples", "mix_strategy", "interleave_probs"],
            "it applies to `dataset`; choose and mix the records when making the data (lf-format --max-samples, --mix, --interleave-probs)")
        add(["bf16", "fp16", "tf32", "pure_bf16"],
            "lf computes in float32; base_dtype sets how the frozen weights are held")
        add(["quantization_method", "quantization_type", "double_quantization"],
            "lf quantises the base with its own block formats (base_dtype q8 or q4)")
        add(["overwrite_output_dir"], "lf-train replaces its own outputs; a fresh run starts a new trainer_log.jsonl")
        add(["plot_loss"], "lf-train always draws training_loss.svg")
        add(["report_to", "run_name", "logging_dir", "disable_tqdm", "log_level", "logging_first_step",
             "include_num_input_tokens_seen", "include_tokens_per_second"],
            "lf-train reports to trainer_log.jsonl, trainer_state.json and stderr")
        add(["preprocessing_num_workers", "overwrite_cache", "dataloader_num_workers", "dataloader_pin_memory",
             "dataloader_persistent_workers", "remove_unused_columns", "trust_remote_code"],
            "has no effect in lf-train")
        add(["ddp_timeout", "ddp_find_unused_parameters", "deepspeed", "fsdp", "fsdp_config"],
            "lf-train spreads over processes with mpirun instead")
        add(["flash_attn", "enable_liger_kernel", "use_unsloth", "use_unsloth_gc", "upcast_layernorm",
             "upcast_lmhead_output", "disable_gradient_checkpointing", "gradient_checkpointing_kwargs",
             "torch_compile", "low_cpu_mem_usage"],
            "a GPU speed or memory setting; lf-train recomputes activations only with gradient_checkpointing")
        add(["save_only_model", "save_safetensors"], "lf-train writes safetensors; checkpoints hold what resuming needs")
        add(["per_device_eval_batch_size"], "evaluation reads the eval shards one sequence at a time")
        add(["push_to_hub"], "lf-train does not upload", allowed: ["false"])
        add(["resize_vocab"], "lf-train keeps the vocabulary", allowed: ["false"])
        add(["max_new_tokens", "temperature", "top_p", "top_k", "do_sample", "num_beams", "repetition_penalty",
             "length_penalty", "default_system", "enable_thinking"],
            "generation settings are lf-eval's")
        return table
    }()

    /// Keys whose effect lf cannot reproduce, with what to do instead.
    static let refused: [String: String] = {
        var table: [String: String] = [:]
        func add(_ names: [String], _ hint: String) {
            for name in names { table[name] = hint }
        }
        add(["val_size"], "split the records with `lf-format --split 0.9,0.1`, pack eval.jsonl too, and give those shards as eval_data")
        add(["streaming", "tokenized_path", "buffer_size"], "lf-train reads the shards lf-tokenize pack made; remove the key")
        add(["neat_packing"], "lf-tokenize pack decides packing; give packing: true|false to check it")
        add(["data_seed"], "lf-train orders the data with seed")
        add(["loraplus_lr_ratio", "loraplus_lr_embedding", "pissa_init", "pissa_iter", "pissa_convert",
             "create_new_adapter", "lora_bias", "init_lora_weights"],
            "lf-train trains plain LoRA (with rsLoRA or DoRA); remove the key")
        add(["use_galore", "use_apollo", "use_badam", "use_adam_mini", "use_muon", "use_llama_pro",
             "freeze_trainable_layers", "freeze_trainable_modules", "freeze_extra_modules"],
            "lf-train trains LoRA adapters with AdamW or SGD; remove the key")
        add(["neftune_noise_alpha", "label_smoothing_factor", "lr_scheduler_kwargs", "optim_args",
             "group_by_length", "rope_scaling", "shift_attn", "mixture_of_depths", "moe_aux_loss_coef"],
            "lf-train cannot do this; remove the key to train without it")
        add(["pref_beta", "pref_loss", "pref_ftx", "ref_model", "reward_model", "kto_chosen_weight"],
            "lf-train does supervised LoRA only (stage sft or pt)")
        return table
    }()

    /// `quantization_bit: 8|4` (LLaMA-Factory's QLoRA switch) sets base_dtype.
    static let quantizationBit = "quantization_bit"
    static let quantizationBitDtypes = ["8": "q8", "4": "q4"]

    /// Every key lf-train recognises, for "did you mean" hints.
    static var allNames: [String] {
        TrainingKey.allCases.map(\.yamlName) + accepted.keys.sorted() + refused.keys.sorted() + [quantizationBit]
    }
}
