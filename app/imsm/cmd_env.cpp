// imsm env [--json]: what the engine runs on (LibTorch, CUDA, devices, BLAS, threads) and each GPU's load through NVML.
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "monitor/nvml.h"
#include "recipes/environment.h"
#include "util/table.h"
#include "views/model_catalog.h"

namespace imsm::cli {

void add_env(CLI::App& app, Run& run) {
  auto json_out = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("env", "What the engine runs on: LibTorch, its CUDA build, visible GPUs, BLAS, threads; the models every user has");
  cmd->add_flag("--json", *json_out, "Print one JSON object");
  cmd->callback([&run, json_out] {
    run = [json_out] {
      const EngineEnvironment env = engine_environment();
      NvmlSampler nvml;  // what the resource monitor reads
      ResourceSample load;
      nvml.sample(load);
      if (*json_out) {
        auto j = to_json(env);
        j["nvml"] = nlohmann::json::array();
        for (const auto& g : load.gpus)
          j["nvml"].push_back({{"index", g.index}, {"name", g.name}, {"utilization_percent", g.utilization_percent},
                               {"memory_used_bytes", g.memory_used_bytes}, {"memory_total_bytes", g.memory_total_bytes},
                               {"temperature_c", g.temperature_c}, {"power_w", g.power_w}});
        if (!load.gpu_problem.empty()) j["nvml_problem"] = load.gpu_problem;
        j["models"] = nlohmann::json::array();
        for (const auto& m : model_catalog())
          j["models"].push_back({{"name", m.name}, {"path", m.path}, {"present", m.present}, {"about", m.about}});
        std::cout << j.dump() << "\n";
        return 0;
      }
      std::printf("imsm        %s\n", env.engine.c_str());
      std::printf("LibTorch    %s\n", env.libtorch.c_str());
      if (env.cuda_compiled)
        std::printf("CUDA        compiled (CUDA %s, cuDNN %s); %d device(s) visible\n", env.cuda_version.c_str(),
                    env.cudnn_version.empty() ? "none" : env.cudnn_version.c_str(), env.cuda_devices);
      else
        std::printf("CUDA        not compiled (a CPU-only LibTorch)\n");
      for (const auto& d : env.devices) std::printf("            %s\n", d.c_str());
      std::printf("CPU         %s, %d threads\n", env.cpu.c_str(), env.threads);
      std::printf("bf16        %s\n", cpu_bf16_line(env).c_str());
      std::printf("BLAS        %s\n", env.blas.c_str());
      if (!load.gpu_problem.empty()) std::printf("NVML        %s\n", load.gpu_problem.c_str());
      for (const auto& g : load.gpus)
        std::printf("NVML        GPU %d %s: %.0f%% busy, %s of %s used, %.0f C, %.0f W\n", g.index, g.name.c_str(), g.utilization_percent,
                    format_bytes(static_cast<double>(g.memory_used_bytes)).c_str(), format_bytes(static_cast<double>(g.memory_total_bytes)).c_str(),
                    g.temperature_c, g.power_w);
      for (const auto& m : model_catalog())
        std::printf("Model       %s: %s (%s)\n", m.name.c_str(), m.present ? m.path.c_str() : "not installed",
                    m.present ? m.about.c_str() : ("install: " + m.install).c_str());
      return 0;
    };
  });
}

}  // namespace imsm::cli
