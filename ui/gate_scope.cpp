#include "gate_scope.h"

#include <QElapsedTimer>
#include <QOpenGLContext>
#include <QOpenGLFunctions>

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "report/gate_colour.h"

namespace imsm::ui {

namespace {

constexpr float kProfileWidth = 110;  // the mean-gate column beside the texture, logical pixels
constexpr float kToolbarHeight = 28;

// g in [0, 1] as RGBA (the gate's one colour map, report/gate_colour.h).
uint32_t colour_of(float g) {
  const report::Rgb c = report::gate_rgb(g);
  return 0xFF000000u | static_cast<uint32_t>(c.b) << 16 | static_cast<uint32_t>(c.g) << 8 | static_cast<uint32_t>(c.r);
}

}  // namespace

namespace {
// Rows that carry a gate vector (.gate) as the columns of a matrix, those without one (or of another size) left out.
template <typename Row, typename Label>
GateMatrix matrix_of(const std::vector<Row>& rows, const std::string& unit, Label label) {
  GateMatrix m;
  m.unit = unit;
  for (const Row& r : rows) {
    if (r.gate.empty() || (m.dims && static_cast<int64_t>(r.gate.size()) != m.dims)) continue;
    m.dims = static_cast<int64_t>(r.gate.size());
    m.g.insert(m.g.end(), r.gate.begin(), r.gate.end());
    m.pieces.push_back(label(r));
    ++m.tokens;
  }
  return m;
}
}  // namespace

GateMatrix GateMatrix::of(const std::vector<TokenTrace>& tokens) {
  return matrix_of(tokens, "token", [](const TokenTrace& t) { return t.piece; });
}

GateMatrix GateMatrix::of(const std::vector<GateProbeRecord>& probes) {
  return matrix_of(probes, "probe step", [](const GateProbeRecord& p) { return "step " + std::to_string(p.step); });
}

GateScope::GateScope(QWidget* parent) : ImGuiWidget(parent) {
  setMinimumSize(320, 200);
  setToolTip(tr("Wheel: zoom about the pointer · drag: pan · Home or double click: all of it"));
}

GateScope::~GateScope() {
  if (context()) {  // the texture goes with the GL context; the base class shuts ImGui's backend down
    makeCurrent();
    release_gl();
    doneCurrent();
  }
}

void GateScope::set_gate(GateMatrix m, const QString& title) {
  m_ = std::move(m);
  title_ = title;
  mean_.assign(static_cast<size_t>(m_.dims), 0.0f);
  var_.assign(static_cast<size_t>(m_.dims), 0.0f);
  for (int64_t t = 0; t < m_.tokens; ++t)
    for (int64_t d = 0; d < m_.dims; ++d) mean_[d] += m_.g[t * m_.dims + d];
  for (float& x : mean_) x /= static_cast<float>(std::max<int64_t>(1, m_.tokens));
  for (int64_t t = 0; t < m_.tokens; ++t)
    for (int64_t d = 0; d < m_.dims; ++d) var_[d] += (m_.g[t * m_.dims + d] - mean_[d]) * (m_.g[t * m_.dims + d] - mean_[d]);
  for (float& x : var_) x /= static_cast<float>(std::max<int64_t>(1, m_.tokens));
  order_rows();
  view_ = {};
  hover_ = {};
  dirty_ = true;
  request_frames();
}

void GateScope::set_order(Order order) {
  if (order == order_) return;
  order_ = order;
  order_rows();
  dirty_ = true;
  request_frames();
}

// Index: as the model has them; mean gate and variance: highest first (the dimensions that lean on the original memory, that vary most).
void GateScope::order_rows() {
  rows_.resize(static_cast<size_t>(m_.dims));
  std::iota(rows_.begin(), rows_.end(), 0);
  const std::vector<float>* key = order_ == Order::MeanGate ? &mean_ : order_ == Order::Variance ? &var_ : nullptr;
  if (key) std::stable_sort(rows_.begin(), rows_.end(), [&](int64_t a, int64_t b) { return (*key)[a] > (*key)[b]; });
}

void GateScope::set_view(const View& v) {
  const double min_u = m_.tokens ? 1.0 / static_cast<double>(m_.tokens) : 1e-3, min_v = m_.dims ? 1.0 / static_cast<double>(m_.dims) : 1e-3;
  View c = v;
  const double w = std::clamp(c.u1 - c.u0, min_u, 1.0), h = std::clamp(c.v1 - c.v0, min_v, 1.0);
  c.u0 = std::clamp(c.u0, 0.0, 1.0 - w);
  c.v0 = std::clamp(c.v0, 0.0, 1.0 - h);
  c.u1 = c.u0 + w;
  c.v1 = c.v0 + h;
  view_ = c;
  request_frames();
}

void GateScope::zoom_at(double u, double v, double factor) {
  set_view({u - (u - view_.u0) / factor, u + (view_.u1 - u) / factor, v - (v - view_.v0) / factor, v + (view_.v1 - v) / factor});
}

void GateScope::init_gl() { dirty_ = true; }

void GateScope::release_gl() {
  if (!texture_ || !QOpenGLContext::currentContext()) return;
  QOpenGLContext::currentContext()->functions()->glDeleteTextures(1, &texture_);
  texture_ = 0;
}

// Colours the gate in the rows' order (tokens across, dimensions down) and uploads it; past GL's largest texture,
// every stride-th token (the readout still reads every one).
void GateScope::upload() {
  dirty_ = false;
  if (!m_.tokens) return;
  QElapsedTimer timer;
  timer.start();
  QOpenGLFunctions* gl = QOpenGLContext::currentContext()->functions();
  GLint most = 0;
  gl->glGetIntegerv(GL_MAX_TEXTURE_SIZE, &most);
  stride_ = std::max<int64_t>(1, (m_.tokens + most - 1) / std::max<GLint>(1, most));
  texture_tokens_ = (m_.tokens + stride_ - 1) / stride_;
  texture_dims_ = std::min<int64_t>(m_.dims, most);
  std::vector<uint32_t> pixels(static_cast<size_t>(texture_tokens_ * texture_dims_));
  for (int64_t row = 0; row < texture_dims_; ++row) {
    const int64_t d = rows_[static_cast<size_t>(row)];
    uint32_t* out = pixels.data() + row * texture_tokens_;
    for (int64_t x = 0; x < texture_tokens_; ++x) out[x] = colour_of(m_.g[x * stride_ * m_.dims + d]);
  }
  if (!texture_) gl->glGenTextures(1, &texture_);
  gl->glBindTexture(GL_TEXTURE_2D, texture_);
  gl->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
  gl->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);  // zoomed in: crisp cells
  gl->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  gl->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  gl->glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
  gl->glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, static_cast<GLsizei>(texture_tokens_), static_cast<GLsizei>(texture_dims_), 0, GL_RGBA,
                   GL_UNSIGNED_BYTE, pixels.data());
  gl->glFinish();
  upload_ms_ = static_cast<double>(timer.nsecsElapsed()) / 1e6;
}

void GateScope::draw_frame() {
  if (dirty_) upload();
  const ImGuiIO& io = ImGui::GetIO();
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(io.DisplaySize);
  ImGui::Begin("gate scope", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoScrollWithMouse |
                   ImGuiWindowFlags_NoBringToFrontOnFocus);
  draw_toolbar();
  if (!m_.tokens) {
    ImGui::TextWrapped("No gate to show: generate with an IMSM run in Memory mixing, or open a trace saved with the whole gate "
                       "(Run > Evaluate runs... keeps it).");
    ImGui::End();
    return;
  }
  const ImVec2 room = ImGui::GetContentRegionAvail();
  draw_texture(std::max(40.0f, room.x - kProfileWidth - 8), std::max(40.0f, room.y));
  ImGui::SameLine();
  draw_profile(kProfileWidth, std::max(40.0f, room.y));
  ImGui::End();
}

void GateScope::draw_toolbar() {
  ImGui::TextUnformatted(title_.isEmpty() ? "gate" : title_.toUtf8().constData());
  ImGui::SameLine();
  ImGui::Text("· %lld %ss × %lld dimensions · order:", static_cast<long long>(m_.tokens), m_.unit.c_str(), static_cast<long long>(m_.dims));
  int order = static_cast<int>(order_);
  const char* names[] = {"index", "mean gate", "variance"};
  for (int i = 0; i < 3; ++i) {
    ImGui::SameLine();
    if (ImGui::RadioButton(names[i], order == i)) set_order(static_cast<Order>(i));
  }
  ImGui::SameLine();
  if (ImGui::SmallButton("all (Home)")) reset_view();
  ImGui::SameLine();
  ImGui::Text("zoom %.0f× · frame %.1f ms", 1.0 / std::max(1e-9, std::min(view_.u1 - view_.u0, view_.v1 - view_.v0)), last_frame_ms());
  if (hover_.on)
    ImGui::Text("%s %lld '%s' · dimension %lld · g = %.3f (%s)", m_.unit.c_str(), static_cast<long long>(hover_.token), hover_.piece.c_str(),
                static_cast<long long>(hover_.dim), hover_.g, hover_.g >= 0.5f ? "original memory" : "fine-tuned memory");
  else
    ImGui::TextDisabled("hover a cell: its %s, dimension and g", m_.unit.c_str());
}

// The texture on an invisible button (ImGui::Image takes no input): wheel zooms about the pointer, a drag pans.
void GateScope::draw_texture(float width, float height) {
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  ImGui::InvisibleButton("texture", ImVec2(width, height));
  const ImGuiIO& io = ImGui::GetIO();
  const bool hovered = ImGui::IsItemHovered();
  auto u_at = [&](float x) { return view_.u0 + (x - p0.x) / width * (view_.u1 - view_.u0); };
  auto v_at = [&](float y) { return view_.v0 + (y - p0.y) / height * (view_.v1 - view_.v0); };
  if (hovered && io.MouseWheel != 0) zoom_at(u_at(io.MousePos.x), v_at(io.MousePos.y), std::pow(1.25, io.MouseWheel));
  if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left, 0.0f)) {
    const double du = io.MouseDelta.x / width * (view_.u1 - view_.u0), dv = io.MouseDelta.y / height * (view_.v1 - view_.v0);
    set_view({view_.u0 - du, view_.u1 - du, view_.v0 - dv, view_.v1 - dv});
  }
  if ((hovered && ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left)) || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Home))) reset_view();
  ImDrawList* draw = ImGui::GetWindowDrawList();
  draw->AddImage(reinterpret_cast<ImTextureID>(static_cast<intptr_t>(texture_)), p0, ImVec2(p0.x + width, p0.y + height),
                 ImVec2(static_cast<float>(view_.u0), static_cast<float>(view_.v0)), ImVec2(static_cast<float>(view_.u1), static_cast<float>(view_.v1)));
  hover_.on = hovered;
  if (!hovered) return;
  hover_.token = std::clamp<int64_t>(static_cast<int64_t>(u_at(io.MousePos.x) * static_cast<double>(m_.tokens)), 0, m_.tokens - 1);
  const int64_t row = std::clamp<int64_t>(static_cast<int64_t>(v_at(io.MousePos.y) * static_cast<double>(m_.dims)), 0, m_.dims - 1);
  hover_.dim = rows_[static_cast<size_t>(row)];
  hover_.piece = m_.pieces[static_cast<size_t>(hover_.token)];
  hover_.g = m_.g[hover_.token * m_.dims + hover_.dim];
}

// Each shown row's mean gate over the tokens, a bar from ½ (the centre line) towards 0 (left) or 1 (right), scaled so
// that the mean furthest from ½ spans the half-width (the scale is written on top).
void GateScope::draw_profile(float width, float height) {
  float furthest = 1e-6f;
  for (const float g : mean_) furthest = std::max(furthest, std::abs(g - 0.5f));
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  ImGui::Dummy(ImVec2(width, height));
  ImDrawList* draw = ImGui::GetWindowDrawList();
  draw->AddRectFilled(p0, ImVec2(p0.x + width, p0.y + height), IM_COL32(245, 245, 245, 255));
  const double first = view_.v0 * static_cast<double>(m_.dims), last = view_.v1 * static_cast<double>(m_.dims);
  const int steps = static_cast<int>(std::min<double>(height, last - first));  // at most a line per pixel
  for (int i = 0; i < steps; ++i) {
    const int64_t row = std::clamp<int64_t>(static_cast<int64_t>(first + (last - first) * (i + 0.5) / steps), 0, m_.dims - 1);
    const float g = mean_[static_cast<size_t>(rows_[static_cast<size_t>(row)])];
    const float y0 = p0.y + height * static_cast<float>(i) / static_cast<float>(steps), y1 = p0.y + height * static_cast<float>(i + 1) / static_cast<float>(steps);
    const float mid = p0.x + width / 2, end = mid + (g - 0.5f) / furthest * (width / 2 - 2);
    draw->AddRectFilled(ImVec2(std::min(mid, end), y0), ImVec2(std::max(mid, end), std::max(y1, y0 + 1)), colour_of(g < 0.5f ? 0.0f : 1.0f));
  }
  draw->AddLine(ImVec2(p0.x + width / 2, p0.y), ImVec2(p0.x + width / 2, p0.y + height), IM_COL32(120, 120, 120, 255));
  char scale[48];
  std::snprintf(scale, sizeof scale, "0.5 +/- %.2f", furthest);  // the bars' half-width: the mean furthest from 0.5
  draw->AddText(ImVec2(p0.x + 4, p0.y + 2), IM_COL32(60, 60, 60, 255), "mean g");
  draw->AddText(ImVec2(p0.x + 4, p0.y + 16), IM_COL32(60, 60, 60, 255), scale);
}

}  // namespace imsm::ui
