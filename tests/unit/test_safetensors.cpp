// Safetensors reading and writing, checked against bytes laid out by hand
// (the format's spec: u64 little-endian header length, JSON header, data).
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <random>

#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "io/safetensors_writer.h"
#include "test_util.h"

using imsm::testing::expect_bad_input;
using imsm::testing::safetensors_bytes;
using imsm::testing::TempDir;
using imsm::testing::write_file;

namespace {

std::string floats(std::initializer_list<float> values) {
  std::string out;
  for (const float v : values) out.append(reinterpret_cast<const char*>(&v), sizeof(float));
  return out;
}

TEST(Safetensors, ReadsHandWrittenFile) {
  TempDir dir;
  const std::string header =
      R"({"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  write_file(dir.file("x.safetensors"), safetensors_bytes(header, floats({1.0f, -2.5f, 7.25f})));
  const auto f = imsm::SafetensorsFile::open(dir.file("x.safetensors"));
  ASSERT_EQ(f.tensors().size(), 2u);
  const auto* a = f.find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(a->dtype, imsm::DType::F32);
  float va[2];
  std::memcpy(va, a->data, 8);
  EXPECT_EQ(va[0], 1.0f);
  EXPECT_EQ(va[1], -2.5f);
  float vb;
  std::memcpy(&vb, f.find("b")->data, 4);
  EXPECT_EQ(vb, 7.25f);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(f.find("missing"), nullptr);
}

TEST(Safetensors, WriterRoundTripAndAlignedHeader) {
  TempDir dir;
  const float w[6] = {0.5f, 1.5f, -3.0f, 4.0f, 5.0f, 6.0f};
  const uint16_t half[3] = {0x3C00, 0xC000, 0x7BFF};  // 1.0, -2.0, 65504 in IEEE half
  imsm::write_safetensors(dir.file("m.safetensors"),
                          {{"w", imsm::DType::F32, {2, 3}, w}, {"h", imsm::DType::F16, {3}, half}},
                          {{"note", "written by imsm"}});
  const auto f = imsm::SafetensorsFile::open(dir.file("m.safetensors"));
  EXPECT_EQ(std::memcmp(f.find("w")->data, w, sizeof(w)), 0);
  EXPECT_EQ(std::memcmp(f.find("h")->data, half, sizeof(half)), 0);
  EXPECT_EQ(f.find("w")->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(f.metadata().at("note"), "written by imsm");
  // The data section starts 8-byte aligned, as the reference writer pads it.
  EXPECT_EQ(reinterpret_cast<uintptr_t>(f.find("w")->data) % 8, 0u);
}

TEST(Safetensors, RejectsTruncatedFile) {
  TempDir dir;
  write_file(dir.file("t.safetensors"), "abc");
  expect_bad_input([&] { imsm::SafetensorsFile::open(dir.file("t.safetensors")); }, {"t.safetensors", "truncated"});
}

TEST(Safetensors, RejectsHeaderBeyondFile) {
  TempDir dir;
  std::string bytes = safetensors_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", floats({1}));
  bytes[0] = static_cast<char>(0xF0);  // header length now far past the end
  write_file(dir.file("h.safetensors"), bytes);
  expect_bad_input([&] { imsm::SafetensorsFile::open(dir.file("h.safetensors")); }, {"h.safetensors", "beyond the end"});
}

TEST(Safetensors, RejectsOffsetsOutOfRange) {
  TempDir dir;
  write_file(dir.file("o.safetensors"),
             safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", floats({1})));
  expect_bad_input([&] { imsm::SafetensorsFile::open(dir.file("o.safetensors")); }, {"o.safetensors", "\"a\"", "beyond the data"});
}

TEST(Safetensors, RejectsOverlappingTensors) {
  TempDir dir;
  write_file(dir.file("v.safetensors"),
             safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                               floats({1, 2, 3})));
  expect_bad_input([&] { imsm::SafetensorsFile::open(dir.file("v.safetensors")); }, {"v.safetensors", "\"b\"", "overlaps"});
}

TEST(Safetensors, RejectsGapsAndSizeMismatch) {
  TempDir dir;
  write_file(dir.file("g.safetensors"),
             safetensors_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", floats({1, 2})));
  expect_bad_input([&] { imsm::SafetensorsFile::open(dir.file("g.safetensors")); }, {"g.safetensors", "gap"});
  write_file(dir.file("s.safetensors"),
             safetensors_bytes(R"({"a":{"dtype":"F16","shape":[3],"data_offsets":[0,8]}})", floats({1, 2})));
  expect_bad_input([&] { imsm::SafetensorsFile::open(dir.file("s.safetensors")); }, {"s.safetensors", "need 6"});
}

TEST(Safetensors, RejectsUnknownDtypeAndMalformedHeader) {
  TempDir dir;
  write_file(dir.file("d.safetensors"),
             safetensors_bytes(R"({"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}})", floats({1})));
  expect_bad_input([&] { imsm::SafetensorsFile::open(dir.file("d.safetensors")); }, {"d.safetensors", "unknown dtype \"Q4\""});
  write_file(dir.file("j.safetensors"), safetensors_bytes(R"({"a":{"dtype":"F32",)", ""));
  expect_bad_input([&] { imsm::SafetensorsFile::open(dir.file("j.safetensors")); }, {"j.safetensors", "malformed JSON"});
}

TEST(Checkpoint, RefusesPickledWeights) {
  TempDir dir;
  write_file(dir.file("pytorch_model.bin"), "\x80\x02}q\x00.");
  expect_bad_input([&] { imsm::CheckpointWeights::open(dir.path().string()); }, {"pytorch_model.bin", "can run arbitrary code", "safetensors"});
  expect_bad_input([&] { imsm::CheckpointWeights::open(dir.file("pytorch_model.bin")); }, {"pytorch_model.bin", "arbitrary code"});
}

TEST(Checkpoint, ReadsShardsThroughIndex) {
  TempDir dir;
  const float a[2] = {1, 2}, b[1] = {3};
  imsm::write_safetensors(dir.file("model-00001-of-00002.safetensors"), {{"a", imsm::DType::F32, {2}, a}});
  imsm::write_safetensors(dir.file("model-00002-of-00002.safetensors"), {{"b", imsm::DType::F32, {1}, b}});
  write_file(dir.file("model.safetensors.index.json"),
             R"({"metadata":{},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}})");
  const auto w = imsm::CheckpointWeights::open(dir.path().string());
  EXPECT_EQ(w.names(), (std::vector<std::string>{"a", "b"}));
  float got;
  std::memcpy(&got, w.find("b")->data, 4);
  EXPECT_EQ(got, 3.0f);
  EXPECT_NE(w.file_of("b").find("00002"), std::string::npos);

  write_file(dir.file("model.safetensors.index.json"), R"({"weight_map":{"a":"model-00002-of-00002.safetensors"}})");
  expect_bad_input([&] { imsm::CheckpointWeights::open(dir.path().string()); }, {"00002-of-00002", "\"a\"", "not in this shard"});
  write_file(dir.file("model.safetensors.index.json"), "{\"weight_map\": {\n  \"a\": }");
  expect_bad_input([&] { imsm::CheckpointWeights::open(dir.path().string()); }, {"model.safetensors.index.json:2:", "malformed JSON"});
}

}  // namespace

namespace {

// Random corruption (byte flips in the header, truncation, garbage) either
// parses or fails with BadInput: never a crash (also run under ASan/UBSan).
TEST(Safetensors, CorruptedFilesFailCleanly) {
  TempDir dir;
  const float w[6] = {1, 2, 3, 4, 5, 6};
  imsm::write_safetensors(dir.file("ok.safetensors"),
                          {{"w", imsm::DType::F32, {2, 3}, w}, {"b", imsm::DType::F32, {0}, nullptr}}, {{"k", "v"}});
  std::ifstream in(dir.file("ok.safetensors"), std::ios::binary);
  const std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::mt19937 rng(1234);
  int parsed = 0, refused = 0;
  for (int i = 0; i < 600; ++i) {
    std::string bad = good;
    const int kind = i % 3;
    if (kind == 0) {  // flip a few bytes, mostly in the length prefix and header
      for (int f = 0; f < 1 + static_cast<int>(rng() % 3); ++f) bad[rng() % std::min<size_t>(bad.size(), 120)] = static_cast<char>(rng());
    } else if (kind == 1) {  // truncate
      bad.resize(rng() % bad.size());
    } else {  // replace one header character with a JSON-significant one
      bad[8 + rng() % (bad.size() - 8 - 24)] = "{}[]\",:0-9e"[rng() % 11];
    }
    write_file(dir.file("bad.safetensors"), bad);
    try {
      imsm::SafetensorsFile::open(dir.file("bad.safetensors"));
      ++parsed;
    } catch (const imsm::Error& e) {
      EXPECT_EQ(e.kind(), imsm::ErrorKind::BadInput);
      ++refused;
    }
  }
  EXPECT_GT(refused, 300);
  EXPECT_EQ(parsed + refused, 600);
}

}  // namespace
