#include "run_fields.h"

#include <QGridLayout>

#include <algorithm>

#include "util/error.h"

namespace imsm::ui {

NameChecks::NameChecks(const std::vector<std::string>& names, int columns, QWidget* parent) : QWidget(parent) {
  auto* grid = new QGridLayout(this);
  grid->setContentsMargins(0, 0, 0, 0);
  for (const std::string& name : names) {
    auto* box = new QCheckBox(QString::fromStdString(name), this);
    grid->addWidget(box, static_cast<int>(boxes_.size()) / columns, static_cast<int>(boxes_.size()) % columns);
    connect(box, &QCheckBox::toggled, this, &NameChecks::changed);
    boxes_ << box;
  }
}

std::vector<std::string> NameChecks::checked() const {
  std::vector<std::string> out;
  for (QCheckBox* box : boxes_)
    if (box->isChecked()) out.push_back(box->text().toStdString());
  return out;
}

void NameChecks::set_checked(const std::vector<std::string>& names) {
  for (QCheckBox* box : boxes_) box->setChecked(std::find(names.begin(), names.end(), box->text().toStdString()) != names.end());
}

QWidget* RunFields::add(const std::string& key, QWidget* widget, const QString& tooltip) {
  if (!tooltip.isEmpty()) widget->setToolTip(tooltip);
  fields_.emplace_back(key, widget);
  return widget;
}

QWidget* RunFields::operator[](const std::string& key) const {
  for (const auto& [k, w] : fields_)
    if (k == key) return w;
  throw_internal("run dialog: no field for the key \"" + key + "\"");
}

QString RunFields::text(const std::string& key) const {
  QWidget* w = (*this)[key];
  if (auto* c = qobject_cast<QComboBox*>(w)) return c->currentText();
  if (auto* e = qobject_cast<QLineEdit*>(w)) return e->text();
  throw_internal("run dialog: the field \"" + key + "\" has no text");
}

nlohmann::json RunFields::values() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [key, w] : fields_) {
    if (auto* c = qobject_cast<QComboBox*>(w)) j[key] = c->currentText().toStdString();
    else if (auto* s = qobject_cast<QSpinBox*>(w)) j[key] = s->value();
    else if (auto* d = qobject_cast<QDoubleSpinBox*>(w)) j[key] = d->value();
    else if (auto* e = qobject_cast<QLineEdit*>(w)) j[key] = e->text().trimmed().toStdString();
    else if (auto* b = qobject_cast<QCheckBox*>(w)) j[key] = b->isChecked();
    else if (auto* n = qobject_cast<NameChecks*>(w)) j[key] = n->checked();
  }
  return j;
}

namespace {

QString text_of(const nlohmann::json& v) { return QString::fromStdString(v.is_string() ? v.get<std::string>() : v.dump()); }

void set_combo(QComboBox* c, const QString& v) {
  const int i = c->findText(v);
  if (i >= 0) c->setCurrentIndex(i);
  else if (c->isEditable()) c->setEditText(v);
}

}  // namespace

bool RunFields::set(const std::string& key, const nlohmann::json& v) {
  for (const auto& [k, w] : fields_) {
    if (k != key) continue;
    if (auto* c = qobject_cast<QComboBox*>(w)) set_combo(c, text_of(v));
    else if (auto* s = qobject_cast<QSpinBox*>(w)) s->setValue(v.is_number() ? v.get<int>() : text_of(v).toInt());
    else if (auto* d = qobject_cast<QDoubleSpinBox*>(w)) d->setValue(v.is_number() ? v.get<double>() : text_of(v).toDouble());
    else if (auto* e = qobject_cast<QLineEdit*>(w)) e->setText(text_of(v));
    else if (auto* b = qobject_cast<QCheckBox*>(w)) b->setChecked(v.is_boolean() ? v.get<bool>() : text_of(v) == "true");
    else if (auto* n = qobject_cast<NameChecks*>(w); n && v.is_array()) {
      std::vector<std::string> names;
      for (const auto& name : v)
        if (name.is_string()) names.push_back(name.get<std::string>());
      n->set_checked(names);
    }
    return true;
  }
  return false;
}

}  // namespace imsm::ui
