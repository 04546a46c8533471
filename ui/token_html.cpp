#include "token_html.h"

#include <QCoreApplication>
#include <QStringList>

#include "report/gate_colour.h"

namespace imsm::ui {
namespace {

QString tr(const char* text) { return QCoreApplication::translate("TokenHtml", text); }

QString candidates(const std::vector<Candidate>& list) {
  QStringList parts;
  for (const auto& c : list) parts << QString("'%1' %2").arg(QString::fromStdString(c.piece).toHtmlEscaped()).arg(c.prob, 0, 'f', 3);
  return parts.join(", ");
}

}  // namespace

QColor gate_colour(float g) {
  const report::Rgb c = report::gate_text_background(g);
  return QColor(c.r, c.g, c.b);
}

QString gate_tokens_html(const std::vector<TokenTrace>& tokens) {
  QString html;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const auto& t = tokens[i];
    QString piece = QString::fromStdString(t.piece).toHtmlEscaped();
    piece.replace("\n", "⏎\n");
    if (piece.isEmpty()) piece = QString("[%1]").arg(t.id);
    const QColor c = t.gate_mean < 0 ? QColor(230, 230, 230) : gate_colour(t.gate_mean);
    html += QString("<a href='tok:%1' style='background-color:%2; color:#000; text-decoration:none'>%3</a>").arg(i).arg(c.name(), piece);
  }
  return html;
}

QString token_details_html(const TokenTrace& t, int index) {
  QString s = tr("<b>token %1</b>: id %2, '%3'").arg(index).arg(t.id).arg(QString::fromStdString(t.piece).toHtmlEscaped());
  if (t.gate_mean >= 0)
    s += tr("<br>gate mean %1 (min %2, max %3)").arg(t.gate_mean, 0, 'f', 3).arg(t.gate_min, 0, 'f', 3).arg(t.gate_max, 0, 'f', 3);
  if (!t.top_mixed.empty()) {
    s += tr("<br><b>original</b>: ") + candidates(t.top_original);
    s += tr("<br><b>fine-tuned</b>: ") + candidates(t.top_tuned);
    s += tr("<br><b>mix</b>: ") + candidates(t.top_mixed);
  }
  return s;
}

}  // namespace imsm::ui
