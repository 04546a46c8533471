// Built as the module libimsm_spm.so: the only code that links libsentencepiece.
#include "tokenizer/spm_shim.h"

#include <sentencepiece_processor.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {
char* copy_out(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out) std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}
sentencepiece::SentencePieceProcessor* sp(void* h) { return static_cast<sentencepiece::SentencePieceProcessor*>(h); }
}  // namespace

extern "C" {

void* imsm_spm_load(const char* path, char* error, size_t error_size) {
  auto* p = new sentencepiece::SentencePieceProcessor();
  const auto status = p->Load(path);
  if (!status.ok()) {
    std::snprintf(error, error_size, "%s", status.ToString().c_str());
    delete p;
    return nullptr;
  }
  return p;
}

void imsm_spm_free(void* handle) { delete sp(handle); }

long imsm_spm_encode(void* handle, const char* text, size_t size, int** ids) {
  std::vector<int> pieces;
  if (!sp(handle)->Encode(std::string(text, size), &pieces).ok()) return -1;
  *ids = static_cast<int*>(std::malloc(sizeof(int) * (pieces.empty() ? 1 : pieces.size())));
  if (*ids == nullptr) return -1;
  std::memcpy(*ids, pieces.data(), sizeof(int) * pieces.size());
  return static_cast<long>(pieces.size());
}

char* imsm_spm_decode(void* handle, const int* ids, size_t count) {
  std::string text;
  sp(handle)->Decode(std::vector<int>(ids, ids + count), &text).IgnoreError();
  return copy_out(text);
}

char* imsm_spm_id_to_piece(void* handle, int id) {
  if (id < 0 || id >= sp(handle)->GetPieceSize()) return nullptr;
  return copy_out(sp(handle)->IdToPiece(id));
}

int imsm_spm_piece_to_id(void* handle, const char* piece) {
  const int id = sp(handle)->PieceToId(piece);
  return id == sp(handle)->unk_id() && sp(handle)->IdToPiece(id) != piece ? -1 : id;
}

int imsm_spm_piece_size(void* handle) { return sp(handle)->GetPieceSize(); }

int imsm_spm_special_id(void* handle, int which) {
  switch (which) {
    case 0: return sp(handle)->bos_id();
    case 1: return sp(handle)->eos_id();
    case 2: return sp(handle)->unk_id();
    default: return sp(handle)->pad_id();
  }
}

int imsm_spm_is_control(void* handle, int id) { return sp(handle)->IsControl(id) || sp(handle)->IsUnknown(id); }

void imsm_spm_free_buffer(void* buffer) { std::free(buffer); }
}
