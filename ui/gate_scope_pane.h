// The gate scope's tab. The scope (an OpenGL widget) is made the first time
// the tab is shown, and only where the platform can compose OpenGL widgets
// into the window — a window holding one is composed through OpenGL from then
// on, which the offscreen platform, or an X display without GLX, cannot do.
// Elsewhere a line says why and a QCustomPlot heatmap (gate_heatmap.h) shows
// the same gate. It shows either the answer of Memory mixing or
// the waterfall of the selected IMSM run's training probes; the latest of
// each is kept until the scope exists.
#pragma once
#include <QString>
#include <QWidget>

#include "gate_heatmap.h"
#include "gate_scope.h"

class QComboBox;
class QLabel;

namespace imsm::ui {

// "" when this process can show OpenGL widgets; else why not, for people.
QString opengl_problem();

class GateScopePane : public QWidget {
  Q_OBJECT
 public:
  explicit GateScopePane(QWidget* parent = nullptr);
  enum Source { Answer, Probes };
  void set_gate(GateMatrix m, const QString& title);    // an answer's (Memory mixing)
  void set_probes(GateMatrix m, const QString& title);  // a training run's waterfall
  void show_source(Source s);
  GateScope* scope() const { return scope_; }        // null until the tab was shown (and without OpenGL)
  GateHeatmap* heatmap() const { return heatmap_; }  // without OpenGL, once the tab was shown; else null
  const GateMatrix& gate() const { return matrix_[source_]; }  // what is shown (or will be)

 protected:
  void showEvent(QShowEvent* e) override;

 private:
  void load();  // the chosen source into the scope

  GateScope* scope_ = nullptr;
  GateHeatmap* heatmap_ = nullptr;
  QLabel* note_;
  QComboBox* source_box_;
  Source source_ = Answer;
  GateMatrix matrix_[2];
  QString title_[2];
};

}  // namespace imsm::ui
