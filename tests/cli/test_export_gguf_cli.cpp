// imsm export --format gguf end to end on the bundled model (byte-level BPE,
// the qwen2 split), with llama.cpp's own library as the consumer
// (tests/llama_cpp/llama_consumer): the f32 file and a GGUF LoRA on the base
// decode greedily to the engine's tokens on the merged Hugging Face export,
// exactly (both fp32; llama.cpp sums in another order, but on this model no
// step of the 12 is near a tie — a mismatch would be a wrong row order, name
// or metadata, which moves logits by whole units). SmolLM2 and the quantized
// types: tests/reference/check_gguf_export.py.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "cli_util.h"
#include "io/json_file.h"

using imsm::testing::TempDir;
using imsm::testing::write_file;
using namespace imsm::clitest;

namespace {

const std::string kModel = std::string(IMSM_SOURCE_DIR) + "/resources/models/wordnet-base";
const std::vector<std::string> kPrompts = {"The cat", "Once upon a time", "1 + 2 =", "A dog is a kind of"};

// A short run on the bundled model: lr high enough that the tuned model answers otherwise than the base.
// mode < 0: a plain PEFT run (variant none); 5: IMSM with its query gate.
std::string train(const TempDir& dir, const std::string& name, const std::string& peft, int mode) {
  std::string lines;
  for (int i = 0; i < 16; ++i) lines += "{\"input\": \"Repeat: cat " + std::to_string(i) + "\", \"output\": \"cat " + std::to_string(i) + "\"}\n";
  write_file(dir.file(name + ".jsonl"), lines);
  nlohmann::json config = {{"model_path", kModel}, {"data_path", dir.file(name + ".jsonl")}, {"max_input_length", 32},
                           {"max_output_length", 16}, {"peft", peft}, {"lora_r", 4}, {"lora_alpha", 8}, {"num_epochs", 2},
                           {"batch_size", 8}, {"learning_rate", 2e-2}, {"output_dir", dir.file("run-" + name)}};
  if (mode >= 0) config["mode"] = mode;
  else config["variant"] = "none";
  write_file(dir.file(name + ".json"), config.dump());
  const Result r = imsm_run({"train", "--config", dir.file(name + ".json")});
  EXPECT_EQ(r.code, 0) << r.err;
  return dir.file("run-" + name + "/adapter");
}

std::vector<nlohmann::json> llama_cpp_greedy(const TempDir& dir, const std::string& gguf, const std::string& lora = "") {
  write_file(dir.file("prompts.json"), nlohmann::json(kPrompts).dump());
  std::vector<std::string> args = {"greedy", gguf, dir.file("prompts.json"), "12"};
  if (!lora.empty()) args.push_back(lora);
  const Result r = run_program(IMSM_LLAMA_CONSUMER, args);
  EXPECT_EQ(r.code, 0) << r.err;
  std::vector<nlohmann::json> ids;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) ids.push_back(nlohmann::json::parse(line)["ids"]);
  return ids;
}

// extra: more flags, e.g. an adapter or --quant q8_0 (in place of --dtype f32).
std::vector<nlohmann::json> engine_greedy(const std::string& model, const std::vector<std::string>& extra = {"--dtype", "f32"}) {
  std::vector<nlohmann::json> ids;
  for (const auto& p : kPrompts) {
    std::vector<std::string> args = {"generate", "--model", model, "--prompt", p, "--max-new-tokens", "12", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    const Result r = imsm_run(args);
    EXPECT_EQ(r.code, 0) << r.err;
    ids.push_back(nlohmann::json::parse(r.out)["ids"]);
  }
  return ids;
}

nlohmann::json export_json(const std::vector<std::string>& args) {
  const Result r = imsm_run(args);
  EXPECT_EQ(r.code, 0) << r.err;
  return r.code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
}

TEST(ExportGguf, LlamaCppDecodesTheMergedFileAndTheLoraAsTheEngine) {
  TempDir dir;
  const std::string adapter = train(dir, "lora", "lora", -1);
  ASSERT_EQ(imsm_run({"export", "--adapter", adapter, "--out", dir.file("hf"), "--dtype", "f32"}).code, 0);
  const auto merged = export_json({"export", "--adapter", adapter, "--format", "gguf", "--quant", "f32", "--out", dir.file("gguf"), "--json"});
  EXPECT_EQ(merged["file"], dir.file("gguf/gguf.f32.gguf"));
  const auto lora = export_json({"export", "--adapter", adapter, "--format", "gguf", "--quant", "f32", "--adapter-only",
                                 "--out", dir.file("lora"), "--json"});
  EXPECT_EQ(lora["tensor_types"], nlohmann::json({{"f32", 3 * 2 * 2}}));  // q_proj and v_proj of 3 layers, A and B each
  const auto base = export_json({"export", "--model", kModel, "--format", "gguf", "--quant", "f32", "--out", dir.file("base"), "--json"});

  const auto engine = engine_greedy(dir.file("hf"));
  EXPECT_EQ(llama_cpp_greedy(dir, merged["file"]), engine);
  EXPECT_EQ(llama_cpp_greedy(dir, base["file"], lora["file"]), engine);
  EXPECT_NE(llama_cpp_greedy(dir, base["file"]), engine);  // the adapter changed what the model says
  EXPECT_EQ(llama_cpp_greedy(dir, base["file"]), engine_greedy(kModel));

  // Ollama's Modelfile: the file and the model's end-of-sequence token as the stop.
  const std::string modelfile = slurp(dir.file("gguf/Modelfile"));
  EXPECT_NE(modelfile.find("FROM ./gguf.f32.gguf\n"), std::string::npos) << modelfile;
  EXPECT_NE(modelfile.find("PARAMETER stop \"<|end_of_text|>\"\n"), std::string::npos) << modelfile;
  // q8_0: every 2-D weight, the norms stay f32 (2 per layer and the final one).
  const auto q8 = export_json({"export", "--adapter", adapter, "--format", "gguf", "--quant", "q8_0", "--out", dir.file("q8"), "--json"});
  EXPECT_EQ(q8["tensor_types"], nlohmann::json({{"f32", 7}, {"q8_0", 22}}));
  // The engine's own q8_0 decoding (the same bytes, int8 products as ggml's)
  // speaks as llama.cpp does on that file: the LoRA merged, then quantized.
  const auto q8_greedy = llama_cpp_greedy(dir, q8["file"]);
  EXPECT_EQ(engine_greedy(kModel, {"--adapter", adapter, "--quant", "q8_0"}), q8_greedy);
  EXPECT_EQ(engine_greedy(dir.file("hf"), {"--quant", "q8_0"}), q8_greedy);
}

TEST(ExportGguf, BadRequestsAreOneLineAndWriteNothing) {
  TempDir dir;
  const std::string lora = train(dir, "lora", "lora", -1), imsm = train(dir, "imsm", "lora", 5), ia3 = train(dir, "ia3", "ia3", -1);
  const std::vector<std::string> to_gguf = {"export", "--format", "gguf", "--out", dir.file("out")};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = to_gguf;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  expect_bad(with({"--adapter", lora, "--quant", "q3_k"}), {"--quant", "\"q3_k\"", "f32, f16, bf16, q8_0, q4_k_m"});
  expect_bad({"export", "--format", "onnx", "--adapter", lora, "--out", dir.file("out")}, {"--format", "hf", "gguf"});
  expect_bad(with({"--adapter", imsm}), {"IMSM(LoRA)", "llama.cpp", "--drop-gate"});
  expect_bad(with({"--adapter", imsm, "--adapter-only"}), {"IMSM(LoRA)", "--drop-gate"});
  expect_bad(with({"--adapter", ia3, "--adapter-only"}), {"adapter_config.json", "ia3", "GGUF LoRA"});
  expect_bad(with({"--adapter", lora, "--quant", "q8_0", "--calibration", dir.file("lora.jsonl")}), {"--calibration", "q4_k_m"});
  // q8_0 decoding: one stream, one format.
  const std::vector<std::string> generate = {"generate", "--model", kModel, "--prompt", "The cat", "--max-new-tokens", "2"};
  auto generate_with = [&](std::vector<std::string> more) {
    more.insert(more.begin(), generate.begin(), generate.end());
    return more;
  };
  expect_bad(generate_with({"--adapter", imsm, "--quant", "q8_0"}), {"--quant", "IMSM adapter", "without --quant"});
  expect_bad(generate_with({"--quant", "q4_0"}), {"--quant", "\"q4_0\"", "q8_0"});
  expect_bad(with({"--adapter", lora, "--adapter-only", "--quant", "q4_k_m"}), {"--quant", "f32, f16 or bf16"});
  expect_bad({"export", "--format", "gguf", "--model", model_dir(), "--out", dir.file("out")}, {"tokenizer.json", "SentencePiece"});
  EXPECT_FALSE(std::filesystem::exists(dir.file("out")));

  // The tuned stream alone, said so; an existing target only with --force.
  const auto dropped = export_json(with({"--adapter", imsm, "--drop-gate", "--json"}));
  EXPECT_EQ(dropped["method"], "IMSM(LoRA)");
  expect_bad(with({"--adapter", lora}), {"out", "not empty", "--force"});
  EXPECT_EQ(imsm_run(with({"--adapter", lora, "--force"})).code, 0);
}

}  // namespace
