#include "train/memory_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "util/error.h"
#include "util/hash64.h"

namespace imsm {

namespace {

constexpr char kMagic[8] = {'I', 'M', 'S', 'M', 'M', 'E', 'M', '1'};
constexpr int64_t kMaxRowTokens = int64_t(1) << 24;  // a record claiming more is damage

bool write_all(int fd, const void* data, size_t bytes, int64_t offset) {
  const auto* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::pwrite(fd, p, bytes, offset);
    if (n <= 0) return false;
    p += n;
    bytes -= static_cast<size_t>(n);
    offset += n;
  }
  return true;
}

bool read_all(int fd, void* data, size_t bytes, int64_t offset) {
  auto* p = static_cast<char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::pread(fd, p, bytes, offset);
    if (n <= 0) return false;
    p += n;
    bytes -= static_cast<size_t>(n);
    offset += n;
  }
  return true;
}

int64_t file_size(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

uint64_t ids_key(const std::vector<int64_t>& ids) { return hash64(ids.data(), ids.size() * sizeof(int64_t)); }

// The file's header: magic, the fingerprint, d and the stored dtype.
std::string header_bytes(const std::string& fingerprint, int64_t hidden, torch::ScalarType dtype) {
  std::string h(kMagic, sizeof kMagic);
  const auto add = [&](int64_t v) { h.append(reinterpret_cast<const char*>(&v), sizeof v); };
  add(static_cast<int64_t>(fingerprint.size()));
  h += fingerprint;
  add(hidden);
  add(static_cast<int64_t>(dtype));
  return h;
}

}  // namespace

std::string model_fingerprint(const LlamaModel& model) {
  Hash64 weights;
  for (const auto& [name, t] : model.named_weights()) {
    const torch::Tensor bytes = t.detach().to(torch::kCPU).contiguous();
    weights.add(name);
    for (const int64_t size : t.sizes()) weights.add_size(static_cast<uint64_t>(size));
    weights.add_size(static_cast<uint64_t>(t.scalar_type()));
    weights.add(bytes.data_ptr(), static_cast<size_t>(bytes.nbytes()));
  }
  Hash64 config;
  config.add(model.config().to_json().dump());
  return "weights " + weights.hex() + ", config " + config.hex() + ", dtype " +
         std::string(c10::toString(model.dtype())) + ", device " + c10::DeviceTypeName(model.device().type(), true);
}

std::string describe(const MemoryCacheStats& s) {
  const auto mib = [](int64_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
    return std::string(text);
  };
  std::string line = "frozen memory: " + std::to_string(s.hits) + " rows read, " + std::to_string(s.misses) + " computed (" +
                     mib(s.memory_bytes) + " in memory";
  if (s.file_rows > 0) line += ", " + std::to_string(s.file_rows) + " rows in the file, " + mib(s.file_bytes);
  line += ")";
  if (!s.file_note.empty()) line += "; " + s.file_note;
  return line;
}

FrozenMemoryCache::FrozenMemoryCache(std::string fingerprint, int64_t hidden_size, MemoryCacheOptions options)
    : fingerprint_(std::move(fingerprint)), hidden_size_(hidden_size), options_(std::move(options)) {
  if (!options_.file.empty()) open_file();
}

FrozenMemoryCache::~FrozenMemoryCache() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

void FrozenMemoryCache::open_file() {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(options_.file).parent_path(), ec);
  const int fd = ::open(options_.file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    stats_.file_note = options_.file + ": " + std::strerror(errno) + "; the cache stays in memory";
    return;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {  // another run is writing it
    ::close(fd);
    stats_.file_note = options_.file + ": in use by another run; this run's cache stays in memory";
    return;
  }
  fd_ = fd;
  const std::string header = header_bytes(fingerprint_, hidden_size_, options_.dtype);
  std::string found(header.size(), '\0');
  const bool same = file_size(fd_) >= static_cast<int64_t>(header.size()) && read_all(fd_, found.data(), found.size(), 0) && found == header;
  if (!same && (::ftruncate(fd_, 0) != 0 || !write_all(fd_, header.data(), header.size(), 0))) {  // new, or another model's: begun anew
    stats_.file_note = options_.file + ": cannot be written (" + std::strerror(errno) + "); the cache stays in memory";
    ::close(fd_);
    fd_ = -1;
    return;
  }
  scan_file(static_cast<int64_t>(header.size()));
}

// Indexes the file's records (key, L, L ids, L·d values); a torn last record (a run killed while writing) is cut off.
void FrozenMemoryCache::scan_file(int64_t data_start) {
  const int64_t size = file_size(fd_), element = static_cast<int64_t>(c10::elementSize(options_.dtype));
  int64_t pos = data_start;
  while (pos + 16 <= size) {
    int64_t head[2];  // key, L
    if (!read_all(fd_, head, sizeof head, pos)) break;
    const int64_t L = head[1];
    const int64_t record = 16 + L * 8 + L * hidden_size_ * element;
    if (L <= 0 || L > kMaxRowTokens || pos + record > size) break;
    Row row;
    row.ids.resize(static_cast<size_t>(L));
    if (!read_all(fd_, row.ids.data(), static_cast<size_t>(L) * 8, pos + 16)) break;
    row.file_offset = pos + 16 + L * 8;
    rows_[static_cast<uint64_t>(head[0])].push_back(std::move(row));
    ++stats_.file_rows;
    pos += record;
  }
  if (pos < size && ::ftruncate(fd_, pos) != 0) stats_.file_note = options_.file + ": a torn record could not be cut off";
  stats_.file_bytes = pos;
}

const FrozenMemoryCache::Row* FrozenMemoryCache::find(const std::vector<int64_t>& ids, uint64_t key) const {
  const auto it = rows_.find(key);
  if (it == rows_.end()) return nullptr;
  for (const Row& row : it->second)
    if (row.ids == ids) return &row;
  return nullptr;
}

torch::Tensor FrozenMemoryCache::read(const Row& row) const {
  if (row.memory.defined()) return row.memory;  // [L, d]
  const auto L = static_cast<int64_t>(row.ids.size());
  torch::Tensor memory = torch::empty({L, hidden_size_}, torch::TensorOptions().dtype(options_.dtype));  // [L, d]
  if (!read_all(fd_, memory.data_ptr(), static_cast<size_t>(memory.nbytes()), row.file_offset))
    throw_internal(options_.file + ": cannot read a cached row (" + std::strerror(errno) + "); delete the file to start the cache anew");
  return memory;
}

void FrozenMemoryCache::store(std::vector<int64_t> ids, uint64_t key, const torch::Tensor& memory) {
  Row row;
  row.ids = std::move(ids);
  const int64_t bytes = static_cast<int64_t>(memory.nbytes());
  if (stats_.memory_bytes + bytes <= options_.memory_bytes) {
    row.memory = memory;
    stats_.memory_bytes += bytes;
  }
  if (fd_ >= 0 && stats_.file_note.empty()) {
    std::error_code ec;
    const auto space = std::filesystem::space(options_.file, ec);
    const int64_t L = static_cast<int64_t>(row.ids.size()), record = 16 + L * 8 + bytes;
    const int64_t head[2] = {static_cast<int64_t>(key), L};
    if (!ec && static_cast<int64_t>(space.available) < record + options_.keep_free_bytes) {
      stats_.file_note = options_.file + ": the disk is nearly full; no more rows are written (those written are read)";
    } else if (!write_all(fd_, head, sizeof head, stats_.file_bytes) ||
               !write_all(fd_, row.ids.data(), row.ids.size() * 8, stats_.file_bytes + 16) ||
               !write_all(fd_, memory.data_ptr(), static_cast<size_t>(bytes), stats_.file_bytes + 16 + L * 8)) {
      stats_.file_note = options_.file + ": " + std::strerror(errno) + "; no more rows are written (those written are read)";
      (void)!::ftruncate(fd_, stats_.file_bytes);  // failing that, the next open cuts the torn record off
    } else {
      row.file_offset = stats_.file_bytes + 16 + L * 8;
      stats_.file_bytes += record;
      ++stats_.file_rows;
    }
  }
  if (row.memory.defined() || row.file_offset >= 0) rows_[key].push_back(std::move(row));
}

torch::Tensor FrozenMemoryCache::original_memory(const LlamaModel& model, const SiameseBatch& batch) {
  const torch::Tensor ids = batch.input_ids.to(torch::kCPU).contiguous();  // [B, T]
  const int64_t B = ids.size(0), T = ids.size(1);
  const torch::Tensor lengths = batch.attention_mask.defined() ? batch.attention_mask.to(torch::kCPU).to(torch::kInt64).sum(1)
                                                               : torch::full({B}, T, torch::kInt64);  // [B]
  // Each row's tokens, and whether it was found.
  std::vector<std::vector<int64_t>> row_ids(static_cast<size_t>(B));
  std::vector<uint64_t> keys(static_cast<size_t>(B));
  std::vector<const Row*> found(static_cast<size_t>(B), nullptr);
  std::vector<int64_t> missing;
  int64_t longest_missing = 0;
  for (int64_t b = 0; b < B; ++b) {
    const int64_t L = lengths[b].item<int64_t>();
    const int64_t* row = ids.data_ptr<int64_t>() + b * T;
    auto& tokens = row_ids[static_cast<size_t>(b)];
    tokens.assign(row, row + L);
    keys[static_cast<size_t>(b)] = ids_key(tokens);
    found[static_cast<size_t>(b)] = find(tokens, keys[static_cast<size_t>(b)]);
    if (!found[static_cast<size_t>(b)]) {
      missing.push_back(b);
      longest_missing = std::max(longest_missing, L);
    }
  }
  stats_.hits += B - static_cast<int64_t>(missing.size());
  stats_.misses += static_cast<int64_t>(missing.size());

  const auto device = model.device();
  torch::Tensor out = torch::zeros({B, T, hidden_size_}, torch::TensorOptions().dtype(model.dtype()).device(device));  // [B, T, d]
  if (!missing.empty()) {  // the rows not found, in one batch cut to the longest of them
    SiameseBatch sub;
    const torch::Tensor rows = torch::tensor(missing, torch::kInt64).to(batch.input_ids.device());  // [m]
    sub.input_ids = batch.input_ids.index_select(0, rows).narrow(1, 0, longest_missing);           // [m, L_max]
    if (batch.attention_mask.defined()) sub.attention_mask = batch.attention_mask.index_select(0, rows).narrow(1, 0, longest_missing);
    const torch::Tensor computed = imsm::original_memory(model, sub);  // [m, L_max, d]
    for (size_t i = 0; i < missing.size(); ++i) {
      const auto b = static_cast<size_t>(missing[i]);
      const auto L = static_cast<int64_t>(row_ids[b].size());
      const torch::Tensor memory = computed[static_cast<int64_t>(i)].narrow(0, 0, L);  // [L, d]
      out[static_cast<int64_t>(b)].narrow(0, 0, L).copy_(memory);
      store(std::move(row_ids[b]), keys[b], memory.to(torch::kCPU, options_.dtype, false, /*copy=*/true).contiguous());
    }
  }
  for (int64_t b = 0; b < B; ++b) {
    const Row* row = found[static_cast<size_t>(b)];
    if (row) out[b].narrow(0, 0, static_cast<int64_t>(row->ids.size())).copy_(read(*row));  // [L, d]
  }
  return out;  // [B, T, d]
}

}  // namespace imsm
