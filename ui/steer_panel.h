// Steering the memory mix: the gate clamped to a constant (0: the fine-tuned
// memory, 1: the original) for chosen answer tokens or all, regenerated and
// shown beside the unsteered answer; under each answer a row per token with
// its probability under the original, the fine-tuned and the mixed
// distribution, the three entropies and KL(original ‖ tuned) — where the two
// memories disagree and which one the gate followed. Shows and asks; the
// inspector generates (recipes/generate.h's clamp).
#pragma once
#include <QString>
#include <QWidget>

#include <optional>
#include <vector>

#include "eval/token_trace.h"

class QDoubleSpinBox;
class QLineEdit;
class QPushButton;
class QTableWidget;
class QTextBrowser;

namespace imsm::ui {

class SteerPanel : public QWidget {
  Q_OBJECT
 public:
  explicit SteerPanel(QWidget* parent = nullptr);
  void show_original(const std::vector<TokenTrace>& tokens);  // the unsteered answer
  void show_steered(const std::vector<TokenTrace>& tokens);
  double clamp_value() const;
  void set_clamp(double value, const QString& tokens);  // tests; the widgets do the same
  // The answer tokens to clamp ("0, 2-4"; empty: all); nullopt and `error` set when the text is not positions.
  std::optional<std::vector<int64_t>> clamp_tokens(QString* error) const;
  QPushButton* steer_button() const { return steer_; }
  QTableWidget* original_table() const { return tables_[0]; }
  QTableWidget* steered_table() const { return tables_[1]; }

 signals:
  void steer_requested();

 private:
  void fill(int side, const std::vector<TokenTrace>& tokens);

  QDoubleSpinBox* value_;
  QLineEdit* tokens_;
  QPushButton* steer_;
  QTextBrowser* answers_[2];
  QTableWidget* tables_[2];
};

}  // namespace imsm::ui
