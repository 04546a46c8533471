// The frozen-memory cache: IMSM's original stream has no adapters, no dropout
// and no gradient, so its last hidden state h_M for a training example is the
// same in every epoch, and in every run over the same base model and data (a
// seed matrix, a sweep). The first pass over an example stores its h_M; later
// passes read it instead of running the original stream.
//
// Each row is keyed by its token ids (kept with it and compared on every hit:
// a changed tokenization or length is a miss, never a stale row); the cache as
// a whole by the fingerprint of the base model (model_fingerprint: every byte
// of its weights, its configuration, dtype and device kind). Rows stay in
// memory up to a budget; with a file, every row is also written there
// (appended, read back with pread) so that a later run over the same base and
// data starts warm. The file's header holds the fingerprint: another model's
// file is never read. Rows are stored in `dtype` (fp32: exact; bf16/fp16: half
// the bytes, h_M rounded).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "imsm/siamese.h"
#include "model/llama.h"

namespace imsm {

// What the cache's rows were computed by: a hash of every weight's name, shape,
// dtype and bytes, the model's configuration, and the device kind (cpu, cuda).
std::string model_fingerprint(const LlamaModel& model);

struct MemoryCacheOptions {
  torch::ScalarType dtype = torch::kFloat32;  // how rows are stored
  int64_t memory_bytes = int64_t(2) << 30;    // rows kept in memory up to this many bytes
  std::string file;                           // "": memory only; else every row also here (made when missing)
  int64_t keep_free_bytes = int64_t(4) << 30; // the file stops growing before its disk has less free than this
};

struct MemoryCacheStats {
  int64_t hits = 0, misses = 0;        // rows read, rows computed
  int64_t memory_bytes = 0;            // rows held in memory
  int64_t file_rows = 0, file_bytes = 0;
  std::string file_note;               // why the file is not used, when it is not ("": it is, or none was asked)
};

// "frozen memory: 1,200 rows read, 400 computed (12.3 MiB in memory, FILE 15.1 MiB)" and the file's note.
std::string describe(const MemoryCacheStats& stats);

class FrozenMemoryCache {
 public:
  // `fingerprint`: model_fingerprint of the model whose memory this caches.
  // Opens (or makes) options.file; a file that cannot be used (locked by
  // another run, another fingerprint, unwritable) leaves the cache in memory
  // only, saying why in stats().file_note.
  FrozenMemoryCache(std::string fingerprint, int64_t hidden_size, MemoryCacheOptions options);
  ~FrozenMemoryCache();
  FrozenMemoryCache(const FrozenMemoryCache&) = delete;
  FrozenMemoryCache& operator=(const FrozenMemoryCache&) = delete;

  // h_M of the batch [B, T, d] on the model's device: rows found are read, the
  // others computed by original_memory (those rows alone, in one batch) and
  // stored. Padding positions are zero (no loss reads them).
  torch::Tensor original_memory(const LlamaModel& model, const SiameseBatch& batch);
  const MemoryCacheStats& stats() const { return stats_; }

 private:
  struct Row {
    std::vector<int64_t> ids;  // the row's tokens: compared on every hit
    torch::Tensor memory;      // [L, d] in memory (CPU), or undefined
    int64_t file_offset = -1;  // of the row's h_M in the file, or -1
  };
  const Row* find(const std::vector<int64_t>& ids, uint64_t key) const;
  torch::Tensor read(const Row& row) const;  // [L, d] CPU, stored dtype
  void store(std::vector<int64_t> ids, uint64_t key, const torch::Tensor& memory);  // memory: [L, d]
  void open_file();
  void scan_file(int64_t data_start);

  std::string fingerprint_;
  int64_t hidden_size_;
  MemoryCacheOptions options_;
  std::unordered_map<uint64_t, std::vector<Row>> rows_;  // hash of the ids -> rows with that hash
  int fd_ = -1;
  MemoryCacheStats stats_;
};

}  // namespace imsm
