#include "model/tensor_io.h"

#include "util/error.h"

namespace imsm {

namespace {
torch::ScalarType torch_dtype_of(DType d) {
  switch (d) {
    case DType::F32: return torch::kFloat32;
    case DType::F16: return torch::kFloat16;
    case DType::BF16: return torch::kBFloat16;
    case DType::F64: return torch::kFloat64;
    case DType::I64: return torch::kInt64;
    case DType::I32: return torch::kInt32;
    case DType::I16: return torch::kInt16;
    case DType::I8: return torch::kInt8;
    case DType::U8: return torch::kUInt8;
    case DType::BOOL: return torch::kBool;
    default: throw_bad_input("", std::string("dtype ") + dtype_name(d) + " cannot be loaded");
  }
}
DType safetensors_dtype_of(torch::ScalarType t) {
  if (t == torch::kFloat32) return DType::F32;
  if (t == torch::kFloat16) return DType::F16;
  if (t == torch::kBFloat16) return DType::BF16;
  if (t == torch::kInt64) return DType::I64;
  if (t == torch::kInt32) return DType::I32;
  if (t == torch::kUInt8) return DType::U8;
  throw_internal(std::string("save_tensors: unsupported dtype ") + c10::toString(t));
}
}  // namespace

torch::Tensor to_tensor(const TensorView& view, std::shared_ptr<const MappedFile> mapping, torch::Device device,
                        torch::ScalarType dtype) {
  const torch::ScalarType stored = torch_dtype_of(view.dtype);
  const bool aligned = reinterpret_cast<uintptr_t>(view.data) % dtype_size(view.dtype) == 0;
  torch::Tensor t;
  if (aligned) {
    // The mapping is read-only: the tensor must never be written in place.
    t = torch::from_blob(const_cast<unsigned char*>(view.data), view.shape, [mapping](void*) {},
                         torch::TensorOptions().dtype(stored));
  } else {
    t = torch::empty(view.shape, torch::TensorOptions().dtype(stored));
    std::memcpy(t.data_ptr(), view.data, view.nbytes);
  }
  if (stored == dtype && device.is_cpu()) return t;  // zero-copy alias of the file
  return t.to(device, dtype, /*non_blocking=*/false, /*copy=*/true);
}

void save_tensors(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                  const std::map<std::string, std::string>& metadata) {
  std::vector<torch::Tensor> keep;  // contiguous CPU copies live until written
  std::vector<TensorToWrite> out;
  for (const auto& [name, t] : tensors) {
    keep.push_back(t.detach().to(torch::kCPU).contiguous());
    const auto& c = keep.back();
    out.push_back({name, safetensors_dtype_of(c.scalar_type()), c.sizes().vec(), c.data_ptr()});
  }
  write_safetensors(path, out, metadata);
}

}  // namespace imsm
