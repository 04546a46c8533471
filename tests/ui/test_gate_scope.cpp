// The gate scope in a real window under Xvfb (Mesa's OpenGL): Dear ImGui in a
// QOpenGLWidget fed by real Qt input events — hover reads the cell under the
// pointer, the wheel zooms about it, a drag pans, Home resets, a click on an
// ImGui button between two frames is not lost — and ordering the dimensions
// by mean gate or variance matches an order computed here from the matrix.
#include <QApplication>
#include <QWheelEvent>
#include <QtTest>

#include <algorithm>
#include <numeric>

#include "gate_scope.h"

using namespace imsm;

namespace {
constexpr int64_t kTokens = 40, kDims = 32;
// A gate whose every cell tells where it is: g = (t·D + d) / (T·D) — so a readout names its own cell.
float cell(int64_t t, int64_t d) { return static_cast<float>(t * kDims + d) / static_cast<float>(kTokens * kDims); }
}  // namespace

class GateScopeTest : public QObject {
  Q_OBJECT
  ui::GateMatrix matrix() const {
    ui::GateMatrix m;
    m.tokens = kTokens;
    m.dims = kDims;
    for (int64_t t = 0; t < kTokens; ++t) {
      m.pieces.push_back("tok" + std::to_string(t));
      for (int64_t d = 0; d < kDims; ++d) m.g.push_back(d % 5 == 0 ? 0.9f - cell(t, d) : cell(t, d));  // no two dimensions share a mean
    }
    return m;
  }
  static float at(const ui::GateMatrix& m, int64_t t, int64_t d) { return m.g[static_cast<size_t>(t * m.dims + d)]; }

 private slots:
  void hoverZoomPanAndOrder() {
    ui::GateScope scope;
    scope.set_gate(matrix(), "test gate");
    scope.resize(900, 560);
    scope.show();
    QVERIFY(QTest::qWaitForWindowExposed(&scope));
    QTRY_VERIFY(scope.frames() > 0);
    const QPoint left(300, 300), right(600, 300);
    QTest::mouseMove(&scope, left);
    QTRY_VERIFY(scope.hover().on);
    const auto first = scope.hover();
    QCOMPARE(first.g, at(scope.gate(), first.token, first.dim));  // the readout is the cell's value
    QCOMPARE(first.piece, "tok" + std::to_string(first.token));
    QTest::mouseMove(&scope, right);
    QTRY_VERIFY(scope.hover().token > first.token);  // tokens run across
    QCOMPARE(scope.hover().dim, first.dim);

    // Wheel: zoom in about the pointer, which stays over the same cell.
    const auto before = scope.hover();
    QWheelEvent wheel(QPointF(right), scope.mapToGlobal(QPointF(right)), QPoint(), QPoint(0, 120), Qt::NoButton, Qt::NoModifier,
                      Qt::NoScrollPhase, false);
    QApplication::sendEvent(&scope, &wheel);
    QTRY_VERIFY(scope.view().u1 - scope.view().u0 < 0.9);
    QCOMPARE(scope.view().u1 - scope.view().u0, 1 / 1.25);
    QTest::mouseMove(&scope, right + QPoint(1, 0));
    QTRY_COMPARE(scope.hover().token, before.token);
    // Drag left by 200 pixels: the view moves right in the tokens.
    const double u0 = scope.view().u0;
    QTest::mousePress(&scope, Qt::LeftButton, {}, right);
    QTest::qWait(30);
    QTest::mouseMove(&scope, right - QPoint(100, 0));
    QTest::qWait(30);
    QTest::mouseMove(&scope, right - QPoint(200, 0));
    QTest::qWait(30);
    QTest::mouseRelease(&scope, Qt::LeftButton, {}, right - QPoint(200, 0));
    QTRY_VERIFY(scope.view().u0 > u0);
    QVERIFY(QDir().mkpath(IMSM_SCREENSHOTS));
    QVERIFY(scope.grabFramebuffer().save(IMSM_SCREENSHOTS "/gate-scope-unit.png"));
    QTest::keyClick(&scope, Qt::Key_Home);
    QTRY_COMPARE(scope.view().u1 - scope.view().u0, 1.0);

    // Ordering: by mean gate over the tokens, highest first, as computed here.
    std::vector<double> mean(kDims, 0);
    for (int64_t d = 0; d < kDims; ++d)
      for (int64_t t = 0; t < kTokens; ++t) mean[d] += at(scope.gate(), t, d) / kTokens;
    std::vector<int64_t> want(kDims);
    std::iota(want.begin(), want.end(), 0);
    std::stable_sort(want.begin(), want.end(), [&](int64_t a, int64_t b) { return mean[a] > mean[b]; });
    scope.set_order(ui::GateScope::Order::MeanGate);
    QCOMPARE(scope.row_dims(), want);
    QTest::mouseMove(&scope, left);
    QTRY_VERIFY(scope.hover().on);
    QCOMPARE(scope.hover().g, at(scope.gate(), scope.hover().token, scope.hover().dim));  // the readout follows the order
    scope.set_order(ui::GateScope::Order::Index);
    QCOMPARE(scope.row_dims().front(), int64_t{0});
  }

  // The tokens' full gates make the matrix; tokens without one are left out.
  void matrixOfTraces() {
    std::vector<TokenTrace> tokens(3);
    tokens[0].piece = "a";
    tokens[0].gate = {0.25f, 0.75f};
    tokens[2].piece = "c";
    tokens[2].gate = {1.0f, 0.0f};
    const auto m = ui::GateMatrix::of(tokens);
    QCOMPARE(m.tokens, int64_t{2});
    QCOMPARE(m.dims, int64_t{2});
    QCOMPARE(m.pieces, (std::vector<std::string>{"a", "c"}));
    QCOMPARE(m.g, (std::vector<float>{0.25f, 0.75f, 1.0f, 0.0f}));
  }
};

QTEST_MAIN(GateScopeTest)
#include "test_gate_scope.moc"
