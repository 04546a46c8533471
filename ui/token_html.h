// Generated tokens as the views show them: each a link ("tok:N") coloured by
// its mean gate, and the hover text with its gate and the three streams'
// top candidates. Shared by the memory-mixing inspector and the chat arena.
#pragma once
#include <QColor>
#include <QString>

#include <vector>

#include "eval/token_trace.h"

namespace imsm::ui {

// The gate g weighs the original memory (h = g·h_M + (1−g)·h_M', as the engine
// and the report): g = 1 blue (original), g = 0 orange (fine-tuned), lightened
// so that text on top stays legible.
QColor gate_colour(float g);

// The tokens as HTML links "tok:N" on their gate's colour (grey without a gate); newlines shown as ⏎.
QString gate_tokens_html(const std::vector<TokenTrace>& tokens);

// Token `index`'s hover text: id, piece, gate statistics, each stream's top candidates.
QString token_details_html(const TokenTrace& token, int index);

}  // namespace imsm::ui
