// The run dialog's one table of keys: each `imsm train` key with the widget
// that edits it and the tooltip that says what it does. The table reads the
// widgets as a configuration, sets them from one (presets, tests) and tells a
// receiver when any of them changes; the dialog only lays the widgets out.
#pragma once
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLineEdit>
#include <QSpinBox>
#include <QStringList>
#include <QWidget>

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace imsm::ui {

// A list-valued key: one check box per name (target_modules).
class NameChecks : public QWidget {
  Q_OBJECT
 public:
  NameChecks(const std::vector<std::string>& names, int columns, QWidget* parent);
  std::vector<std::string> checked() const;
  void set_checked(const std::vector<std::string>& names);  // the others unchecked
  const QList<QCheckBox*>& boxes() const { return boxes_; }
 signals:
  void changed();

 private:
  QList<QCheckBox*> boxes_;
};

class RunFields {
 public:
  // The widget of `key` made from the engine's key table (config/train_config.h: train_keys()): its choices,
  // range and default, its help as the tooltip. `suggestions` turn a text key into an editable list (the
  // workspace's models and datasets, the tasks). An internal error for a key the table does not have.
  QWidget* add_key(const std::string& key, QWidget* parent, const QStringList& suggestions = {});
  // `widget` edits `key`: a QComboBox (its text), QSpinBox, QDoubleSpinBox,
  // QLineEdit (its trimmed text), QCheckBox (true/false) or NameChecks (a list).
  QWidget* add(const std::string& key, QWidget* widget, const QString& tooltip = {});
  QWidget* operator[](const std::string& key) const;  // the key's widget (an internal error if none)
  QString text(const std::string& key) const;          // a combo box's or line edit's text
  std::vector<std::string> keys() const;               // in the order they were added

  nlohmann::json values() const;  // every key with its widget's value
  // Sets a key's widget from a JSON value or its text ("25", "true"); false: no such key.
  bool set(const std::string& key, const nlohmann::json& value);

  // `slot` runs on every edit of every widget.
  template <typename Receiver>
  void on_change(Receiver* receiver, void (Receiver::*slot)()) const;

 private:
  std::vector<std::pair<std::string, QWidget*>> fields_;
};

template <typename Receiver>
void RunFields::on_change(Receiver* receiver, void (Receiver::*slot)()) const {
  for (const auto& [key, w] : fields_) {
    if (auto* c = qobject_cast<QComboBox*>(w)) QObject::connect(c, &QComboBox::currentTextChanged, receiver, slot);
    else if (auto* s = qobject_cast<QSpinBox*>(w)) QObject::connect(s, &QSpinBox::valueChanged, receiver, slot);
    else if (auto* d = qobject_cast<QDoubleSpinBox*>(w)) QObject::connect(d, &QDoubleSpinBox::valueChanged, receiver, slot);
    else if (auto* e = qobject_cast<QLineEdit*>(w)) QObject::connect(e, &QLineEdit::textChanged, receiver, slot);
    else if (auto* b = qobject_cast<QCheckBox*>(w)) QObject::connect(b, &QCheckBox::toggled, receiver, slot);
    else if (auto* n = qobject_cast<NameChecks*>(w)) QObject::connect(n, &NameChecks::changed, receiver, slot);
  }
}

}  // namespace imsm::ui
