// One look for every plot of the workbench: the system palette's colours
// (light or dark, followed when the desktop switches), readable fonts, a
// distinct colour per series.
#pragma once
#include <QColor>

class QCustomPlot;

namespace imsm::ui {

void style_plot(QCustomPlot* plot);
QColor series_colour(int i);

}  // namespace imsm::ui
