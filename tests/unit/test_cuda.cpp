// The engine on a CUDA device: training (fp32 against CPU, resume with the
// CUDA generator, bf16 autocast) and IMSM generation. Where no CUDA device is
// visible each test skips and says why; installer/gpu-check.sh runs them on a
// GPU machine.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "config/train_config.h"
#include "io/hf_config.h"
#include "io/safetensors.h"
#include "model/cuda_device.h"
#include "model/device.h"
#include "recipes/environment.h"
#include "recipes/generate.h"
#include "recipes/train.h"
#include "train_fixtures.h"

namespace {

using Workspace = imsm::testing::TrainWorkspace;

#define SKIP_WITHOUT_CUDA()                                                                                   \
  if (imsm::cuda_device_count() == 0)                                                                         \
  GTEST_SKIP() << "no CUDA device visible (LibTorch " << imsm::torch_version()                                \
               << (imsm::cuda_compiled() ? ", CUDA path compiled" : ", no CUDA path") << "): run installer/gpu-check.sh on a GPU machine"

// fp32 on CUDA against CPU, dropout off (the two devices draw different masks):
// the same losses within 1e-4 relative per step (fp32 kernels sum in other
// orders; over 15 AdamW steps of a 2-layer model the drift stays ~1e-6). Then
// with dropout on, a run stopped at step 7 and resumed on CUDA gives the
// uninterrupted losses: the checkpoint restores the CUDA generator too (1e-6
// relative: CUDA's backward of index ops may sum atomically, in any order).
TEST(Cuda, TrainingMatchesCpuAndResumesWithItsGenerator) {
  SKIP_WITHOUT_CUDA();
  Workspace w;
  auto cfg = w.config(w.dir.file("cpu"));
  cfg["lora_dropout"] = 0.0;
  cfg["dropout_prob"] = 0.0;
  const auto cpu = imsm::run_train(imsm::parse_train_config(cfg, "test"));
  cfg["device"] = "cuda";
  cfg["output_dir"] = w.dir.file("cuda");
  const auto cuda = imsm::run_train(imsm::parse_train_config(cfg, "test"));
  ASSERT_EQ(cuda.status, imsm::RunStatus::Finished);
  ASSERT_EQ(cuda.losses.size(), cpu.losses.size());
  for (size_t i = 0; i < cpu.losses.size(); ++i) EXPECT_NEAR(cuda.losses[i], cpu.losses[i], 1e-4 * std::abs(cpu.losses[i])) << "step " << i + 1;

  auto full_cfg = w.config(w.dir.file("full"));
  full_cfg["device"] = "cuda";
  const auto full = imsm::run_train(imsm::parse_train_config(full_cfg, "test"));
  auto part_cfg = w.config(w.dir.file("part"));
  part_cfg["device"] = "cuda";
  int steps = 0;
  imsm::Hooks stop;
  stop.on_step = [&](const imsm::StepRecord&) { ++steps; };
  stop.should_abort = [&] { return steps >= 7; };
  imsm::testing::expect_cancelled([&] { imsm::run_train(imsm::parse_train_config(part_cfg, "test"), stop); });
  part_cfg["resume_from"] = w.dir.file("part");
  const auto resumed = imsm::run_train(imsm::parse_train_config(part_cfg, "test"));
  ASSERT_EQ(resumed.losses.size(), full.losses.size());
  for (size_t i = 0; i < full.losses.size(); ++i) EXPECT_NEAR(resumed.losses[i], full.losses[i], 1e-6 * std::abs(full.losses[i])) << "step " << i + 1;
}

// bf16 weights under autocast on CUDA: the run learns (the copy task's loss
// falls by more than a quarter, as in fp32 on CPU) and the adapter and the
// gate are saved in fp32.
TEST(Cuda, Bf16AutocastTrainingLearnsAndKeepsFp32Adapters) {
  SKIP_WITHOUT_CUDA();
  Workspace w;
  auto cfg = w.config(w.dir.file("bf16"));
  cfg["device"] = "cuda";
  cfg["dtype"] = "bf16";
  const auto s = imsm::run_train(imsm::parse_train_config(cfg, "test"));
  ASSERT_EQ(s.status, imsm::RunStatus::Finished);
  EXPECT_LT((s.losses[12] + s.losses[13] + s.losses[14]) / 3, 0.75 * s.losses.front());
  const auto adapter = imsm::SafetensorsFile::open(s.adapter_dir + "/adapter_model.safetensors");
  for (const auto& t : adapter.tensors()) EXPECT_EQ(t.dtype, imsm::DType::F32) << t.name;
  const auto gate = imsm::SafetensorsFile::open(s.adapter_dir + "/imsm_gate.safetensors");
  for (const auto& t : gate.tensors()) EXPECT_EQ(t.dtype, imsm::DType::F32) << t.name;
}

// Greedy generation with the IMSM adapter: fp32 on CUDA gives the CPU's ids
// and, within 1e-4, its gate means.
TEST(Cuda, ImsmGenerationEqualsCpu) {
  SKIP_WITHOUT_CUDA();
  Workspace w;
  const auto trained = imsm::run_train(imsm::parse_train_config(w.config(w.dir.file("run")), "test"));
  imsm::GenerateRequest r;
  r.source.model_dir = w.model;
  r.source.adapter_dir = trained.adapter_dir;
  r.prompt = "copy abc";
  r.max_new_tokens = 12;
  const auto cpu = imsm::run_generate(r, {});
  r.source.device = {true, -1};  // "cuda"
  const auto cuda = imsm::run_generate(r, {});
  EXPECT_EQ(cuda.ids, cpu.ids);
  ASSERT_EQ(cuda.gate_mean.size(), cpu.gate_mean.size());
  for (size_t i = 0; i < cpu.gate_mean.size(); ++i) EXPECT_NEAR(cuda.gate_mean[i], cpu.gate_mean[i], 1e-4) << i;
  r.source.dtype = imsm::Precision::BF16;
  const auto bf16 = imsm::run_generate(r, {});  // runs in bf16 (its ids may differ where logits are close)
  EXPECT_FALSE(bf16.ids.empty());
  EXPECT_EQ(bf16.gate_mean.size(), bf16.ids.size());
}

}  // namespace

// A run trained on a GPU that is not visible here (one index past the visible
// devices: none on this machine) is inspected on the CPU in f32, and the note
// says which device was missing; the CPU passes unchanged. A malformed device
// never gets this far: its reader refuses it (parse_device_spec).
TEST(Cuda, RunnableHereFallsBackToTheCpuForAnInvisibleDevice) {
  const imsm::DeviceSpec missing{true, imsm::cuda_device_count()};
  std::string note;
  const auto here = imsm::runnable_here({"m", "a", missing, imsm::Precision::BF16}, &note);
  EXPECT_EQ(here, (imsm::ModelSource{"m", "a", imsm::DeviceSpec::cpu(), imsm::Precision::Auto}));
  EXPECT_NE(note.find(missing.text() + " is not visible here"), std::string::npos) << note;
  note.clear();
  const imsm::ModelSource cpu{"m", "", imsm::DeviceSpec::cpu(), imsm::Precision::F32};
  EXPECT_EQ(imsm::runnable_here(cpu, &note), cpu);
  imsm::testing::expect_bad_input([] { imsm::parse_device_spec("cuda:x", "device", "run 3"); }, {"run 3", "\"cuda:x\"", "cuda:N"});
  EXPECT_TRUE(note.empty());
  if (imsm::cuda_device_count() > 0) {
    const imsm::DeviceSpec first{true, 0};
    EXPECT_EQ(imsm::runnable_here({"m", "", first, imsm::Precision::BF16}, &note).device, first);
  }
}

// The one reader of "cpu" / "cuda" / "cuda:N" (configurations, flags, the workspace's runs).
TEST(Cuda, DeviceSpecReadsOnlyCpuAndCudaSpellings) {
  const auto read = [](const char* text) { return imsm::parse_device_spec(text, "device", "test"); };
  EXPECT_EQ(read("cpu"), imsm::DeviceSpec::cpu());
  EXPECT_EQ(read("cuda").cuda_index(), 0);
  EXPECT_EQ(read("cuda").text(), "cuda");  // written back as read
  EXPECT_EQ(read("cuda:3").cuda_index(), 3);
  EXPECT_EQ(read("cuda:1234").text(), "cuda:1234");
  for (const char* bad : {"cuda:", "cuda:x", "cuda:-1", "cuda:12345", "CUDA", "cuda0", "", "mps"})
    imsm::testing::expect_bad_input([&] { read(bad); }, {"test", "\"device\"", "cpu, cuda or cuda:N"});
  imsm::testing::expect_bad_input([] { imsm::parse_device("cuda:"); }, {"--device", "cuda:N"});
}

// What "dtype" auto means: bf16 on a CPU with bf16 instructions (as lscpu's
// flags list them) for a model of SmolLM2-135M's shapes (134.5M parameters,
// config.json as published), f32 for a small one and on CPUs without them;
// the checkpoint's precision on CUDA.
TEST(Cuda, AutoPrecisionIsBf16OnlyForLargeModelsOnCpusWithBf16) {
  const nlohmann::json smollm2 = {{"architectures", {"LlamaForCausalLM"}}, {"hidden_size", 576}, {"intermediate_size", 1536},
                                  {"num_attention_heads", 9}, {"num_key_value_heads", 3}, {"num_hidden_layers", 30},
                                  {"vocab_size", 49152}, {"max_position_embeddings", 8192}, {"rope_theta", 100000.0},
                                  {"rms_norm_eps", 1e-5}, {"torch_dtype", "bfloat16"}, {"tie_word_embeddings", true}};
  const imsm::ModelConfig large = imsm::parse_model_config(smollm2, "smollm2");
  ASSERT_EQ(large.num_parameters(), 134515008);  // as transformers counts SmolLM2-135M-Instruct
  nlohmann::json toy = smollm2;
  toy["num_hidden_layers"] = 2;
  toy["vocab_size"] = 2048;
  const imsm::ModelConfig small = imsm::parse_model_config(toy, "toy");
  ASSERT_LT(small.num_parameters(), imsm::kCpuBf16MinParameters);
  FILE* lscpu = popen("lscpu | sed -n 's/^Flags: *//p' | tr ' ' '\\n' | grep -c -x -E 'avx512_bf16|amx_bf16'", "r");
  ASSERT_NE(lscpu, nullptr);
  int flags = 0;
  ASSERT_EQ(fscanf(lscpu, "%d", &flags), 1);
  pclose(lscpu);
  EXPECT_EQ(static_cast<int>(imsm::cpu_bf16_instructions().size()), flags);
  EXPECT_EQ(imsm::auto_precision(large, false), flags > 0 ? imsm::Precision::BF16 : imsm::Precision::F32);
  EXPECT_EQ(imsm::auto_precision(small, false), imsm::Precision::F32);
  EXPECT_EQ(imsm::auto_precision(large, true), imsm::Precision::BF16);  // the checkpoint's torch_dtype
  toy["torch_dtype"] = "float32";
  EXPECT_EQ(imsm::auto_precision(imsm::parse_model_config(toy, "toy"), true), imsm::Precision::F32);
}
