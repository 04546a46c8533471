// The C interface of the SentencePiece shim module (libimsm_spm.so).
//
// Why a shim: Debian's libsentencepiece carries its own copy of protobuf-lite
// and exports it; LibTorch links the system libprotobuf. Loaded together into
// one process, the two collide at start-up (a crash in protobuf's static
// initialisers). The shim is dlopen'ed with RTLD_LOCAL | RTLD_DEEPBIND only
// when a tokenizer.model is opened, so each library keeps its own protobuf.
#pragma once
#include <cstddef>

extern "C" {
void* imsm_spm_load(const char* path, char* error, size_t error_size);  // null on failure
void imsm_spm_free(void* handle);
// Ids into *ids (malloc'ed; free with imsm_spm_free_buffer); returns the count or -1.
long imsm_spm_encode(void* handle, const char* text, size_t size, int** ids);
// Text (malloc'ed, NUL-terminated; free with imsm_spm_free_buffer).
char* imsm_spm_decode(void* handle, const int* ids, size_t count);
// The piece of `id` (malloc'ed) or null.
char* imsm_spm_id_to_piece(void* handle, int id);
int imsm_spm_piece_to_id(void* handle, const char* piece);
int imsm_spm_piece_size(void* handle);
int imsm_spm_special_id(void* handle, int which);  // 0 bos, 1 eos, 2 unk, 3 pad
int imsm_spm_is_control(void* handle, int id);     // control or unknown
void imsm_spm_free_buffer(void* buffer);
}
