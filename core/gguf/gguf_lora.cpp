#include "gguf/gguf_lora.h"

#include <ggml.h>

#include <cstring>
#include <set>
#include <vector>

#include "gguf/gguf_export.h"
#include "gguf/gguf_model.h"
#include "gguf/gguf_write.h"
#include "io/safetensors.h"
#include "model/layout.h"
#include "util/error.h"
#include "util/half.h"

namespace imsm {
namespace {

struct Pair {
  std::string hf_name;                     // the adapted weight: "model.layers.0.self_attn.q_proj.weight"
  const TensorView* a = nullptr;           // [r, in]
  const TensorView* b = nullptr;           // [out, r]
};

std::vector<float> to_floats(const TensorView& t, const std::string& where) {
  std::vector<float> out(static_cast<size_t>(t.numel()));
  if (t.dtype == DType::F32) {
    std::memcpy(out.data(), t.data, out.size() * sizeof(float));
  } else if (t.dtype == DType::F16 || t.dtype == DType::BF16) {
    for (size_t i = 0; i < out.size(); ++i) {
      uint16_t bits;
      std::memcpy(&bits, t.data + 2 * i, 2);
      if (t.dtype == DType::F16) {
        out[i] = half_to_float(bits);
      } else {
        const uint32_t wide = static_cast<uint32_t>(bits) << 16;
        std::memcpy(&out[i], &wide, 4);
      }
    }
  } else {
    throw_bad_input(where, "tensor " + t.name + " is " + dtype_name(t.dtype) + "; a LoRA's tensors are F32, F16 or BF16");
  }
  return out;
}

// PEFT's "base_model.model.<weight without .weight>.lora_A.weight" -> its pair.
std::vector<Pair> pairs_of(const SafetensorsFile& file, const ModelConfig& config) {
  std::map<std::string, std::vector<int64_t>> weights;
  for (const auto& e : expected_tensors(config)) weights.emplace(e.name, e.shape);
  std::map<std::string, Pair> pairs;
  const std::string prefix = "base_model.model.";
  for (const auto& t : file.tensors()) {
    const bool a = t.name.find(".lora_A.weight") != std::string::npos, b = t.name.find(".lora_B.weight") != std::string::npos;
    const size_t cut = t.name.rfind(a ? ".lora_A.weight" : ".lora_B.weight");
    if ((!a && !b) || t.name.compare(0, prefix.size(), prefix) != 0)
      throw_bad_input(file.path(), "holds " + t.name + ", which is no LoRA A or B matrix: only a plain LoRA goes out as a GGUF LoRA");
    const std::string hf = t.name.substr(prefix.size(), cut - prefix.size()) + ".weight";
    const auto w = weights.find(hf);
    if (w == weights.end() || w->second.size() != 2) throw_bad_input(file.path(), t.name + " adapts " + hf + ", which the model has not");
    Pair& p = pairs[hf];
    p.hf_name = hf;
    (a ? p.a : p.b) = &t;
  }
  std::vector<Pair> out;
  for (auto& [hf, p] : pairs) {
    const auto& shape = weights.at(hf);
    if (p.a == nullptr || p.b == nullptr) throw_bad_input(file.path(), hf + " has a LoRA " + (p.a ? "A" : "B") + " without its other half");
    if (p.a->shape.size() != 2 || p.b->shape.size() != 2 || p.a->shape[1] != shape[1] || p.b->shape[0] != shape[0] ||
        p.a->shape[0] != p.b->shape[1])
      throw_bad_input(file.path(), hf + "'s LoRA A " + shape_text(p.a->shape) + " and B " + shape_text(p.b->shape) + " do not fit its " +
                                       shape_text(shape));
    out.push_back(p);
  }
  if (out.empty()) throw_bad_input(file.path(), "holds no LoRA matrices");
  return out;
}

int lora_type(const GgufQuant& quant) {
  const std::string refusal = gguf_lora_quant_refusal(quant.name);
  if (!refusal.empty()) throw_bad_input("--quant", refusal);
  return quant.name == "f32" ? GGML_TYPE_F32 : quant.name == "f16" ? GGML_TYPE_F16 : GGML_TYPE_BF16;
}

}  // namespace

GgufLoraResult write_gguf_lora(const std::string& path, const std::string& adapter_safetensors, const ModelConfig& config,
                               const std::string& config_path, double alpha, const GgufQuant& quant, const Hooks& hooks) {
  const int type = lora_type(quant);
  const std::string arch = gguf_architecture_of(config, config_path);
  const SafetensorsFile file = SafetensorsFile::open(adapter_safetensors);
  const std::vector<Pair> pairs = pairs_of(file, config);
  GgufWriter w;
  w.set_text("general.architecture", arch);
  w.set_text("general.type", "adapter");
  w.set_text("adapter.type", "lora");
  w.set_f32("adapter.lora.alpha", static_cast<float>(alpha));
  GgufLoraResult result;
  for (const auto& p : pairs) {
    const std::string name = gguf_tensor_name(p.hf_name);
    w.add_tensor(name + ".lora_a", p.a->shape, type);
    w.add_tensor(name + ".lora_b", p.b->shape, type);
    result.types[ggml_type_label(type)] += 2;
  }
  result.pairs = static_cast<int64_t>(pairs.size());
  result.bytes = w.write(path, [&](size_t i) {
    const Pair& p = pairs[i / 2];
    if (i % 2 == 0) return to_floats(*p.a, adapter_safetensors);
    const int64_t heads = llama_cpp_permuted_heads(config, p.hf_name);
    std::vector<float> b = to_floats(*p.b, adapter_safetensors);
    return heads > 0 ? reorder_head_rows(b, heads, p.b->shape[0], HeadOrder::LlamaCpp) : b;
  }, hooks);
  return result;
}

}  // namespace imsm
