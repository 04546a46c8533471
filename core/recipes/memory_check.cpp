#include "recipes/memory_check.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "io/hf_config.h"
#include "model/cuda_device.h"
#include "model/device.h"
#include "recipes/train.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/process.h"

namespace imsm {
namespace {

double free_bytes_on(const DeviceSpec& device) {
  const auto index = device.cuda_index();
  if (!index) return static_cast<double>(host_memory().available_bytes);  // MemAvailable; -1 where there is none
  for (const CudaDevice& d : cuda_devices(true))
    if (d.index == *index) return static_cast<double>(d.free_bytes);
  return -1;
}

std::string with(const std::string& change, const MemoryPlan& plan) {
  return change + ": " + format_bytes(estimate_memory(plan).peak_bytes());
}

// The changes that bring the estimate under `free`: checkpointing and a chunked
// head, each alone, else together; then on those settings (what large models
// train with) the largest halved batch and the longest halved length that fit.
std::vector<std::string> fixes(const MemoryPlan& plan, const TrainConfig& c, double free) {
  std::vector<std::string> out;
  auto fits = [&](const MemoryPlan& p) { return estimate_memory(p).peak_bytes() <= free; };
  MemoryPlan checkpointed = plan, chunked = plan, lean = plan;
  checkpointed.checkpointing = lean.checkpointing = true;
  chunked.loss_chunk = lean.loss_chunk = plan.loss_chunk > 0 ? std::min<int64_t>(plan.loss_chunk, 1024) : 1024;
  std::string lean_words;
  if (!plan.checkpointing) lean_words = "gradient_checkpointing on";
  if (chunked.loss_chunk != plan.loss_chunk) lean_words += (lean_words.empty() ? "" : " and ") + std::string("loss_chunk_size 1024");
  if (!plan.checkpointing && fits(checkpointed)) out.push_back(with("gradient_checkpointing on", checkpointed));
  if (chunked.loss_chunk != plan.loss_chunk && fits(chunked)) out.push_back(with("loss_chunk_size 1024", chunked));
  if (out.empty() && !lean_words.empty() && fits(lean)) out.push_back(with(lean_words, lean));
  const std::string on_lean = lean_words.empty() ? "" : "with " + lean_words + ", ";
  for (int64_t b = plan.batch_size / 2; b >= 1; b /= 2) {  // halve the batch, keep the examples per optimizer step
    MemoryPlan p = lean;
    p.batch_size = b;
    if (!fits(p)) continue;
    out.push_back(with(on_lean + "batch_size " + std::to_string(b) + " with accumulation_steps " +
                           std::to_string(c.accumulation_steps * (plan.batch_size / b)) + " (the same examples per optimizer step)", p));
    break;
  }
  for (int64_t length = plan.sequence_length / 2; length >= 16; length /= 2) {
    MemoryPlan p = lean;
    p.sequence_length = length;
    p.eval_length = std::min(p.eval_length, length);
    if (!fits(p)) continue;
    out.push_back(with(on_lean + "max_input_length + max_output_length at most " + std::to_string(length), p));
    break;
  }
  return out;
}

void add_lengths(RowLengths& rows, const std::string& path, const TrainConfig& c, const Tokenizer& tokenizer,
                 const ExampleEncoding& encoding) {
  for (const EncodedExample& row : encode_training_file(path, c, tokenizer, encoding)) {
    rows.longest_row = std::max<int64_t>(rows.longest_row, static_cast<int64_t>(row.ids.size()));
    rows.longest_answer = std::max<int64_t>(rows.longest_answer, static_cast<int64_t>(row.ids.size()) - row.query_len);
  }
}

}  // namespace

RowLengths training_row_lengths(const TrainConfig& c) {
  namespace fs = std::filesystem;
  const fs::path model(c.model_path);
  const bool tokenizer_there = fs::is_regular_file(model / "tokenizer.json") || fs::is_regular_file(model / "tokenizer.model");
  const bool replayed = c.replay_ratio > 0 && c.replay_self_examples == 0;  // self-synthesized rows are not made yet: {} below
  if (!tokenizer_there || !fs::is_regular_file(c.data_path) || (replayed && !fs::is_regular_file(c.replay_data))) return {};
  if (c.replay_self_examples > 0) return {};  // the keys' maximum
  const auto tokenizer = load_tokenizer(c.model_path);
  const ExampleEncoding encoding = example_encoding(c, *tokenizer);  // in the chat format when the run is
  RowLengths rows;
  add_lengths(rows, c.data_path, c, *tokenizer, encoding);
  if (replayed) add_lengths(rows, c.replay_data, c, *tokenizer, encoding);
  return rows;
}

MemoryPlan memory_plan(const TrainConfig& c, const RowLengths& rows) {
  const std::string config_path = (std::filesystem::path(c.model_path) / "config.json").string();
  if (!std::filesystem::is_regular_file(config_path))
    throw_bad_input("model_path", c.model_path + " is not a Hugging Face model folder (no config.json)");
  MemoryPlan p;
  p.model = read_model_config(config_path);
  p.peft = peft_config(c);
  p.imsm = c.variant != GateVariant::None;
  p.gate_parameters = gate_parameters(c.variant, c.gate_rank, p.model.hidden_size);
  p.batch_size = c.batch_size;
  p.sequence_length = c.max_input_length + c.max_output_length;  // the longest a padded batch can be
  if (rows.longest_row > 0) p.sequence_length = std::min(p.sequence_length, rows.longest_row);
  const bool cuda = c.device.cuda;
  // auto as the loader resolves it (model/device_spec.h); CUDA matmuls then autocast to it.
  const torch::ScalarType dtype = scalar_type(c.dtype, scalar_type(auto_precision(p.model, cuda)));
  p.weight_bytes = p.activation_bytes = static_cast<int64_t>(c10::elementSize(dtype));
  p.optimizer = c.optimizer;
  p.checkpointing = checkpoints_layers(c.gradient_checkpointing, cuda);
  p.loss_chunk = loss_chunk_of(c);  // as run_train resolves it
  p.scored_per_row = c.max_output_length;  // the answer and its EOS: encode_example truncates to it
  if (rows.longest_answer > 0) p.scored_per_row = std::min(p.scored_per_row, rows.longest_answer);
  if (!c.test_data_path.empty() || !c.eval_suite.empty()) {
    p.eval_batch_size = c.batch_size;
    p.eval_length = c.max_input_length + c.max_output_length;  // held-out rows: not measured here
  }
  return p;
}

MemoryCheck check_memory(const TrainConfig& c, bool ask_free, const RowLengths& rows) {
  MemoryCheck m;
  m.plan = memory_plan(c, rows);
  m.from_data = rows.longest_row > 0;
  m.estimate = estimate_memory(m.plan);
  m.device = c.device.cuda ? DeviceSpec{true, *c.device.cuda_index()} : c.device;
  if (ask_free) m.free_bytes = free_bytes_on(c.device);
  if (!m.fits()) m.fixes = fixes(m.plan, c, m.free_bytes);
  return m;
}

std::string memory_report(const MemoryCheck& m) {
  std::ostringstream out;
  out << "memory estimate of the run on " << m.device.text() << " (batch " << m.plan.batch_size << " x " << m.plan.sequence_length << " tokens"
      << (m.from_data ? " (the data's longest row)" : "") << ", "
      << (m.plan.weight_bytes == 2 ? "16-bit" : "fp32") << " weights" << (m.plan.checkpointing ? ", activation checkpointing" : "")
      << (m.plan.loss_chunk > 0 ? ", loss in chunks of " + std::to_string(m.plan.loss_chunk) : "") << "):\n"
      << format_estimate(m.estimate);
  if (m.free_bytes < 0) return out.str() + "  free memory on " + m.device.text() + ": unknown\n";
  char line[96];
  std::snprintf(line, sizeof(line), "  %-16s %12s  on %s now\n", "free", format_bytes(m.free_bytes).c_str(), m.device.text().c_str());
  out << line;
  if (m.fits()) {
    out << "fits: the peak, " << format_bytes(m.estimate.peak_bytes()) << ", is under the free memory\n";
  } else {
    out << "does not fit: " << format_bytes(m.estimate.peak_bytes()) << " needed, " << format_bytes(m.free_bytes) << " free\n";
    for (const std::string& f : m.fixes) out << "  to fit, " << f << "\n";
    if (m.fixes.empty()) out << "  no change of batch, length, checkpointing or loss chunks fits: a smaller model or a larger device\n";
  }
  return out.str();
}

std::string memory_refusal(const MemoryCheck& m) {
  std::string line = "the run needs about " + format_bytes(m.estimate.peak_bytes()) + " on " + m.device.text() + " and " + format_bytes(m.free_bytes) +
                     " are free (imsm train --dry-run shows the parts)";
  line += m.fixes.empty() ? "; no change of batch, length, checkpointing or loss chunks fits" : "; to fit, " + m.fixes.front();
  for (size_t i = 1; i < m.fixes.size(); ++i) line += ", or " + m.fixes[i];
  return line + "; memory_check false starts it anyway";
}

}  // namespace imsm
