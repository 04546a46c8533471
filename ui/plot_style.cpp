#include "plot_style.h"

#include <QEvent>
#include <QPalette>

#include <qcustomplot.h>

namespace imsm::ui {

QColor series_colour(int i) {
  static const QColor colours[] = {QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44), QColor(214, 39, 40),
                                   QColor(148, 103, 189), QColor(140, 86, 75), QColor(227, 119, 194), QColor(127, 127, 127),
                                   QColor(188, 189, 34), QColor(23, 190, 207)};
  return colours[static_cast<size_t>(i) % (sizeof colours / sizeof colours[0])];
}

namespace {

// The plot's colours from its palette (the system's light or dark one).
void apply_palette(QCustomPlot* plot) {
  const QPalette pal = plot->palette();
  const QColor bg = pal.color(QPalette::Base), fg = pal.color(QPalette::Text);
  QColor grid = fg;
  grid.setAlpha(40);
  plot->setBackground(bg);
  for (QCPAxis* axis : plot->axisRect()->axes()) {
    axis->setBasePen(QPen(fg));
    axis->setTickPen(QPen(fg));
    axis->setSubTickPen(QPen(fg));
    axis->setTickLabelColor(fg);
    axis->setLabelColor(fg);
    axis->grid()->setPen(QPen(grid, 1, Qt::DotLine));
  }
  plot->legend->setBrush(bg);
  plot->legend->setTextColor(fg);
  plot->legend->setBorderPen(QPen(grid));
}

// Restyles its plot when the palette changes (the desktop switched between light and dark).
class PaletteFollower : public QObject {
 public:
  explicit PaletteFollower(QCustomPlot* plot) : QObject(plot), plot_(plot) { plot->installEventFilter(this); }
  bool eventFilter(QObject* watched, QEvent* event) override {
    if (watched == plot_ && event->type() == QEvent::PaletteChange) {
      apply_palette(plot_);
      plot_->replot();
    }
    return false;
  }

 private:
  QCustomPlot* plot_;
};

}  // namespace

void style_plot(QCustomPlot* plot) {
  apply_palette(plot);
  new PaletteFollower(plot);  // owned by the plot
  plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
}

}  // namespace imsm::ui
