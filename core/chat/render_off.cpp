// render_chat (chat_template.h) in a build without llama.cpp (-DIMSM_WITH_GGUF=OFF).
#include "chat/chat_template.h"
#include "util/error.h"

namespace imsm {

std::string render_chat(const std::string&, const std::vector<ChatMessage>&, bool, const std::string&, const std::string&,
                        const std::string& where) {
  throw_bad_input(where, "this build has no chat templates (llama.cpp's Jinja engine; configured with -DIMSM_WITH_GGUF=OFF): "
                         "run installer/setup-llama-cpp.sh and build again");
}

}  // namespace imsm
