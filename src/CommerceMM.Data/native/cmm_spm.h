// C ABI over libsentencepiece (whose own API is C++), for P/Invoke from CommerceMM.Data.
//
// Ownership rules:
//  * cmm_spm_load returns a processor handle owned by the caller; release it with cmm_spm_free.
//    A null handle means failure: read cmm_spm_last_error.
//  * Buffers passed in are borrowed. Strings returned (cmm_spm_decode, cmm_spm_last_error) are
//    malloc'd and transferred to the caller, who frees them with cmm_spm_free_string.
//  * Error text is thread-local; cmm_spm_last_error hands it over and clears it.
//  * A loaded processor is read-only, so one handle may be used from several threads at once.
#pragma once

#include <cstdint>

#define CMM_SPM_EXPORT extern "C" __attribute__((visibility("default")))

typedef struct cmm_spm_processor cmm_spm_processor;

CMM_SPM_EXPORT char* cmm_spm_last_error();
CMM_SPM_EXPORT void cmm_spm_free_string(char* text);

CMM_SPM_EXPORT cmm_spm_processor* cmm_spm_load(const char* path_utf8);
CMM_SPM_EXPORT void cmm_spm_free(cmm_spm_processor* processor);

// Encodes text (UTF-8, length bytes, need not be NUL-terminated) into ids. Writes at most capacity
// ids and returns the full count (which may exceed capacity: call again with a larger buffer), or
// -1 on error.
CMM_SPM_EXPORT int32_t cmm_spm_encode(cmm_spm_processor* processor, const char* text, int32_t length,
                                      int32_t* ids, int32_t capacity);

// Decodes ids into a new UTF-8 string (null on error).
CMM_SPM_EXPORT char* cmm_spm_decode(cmm_spm_processor* processor, const int32_t* ids, int32_t count);

// Vocabulary queries; -1 on error. piece_to_id returns the unknown id for a piece not in the vocabulary.
CMM_SPM_EXPORT int32_t cmm_spm_vocab_size(cmm_spm_processor* processor);
CMM_SPM_EXPORT int32_t cmm_spm_piece_to_id(cmm_spm_processor* processor, const char* piece_utf8);
// which: 0 unk, 1 bos, 2 eos, 3 pad. A disabled special piece is -1 in sentencepiece itself.
CMM_SPM_EXPORT int32_t cmm_spm_special_id(cmm_spm_processor* processor, int32_t which);
