#include "data/arith.h"

#include <algorithm>
#include <random>
#include <string>

namespace imsm::data {

namespace {

const char* const kNames[] = {"Tom", "Anna", "Ravi", "Mia", "Leo", "Sara", "Ben", "Lina", "Omar", "Eva", "Kai", "Nora"};
const char* const kItems[] = {"apples", "books", "pencils", "stamps", "marbles", "cookies", "shells", "cards", "coins", "flowers"};

struct Rng {
  std::mt19937_64 g;
  int64_t in(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(g() % static_cast<uint64_t>(hi - lo + 1)); }
  template <size_t N>
  const char* pick(const char* const (&list)[N]) { return list[g() % N]; }
};

std::string num(int64_t v) { return std::to_string(v); }

}  // namespace

std::string arith_prompt(const std::string& problem) {
  return "Question: " + problem + "\nAnswer:";
}

std::vector<Record> arith_problems(const ArithOptions& o) {
  Rng r{std::mt19937_64(o.seed)};
  std::vector<Record> out;
  while (static_cast<int64_t>(out.size()) < o.count) {
    const std::string a = r.pick(kNames), item = r.pick(kItems);
    std::string b = r.pick(kNames);
    while (b == a) b = r.pick(kNames);
    const int64_t steps = r.in(1, std::max<int64_t>(1, std::min<int64_t>(3, o.max_steps)));
    const int64_t M = std::max<int64_t>(2, o.max_operand);
    // The first step sets the amount.
    int64_t value = 0;
    std::string problem, solution;
    switch (r.in(0, 2)) {
      case 0: {
        const int64_t x = r.in(2, M);
        value = x;
        problem = a + " has " + num(x) + " " + item + ".";
        break;
      }
      case 1: {
        const int64_t x = r.in(2, std::max<int64_t>(2, std::min<int64_t>(9, M))), y = r.in(2, std::max<int64_t>(2, std::min<int64_t>(9, M)));
        value = x * y;
        problem = a + " buys " + num(x) + " boxes with " + num(y) + " " + item + " in each box.";
        solution += num(x) + " * " + num(y) + " = " + num(value) + "\n";
        break;
      }
      default: {
        const int64_t x = r.in(2, M), y = r.in(2, M);
        value = x + y;
        problem = a + " has " + num(x) + " " + item + " and finds " + num(y) + " more.";
        solution += num(x) + " + " + num(y) + " = " + num(value) + "\n";
        break;
      }
    }
    // Further steps change it.
    for (int64_t s = 1; s < steps; ++s) {
      const int64_t kind = r.in(0, 3);
      if (kind == 0) {
        const int64_t y = r.in(1, M);
        problem += " " + b + " gives " + a + " " + num(y) + " more " + item + ".";
        solution += num(value) + " + " + num(y) + " = " + num(value + y) + "\n";
        value += y;
      } else if (kind == 1 && value > 1) {
        const int64_t y = r.in(1, std::min(value - 1, M));
        problem += " Then " + a + " gives " + num(y) + " " + item + " to " + b + ".";
        solution += num(value) + " - " + num(y) + " = " + num(value - y) + "\n";
        value -= y;
      } else if (kind == 2 && value <= 50) {
        const int64_t y = r.in(2, 4);
        problem += " Then the number of " + item + " grows " + num(y) + " times.";
        solution += num(value) + " * " + num(y) + " = " + num(value * y) + "\n";
        value *= y;
      } else {
        const int64_t y = r.in(1, M);
        problem += " " + a + " buys " + num(y) + " more " + item + ".";
        solution += num(value) + " + " + num(y) + " = " + num(value + y) + "\n";
        value += y;
      }
    }
    problem += " How many " + item + " does " + a + " have now?";
    if (solution.empty()) solution = a + " has " + num(value) + " " + item + ".\n";
    out.push_back({arith_prompt(problem), {solution + "#### " + num(value)}});
  }
  return out;
}

}  // namespace imsm::data
