#include "plot_style.h"

#include <QApplication>
#include <QPalette>

#include <qcustomplot.h>

namespace imsm::ui {

QColor series_colour(int i) {
  static const QColor colours[] = {QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44), QColor(214, 39, 40),
                                   QColor(148, 103, 189), QColor(140, 86, 75), QColor(227, 119, 194), QColor(127, 127, 127),
                                   QColor(188, 189, 34), QColor(23, 190, 207)};
  return colours[static_cast<size_t>(i) % (sizeof colours / sizeof colours[0])];
}

void style_plot(QCustomPlot* plot) {
  const QPalette pal = QApplication::palette();
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
  plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
}

}  // namespace imsm::ui
