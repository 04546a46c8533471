// An experiment project file (projects/*.json) read into its plan: datasets,
// suite, the run matrix with every run's training configuration. The file
// sits in a folder of its own beside "model", a link to the bundled model
// (the seeds name it so); plan_project reads and resolves, and writes nothing.
#include <unistd.h>

#include <filesystem>

#include "config/project_plan.h"
#include "fuzz_util.h"

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fs::path dir = [] {
    const fs::path d = fs::path(imsm::fuzz::write_text("", "-project")).replace_filename(
        "imsm-fuzz-project-" + std::to_string(getpid()));
    fs::create_directories(d);
    std::error_code ignored;
    fs::create_directory_symlink(IMSM_FUZZ_MODEL, d / "model", ignored);
    return d;
  }();
  const std::string path = (dir / "project.json").string();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (size > 0 && std::fwrite(data, 1, size, f) != size)) std::abort();
  std::fclose(f);
  imsm::fuzz::expect_clean([&] {
    const imsm::ProjectPlan plan = imsm::plan_project(path);
    if (plan.runs.size() != plan.run_labels.size()) imsm::fuzz::finding("a plan whose runs and labels differ in number");
    for (const std::string& file : imsm::project_inputs(plan))
      if (file.rfind(plan.output_dir + "/", 0) != 0) imsm::fuzz::finding("an input made outside the output folder: " + file);
  });
  return 0;
}
