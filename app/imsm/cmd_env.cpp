// imsm env [--json]: what the engine runs on (LibTorch, CUDA, devices, BLAS, threads).
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "recipes/environment.h"

namespace imsm::cli {

void add_env(CLI::App& app, Run& run) {
  auto json_out = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("env", "What the engine runs on: LibTorch, its CUDA build, visible GPUs, BLAS, threads");
  cmd->add_flag("--json", *json_out, "Print one JSON object");
  cmd->callback([&run, json_out] {
    run = [json_out] {
      const EngineEnvironment env = engine_environment();
      if (*json_out) {
        std::cout << to_json(env).dump() << "\n";
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
      std::printf("BLAS        %s\n", env.blas.c_str());
      return 0;
    };
  });
}

}  // namespace imsm::cli
