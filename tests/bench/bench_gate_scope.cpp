// Benchmark (not a test): the gate scope (Dear ImGui, one texture) against
// the QCustomPlot heatmap (QCPColorMap) on the same gate — tokens × hidden
// dimensions, 4,096 × 8,192 by default — during one zoom-and-pan sweep: 30
// frames zooming in about the centre by 1.15× each, then 30 panning. Each
// frame's wall time: the view set, the widget repainted and composed into the
// window, the GL work finished (glFinish) for the scope. Also the one-time
// setup: colouring and uploading the texture; filling the colour map's cells.
// IMSM_BENCH_SHOTS=DIR saves the last frame of each (to check both drew the gate).
// Run it under a real X server or Xvfb (Mesa's llvmpipe renders in software):
//
//   xvfb-run -a -s "-screen 0 1920x1080x24" build/bin/bench_gate_scope [--tokens 4096] [--dims 8192] [--width 1200] [--height 720]
#include <QApplication>
#include <QElapsedTimer>
#include <QOpenGLContext>
#include <QOpenGLFunctions>

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "bench_args.h"
#include "gate_scope.h"

namespace {

struct Stats {
  double median = 0, p90 = 0, max = 0;
};

Stats stats(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 9 / 10)], ms.back()};
}

// The sweep's views: 30 zooms in about the centre, then 30 pans to the right and down.
std::vector<imsm::ui::GateScope::View> sweep() {
  std::vector<imsm::ui::GateScope::View> views;
  double w = 1;
  for (int i = 0; i < 30; ++i) {
    w /= 1.15;
    views.push_back({0.5 - w / 2, 0.5 + w / 2, 0.5 - w / 2, 0.5 + w / 2});
  }
  for (int i = 1; i <= 30; ++i) {
    const double shift = w * 0.1 * i;
    views.push_back({0.5 - w / 2 + shift, 0.5 + w / 2 + shift, 0.5 - w / 2 + shift / 2, 0.5 + w / 2 + shift / 2});
  }
  return views;
}

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  using imsm::bench::arg;
  const int64_t tokens = arg(argc, argv, "--tokens", 4096), dims = arg(argc, argv, "--dims", 8192);
  const int width = static_cast<int>(arg(argc, argv, "--width", 1200)), height = static_cast<int>(arg(argc, argv, "--height", 720));
  imsm::ui::GateMatrix m;  // a gate with structure at every scale: bands over dimensions, drift over tokens
  m.tokens = tokens;
  m.dims = dims;
  m.g.resize(static_cast<size_t>(tokens * dims));
  for (int64_t t = 0; t < tokens; ++t) {
    m.pieces.push_back("t" + std::to_string(t));
    for (int64_t d = 0; d < dims; ++d)
      m.g[static_cast<size_t>(t * dims + d)] = static_cast<float>(0.5 + 0.4 * std::sin(d * 0.013 + t * 0.002) * std::cos(d * 0.0007));
  }
  const auto views = sweep();

  imsm::ui::GateScope scope;
  scope.resize(width, height);
  scope.show();
  QElapsedTimer clock;
  clock.start();
  scope.set_gate(m, "benchmark");
  scope.repaint();
  QApplication::processEvents();
  const double scope_setup = static_cast<double>(clock.nsecsElapsed()) / 1e6;
  std::vector<double> scope_ms;
  for (const auto& v : views) {
    clock.restart();
    scope.set_view(v);
    scope.repaint();
    scope.makeCurrent();
    QOpenGLContext::currentContext()->functions()->glFinish();
    scope.doneCurrent();
    QApplication::processEvents();
    scope_ms.push_back(static_cast<double>(clock.nsecsElapsed()) / 1e6);
  }
  const double upload = scope.upload_ms();
  const QString renderer = [&] {
    scope.makeCurrent();
    const auto* r = reinterpret_cast<const char*>(QOpenGLContext::currentContext()->functions()->glGetString(GL_RENDERER));
    QString s = r ? QString(r) : QString("?");
    scope.doneCurrent();
    return s;
  }();
  scope.hide();

  QCustomPlot plot;
  plot.resize(width, height);
  plot.show();
  clock.restart();
  auto* map = new QCPColorMap(plot.xAxis, plot.yAxis);
  map->data()->setSize(static_cast<int>(tokens), static_cast<int>(dims));
  map->data()->setRange(QCPRange(0, static_cast<double>(tokens)), QCPRange(0, static_cast<double>(dims)));
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t d = 0; d < dims; ++d) map->data()->setCell(static_cast<int>(t), static_cast<int>(d), m.g[static_cast<size_t>(t * dims + d)]);
  QCPColorGradient gradient;
  gradient.setColorStopAt(0, QColor(255, 127, 14));
  gradient.setColorStopAt(0.5, Qt::white);
  gradient.setColorStopAt(1, QColor(31, 119, 180));
  map->setGradient(gradient);
  map->setDataRange(QCPRange(0, 1));
  plot.rescaleAxes();
  plot.replot(QCustomPlot::rpImmediateRefresh);
  QApplication::processEvents();
  const double plot_setup = static_cast<double>(clock.nsecsElapsed()) / 1e6;
  std::vector<double> plot_ms;
  for (const auto& v : views) {
    clock.restart();
    plot.xAxis->setRange(v.u0 * tokens, v.u1 * tokens);
    plot.yAxis->setRange(v.v0 * dims, v.v1 * dims);
    plot.replot(QCustomPlot::rpImmediateRefresh);
    QApplication::processEvents();
    plot_ms.push_back(static_cast<double>(clock.nsecsElapsed()) / 1e6);
  }

  if (const char* dir = std::getenv("IMSM_BENCH_SHOTS")) {  // the sweep's last frame of each, to look at
    plot.grab().save(QString(dir) + "/bench-colormap.png");
    scope.show();
    scope.grabFramebuffer().save(QString(dir) + "/bench-gate-scope.png");
  }
  const Stats s = stats(scope_ms), p = stats(plot_ms);
  std::printf("gate %lld tokens x %lld dimensions, widget %d x %d, renderer %s, %zu frames (30 zoom + 30 pan)\n",
              static_cast<long long>(tokens), static_cast<long long>(dims), width, height, renderer.toUtf8().constData(), views.size());
  std::printf("| view | setup (ms) | frame median (ms) | p90 | max |\n|---|---|---|---|---|\n");
  std::printf("| gate scope (Dear ImGui texture) | %.0f (colour + upload %.0f) | %.1f | %.1f | %.1f |\n", scope_setup, upload, s.median, s.p90, s.max);
  std::printf("| QCustomPlot QCPColorMap | %.0f | %.1f | %.1f | %.1f |\n", plot_setup, p.median, p.p90, p.max);
  std::printf("QCustomPlot / gate scope, median frame: %.1fx\n", p.median / std::max(1e-9, s.median));
  return 0;
}
