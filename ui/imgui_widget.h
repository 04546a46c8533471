// A Dear ImGui surface inside the Qt window: a QOpenGLWidget that owns one
// ImGui context (1.86, Debian's libimgui-dev) and draws it with ImGui's
// OpenGL3 backend. The input bridge feeds ImGui from Qt's events — mouse
// position, buttons (latched, so a click between two frames is not lost),
// wheel, the keys ImGui navigates with, text, focus, resize and the device
// pixel ratio (fonts rasterised at it) — and asks for a frame after each, plus
// a few more while ImGui's state settles; nothing redraws when nothing moves.
// Subclasses draw in draw_frame() and upload textures in GL calls of their own
// (QOpenGLFunctions), with the context current. Findings of the probe this
// follows: ../shared/docs/imgui-in-qt.md.
#pragma once
#include <QElapsedTimer>
#include <QOpenGLWidget>

struct ImGuiContext;

namespace imsm::ui {

class ImGuiWidget : public QOpenGLWidget {
  Q_OBJECT
 public:
  explicit ImGuiWidget(QWidget* parent = nullptr);
  ~ImGuiWidget() override;

  double last_frame_ms() const { return last_frame_ms_; }  // paintGL's wall time, ImGui's frame and its GL commands submitted
  int frames() const { return frames_; }

 protected:
  virtual void draw_frame() = 0;  // between ImGui::NewFrame and ImGui::Render, this widget's context current
  virtual void init_gl() {}       // the GL context is new (first show, or re-parented): make textures again
  virtual void release_gl() {}    // it is going: delete them (current)
  void request_frames(int n = 3);  // redraw now and n − 1 times more

  void initializeGL() override;
  void paintGL() override;
  void mousePressEvent(QMouseEvent* e) override;
  void mouseReleaseEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void wheelEvent(QWheelEvent* e) override;
  void keyPressEvent(QKeyEvent* e) override;
  void keyReleaseEvent(QKeyEvent* e) override;
  void focusInEvent(QFocusEvent* e) override;
  void focusOutEvent(QFocusEvent* e) override;
  void leaveEvent(QEvent* e) override;
  bool focusNextPrevChild(bool next) override;  // Tab stays with ImGui

 private:
  void make_current_imgui() const;
  void shutdown_backend();
  void key(QKeyEvent* e, bool down);
  void context_going();  // the GL context is about to go (re-parenting, closing)
  static constexpr int kKeySlots = 32;  // io.KeysDown indices this bridge uses (1..18)

  ImGuiContext* imgui_ = nullptr;
  bool backend_ = false;
  bool pressed_[3] = {false, false, false};   // latched since the last frame
  bool released_[3] = {false, false, false};
  bool key_pressed_[kKeySlots] = {}, key_released_[kKeySlots] = {};  // latched likewise
  int pending_frames_ = 0;
  QElapsedTimer clock_;
  double last_frame_ms_ = 0;
  int frames_ = 0;
};

}  // namespace imsm::ui
