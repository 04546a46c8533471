// The frozen-memory cache (train/memory_cache.h) and the streams' shared lower
// layers (imsm/siamese.h): each against the original stream computed without
// them. fp32 on CPU throughout.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tensor_tolerance.h"
#include "imsm/imsm_generate.h"
#include "imsm/siamese.h"
#include "io/safetensors.h"
#include "model/tensor_io.h"
#include "recipes/train.h"
#include "siamese_fixture.h"
#include "train/memory_cache.h"

namespace {

using imsm::testing::SiameseFixture;

imsm::SiameseBatch siamese_batch(const imsm::TrainBatch& b) { return {b.ids, b.mask, b.query_len}; }

// Rows `rows` of a batch, cut to the longest of them (as collate pads).
imsm::SiameseBatch rows_of(const imsm::TrainBatch& b, const std::vector<int64_t>& rows) {
  const torch::Tensor index = torch::tensor(rows, torch::kInt64);
  const int64_t longest = b.mask.index_select(0, index).sum(1).max().item<int64_t>();
  return {b.ids.index_select(0, index).narrow(1, 0, longest), b.mask.index_select(0, index).narrow(1, 0, longest),
          b.query_len.index_select(0, index)};
}

// h [B, T, d] with the padding positions (mask 0) zeroed.
torch::Tensor real_positions(const torch::Tensor& h, const torch::Tensor& mask) { return h * mask.unsqueeze(-1).to(h.dtype()); }

TEST(FrozenMemory, RowsReadBackAreTheOriginalStreamAndPaddingIsZero) {
  SiameseFixture f;
  imsm::FrozenMemoryCache cache(imsm::model_fingerprint(*f.model), f.model->config().hidden_size, {});
  const auto batch = siamese_batch(f.batch);
  const torch::Tensor expected = imsm::original_memory(*f.model, batch);  // [4, T, d]
  const torch::Tensor first = cache.original_memory(*f.model, batch);     // computed: the same batch, the same computation
  EXPECT_TRUE(torch::equal(first, real_positions(expected, f.batch.mask)));
  EXPECT_EQ(cache.stats().misses, 4);
  const torch::Tensor again = cache.original_memory(*f.model, batch);  // read
  EXPECT_TRUE(torch::equal(again, first));
  EXPECT_EQ(cache.stats().hits, 4);
  // Two rows in another batch (reversed, cut to their length): the rows as computed before.
  const auto sub = rows_of(f.batch, {3, 1});
  const torch::Tensor read = cache.original_memory(*f.model, sub);  // [2, T', d]
  EXPECT_EQ(cache.stats().hits, 6);
  for (int64_t i = 0; i < 2; ++i) {
    const int64_t row = i == 0 ? 3 : 1, L = sub.attention_mask[i].sum().item<int64_t>();
    EXPECT_TRUE(torch::equal(read[i].narrow(0, 0, L), first[row].narrow(0, 0, L)));
    // And each row computed alone (batch of one): other shapes, so the kernels' rounding over the
    // model, relative to the hidden states' size (tolerance.h).
    const auto alone = rows_of(f.batch, {row});
    EXPECT_TRUE(imsm::testing::close_at_scale(imsm::original_memory(*f.model, alone)[0], read[i].narrow(0, 0, L),
                                              imsm::testing::kWholeModel));
  }
}

TEST(FrozenMemory, AChangedOrShortenedRowIsComputedNeverServedStale) {
  SiameseFixture f;
  imsm::FrozenMemoryCache cache(imsm::model_fingerprint(*f.model), f.model->config().hidden_size, {});
  auto batch = siamese_batch(f.batch);
  cache.original_memory(*f.model, batch);
  batch.input_ids = batch.input_ids.clone();
  batch.input_ids[0][2] = (batch.input_ids[0][2].item<int64_t>() + 1) % f.model->config().vocab_size;  // another token
  batch.attention_mask = batch.attention_mask.clone();
  const int64_t L1 = batch.attention_mask[1].sum().item<int64_t>();
  batch.attention_mask[1][L1 - 1] = 0;  // row 1 one token shorter: its prefix, not itself
  const torch::Tensor h = cache.original_memory(*f.model, batch);
  EXPECT_EQ(cache.stats().misses, 4 + 2);
  EXPECT_EQ(cache.stats().hits, 2);
  // The two computed rows ran as a batch of their own (other shapes): the model's fp32 rounding (tolerance.h).
  EXPECT_TRUE(imsm::testing::close_at_scale(h, real_positions(imsm::original_memory(*f.model, batch), batch.attention_mask),
                                            imsm::testing::kWholeModel));
}

TEST(FrozenMemory, TheFileServesALaterRunOfTheSameModelOnly) {
  SiameseFixture f;
  const std::string file = f.w.dir.file("cache/original-memory.bin");
  imsm::MemoryCacheOptions options;
  options.memory_bytes = 0;  // every row in the file alone
  options.file = file;
  options.keep_free_bytes = 0;  // kilobytes are written: whatever the test machine's disk has free
  const std::string fingerprint = imsm::model_fingerprint(*f.model);
  const int64_t d = f.model->config().hidden_size;
  const auto batch = siamese_batch(f.batch);
  torch::Tensor computed;
  {
    imsm::FrozenMemoryCache cache(fingerprint, d, options);
    computed = cache.original_memory(*f.model, batch);
    EXPECT_EQ(cache.stats().file_rows, 4);
    EXPECT_EQ(cache.stats().memory_bytes, 0);
    imsm::FrozenMemoryCache other(fingerprint, d, options);  // the file is locked while a run writes it
    EXPECT_NE(other.stats().file_note.find("in use by another run"), std::string::npos) << other.stats().file_note;
  }
  {  // a torn record at the end (a run killed while writing) is cut off; the rows before it are read
    std::ofstream(file, std::ios::app | std::ios::binary) << "torn record";
    imsm::FrozenMemoryCache cache(fingerprint, d, options);
    EXPECT_EQ(cache.stats().file_rows, 4);
    EXPECT_TRUE(torch::equal(cache.original_memory(*f.model, batch), computed));
    EXPECT_EQ(cache.stats().misses, 0);
  }
  // Another model (one weight changed by one ulp): another fingerprint; the file is begun anew, nothing read.
  {
    torch::NoGradGuard no_grad;
    auto weights = f.model->named_weights();
    torch::Tensor& w = weights.back().second;  // shares the model's tensor; its storage maps the file read-only
    const torch::Tensor changed = w.clone();
    changed.view(-1)[0] = std::nextafter(changed.view(-1)[0].item<float>(), 1e9f);
    w.set_(changed);
  }
  const std::string changed = imsm::model_fingerprint(*f.model);
  EXPECT_NE(changed, fingerprint);
  imsm::FrozenMemoryCache cache(changed, d, options);
  EXPECT_EQ(cache.stats().file_rows, 0);
  cache.original_memory(*f.model, batch);
  EXPECT_EQ(cache.stats().misses, 4);
}

TEST(FrozenMemory, ANearlyFullDiskStopsTheFileAndSaysSo) {
  SiameseFixture f;
  imsm::MemoryCacheOptions options;
  options.file = f.w.dir.file("cache/original-memory.bin");
  options.keep_free_bytes = int64_t(1) << 60;  // more than any disk has: every row would break the margin
  imsm::FrozenMemoryCache cache(imsm::model_fingerprint(*f.model), f.model->config().hidden_size, options);
  const auto batch = siamese_batch(f.batch);
  const torch::Tensor computed = cache.original_memory(*f.model, batch);
  EXPECT_EQ(cache.stats().file_rows, 0);
  EXPECT_NE(cache.stats().file_note.find("the disk is nearly full"), std::string::npos) << cache.stats().file_note;
  EXPECT_TRUE(torch::equal(cache.original_memory(*f.model, batch), computed));  // memory still serves the rows
  EXPECT_EQ(cache.stats().hits, 4);
}

TEST(FrozenMemory, HalfPrecisionRowsAreTheMemoryRounded) {
  SiameseFixture f;
  for (const auto dtype : {torch::kBFloat16, torch::kFloat16}) {
    imsm::MemoryCacheOptions options;
    options.dtype = dtype;
    imsm::FrozenMemoryCache cache(imsm::model_fingerprint(*f.model), f.model->config().hidden_size, options);
    const auto batch = siamese_batch(f.batch);
    const torch::Tensor computed = cache.original_memory(*f.model, batch);  // the first pass: exact
    const torch::Tensor read = cache.original_memory(*f.model, batch);      // later: as stored
    EXPECT_TRUE(torch::equal(read, computed.to(dtype).to(torch::kFloat32)));
    EXPECT_EQ(cache.stats().memory_bytes, f.batch.mask.sum().item<int64_t>() * f.model->config().hidden_size * 2);
  }
}

// Training with the cache and without: the same adapter. Epoch 1 computes every
// row as without it; later epochs read rows computed in other batches (other
// shapes), which float rounding may change in the last bits: a relative 1e-4
// over 3 epochs of AdamW at lr 1e-2.
TEST(FrozenMemory, TrainingWithTheCacheGivesTheSameAdapterAndALaterRunReadsTheFile) {
  imsm::testing::TrainWorkspace w;
  auto train = [&](const std::string& out, bool cached) {
    auto c = w.config(w.dir.file("runs/" + out));
    c["memory_cache"] = cached;
    c["save_steps"] = 0;
    return imsm::run_train(imsm::parse_train_config(c, out));
  };
  const auto plain = train("plain", false);
  const auto cached = train("cached", true);
  for (const std::string file : {"/adapter_model.safetensors", "/imsm_gate.safetensors"}) {
    const auto a = imsm::SafetensorsFile::open(plain.adapter_dir + file);
    const auto b = imsm::SafetensorsFile::open(cached.adapter_dir + file);
    ASSERT_EQ(a.tensors().size(), b.tensors().size());
    for (const auto& view : a.tensors()) {
      ASSERT_TRUE(b.find(view.name)) << view.name;
      const torch::Tensor x = imsm::to_tensor(view, a.mapping(), torch::kCPU, torch::kFloat32);
      const torch::Tensor y = imsm::to_tensor(*b.find(view.name), b.mapping(), torch::kCPU, torch::kFloat32);
      EXPECT_TRUE(torch::allclose(x, y, 1e-4, 1e-6)) << view.name << ": max difference " << (x - y).abs().max().item<double>();
    }
  }
  for (size_t i = 0; i < plain.losses.size(); ++i) EXPECT_NEAR(plain.losses[i], cached.losses[i], 1e-4 * std::abs(plain.losses[i]));
  // The file beside the runs: a second run over the same base and data reads it and writes nothing.
  const auto dir = std::filesystem::path(w.dir.file("runs")) / ".imsm-cache";
  ASSERT_TRUE(std::filesystem::is_directory(dir));
  const auto file = std::filesystem::directory_iterator(dir)->path();
  const auto size = std::filesystem::file_size(file);
  EXPECT_GT(size, 40u * 32 * 4) << "40 examples' memory, d = 32, fp32";
  const auto again = train("cached-again", true);
  EXPECT_EQ(std::filesystem::file_size(file), size);
  EXPECT_EQ(again.losses, cached.losses) << "the same rows read as the first run computed and kept";
}

// Adapters on layer 1 of 2: below it the two streams are one computation.
TEST(SharedLayers, OutputsAndGradientsAreThoseOfTheUnsharedStreams) {
  SiameseFixture f;
  f.adapters.reset();  // on every layer; now only on the top one
  imsm::PeftConfig pc;
  pc.dropout = 0;
  pc.layers_to_transform = {1};
  f.adapters = imsm::PeftAdapters::attach(*f.model, pc, 3);
  EXPECT_EQ(f.model->first_adapted_layer(), 1);
  for (const auto& [name, t] : f.adapters->named_parameters()) EXPECT_NE(name.find("layers.1."), std::string::npos) << name;
  {
    torch::NoGradGuard no_grad;
    for (auto& [name, t] : f.adapters->named_parameters()) t->normal_(0, 0.2);
  }
  const auto batch = siamese_batch(f.batch);
  auto run = [&](bool shared) {  // the official layout's path (original_copy) never shares: the same model as its copy
    const auto out = imsm::siamese_forward(*f.model, f.gate.get(), batch, shared ? nullptr : f.model.get());
    out.logits.sum().backward();
    std::vector<torch::Tensor> all = {out.logits.detach(), out.h_M, out.h_Mp.detach()};
    for (auto& [name, t] : f.adapters->named_parameters()) all.push_back(t->grad().clone()), t->mutable_grad().zero_();
    for (auto& [name, t] : f.gate->named_parameters()) all.push_back(t.grad().clone()), t.mutable_grad().zero_();
    return all;
  };
  const auto shared = run(true), unshared = run(false);
  for (size_t i = 0; i < shared.size(); ++i) EXPECT_TRUE(torch::equal(shared[i], unshared[i])) << "tensor " << i;
}

// Decoding with a KV cache: the shared layers hold B rows, the others 2B. Each
// step's logits against the whole sequence through both streams unshared
// (other shapes, so the model's fp32 rounding relative to the logits' size, tolerance.h).
TEST(SharedLayers, CachedDecodingGivesTheUnsharedStreamsLogits) {
  SiameseFixture f;
  f.adapters.reset();
  imsm::PeftConfig pc;
  pc.layers_to_transform = {1};
  f.adapters = imsm::PeftAdapters::attach(*f.model, pc, 3);
  {
    torch::NoGradGuard no_grad;
    for (auto& [name, t] : f.adapters->named_parameters()) t->normal_(0, 0.2);
  }
  torch::NoGradGuard no_grad;
  imsm::ImsmStep step(*f.model, *f.gate, true);
  torch::Tensor ids = f.batch.ids.narrow(0, 0, 2).narrow(1, 0, 6);  // [2, 6]: two prompts
  const torch::Tensor query_len = torch::full({2}, 6, torch::kInt64);
  torch::Tensor logits = step.next_logits(ids, torch::arange(6).expand({2, 6}), torch::Tensor());  // [2, V]
  for (int64_t t = 6; t < 10; ++t) {
    const auto whole = imsm::siamese_forward(*f.model, f.gate.get(), {ids, torch::Tensor(), query_len}, f.model.get());
    EXPECT_TRUE(imsm::testing::close_at_scale(logits, whole.logits.select(1, t - 1), imsm::testing::kWholeModel)) << "position " << t;
    const torch::Tensor next = logits.argmax(-1).view({2, 1});  // [2, 1]
    ids = torch::cat({ids, next}, 1);
    logits = step.next_logits(next, torch::full({2, 1}, t, torch::kInt64), torch::Tensor());
  }
}

TEST(SharedLayers, LayersToTransformIsCheckedAndWrittenAsPeftWritesIt) {
  SiameseFixture f;
  imsm::PeftConfig pc;
  pc.layers_to_transform = {5};
  f.adapters.reset();
  imsm::testing::expect_bad_input([&] { imsm::PeftAdapters::attach(*f.model, pc, 1); }, {"layers_to_transform", "layer 5", "0 .. 1"});
  pc.layers_to_transform = {1};
  EXPECT_EQ(pc.to_adapter_config()["layers_to_transform"], nlohmann::json::array({1}));
  pc.layers_to_transform = {};
  EXPECT_TRUE(pc.to_adapter_config()["layers_to_transform"].is_null());
}

}  // namespace
