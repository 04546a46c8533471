// The imsm executable end to end: outputs, exit codes (0 ok, 2 bad input) and
// one-line error messages that name the file and the problem.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "io/json_file.h"
#include "io/safetensors_writer.h"
#include "cli_util.h"
#include "util/utf8.h"

using imsm::testing::TempDir;
using imsm::testing::write_file;

using namespace imsm::clitest;

namespace {

TEST(Cli, VersionAndHelp) {
  const Result v = imsm_run({"--version"});
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.out.find("imsm 0."), std::string::npos);
  for (const char* cmd : {"tokenize", "generate", "inspect-model"}) {
    const Result h = imsm_run({cmd, "--help"});
    EXPECT_EQ(h.code, 0) << cmd;
    EXPECT_NE(h.out.find("--"), std::string::npos) << cmd;
  }
  expect_bad({"no-such-command"}, {"imsm"});
  expect_bad({"generate"}, {"--model"});
}

TEST(Cli, TokenizeMatchesReferenceIds) {
  // Ids from Hugging Face tokenizers for the Mistral-style tokenizer (../shared/data/tokenizers/llama2).
  Result r = imsm_run({"tokenize", "--tokenizer", kLlama2Tokenizer, "--text", "Hello World"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ids"], nlohmann::json({1, 22557, 3304}));
  EXPECT_EQ(j["tokens"][1], "\xE2\x96\x81Hello");
  r = imsm_run({"tokenize", "--tokenizer", kLlama2Tokenizer, "--no-special-tokens", "--text", "Hello World"});
  EXPECT_EQ(nlohmann::json::parse(r.out)["ids"], nlohmann::json({22557, 3304}));

  TempDir dir;
  write_file(dir.file("in.jsonl"), "{\"text\": \"Hello World\"}\n\n{\"text\": \"x\"}\n");
  r = imsm_run({"tokenize", "--tokenizer", model_dir(), "--input", dir.file("in.jsonl")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2);
  write_file(dir.file("bad.jsonl"), "{\"text\": \"ok\"}\n{\"text\": \"unterminated}\n");
  expect_bad({"tokenize", "--tokenizer", kLlama2Tokenizer, "--input", dir.file("bad.jsonl")}, {"bad.jsonl:2", "malformed JSON"});
  write_file(dir.file("nofield.jsonl"), "{\"txt\": \"ok\"}\n");
  expect_bad({"tokenize", "--tokenizer", kLlama2Tokenizer, "--input", dir.file("nofield.jsonl")}, {"nofield.jsonl:1", "\"text\""});
}

TEST(Cli, GenerateJsonIsOneObjectAndGreedyIsDeterministic) {
  const Result a = imsm_run({"generate", "--model", model_dir(), "--prompt", "Once upon a time", "--max-new-tokens", "7", "--json"});
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(std::count(a.out.begin(), a.out.end(), '\n'), 1) << a.out;
  const auto j = nlohmann::json::parse(a.out);
  EXPECT_LE(j["ids"].size(), 7u);
  EXPECT_TRUE(j["text"].is_string());
  EXPECT_GT(j["tokens_per_second"].get<double>(), 0.0);
  const Result b = imsm_run({"generate", "--model", model_dir(), "--prompt", "Once upon a time", "--max-new-tokens", "7", "--json"});
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_EQ(nlohmann::json::parse(b.out)["ids"], j["ids"]);
  // Same prompt as ids (BOS + pieces from the tokenizer) gives the same tokens.
  const Result t = imsm_run({"tokenize", "--tokenizer", model_dir(), "--text", "Once upon a time"});
  ASSERT_EQ(t.code, 0) << t.err;
  std::string ids;
  const auto prompt_ids = nlohmann::json::parse(t.out);
  for (const auto& id : prompt_ids["ids"]) {
    if (!ids.empty()) ids += ',';
    ids += std::to_string(id.get<int>());
  }
  const Result c = imsm_run({"generate", "--model", model_dir(), "--prompt-ids", ids, "--max-new-tokens", "7", "--json"});
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(nlohmann::json::parse(c.out)["ids"], j["ids"]);
  // Sampling with a seed is repeatable.
  const Result s1 = imsm_run({"generate", "--model", model_dir(), "--prompt", "Hi", "--temperature", "1.0", "--top-p", "0.9", "--seed", "5", "--max-new-tokens", "16", "--json"});
  const Result s2 = imsm_run({"generate", "--model", model_dir(), "--prompt", "Hi", "--temperature", "1.0", "--top-p", "0.9", "--seed", "5", "--max-new-tokens", "16", "--json"});
  ASSERT_EQ(s1.code, 0) << s1.err;
  EXPECT_EQ(nlohmann::json::parse(s1.out)["ids"], nlohmann::json::parse(s2.out)["ids"]);
}

TEST(Cli, GenerateStopsAtEos) {
  const Result free_run = imsm_run({"generate", "--model", model_dir(), "--prompt", "Hello", "--max-new-tokens", "6", "--json"});
  ASSERT_EQ(free_run.code, 0) << free_run.err;
  const auto ids = nlohmann::json::parse(free_run.out)["ids"];
  ASSERT_EQ(ids.size(), 6u);  // the random model does not emit </s> on its own here
  TempDir dir;
  const std::string m = copy_model(dir);
  auto config = imsm::json::read_file(m + "/config.json");
  config["eos_token_id"] = ids[2];
  write_file(m + "/config.json", config.dump());
  std::filesystem::remove(m + "/tokenizer_config.json");  // only config.json's EOS
  const Result stopped = imsm_run({"generate", "--model", m, "--prompt", "Hello", "--max-new-tokens", "6", "--json"});
  const auto got = nlohmann::json::parse(stopped.out)["ids"];
  size_t first = 0;
  while (ids[first] != ids[2]) ++first;
  EXPECT_EQ(got.size(), first + 1);
  EXPECT_EQ(got.back(), ids[2]);
}

TEST(Cli, TrainThenGenerateWithTheImsmAdapter) {
  TempDir dir;
  std::string lines;
  for (int i = 0; i < 24; ++i) lines += "{\"input\": \"Repeat: cat " + std::to_string(i) + "\", \"output\": \"cat " + std::to_string(i) + "\"}\n";
  write_file(dir.file("train.jsonl"), lines);
  write_file(dir.file("train.json"), nlohmann::json{{"model_path", model_dir()}, {"data_path", dir.file("train.jsonl")},
                                                    {"max_input_length", 32}, {"max_output_length", 16}, {"peft", "lora"},
                                                    {"lora_r", 4}, {"lora_alpha", 8}, {"num_epochs", 1}, {"batch_size", 8},
                                                    {"learning_rate", 1e-3}, {"mode", 5}, {"output_dir", dir.file("run")}}.dump());
  const Result train = imsm_run({"train", "--config", dir.file("train.json"), "--set", "gate_rank=4"});
  ASSERT_EQ(train.code, 0) << train.err;
  EXPECT_NE(train.err.find("3/3"), std::string::npos) << train.err;  // the progress bar reached the end
  EXPECT_TRUE(std::filesystem::exists(dir.file("run/adapter/imsm_gate.safetensors")));
  const Result gen = imsm_run({"generate", "--model", model_dir(), "--adapter", dir.file("run/adapter"), "--prompt", "Repeat: cat 3",
                               "--max-new-tokens", "5", "--json"});
  ASSERT_EQ(gen.code, 0) << gen.err;
  const auto j = nlohmann::json::parse(gen.out);
  ASSERT_TRUE(j.contains("gate_mean"));
  EXPECT_EQ(j["gate_mean"].size(), j["ids"].size());
  for (const auto& g : j["gate_mean"]) EXPECT_TRUE(g.get<double>() > 0 && g.get<double>() < 1);
  // Steering: the gate clamped to 1 decodes as the base model alone; the trace says which tokens were steered and gives
  // each stream's probability of the token, their entropies and KL; bad values are one line.
  const std::vector<std::string> ask = {"generate", "--model", model_dir(), "--prompt", "Repeat: cat 3", "--max-new-tokens", "5", "--json"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = ask;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const Result plain = imsm_run(ask);  // no adapter: the original model
  const Result to_original = imsm_run(with({"--adapter", dir.file("run/adapter"), "--clamp-gate", "1"}));
  ASSERT_EQ(to_original.code, 0) << to_original.err;
  EXPECT_EQ(nlohmann::json::parse(to_original.out)["ids"], nlohmann::json::parse(plain.out)["ids"]);
  const Result traced = imsm_run(with({"--adapter", dir.file("run/adapter"), "--clamp-gate", "0.25", "--clamp-tokens", "1,3", "--trace-top-k", "3"}));
  ASSERT_EQ(traced.code, 0) << traced.err;
  const auto trace = nlohmann::json::parse(traced.out)["trace"];
  ASSERT_EQ(trace.size(), nlohmann::json::parse(traced.out)["ids"].size());
  for (size_t t = 0; t < trace.size(); ++t) {
    EXPECT_EQ(trace[t]["steered"], t == 1 || t == 3) << t;
    if (t == 1 || t == 3) {
      EXPECT_NEAR(trace[t]["gate_mean"].get<double>(), 0.25, 1e-6);
    }
    for (const char* key : {"p_original", "p_tuned", "p_mix"}) EXPECT_TRUE(trace[t][key] >= 0 && trace[t][key] <= 1) << key;
    EXPECT_GE(trace[t]["kl_original_tuned"].get<double>(), -1e-6);
    EXPECT_GE(trace[t]["entropy_mix"].get<double>(), 0);
  }
  expect_bad(with({"--adapter", dir.file("run/adapter"), "--clamp-gate", "2"}), {"--clamp-gate", "[0, 1]"});
  expect_bad(with({"--clamp-gate", "0.5"}), {"--clamp-gate", "--adapter"});
  // An IMSM adapter cannot be merged (its gate mixes two streams per token): export copies it, gate
  // included, says so, and generate with the copy gives the same tokens; a folder that is not empty is refused.
  const Result ex = imsm_run({"export", "--adapter", dir.file("run/adapter"), "--out", dir.file("exported"), "--json"});
  ASSERT_EQ(ex.code, 0) << ex.err;
  EXPECT_FALSE(nlohmann::json::parse(ex.out)["merged"].get<bool>());
  EXPECT_EQ(nlohmann::json::parse(ex.out)["method"], "IMSM(LoRA)");
  EXPECT_NE(ex.err.find("cannot be merged"), std::string::npos) << ex.err;
  EXPECT_EQ(slurp(dir.file("exported/imsm_gate.safetensors")), slurp(dir.file("run/adapter/imsm_gate.safetensors")));
  const Result gen2 = imsm_run({"generate", "--model", model_dir(), "--adapter", dir.file("exported"), "--prompt", "Repeat: cat 3",
                                "--max-new-tokens", "5", "--json"});
  ASSERT_EQ(gen2.code, 0) << gen2.err;
  EXPECT_EQ(nlohmann::json::parse(gen2.out)["ids"], j["ids"]);
  expect_bad({"export", "--adapter", dir.file("run/adapter"), "--out", dir.file("exported")}, {"exported", "not empty", "--force"});
  expect_bad({"export", "--adapter", dir.file("run/adapter"), "--out", dir.file("run"), "--force"}, {"run/adapter", "export reads"});
  const Result forced = imsm_run({"export", "--adapter", dir.file("run/adapter"), "--out", dir.file("exported"), "--force"});
  EXPECT_EQ(forced.code, 0) << forced.err;
  EXPECT_TRUE(std::filesystem::exists(dir.file("exported/imsm_gate.safetensors")));
  expect_bad({"train", "--config", dir.file("train.json"), "--set", "warmup=0.1"}, {"train.json", "unknown key \"warmup\""});
  expect_bad({"generate", "--model", model_dir(), "--adapter", dir.path().string(), "--prompt", "x"}, {"adapter_config.json"});
}

// --dry-run: the run's memory, part by part, against the free memory, and nothing trained; a run that
// cannot fit is refused before it loads anything, with what to change (memory_check false starts it anyway).
TEST(Cli, TrainDryRunEstimatesMemoryAndRefusesWhatCannotFit) {
  TempDir dir;
  std::string lines;
  for (int i = 0; i < 8; ++i) lines += "{\"input\": \"Repeat: dog " + std::to_string(i) + "\", \"output\": \"dog\"}\n";
  write_file(dir.file("train.jsonl"), lines);
  const nlohmann::json config = {{"model_path", model_dir()}, {"data_path", dir.file("train.jsonl")}, {"max_input_length", 32},
                                 {"max_output_length", 16}, {"lora_r", 4}, {"num_epochs", 1}, {"batch_size", 8},
                                 {"output_dir", dir.file("run")}};
  write_file(dir.file("train.json"), config.dump());
  const Result dry = imsm_run({"train", "--config", dir.file("train.json"), "--dry-run"});
  ASSERT_EQ(dry.code, 0) << dry.err;
  for (const char* part : {"weights", "adapters + gate", "optimizer state", "activations", "logits", "on cpu now", "fits"})
    EXPECT_NE(dry.out.find(part), std::string::npos) << part << " not in: " << dry.out;
  EXPECT_FALSE(std::filesystem::exists(dir.file("run")));  // nothing trained, nothing written

  // Llama 3 8B's config.json alone (no weights needed to plan): 4,096 examples of 1,024 tokens fit nowhere.
  std::filesystem::create_directories(dir.file("llama3-8b"));
  write_file(dir.file("llama3-8b/config.json"),
             nlohmann::json{{"architectures", {"LlamaForCausalLM"}}, {"hidden_size", 4096}, {"intermediate_size", 14336},
                            {"num_attention_heads", 32}, {"num_key_value_heads", 8}, {"num_hidden_layers", 32}, {"vocab_size", 128256},
                            {"torch_dtype", "bfloat16"}}.dump());
  const Result big = imsm_run({"train", "--config", dir.file("train.json"), "--dry-run", "--set", "model_path=" + dir.file("llama3-8b"),
                               "--set", "batch_size=4096", "--set", "max_input_length=768", "--set", "max_output_length=256",
                               "--set", "dtype=f32"});  // (auto: bf16 for it on a CPU with bf16 instructions)
  EXPECT_EQ(big.code, 1) << big.err;
  EXPECT_NE(big.out.find("29.92 GiB  8.03B parameters × 4 bytes"), std::string::npos) << big.out;  // 8,030,261,248 fp32 weights on CPU
  EXPECT_NE(big.out.find("does not fit"), std::string::npos) << big.out;

  // Training itself refuses it in one line, before loading anything; memory_check false lets it start.
  expect_bad({"train", "--config", dir.file("train.json"), "--set", "batch_size=100000000"},
             {"memory_check", "the run needs about", "free", "--dry-run", "to fit, with gradient_checkpointing on", "memory_check false"});
  EXPECT_FALSE(std::filesystem::exists(dir.file("run")));
  const Result forced = imsm_run({"train", "--config", dir.file("train.json"), "--set", "batch_size=100000000", "--set", "memory_check=false"});
  EXPECT_EQ(forced.code, 0) << forced.err;  // 8 examples: one batch of 8, whatever batch_size says
  EXPECT_NE(forced.err.find("memory: peak"), std::string::npos) << forced.err;  // the run reports what it measured beside the estimate
}

TEST(Cli, MetricsScoresAPredictionsFile) {
  TempDir dir;
  // Two yes/no predictions by hand: one right, one wrong -> EM 0.5, F1_score 2/3 (tp 1, fp 1, fn 0).
  write_file(dir.file("p.jsonl"), "{\"input\": \"q1\", \"output\": \"yes\", \"answer\": \"yes\"}\n"
                                  "{\"input\": \"q2\", \"output\": \"no\", \"answer\": \"Yes.\"}\n");
  const Result r = imsm_run({"metrics", "--task", "mrpc", "--predictions", dir.file("p.jsonl"), "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_DOUBLE_EQ(j["EM"].get<double>(), 0.5);
  EXPECT_NEAR(j["F1_score"].get<double>(), 2.0 / 3.0, 1e-12);
  EXPECT_EQ(j["examples"], 2);
  const Result text = imsm_run({"metrics", "--task", "mrpc", "--predictions", dir.file("p.jsonl")});
  EXPECT_NE(text.out.find("F1_score"), std::string::npos);
  write_file(dir.file("bad.jsonl"), "{\"input\": \"q1\", \"output\": \"yes\", \"answer\": \"yes\"}\n{\"input\": \"q2\"\n");
  expect_bad({"metrics", "--task", "mrpc", "--predictions", dir.file("bad.jsonl")}, {"bad.jsonl:2:", "malformed JSON"});
  expect_bad({"metrics", "--task", "squad", "--predictions", dir.file("p.jsonl")}, {"unknown task \"squad\""});
}

TEST(Cli, InspectModel) {
  const Result r = imsm_run({"inspect-model", "--model", model_dir(), "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["architecture"], "LlamaForCausalLM");
  // 2 layers x (64*(64+32+32) + 64*64 + 3*64*128 + 2*64) + 32000*64*2 + 64, by hand:
  EXPECT_EQ(j["parameters"], 2 * (64 * 128 + 4096 + 3 * 8192 + 128) + 2 * 32000 * 64 + 64);
  EXPECT_NE(j["tokenizer"].get<std::string>().find("BPE"), std::string::npos);
  const Result text = imsm_run({"inspect-model", "--model", model_dir()});
  EXPECT_NE(text.out.find("parameters"), std::string::npos);
}

// The torch wheel carries MKL inside libtorch_cpu (Python's torch.__config__
// says BLAS_INFO=mkl): the engine reports it, warns of nothing, and a system
// reference BLAS put first on the library path cannot take its place.
TEST(Cli, BlasIsTheWheelsMklWhateverTheLibraryPath) {
  const Result py = run_program(IMSM_PYTHON, {"-c", "import torch; print('BLAS_INFO=mkl' in torch.__config__.show())"});
  ASSERT_EQ(py.code, 0) << py.err;
  ASSERT_EQ(py.out, "True\n") << "this torch is not built with MKL; the expectations below are for the PyPI wheel";
  const std::string reference_dir = "/usr/lib/x86_64-linux-gnu/blas";
  for (const std::string& env : {std::string(), "LD_LIBRARY_PATH=" + reference_dir}) {
    const Result r = imsm_run({"env", "--json"}, env);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["blas"], "mkl (static in LibTorch)") << env;
    const Result g = imsm_run({"generate", "--model", model_dir(), "--prompt", "Hi", "--max-new-tokens", "1"}, env);
    ASSERT_EQ(g.code, 0) << g.err;
    EXPECT_EQ(g.err.find("BLAS"), std::string::npos) << env << ": " << g.err;
  }
}

TEST(Cli, BadPromptsAndDevices) {
  expect_bad({"generate", "--model", model_dir(), "--prompt", ""}, {"empty prompt"});
  expect_bad({"generate", "--model", model_dir(), "--prompt-ids", "1,32000"}, {"32000", "outside"});
  expect_bad({"generate", "--model", model_dir(), "--prompt-ids", "1,x"}, {"--prompt-ids", "\"x\""});
  expect_bad({"generate", "--model", model_dir(), "--prompt", "a", "--dtype", "f8"}, {"--dtype", "f8"});
  expect_bad({"generate", "--model", model_dir(), "--prompt", "a", "--device", "tpu"}, {"--device", "tpu"});
}

// A message that quotes a file's bytes prints them escaped (utf8::printable):
// no control character or invalid UTF-8 reaches the terminal, one line.
TEST(Cli, ErrorLinesEscapeRawBytes) {
  TempDir dir;
  auto printable_line = [](const std::string& err) {
    EXPECT_TRUE(imsm::utf8::is_valid(err)) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    for (const char c : err.substr(0, err.size() - 1)) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << err;
  };
  write_file(dir.file("cfg.json"), R"({"model_path": "m", "data_path": "d", "bad\u0007key\n\u0085": 1})");
  Result r = imsm_run({"train", "--config", dir.file("cfg.json")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown key \"bad\\x07key\\n\\u0085\""), std::string::npos) << r.err;
  printable_line(r.err);
  write_file(dir.file("bad.jsonl"), "{\"text\": \"ok\"}\n{\"text\": \"\xFF\xFE\x1B[31m\"}\n");
  r = imsm_run({"tokenize", "--tokenizer", kLlama2Tokenizer, "--input", dir.file("bad.jsonl")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("bad.jsonl:2"), std::string::npos) << r.err;
  printable_line(r.err);
}

// Writes a safetensors file from a header and `data_bytes` zero bytes.
void write_raw_safetensors(const std::string& path, const std::string& header, size_t data_bytes) {
  write_file(path, imsm::testing::safetensors_bytes(header, std::string(data_bytes, '\0')));
}

TEST(Cli, BrokenCheckpointsAreRefusedWithOneLine) {
  TempDir dir;
  const std::string m = copy_model(dir);
  const std::string st = m + "/model.safetensors";
  const std::string original = slurp(st);

  write_file(st, original.substr(0, original.size() / 2));  // truncated
  expect_bad({"inspect-model", "--model", m}, {"model.safetensors", "beyond the data section"});
  write_file(st, original.substr(0, 5));
  expect_bad({"generate", "--model", m, "--prompt", "x"}, {"model.safetensors", "truncated"});
  std::string big = original;
  big[5] = '\x7f';  // header length beyond the file
  write_file(st, big);
  expect_bad({"inspect-model", "--model", m}, {"model.safetensors", "header length"});
  write_raw_safetensors(st, R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})", 24);
  expect_bad({"inspect-model", "--model", m}, {"model.safetensors", "\"b\"", "overlaps"});
  write_raw_safetensors(st, R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8);
  expect_bad({"inspect-model", "--model", m}, {"model.safetensors", "\"a\"", "beyond the data section"});
  write_raw_safetensors(st, "{\"a\": [1, 2", 0);
  expect_bad({"inspect-model", "--model", m}, {"model.safetensors", "malformed JSON"});
  write_file(st, original);

  auto config = imsm::json::read_file(m + "/config.json");
  const std::string config_text = config.dump();
  config["num_hidden_layers"] = 3;  // a layer the file lacks
  write_file(m + "/config.json", config.dump());
  expect_bad({"inspect-model", "--model", m}, {"model.safetensors", "missing tensor \"model.layers.2."});
  config["num_hidden_layers"] = 1;  // a layer the config does not know
  write_file(m + "/config.json", config.dump());
  expect_bad({"generate", "--model", m, "--prompt", "x"}, {"model.safetensors", "unexpected tensor", "model.layers.1."});
  config["num_hidden_layers"] = 2;
  config["intermediate_size"] = 96;  // shapes disagree
  write_file(m + "/config.json", config.dump());
  expect_bad({"inspect-model", "--model", m}, {"model.safetensors", "shape [128, 64]", "[96, 64]"});
  config["intermediate_size"] = 128;
  config["architectures"] = {"FalconForCausalLM"};
  write_file(m + "/config.json", config.dump());
  expect_bad({"inspect-model", "--model", m}, {"config.json", "unsupported architecture \"FalconForCausalLM\""});
  write_file(m + "/config.json", "{\"hidden_size\": 64,,}");
  expect_bad({"generate", "--model", m, "--prompt", "x"}, {"config.json:1:", "malformed JSON"});
  write_file(m + "/config.json", config_text);

  // A tensor stored as I32, where the config implies float weights.
  std::string header;
  {
    const auto f = imsm::SafetensorsFile::open(st);
    const unsigned char* base = f.tensors()[0].data;
    for (const auto& t : f.tensors()) base = std::min(base, t.data);
    nlohmann::json h = nlohmann::json::object();
    for (const auto& t : f.tensors()) {
      const auto begin = t.data - base;
      h[t.name] = {{"dtype", t.name == "model.norm.weight" ? "I32" : "F32"}, {"shape", t.shape},
                   {"data_offsets", {begin, begin + static_cast<int64_t>(t.nbytes)}}};
    }
    header = h.dump();
  }
  size_t data_bytes = 0;
  const auto file = imsm::SafetensorsFile::open(st);
  for (const auto& t : file.tensors()) data_bytes += t.nbytes;
  write_raw_safetensors(st, header, data_bytes);
  expect_bad({"inspect-model", "--model", m}, {"model.safetensors", "\"model.norm.weight\"", "dtype I32"});
  write_file(st, original);

  write_file(m + "/tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, oops}");
  expect_bad({"generate", "--model", m, "--prompt", "x"}, {"tokenizer.json:1:", "malformed JSON"});
  write_file(m + "/tokenizer.json", R"({"model": {"type": "Unigram", "vocab": []}})");
  expect_bad({"tokenize", "--tokenizer", m, "--text", "x"}, {"tokenizer.json", "\"Unigram\""});
}

TEST(Cli, ShardIndexAndPickles) {
  TempDir dir;
  const std::string m = copy_model(dir);
  std::filesystem::rename(m + "/model.safetensors", m + "/model-00001-of-00001.safetensors");
  write_file(m + "/model.safetensors.index.json", "{\"weight_map\": {\"model.norm.weight\": ");
  expect_bad({"inspect-model", "--model", m}, {"model.safetensors.index.json:1:", "malformed JSON"});
  // A complete index: the model loads and generates as before.
  nlohmann::json map = nlohmann::json::object();
  const auto shard = imsm::SafetensorsFile::open(m + "/model-00001-of-00001.safetensors");
  for (const auto& t : shard.tensors()) map[t.name] = "model-00001-of-00001.safetensors";
  write_file(m + "/model.safetensors.index.json", nlohmann::json{{"weight_map", map}}.dump());
  const Result sharded = imsm_run({"generate", "--model", m, "--prompt", "Hello", "--max-new-tokens", "4", "--json"});
  const Result single = imsm_run({"generate", "--model", model_dir(), "--prompt", "Hello", "--max-new-tokens", "4", "--json"});
  ASSERT_EQ(sharded.code, 0) << sharded.err;
  EXPECT_EQ(nlohmann::json::parse(sharded.out)["ids"], nlohmann::json::parse(single.out)["ids"]);

  TempDir pickled;
  write_file(pickled.file("config.json"), slurp(model_dir() + "/config.json"));
  write_file(pickled.file("pytorch_model.bin"), "PK\x03\x04 not really");
  expect_bad({"generate", "--model", pickled.path().string(), "--prompt", "x"}, {"pytorch_model.bin", "arbitrary code", "safetensors"});
  expect_bad({"inspect-model", "--model", pickled.file("pytorch_model.bin")}, {"pytorch_model.bin", "arbitrary code"});
}

}  // namespace

// `imsm env --json` against the environment's own torch: the LibTorch the
// engine linked is the wheel's, and its CUDA build is reported as such.
TEST(Cli, EnvJsonReportsTheWheelsLibTorch) {
  const Result r = imsm_run({"env", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"libtorch", "cuda_compiled", "cuda_devices", "blas", "threads"}) EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_GE(j["threads"].get<int>(), 1);
  EXPECT_GE(j["cuda_devices"].get<int>(), 0);
  // Python's view of the same torch: "2.15.0+cu132" and "13.2" (or None for a CPU build).
  const Result py = run_program(IMSM_PYTHON, {"-c", "import torch; print(torch.__version__); print(torch.version.cuda)"});
  ASSERT_EQ(py.code, 0) << py.err;
  std::istringstream lines(py.out);
  std::string version, cuda;
  std::getline(lines, version);
  std::getline(lines, cuda);
  version = version.substr(0, version.find('+'));
  EXPECT_EQ(j["libtorch"], version);
  EXPECT_EQ(j["cuda_compiled"].get<bool>(), cuda != "None");
  if (cuda != "None") {
    EXPECT_EQ(j["cuda_version"], cuda);
  }
  // The CPU's bf16 instructions, as lscpu's flags list them (util-linux, another reader of the same kernel table).
  const Result flags = run_program("/bin/sh", {"-c", "lscpu | sed -n 's/^Flags: *//p' | tr ' ' '\\n' | grep -x -E 'avx512_bf16|amx_bf16' || true"});
  ASSERT_EQ(flags.code, 0) << flags.err;
  std::vector<std::string> expected;
  std::istringstream words(flags.out);
  for (std::string w; words >> w;) expected.push_back(w);
  EXPECT_EQ(j["cpu_bf16"].get<std::vector<std::string>>(), expected) << "lscpu: " << flags.out;
}

TEST(Cli, CudaWithoutAGpuIsOneLine) {
  const auto env = nlohmann::json::parse(imsm_run({"env", "--json"}).out);
  if (env["cuda_devices"].get<int>() > 0) GTEST_SKIP() << "a CUDA device is visible: this checks machines without one";
  expect_bad({"generate", "--model", model_dir(), "--prompt", "x", "--device", "cuda"}, {"--device", "cuda", "no CUDA device", "cpu"});
  expect_bad({"generate", "--model", model_dir(), "--prompt", "x", "--device", "cuda:1"}, {"--device", "cuda:1"});
  expect_bad({"generate", "--model", model_dir(), "--prompt", "x", "--device", "gpu"}, {"--device", "\"gpu\""});
}

#ifdef IMSM_WITH_GGUF
// imsm import-gguf's refusals: exit 2, one line naming the file and what is
// supported, no folder written (a file that is not GGUF, one without the
// model's settings); and a good file (a seed of fuzz_gguf, written by the
// gguf package) imports and generates.
TEST(Cli, ImportGgufRefusesBadFilesAndImportsAGoodOne) {
  TempDir dir;
  const std::string seeds = std::string(IMSM_SOURCE_DIR) + "/tests/fuzz/corpus/gguf/";
  write_file(dir.file("notgguf.gguf"), "GGUX\x03\0\0\0 not a model");
  Result r = imsm_run({"import-gguf", dir.file("notgguf.gguf"), "--out", dir.file("a")});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("notgguf.gguf"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("magic"), std::string::npos) << r.err;
  const std::string error = r.err.substr(r.err.find("imsm: error:"));  // after the progress line
  EXPECT_EQ(std::count(error.begin(), error.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("a")));
  r = imsm_run({"import-gguf", seeds + "spm-vocabulary.gguf", "--out", dir.file("b")});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("llama.embedding_length"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("b")));
  r = imsm_run({"import-gguf", seeds + "llama-q8_0.gguf", "--out", dir.file("c"), "--dtype", "f8"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--dtype"), std::string::npos) << r.err;

  r = imsm_run({"import-gguf", seeds + "llama-q8_0.gguf", "--out", dir.file("c"), "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["architecture"], "llama");
  EXPECT_EQ(j["source_types"]["q8_0"], 8);
  EXPECT_EQ(j["tokenizer"], "gpt2");
  r = imsm_run({"generate", "--model", dir.file("c"), "--prompt", "ab a", "--max-new-tokens", "3", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["ids"].size(), 3u) << r.out;  // the new ids
}
#endif  // IMSM_WITH_GGUF
