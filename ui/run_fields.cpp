#include "run_fields.h"

#include <QGridLayout>

#include <algorithm>

#include "config/train_config.h"
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

namespace {

constexpr int kLargestCount = 1000000000;

// `items` with `current` chosen; an empty `current` that `items` do not offer (a required path) picks the first item.
QComboBox* choices_box(QWidget* parent, const QStringList& items, const QString& current, bool editable) {
  auto* c = new QComboBox(parent);
  c->addItems(items);
  c->setEditable(editable);
  if (current.isEmpty() && !items.isEmpty() && !items.contains(QString())) return c;
  if (c->findText(current) < 0) c->insertItem(0, current);
  c->setCurrentText(current);
  return c;
}

QSpinBox* integer_box(QWidget* parent, Range range, int64_t value) {
  auto* s = new QSpinBox(parent);
  const int lo = range == Range::Positive ? 1 : range == Range::Any ? -1 : 0;  // Any: loss_chunk_size's -1 (automatic)
  s->setRange(lo, kLargestCount);
  s->setValue(static_cast<int>(value));
  return s;
}

QDoubleSpinBox* number_box(QWidget* parent, Range range, double value) {
  auto* s = new QDoubleSpinBox(parent);
  s->setDecimals(4);
  switch (range) {
    case Range::Positive: s->setRange(1e-7, 1e9); break;
    case Range::NonNegative: s->setRange(0, 1e9); break;
    case Range::Probability: s->setRange(0, 0.999); break;
    case Range::Ratio: s->setRange(0, 1); break;
    case Range::Any: s->setRange(-1e9, 1e9); break;
  }
  s->setSingleStep(range == Range::Probability || range == Range::Ratio ? 0.05 : 1);
  s->setValue(value);
  return s;
}

QStringList texts(const std::vector<std::string>& names) {
  QStringList out;
  for (const auto& n : names) out << QString::fromStdString(n);
  return out;
}

}  // namespace

QWidget* RunFields::add_key(const std::string& key, QWidget* parent, const QStringList& suggestions) {
  const TrainKey* k = find_train_key(key);
  if (!k) throw_internal("run dialog: \"" + key + "\" is not a key of the training configuration");
  const nlohmann::json& d = k->default_value;
  QWidget* w = nullptr;
  switch (k->type) {
    case KeyType::Choice: w = choices_box(parent, texts(k->choices), QString::fromStdString(d.get<std::string>()), false); break;
    case KeyType::Device: w = choices_box(parent, {"cpu", "cuda", "cuda:0", "cuda:1"}, QString::fromStdString(d.get<std::string>()), true); break;
    case KeyType::Text:
      if (suggestions.isEmpty()) w = new QLineEdit(QString::fromStdString(d.get<std::string>()), parent);
      else w = choices_box(parent, suggestions, QString::fromStdString(d.get<std::string>()), true);
      break;
    case KeyType::Integer: w = integer_box(parent, k->range, d.get<int64_t>()); break;
    case KeyType::Number: w = number_box(parent, k->range, d.get<double>()); break;
    case KeyType::Boolean: {
      auto* b = new QCheckBox(parent);
      b->setChecked(d.get<bool>());
      w = b;
      break;
    }
    case KeyType::Modules: {
      auto* n = new NameChecks(k->choices, 4, parent);
      n->set_checked(d.get<std::vector<std::string>>());
      w = n;
      break;
    }
    case KeyType::Layers: throw_internal("run dialog: no widget for a list of layers (\"" + key + "\")");
  }
  return add(key, w, QString::fromStdString(k->help));
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

std::vector<std::string> RunFields::keys() const {
  std::vector<std::string> out;
  for (const auto& [k, w] : fields_) out.push_back(k);
  return out;
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
