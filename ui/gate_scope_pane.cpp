#include "gate_scope_pane.h"

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
  note_ = new QLabel(this);
  note_->setWordWrap(true);
  note_->setAlignment(Qt::AlignCenter);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(note_);
}

void GateScopePane::set_gate(GateMatrix m, const QString& title) {
  if (scope_) return scope_->set_gate(std::move(m), title);
  pending_ = std::move(m);
  title_ = title;
}

void GateScopePane::showEvent(QShowEvent* e) {
  QWidget::showEvent(e);
  if (scope_ || !note_->text().isEmpty()) return;
  if (const QString problem = opengl_problem(); !problem.isEmpty()) {
    note_->setText(tr("The gate scope needs OpenGL: %1. The heatmap in Memory mixing shows the same gate.").arg(problem));
    return;
  }
  note_->hide();
  scope_ = new GateScope(this);
  layout()->addWidget(scope_);
  scope_->set_gate(std::move(pending_), title_);
  pending_ = {};
}

}  // namespace imsm::ui
