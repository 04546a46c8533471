// imsm-workbench: the desktop workbench. Opens the workspace given on the
// command line, else the last one used, else the quick-start workspace.
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QSettings>

#include "main_window.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("IMSM Workbench");
  QApplication::setApplicationName("imsm-workbench");
  QApplication::setApplicationVersion("0.1.0");
  QCommandLineParser parser;
  parser.setApplicationDescription("IMSM Workbench: fine-tune LLMs with IMSM and see what they forget");
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument("workspace", "Workspace file (.imsm) to open; created when missing");
  parser.process(app);

  QString path;
  if (!parser.positionalArguments().isEmpty()) {
    path = parser.positionalArguments().first();
  } else {
    const QStringList recent = QSettings().value("recent").toStringList();
    const QString quickstart = QDir(QApplication::applicationDirPath()).filePath("../../runs/quickstart/workspace.imsm");
    if (!recent.isEmpty() && QFileInfo::exists(recent.first())) path = recent.first();
    else if (QFileInfo::exists(quickstart)) path = QFileInfo(quickstart).canonicalFilePath();
    else path = QDir::current().filePath("workspace.imsm");
  }
  imsm::ui::MainWindow window;
  window.show();
  window.open_workspace(path);
  return QApplication::exec();
}
