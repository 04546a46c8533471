#include "imgui_widget.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QOpenGLContext>
#include <QWheelEvent>

#include <imgui.h>
#include <backends/imgui_impl_opengl3.h>

namespace imsm::ui {

namespace {

// Qt's mouse buttons as ImGui's indices (left, right, middle); -1 for others.
int button_index(Qt::MouseButton b) {
  switch (b) {
    case Qt::LeftButton: return 0;
    case Qt::RightButton: return 1;
    case Qt::MiddleButton: return 2;
    default: return -1;
  }
}

// ImGui 1.86 reads io.KeysDown[KeyMap[k]]: these are the indices used for Qt's keys.
struct KeyPair {
  ImGuiKey imgui;
  int qt;
};
constexpr KeyPair kKeys[] = {{ImGuiKey_Tab, Qt::Key_Tab},        {ImGuiKey_LeftArrow, Qt::Key_Left}, {ImGuiKey_RightArrow, Qt::Key_Right},
                             {ImGuiKey_UpArrow, Qt::Key_Up},     {ImGuiKey_DownArrow, Qt::Key_Down}, {ImGuiKey_PageUp, Qt::Key_PageUp},
                             {ImGuiKey_PageDown, Qt::Key_PageDown}, {ImGuiKey_Home, Qt::Key_Home},  {ImGuiKey_End, Qt::Key_End},
                             {ImGuiKey_Delete, Qt::Key_Delete},  {ImGuiKey_Backspace, Qt::Key_Backspace}, {ImGuiKey_Space, Qt::Key_Space},
                             {ImGuiKey_Enter, Qt::Key_Return},   {ImGuiKey_Escape, Qt::Key_Escape}, {ImGuiKey_A, Qt::Key_A},
                             {ImGuiKey_C, Qt::Key_C},            {ImGuiKey_V, Qt::Key_V},            {ImGuiKey_X, Qt::Key_X}};

int key_slot(int qt_key) {
  for (int i = 0; i < static_cast<int>(std::size(kKeys)); ++i)
    if (kKeys[i].qt == qt_key) return i + 1;  // slot 0 unused
  return -1;
}

}  // namespace

ImGuiWidget::ImGuiWidget(QWidget* parent) : QOpenGLWidget(parent) {
  setMouseTracking(true);
  setFocusPolicy(Qt::StrongFocus);
  imgui_ = ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // the window's layout lives in QSettings, not imgui.ini in the working folder
  io.ConfigFlags |= ImGuiConfigFlags_NavEnableKeyboard;
  for (int i = 0; i < static_cast<int>(std::size(kKeys)); ++i) io.KeyMap[kKeys[i].imgui] = i + 1;
  clock_.start();
}

ImGuiWidget::~ImGuiWidget() {
  if (context()) {
    makeCurrent();
    shutdown_backend();
    doneCurrent();
  }
  ImGui::DestroyContext(imgui_);
}

void ImGuiWidget::make_current_imgui() const { ImGui::SetCurrentContext(imgui_); }

void ImGuiWidget::shutdown_backend() {
  if (!backend_) return;
  make_current_imgui();
  release_gl();
  ImGui_ImplOpenGL3_Shutdown();
  backend_ = false;
}

void ImGuiWidget::initializeGL() {
  make_current_imgui();
  shutdown_backend();  // a new context after re-parenting: the old one's objects are gone with it
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  ImFontConfig font;
  font.SizePixels = 13.0f * static_cast<float>(devicePixelRatioF());  // rasterised at the screen's pixels, shown at 13 logical
  io.Fonts->AddFontDefault(&font);
  io.FontGlobalScale = 1.0f / static_cast<float>(devicePixelRatioF());
  ImGui_ImplOpenGL3_Init("#version 130");
  backend_ = true;
  connect(context(), &QOpenGLContext::aboutToBeDestroyed, this, &ImGuiWidget::context_going, Qt::UniqueConnection);
  init_gl();
}

void ImGuiWidget::context_going() {
  makeCurrent();
  shutdown_backend();
  doneCurrent();
}

void ImGuiWidget::paintGL() {
  QElapsedTimer t;
  t.start();
  make_current_imgui();
  ImGuiIO& io = ImGui::GetIO();
  io.DisplaySize = ImVec2(static_cast<float>(width()), static_cast<float>(height()));
  io.DisplayFramebufferScale = ImVec2(static_cast<float>(devicePixelRatioF()), static_cast<float>(devicePixelRatioF()));
  io.DeltaTime = std::max(1e-4f, static_cast<float>(clock_.restart()) / 1000.0f);
  for (int b = 0; b < 3; ++b) {  // a press seen this frame even when released before it
    if (pressed_[b]) io.MouseDown[b] = true;
    else if (released_[b]) io.MouseDown[b] = false;
    pressed_[b] = false;
  }
  for (int k = 0; k < kKeySlots; ++k)  // likewise a key pressed and released between two frames
    if (key_pressed_[k]) io.KeysDown[k] = true;
  ImGui_ImplOpenGL3_NewFrame();
  ImGui::NewFrame();
  draw_frame();
  ImGui::Render();
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  for (int b = 0; b < 3; ++b)
    if (released_[b]) {
      io.MouseDown[b] = false;
      released_[b] = false;
    }
  io.MouseWheel = io.MouseWheelH = 0;
  for (int k = 0; k < kKeySlots; ++k) {
    if (key_released_[k]) io.KeysDown[k] = false;
    key_pressed_[k] = key_released_[k] = false;
  }
  last_frame_ms_ = static_cast<double>(t.nsecsElapsed()) / 1e6;
  ++frames_;
  if (pending_frames_ > 0 && --pending_frames_ > 0) update();
}

void ImGuiWidget::request_frames(int n) {
  pending_frames_ = std::max(pending_frames_, n);
  update();
}

void ImGuiWidget::mousePressEvent(QMouseEvent* e) {
  make_current_imgui();
  ImGui::GetIO().MousePos = ImVec2(static_cast<float>(e->position().x()), static_cast<float>(e->position().y()));
  if (const int b = button_index(e->button()); b >= 0) {
    pressed_[b] = true;
    released_[b] = false;
  }
  request_frames();
}

void ImGuiWidget::mouseReleaseEvent(QMouseEvent* e) {
  make_current_imgui();
  ImGui::GetIO().MousePos = ImVec2(static_cast<float>(e->position().x()), static_cast<float>(e->position().y()));
  if (const int b = button_index(e->button()); b >= 0) released_[b] = true;
  request_frames();
}

void ImGuiWidget::mouseMoveEvent(QMouseEvent* e) {
  make_current_imgui();
  ImGui::GetIO().MousePos = ImVec2(static_cast<float>(e->position().x()), static_cast<float>(e->position().y()));
  request_frames();
}

void ImGuiWidget::wheelEvent(QWheelEvent* e) {
  make_current_imgui();
  ImGuiIO& io = ImGui::GetIO();
  io.MousePos = ImVec2(static_cast<float>(e->position().x()), static_cast<float>(e->position().y()));
  io.MouseWheel += static_cast<float>(e->angleDelta().y()) / 120.0f;  // one notch = 1
  io.MouseWheelH += static_cast<float>(e->angleDelta().x()) / 120.0f;
  e->accept();
  request_frames();
}

void ImGuiWidget::key(QKeyEvent* e, bool down) {
  make_current_imgui();
  ImGuiIO& io = ImGui::GetIO();
  if (const int slot = key_slot(e->key()); slot >= 0) {
    if (down) key_pressed_[slot] = true;
    else key_released_[slot] = true;
  }
  io.KeyCtrl = e->modifiers() & Qt::ControlModifier;
  io.KeyShift = e->modifiers() & Qt::ShiftModifier;
  io.KeyAlt = e->modifiers() & Qt::AltModifier;
  if (down && !e->text().isEmpty() && e->text().at(0).isPrint()) io.AddInputCharactersUTF8(e->text().toUtf8().constData());
  request_frames();
}

void ImGuiWidget::keyPressEvent(QKeyEvent* e) { key(e, true); }
void ImGuiWidget::keyReleaseEvent(QKeyEvent* e) { key(e, false); }

void ImGuiWidget::focusInEvent(QFocusEvent* e) {
  make_current_imgui();
  ImGui::GetIO().AddFocusEvent(true);
  QOpenGLWidget::focusInEvent(e);
  request_frames();
}

void ImGuiWidget::focusOutEvent(QFocusEvent* e) {
  make_current_imgui();
  ImGui::GetIO().AddFocusEvent(false);
  QOpenGLWidget::focusOutEvent(e);
  request_frames();
}

void ImGuiWidget::leaveEvent(QEvent* e) {
  make_current_imgui();
  ImGui::GetIO().MousePos = ImVec2(-FLT_MAX, -FLT_MAX);  // no hover readout once the pointer has left
  QOpenGLWidget::leaveEvent(e);
  request_frames();
}

bool ImGuiWidget::focusNextPrevChild(bool) { return false; }

}  // namespace imsm::ui
