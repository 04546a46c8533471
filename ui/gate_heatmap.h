// The gate as a QCustomPlot heatmap: a column per token (or probe step), a row
// per hidden dimension, coloured by the gate's one colour map
// (report/gate_colour.h). The gate scope's pane shows it where OpenGL is not
// available for the scope itself; wheel to zoom, drag to pan.
#pragma once
#include <QWidget>

#include "gate_scope.h"

class QCustomPlot;

namespace imsm::ui {

class GateHeatmap : public QWidget {
  Q_OBJECT
 public:
  explicit GateHeatmap(QWidget* parent = nullptr);
  void set_gate(const GateMatrix& m, const QString& title);
  QCustomPlot* plot() const { return plot_; }

 private:
  QCustomPlot* plot_;
};

}  // namespace imsm::ui
