// The gate scope's tab. The scope (an OpenGL widget) is made the first time
// the tab is shown, and only where the platform can compose OpenGL widgets
// into the window — a window holding one is composed through OpenGL from then
// on, which the offscreen platform, or an X display without GLX, cannot do.
// Elsewhere a line says why. The latest gate is kept until the scope exists.
#pragma once
#include <QString>
#include <QWidget>

#include "gate_scope.h"

class QLabel;

namespace imsm::ui {

// "" when this process can show OpenGL widgets; else why not, for people.
QString opengl_problem();

class GateScopePane : public QWidget {
  Q_OBJECT
 public:
  explicit GateScopePane(QWidget* parent = nullptr);
  void set_gate(GateMatrix m, const QString& title);
  GateScope* scope() const { return scope_; }  // null until the tab was shown (and without OpenGL)
  const GateMatrix& gate() const { return scope_ ? scope_->gate() : pending_; }

 protected:
  void showEvent(QShowEvent* e) override;

 private:
  GateScope* scope_ = nullptr;
  QLabel* note_;
  GateMatrix pending_;
  QString title_;
};

}  // namespace imsm::ui
