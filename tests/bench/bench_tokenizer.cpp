// Benchmark (not a test): the engine's tokenizer against Hugging Face's Rust
// library (the Python `tokenizers` package of the project's environment) on
// the same tokenizer.json files and the same corpus: MB/s single-threaded and
// batched over texts with threads, their ratio, and whether every id agrees
// (a fold of all ids in order, and their count).
//
//   build/bin/bench_tokenizer [--corpus DIR] [--tokenizers DIR] [--threads N] [--repeats 2] [--python PATH]
//
// The corpus: every string of every JSON line under DIR (default the paper's
// public test splits, ../shared/data/imsm-official), one text each.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_args.h"
#include "tokenizer/tokenizer.h"

namespace fs = std::filesystem;
using imsm::bench::arg;
using imsm::bench::sarg;

namespace {

void strings_of(const nlohmann::json& j, std::vector<std::string>& out) {
  if (j.is_string() && !j.get<std::string>().empty()) out.push_back(j.get<std::string>());
  if (j.is_structured())
    for (const auto& v : j) strings_of(v, out);
}

std::vector<std::string> read_corpus(const std::string& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && (e.path().extension() == ".json" || e.path().extension() == ".jsonl")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> texts;
  for (const auto& f : files) {
    std::ifstream in(f);
    for (std::string line; std::getline(in, line);) strings_of(nlohmann::json::parse(line, nullptr, false), texts);
  }
  return texts;
}

uint64_t fold(const std::vector<std::vector<int32_t>>& ids, int64_t& count) {
  uint64_t h = 0;
  count = 0;
  for (const auto& row : ids) {
    for (const int32_t i : row) h = h * 1000003ULL + static_cast<uint64_t>(i) + 1;
    count += static_cast<int64_t>(row.size());
  }
  return h;
}

struct Measured {
  double single = 0, batched = 0;  // MB/s
  int64_t ids = 0;
  uint64_t checksum = 0;
};

Measured engine(const imsm::Tokenizer& tok, const std::vector<std::string>& texts, double megabytes, int threads, int repeats) {
  Measured m;
  std::vector<std::vector<int32_t>> ids(texts.size());
  for (int r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < texts.size(); ++i) ids[i] = tok.encode(texts[i]);
    m.single = std::max(m.single, megabytes / imsm::bench::seconds_since(t0));
    t0 = std::chrono::steady_clock::now();
    std::atomic<size_t> next{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&] {
        for (size_t i = next++; i < texts.size(); i = next++) ids[i] = tok.encode(texts[i]);
      });
    for (auto& t : pool) t.join();
    m.batched = std::max(m.batched, megabytes / imsm::bench::seconds_since(t0));
  }
  m.checksum = fold(ids, m.ids);
  return m;
}

Measured reference(const std::string& python, const std::string& corpus, const std::string& tokenizer, int threads, int repeats) {
  const std::string script = std::string(IMSM_SOURCE_DIR) + "/tests/bench/tokenizer_throughput.py";
  const std::string command = "'" + python + "' '" + script + "' '" + corpus + "' '" + tokenizer + "' " + std::to_string(threads) + " " +
                              std::to_string(repeats);
  Measured m;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return m;
  unsigned long long checksum = 0;
  long long ids = 0;
  if (std::fscanf(p, "%lf %lf %lld %llu", &m.single, &m.batched, &ids, &checksum) != 4) m = {};
  m.ids = ids;
  m.checksum = checksum;
  ::pclose(p);
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string corpus_dir = sarg(argc, argv, "--corpus", IMSM_SHARED_DATA "/imsm-official");
  const std::string tokenizers = sarg(argc, argv, "--tokenizers", IMSM_SHARED_DATA "/tokenizers");
  const int threads = static_cast<int>(arg(argc, argv, "--threads", std::max(1u, std::thread::hardware_concurrency())));
  const int repeats = static_cast<int>(arg(argc, argv, "--repeats", 2));
  const std::string python = sarg(argc, argv, "--python", IMSM_PYTHON);

  const auto texts = read_corpus(corpus_dir);
  double bytes = 0;
  for (const auto& t : texts) bytes += static_cast<double>(t.size());
  const std::string corpus = (fs::temp_directory_path() / ("bench-tokenizer-" + std::to_string(::getpid()) + ".jsonl")).string();
  {
    std::ofstream out(corpus);
    for (const auto& t : texts) out << nlohmann::json{{"text", t}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  std::printf("| tokenizer (%zu texts, %.2f MB, %d threads batched) | engine single | Rust single | ratio | engine batched | Rust batched | "
              "ratio | ids identical |\n|---|---|---|---|---|---|---|---|\n",
              texts.size(), bytes / 1e6, threads);
  for (const std::string name : {"llama3", "qwen3", "llama2"}) {
    const std::string path = tokenizers + "/" + name + "/tokenizer.json";
    if (!fs::exists(path)) continue;
    const auto tok = imsm::load_tokenizer(path);
    const Measured e = engine(*tok, texts, bytes / 1e6, threads, repeats);
    const Measured r = reference(python, corpus, path, threads, repeats);
    std::printf("| %s | %.2f MB/s | %.2f MB/s | %.2fx | %.2f MB/s | %.2f MB/s | %.2fx | %s (%lld ids) |\n", name.c_str(), e.single,
                r.single, r.single > 0 ? e.single / r.single : 0.0, e.batched, r.batched, r.batched > 0 ? e.batched / r.batched : 0.0,
                r.ids == 0 ? "no reference" : e.checksum == r.checksum && e.ids == r.ids ? "yes" : "NO",
                static_cast<long long>(e.ids));
    std::fflush(stdout);
  }
  fs::remove(corpus);
  return 0;
}
