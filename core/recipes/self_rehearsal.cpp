#include "recipes/self_rehearsal.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>

#include "io/json_file.h"
#include "model/generate.h"
#include "model/llama.h"
#include "recipes/loaded_model.h"
#include "tokenizer/tokenizer.h"
#include "train/memory_cache.h"
#include "util/error.h"
#include "util/hash64.h"
#include "util/log.h"

namespace imsm {

namespace {

// A marker no template writes of its own, to find where the user's message goes.
const char* kMessageMarker = "\x1fimsm-user-message\x1f";

bool is_stop(int32_t id, const std::vector<int32_t>& stops) { return std::find(stops.begin(), stops.end(), id) != stops.end(); }

bool blank(const std::string& text) { return text.find_first_not_of(" \t\r\n") == std::string::npos; }

// One draw of `rows` prompts from the user turn's opening; each kept when it
// ended at a stop (or, without a template, whatever it wrote), not blank and
// new. The stop is not part of the kept ids.
void draw_prompts(const LlamaModel& model, const Tokenizer& tokenizer, const ChatFormat& format, const std::vector<int32_t>& opening,
                  const std::vector<int32_t>& stops, const RehearsalOptions& o, uint64_t seed, std::set<std::string>& seen,
                  std::vector<RehearsalRecord>& out) {
  GenerateOptions options;
  options.max_new_tokens = o.max_prompt_tokens;
  options.eos_ids = stops;
  options.sampling.temperature = o.temperature;
  options.sampling.top_p = o.top_p;
  options.sampling.seed = seed;  // row r: seed + r
  const std::vector<std::vector<int32_t>> prompts(static_cast<size_t>(o.batch_size), opening);
  const GenerateOutput g = generate(model, prompts, options);
  for (const std::vector<int32_t>& ids : g.tokens) {
    if (static_cast<int64_t>(out.size()) >= o.examples) return;
    const bool ended = !ids.empty() && is_stop(ids.back(), stops);
    if (!ended && format.on()) continue;  // a question cut short is not a question
    RehearsalRecord r;
    r.prompt_ids.assign(ids.begin(), ended ? ids.end() - 1 : ids.end());
    r.input = tokenizer.decode(r.prompt_ids, true);
    if (blank(r.input) || !seen.insert(r.input).second) continue;
    out.push_back(std::move(r));
  }
}

// The greedy answers to records [begin, end), as evaluation prompts them.
void answer_prompts(const LlamaModel& model, const Tokenizer& tokenizer, const ChatFormat& format, const std::vector<int32_t>& stops,
                    const RehearsalOptions& o, std::vector<RehearsalRecord>& records, size_t begin, size_t end) {
  std::vector<std::vector<int32_t>> prompts;
  for (size_t i = begin; i < end; ++i) prompts.push_back(encode_prompt(format, tokenizer, records[i].input, o.max_input_length));
  GenerateOptions options;  // greedy
  options.max_new_tokens = o.max_answer_tokens;
  options.eos_ids = stops;
  const GenerateOutput g = generate(model, prompts, options);
  for (size_t i = begin; i < end; ++i) {
    RehearsalRecord& r = records[i];
    r.answer_ids = g.tokens[i - begin];
    std::vector<int32_t> text_ids = r.answer_ids;
    if (!text_ids.empty() && is_stop(text_ids.back(), stops)) text_ids.pop_back();
    r.output = tokenizer.decode(text_ids, true);
  }
}

}  // namespace

std::vector<int32_t> user_turn_opening(const ChatFormat& format, const Tokenizer& tokenizer) {
  if (!format.on()) return tokenizer.encode("", true);
  const std::string text = render_messages(format, {{"user", kMessageMarker}}, false);
  const size_t at = text.find(kMessageMarker);
  if (at == std::string::npos)
    throw_bad_input(format.where, "the chat template does not write a user's message as given: no turn to sample prompts from");
  return tokenizer.encode(text.substr(0, at), false);  // the template wrote the special tokens
}

std::vector<RehearsalRecord> synthesize_rehearsal(const LlamaModel& model, const Tokenizer& tokenizer, const ChatFormat& format,
                                                  const std::vector<int32_t>& stops, const RehearsalOptions& o, const Hooks& hooks) {
  if (o.examples <= 0 || o.batch_size <= 0 || o.max_prompt_tokens <= 0 || o.max_answer_tokens <= 0)
    throw_bad_input("self-synthesized rehearsal", "examples, batch size and token limits must be positive");
  if (stops.empty()) throw_bad_input("tokenizer", "no end-of-sequence token: a sampled prompt could not end");
  const std::vector<int32_t> opening = user_turn_opening(format, tokenizer);
  std::vector<RehearsalRecord> records;
  std::set<std::string> seen;
  const int64_t max_draws = (8 * o.examples + o.batch_size - 1) / o.batch_size;
  for (int64_t draw = 0; draw < max_draws && static_cast<int64_t>(records.size()) < o.examples; ++draw) {
    hooks.check_abort("self-synthesized rehearsal cancelled");
    draw_prompts(model, tokenizer, format, opening, stops, o, o.seed + static_cast<uint64_t>(draw * o.batch_size), seen, records);
    hooks.progress({"synthesizing prompts", static_cast<int64_t>(records.size()), o.examples});
  }
  if (static_cast<int64_t>(records.size()) < o.examples)
    throw_bad_input("self-synthesized rehearsal",
                    "only " + std::to_string(records.size()) + " of " + std::to_string(o.examples) + " sampled prompts ended within " +
                        std::to_string(o.max_prompt_tokens) + " tokens and were distinct; ask for fewer examples");
  for (size_t begin = 0; begin < records.size(); begin += static_cast<size_t>(o.batch_size)) {
    hooks.check_abort("self-synthesized rehearsal cancelled");
    const size_t end = std::min(records.size(), begin + static_cast<size_t>(o.batch_size));
    answer_prompts(model, tokenizer, format, stops, o, records, begin, end);
    hooks.progress({"synthesizing answers", static_cast<int64_t>(end), static_cast<int64_t>(records.size())});
  }
  return records;
}

std::string self_rehearsal_for_run(const TrainConfig& c, const LlamaModel& model, const Tokenizer& tokenizer, const ChatFormat& format,
                                   const std::vector<int32_t>& stops, bool writer, const Hooks& hooks) {
  RehearsalOptions o;
  o.examples = c.replay_self_examples;
  o.max_answer_tokens = c.max_output_length;
  o.max_input_length = c.max_input_length;
  o.seed = c.seed;
  Hash64 key;
  key.add(model_fingerprint(model));
  key.add(format.chat_template);
  key.add(std::to_string(o.examples) + "/" + std::to_string(o.max_prompt_tokens) + "/" + std::to_string(o.max_answer_tokens) + "/" +
          std::to_string(o.max_input_length) + "/" + std::to_string(o.temperature) + "/" + std::to_string(o.top_p) + "/" +
          std::to_string(o.seed));
  const std::filesystem::path path = std::filesystem::absolute(c.output_dir).parent_path() / ".imsm-cache" / ("self-rehearsal-" + key.hex() + ".jsonl");
  if (std::filesystem::exists(path)) {
    if (writer) log::info("self-synthesized rehearsal: " + std::to_string(o.examples) + " records read from " + path.string());
    return path.string();
  }
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<RehearsalRecord> records = synthesize_rehearsal(model, tokenizer, format, stops, o, hooks);
  std::filesystem::create_directories(path.parent_path());
  write_rehearsal(path.string(), records);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (writer)
    log::info("self-synthesized rehearsal: " + std::to_string(records.size()) + " prompts sampled from the model and answered by it in " +
              std::to_string(static_cast<int64_t>(seconds)) + " s, written to " + path.string());
  return path.string();
}

int64_t make_rehearsal(const RehearsalRequest& r, const Hooks& hooks) {
  if (r.out.empty()) throw_bad_input("--out", "give the file to write");
  if (!r.source.adapter_dir.empty()) throw_bad_input("--adapter", "the rehearsal set is the base model's own: give no adapter");
  const auto loaded = load_model(r.source);
  const ChatFormat format = resolve_chat_format(r.chat_template, r.source.model_dir, "--chat-template");
  const std::vector<int32_t> stops = stop_ids(loaded->model->config(), loaded->tokenizer->eos_ids());
  const std::vector<RehearsalRecord> records = synthesize_rehearsal(*loaded->model, *loaded->tokenizer, format, stops, r.options, hooks);
  write_rehearsal(r.out, records);
  return static_cast<int64_t>(records.size());
}

void write_rehearsal(const std::string& path, const std::vector<RehearsalRecord>& records) {
  std::string text;
  for (const RehearsalRecord& r : records)
    text += nlohmann::json{{"input", r.input}, {"output", r.output}, {"prompt_ids", r.prompt_ids}, {"answer_ids", r.answer_ids}}.dump(
                -1, ' ', false, nlohmann::json::error_handler_t::replace) +
            "\n";
  json::write_text_atomically(path, text);
}

}  // namespace imsm
