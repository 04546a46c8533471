// The gate scope: the full IMSM gate of an answer — tokens × hidden
// dimensions, g from 0 (the fine-tuned memory, orange) through ½ (white) to 1
// (the original memory, blue) — drawn by Dear ImGui as one texture, so zoom
// and pan cost the same at 4,096 × 8,192 as at 40 × 32 (only the texture's
// corners move). Wheel: zoom about the pointer; drag: pan; Home or double
// click: all of it. Hovering reads out the token (index, piece), the
// dimension and g. Dimensions can be ordered by index, mean gate or variance
// over the answer's tokens; beside the texture, each dimension's mean gate,
// aligned to its row. The same view draws a training run's waterfall: the
// probe's mean gate per dimension at each probe step. The texture is coloured on the CPU and uploaded once
// per answer or ordering; a frame only draws.
#pragma once
#include <QString>

#include <cstdint>
#include <string>
#include <vector>

#include "eval/token_trace.h"
#include "imgui_widget.h"
#include "views/run_table.h"

namespace imsm::ui {

struct GateMatrix {
  int64_t tokens = 0, dims = 0;
  std::vector<float> g;             // [tokens][dims], row-major
  std::vector<std::string> pieces;  // per token (per probe: "step N")
  std::string unit = "token";       // what a column is: a token of an answer, or a probe step of a training run
  // The tokens' full gates (tokens without one are left out); empty when none has a gate.
  static GateMatrix of(const std::vector<TokenTrace>& tokens);
  // The waterfall of a training run: each probe's mean gate per dimension, a column per probe step.
  static GateMatrix of(const std::vector<GateProbeRecord>& probes);
};

class GateScope : public ImGuiWidget {
  Q_OBJECT
 public:
  enum class Order { Index, MeanGate, Variance };
  struct View {
    double u0 = 0, u1 = 1, v0 = 0, v1 = 1;  // the shown part, as fractions of tokens (u) and of dimensions (v)
  };
  struct Hover {
    bool on = false;
    int64_t token = 0, dim = 0;
    std::string piece;
    float g = 0;
  };

  explicit GateScope(QWidget* parent = nullptr);
  ~GateScope() override;

  void set_gate(GateMatrix m, const QString& title);  // uploaded with the next frame
  void set_order(Order order);
  void set_view(const View& v);  // clamped to [0, 1], at least one cell wide
  void zoom_at(double u, double v, double factor);  // about a point of the texture (fractions); factor > 1 zooms in
  void reset_view() { set_view({}); }
  const View& view() const { return view_; }
  Order order() const { return order_; }
  const Hover& hover() const { return hover_; }
  const std::vector<int64_t>& row_dims() const { return rows_; }  // the dimension shown in each texture row, top first
  const GateMatrix& gate() const { return m_; }
  double upload_ms() const { return upload_ms_; }  // colouring and uploading the last texture

 protected:
  void draw_frame() override;
  void init_gl() override;
  void release_gl() override;

 private:
  void order_rows();
  void upload();
  void draw_toolbar();
  void draw_texture(float width, float height);
  void draw_profile(float width, float height);

  GateMatrix m_;
  QString title_;
  Order order_ = Order::Index;
  std::vector<int64_t> rows_;       // display row -> dimension
  std::vector<float> mean_, var_;   // per dimension, over the tokens
  View view_;
  Hover hover_;
  unsigned int texture_ = 0;
  int64_t texture_tokens_ = 0, texture_dims_ = 0, stride_ = 1;  // what was uploaded (every stride-th token past the GL limit)
  bool dirty_ = false;
  double upload_ms_ = 0;
};

}  // namespace imsm::ui
