// Export: the workspace report (HTML, Markdown, CSV as `imsm report` writes
// them; PDF through Qt's PDF writer from the HTML report, its SVG plots drawn
// as images) and any plot as PNG, SVG or PDF, with a right-click menu on every
// plot; and what to export of a run's model (its folder, dtype), asked of the user.
#pragma once
#include <QList>
#include <QString>

#include <memory>
#include <optional>

#include "recipes/export.h"

class QCustomPlot;
class QTextDocument;
class QWidget;

namespace imsm::ui {

// The HTML report as a document for printing: text, tables, and the plots as images. Throws on a bad workspace.
std::unique_ptr<QTextDocument> report_document(const QString& workspace, const QList<qint64>& run_ids);
// By the extension of `out`: .html, .md, .csv or .pdf. "" on success, else the message.
QString export_report(const QString& workspace, const QList<qint64>& run_ids, const QString& out);
// By the extension: .png, .svg or .pdf. "" on success, else the message.
QString save_plot(QCustomPlot* plot, const QString& out);
// "Save plot as…" on right click.
void add_plot_menu(QCustomPlot* plot);

// Asks where and how to write the model of a finished training run (the
// Export dialog: format, dtype or quantization; export_dialog.h) and whether
// to replace a folder that is not empty; nullopt when the user cancels or the
// run has no adapter (said in a message box).
std::optional<ExportRequest> ask_model_export(QWidget* parent, const QString& workspace, qint64 run_id);

}  // namespace imsm::ui
