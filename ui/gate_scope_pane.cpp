#include "gate_scope_pane.h"

#include <QComboBox>
#include <QGuiApplication>
#include <QLabel>
#include <QOffscreenSurface>
#include <QOpenGLContext>
#include <QVBoxLayout>

namespace imsm::ui {

QString opengl_problem() {
  const QString platform = QGuiApplication::platformName();
  if (platform == "offscreen" || platform == "minimal")
    return QObject::tr("the %1 platform has no OpenGL to draw it with (run the workbench on a display)").arg(platform);
  QOpenGLContext context;
  if (!context.create()) return QObject::tr("no OpenGL context could be made on this display (GLX or EGL missing?)");
  QOffscreenSurface surface;
  surface.create();
  if (!context.makeCurrent(&surface)) return QObject::tr("the OpenGL context could not be made current");
  context.doneCurrent();
  return {};
}

GateScopePane::GateScopePane(QWidget* parent) : QWidget(parent) {
  source_box_ = new QComboBox(this);
  source_box_->addItems({tr("The answer shown in Memory mixing"), tr("The selected IMSM run's training probes (waterfall)")});
  source_box_->setToolTip(tr("An answer: tokens across; the waterfall: the probe's mean gate per dimension at each probe step across"));
  note_ = new QLabel(this);
  note_->setWordWrap(true);
  note_->setAlignment(Qt::AlignCenter);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(source_box_);
  layout->addWidget(note_, 1);
  connect(source_box_, &QComboBox::currentIndexChanged, this, [this](int i) { show_source(static_cast<Source>(i)); });
}

void GateScopePane::set_gate(GateMatrix m, const QString& title) {
  matrix_[Answer] = std::move(m);
  title_[Answer] = title;
  if (source_ == Answer) load();
}

void GateScopePane::set_probes(GateMatrix m, const QString& title) {
  matrix_[Probes] = std::move(m);
  title_[Probes] = title;
  if (source_ == Probes) load();
}

void GateScopePane::show_source(Source s) {
  source_ = s;
  if (source_box_->currentIndex() != s) source_box_->setCurrentIndex(s);
  load();
}

void GateScopePane::load() {
  if (scope_) scope_->set_gate(matrix_[source_], title_[source_]);
  if (heatmap_) heatmap_->set_gate(matrix_[source_], title_[source_]);
}

void GateScopePane::showEvent(QShowEvent* e) {
  QWidget::showEvent(e);
  if (scope_ || heatmap_) return;
  if (const QString problem = opengl_problem(); !problem.isEmpty()) {
    note_->setText(tr("The gate scope needs OpenGL: %1. The heatmap below shows the same gate.").arg(problem));
    note_->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Maximum);
    heatmap_ = new GateHeatmap(this);
    static_cast<QVBoxLayout*>(layout())->addWidget(heatmap_, 1);
    load();
    return;
  }
  note_->hide();
  scope_ = new GateScope(this);
  static_cast<QVBoxLayout*>(layout())->addWidget(scope_, 1);
  load();
}

}  // namespace imsm::ui
