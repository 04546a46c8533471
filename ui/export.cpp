#include "export.h"

#include <QFileDialog>
#include <QDir>
#include <QFileInfo>
#include <QMenu>
#include <QMessageBox>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSvgGenerator>
#include <QSvgRenderer>
#include <QTextDocument>
#include <QUrl>

#include <exception>
#include <memory>
#include <vector>

#include <qcustomplot.h>

#include "export_dialog.h"
#include "recipes/environment.h"
#include "report/report.h"
#include "store/workspace.h"
#include "views/run_table.h"

namespace imsm::ui {

namespace {
report::Options report_options(const QList<qint64>& run_ids) {
  report::Options o;
  o.run_ids.assign(run_ids.begin(), run_ids.end());
  return o;
}
}  // namespace

std::unique_ptr<QTextDocument> report_document(const QString& workspace, const QList<qint64>& run_ids) {
  const store::Workspace ws(workspace.toStdString(), store::Workspace::Mode::ReadOnly);
  // The HTML report, each inline SVG plot drawn by Qt's SVG renderer into an image the document holds
  // (QTextDocument's HTML has no SVG): the PDF shows the same tables, text and plots as report.html.
  QString html = QString::fromStdString(report::html_report(ws, report_options(run_ids), report_environment()));
  auto doc = std::make_unique<QTextDocument>();
  for (int n = 0, at; (at = html.indexOf("<svg")) >= 0; ++n) {
    const int end = html.indexOf("</svg>", at);
    if (end < 0) break;
    const QByteArray svg = html.mid(at, end + 6 - at).toUtf8();
    QSvgRenderer renderer(svg);
    const QSize size = renderer.defaultSize();
    QImage image(size * 2, QImage::Format_ARGB32);
    image.fill(Qt::white);
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    renderer.render(&painter);
    painter.end();
    const QString name = QString("imsm-plot-%1.png").arg(n);
    doc->addResource(QTextDocument::ImageResource, QUrl(name), image);
    html.replace(at, end + 6 - at, QString("<img src=\"%1\" width=\"%2\" height=\"%3\"/>").arg(name).arg(size.width()).arg(size.height()));
  }
  doc->setHtml(html);
  return doc;
}

QString export_report(const QString& workspace, const QList<qint64>& run_ids, const QString& out) {
  try {
    const QString ext = QFileInfo(out).suffix().toLower();
    if (ext != "pdf") {
      const store::Workspace ws(workspace.toStdString(), store::Workspace::Mode::ReadOnly);
      report::write_report(ws, report_options(run_ids), report_environment(), out.toStdString());
      return {};
    }
    const auto doc = report_document(workspace, run_ids);
    QPdfWriter pdf(out);
    pdf.setPageSize(QPageSize(QPageSize::A4));
    pdf.setResolution(96);
    pdf.setTitle("IMSM Workbench report");
    pdf.setCreator("imsm-workbench");
    doc->setPageSize(QSizeF(pdf.width(), pdf.height()));
    doc->print(&pdf);
    return QFileInfo(out).size() > 0 ? QString() : QObject::tr("could not write %1").arg(out);
  } catch (const std::exception& e) {
    return QString::fromUtf8(e.what());
  }
}

QString save_plot(QCustomPlot* plot, const QString& out) {
  const QString ext = QFileInfo(out).suffix().toLower();
  const int w = std::max(plot->width(), 640), h = std::max(plot->height(), 360);
  bool ok = false;
  if (ext == "png") {
    ok = plot->savePng(out, w, h, 2.0);
  } else if (ext == "pdf") {
    ok = plot->savePdf(out, w, h);
  } else if (ext == "svg") {
    QSvgGenerator svg;
    svg.setFileName(out);
    svg.setSize(QSize(w, h));
    svg.setViewBox(QRect(0, 0, w, h));
    svg.setTitle("IMSM Workbench plot");
    QCPPainter painter(&svg);
    plot->toPainter(&painter, w, h);
    painter.end();
    ok = QFileInfo(out).size() > 0;
  } else {
    return QObject::tr("%1: choose a .png, .svg or .pdf file name").arg(out);
  }
  return ok ? QString() : QObject::tr("could not write %1").arg(out);
}

void add_plot_menu(QCustomPlot* plot) {
  plot->setContextMenuPolicy(Qt::CustomContextMenu);
  QObject::connect(plot, &QWidget::customContextMenuRequested, plot, [plot](const QPoint& pos) {
    QMenu menu(plot);
    QAction* save = menu.addAction(QObject::tr("Save plot as PNG, SVG or PDF…"));
    QAction* reset = menu.addAction(QObject::tr("Reset zoom"));
    QAction* chosen = menu.exec(plot->mapToGlobal(pos));
    if (chosen == reset) {
      plot->rescaleAxes();
      plot->replot();
    } else if (chosen == save) {
      const QString f = QFileDialog::getSaveFileName(plot, QObject::tr("Save plot"), "plot.png", QObject::tr("Images (*.png *.svg *.pdf)"));
      if (!f.isEmpty()) save_plot(plot, f);
    }
  });
}

std::optional<ExportRequest> ask_model_export(QWidget* parent, const QString& workspace, qint64 run_id) {
  std::optional<ExportRequest> request;
  AdapterSummary adapter;
  QString training_data;
  try {
    const store::Workspace ws(workspace.toStdString(), store::Workspace::Mode::ReadOnly);
    const store::RunRecord run = ws.run(run_id);
    request = export_request_of(run);
    if (request) adapter = summarize_adapter(request->adapter_dir);
    if (QFileInfo::exists(QString::fromStdString(run.dataset_path))) training_data = QString::fromStdString(run.dataset_path);
  } catch (const std::exception& e) {
    QMessageBox::warning(parent, QObject::tr("Export"), QString::fromUtf8(e.what()));
    return std::nullopt;
  }
  if (!request) {
    QMessageBox::information(parent, QObject::tr("Nothing to export"),
                             QObject::tr("Run %1 has no adapter folder: it did not finish, or its output folder moved.").arg(run_id));
    return std::nullopt;
  }
  ExportDialog dialog(*request, adapter, training_data, parent);
  if (dialog.exec() != QDialog::Accepted) return std::nullopt;
  request = dialog.request();
  const QString out = QString::fromStdString(request->out_dir);
  const QDir target(out);
  if (target.exists() && !target.isEmpty()) {
    const auto answer = QMessageBox::question(parent, QObject::tr("Replace the folder?"),
                                              QObject::tr("%1 is not empty. Replace it once the export is written?").arg(out));
    if (answer != QMessageBox::Yes) return std::nullopt;
    request->force = true;
  }
  return request;
}

}  // namespace imsm::ui
