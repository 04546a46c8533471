#include "data/numeracy.h"

#include <algorithm>

#include "data/shuffle.h"

#include "util/error.h"

namespace imsm::data {

namespace {
std::string eq(int64_t a, const char* op, int64_t b, int64_t c) {
  return std::to_string(a) + " " + op + " " + std::to_string(b) + " = " + std::to_string(c);
}
}  // namespace

std::vector<std::string> numeracy_facts(const NumeracyOptions& o) {
  if (o.max_value < 1 || o.max_addend < 1 || o.max_factor < 2 || o.max_scaled < 0 || o.facts_per_document < 1)
    throw_bad_input("numbers", "max_value, max_addend and facts_per_document must be positive and max_factor at least 2");
  std::vector<std::string> facts;
  for (int64_t a = 0; a <= o.max_value; ++a)
    for (int64_t b = 0; b <= o.max_addend; ++b) {
      facts.push_back(eq(a, "+", b, a + b));
      facts.push_back(eq(a + b, "-", b, a));
    }
  for (int64_t x = 2; x <= o.max_factor; ++x)
    for (int64_t y = 2; y <= o.max_factor; ++y) facts.push_back(eq(x, "*", y, x * y));
  for (int64_t a = 0; a <= o.max_scaled; ++a)
    for (int64_t k = 2; k <= 4; ++k)
      if (a < 2 || a > o.max_factor || k > o.max_factor) facts.push_back(eq(a, "*", k, a * k));  // the table has the rest
  return facts;
}

std::vector<std::string> numeracy_corpus(const NumeracyOptions& o) {
  auto facts = numeracy_facts(o);
  shuffle(facts, o.seed);
  std::vector<std::string> docs;
  for (size_t i = 0; i < facts.size(); i += static_cast<size_t>(o.facts_per_document)) {
    std::string doc = "# Number facts";
    for (size_t j = i; j < std::min(facts.size(), i + static_cast<size_t>(o.facts_per_document)); ++j) doc += "\n" + facts[j];
    docs.push_back(doc);
  }
  return docs;
}

}  // namespace imsm::data
