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

// A problem as it grows: its text, the worked solution, the amount so far.
struct Problem {
  std::string text, solution;
  int64_t value = 0;
};

// The first step sets the amount: A has x, buys x boxes of y, or has x and finds y.
Problem first_step(Rng& r, const std::string& a, const std::string& item, int64_t M) {
  Problem p;
  switch (r.in(0, 2)) {
    case 0: {
      const int64_t x = r.in(2, M);
      p.value = x;
      p.text = a + " has " + num(x) + " " + item + ".";
      break;
    }
    case 1: {
      const int64_t x = r.in(2, std::max<int64_t>(2, std::min<int64_t>(9, M))), y = r.in(2, std::max<int64_t>(2, std::min<int64_t>(9, M)));
      p.value = x * y;
      p.text = a + " buys " + num(x) + " boxes with " + num(y) + " " + item + " in each box.";
      p.solution += num(x) + " * " + num(y) + " = " + num(p.value) + "\n";
      break;
    }
    default: {
      const int64_t x = r.in(2, M), y = r.in(2, M);
      p.value = x + y;
      p.text = a + " has " + num(x) + " " + item + " and finds " + num(y) + " more.";
      p.solution += num(x) + " + " + num(y) + " = " + num(p.value) + "\n";
      break;
    }
  }
  return p;
}

// A further step changes it: B gives more, A gives some away, it grows, A buys more.
void further_step(Rng& r, Problem& p, const std::string& a, const std::string& b, const std::string& item, int64_t M) {
  const int64_t kind = r.in(0, 3);
  if (kind == 0) {
    const int64_t y = r.in(1, M);
    p.text += " " + b + " gives " + a + " " + num(y) + " more " + item + ".";
    p.solution += num(p.value) + " + " + num(y) + " = " + num(p.value + y) + "\n";
    p.value += y;
  } else if (kind == 1 && p.value > 1) {
    const int64_t y = r.in(1, std::min(p.value - 1, M));
    p.text += " Then " + a + " gives " + num(y) + " " + item + " to " + b + ".";
    p.solution += num(p.value) + " - " + num(y) + " = " + num(p.value - y) + "\n";
    p.value -= y;
  } else if (kind == 2 && p.value <= 50) {
    const int64_t y = r.in(2, 4);
    p.text += " Then the number of " + item + " grows " + num(y) + " times.";
    p.solution += num(p.value) + " * " + num(y) + " = " + num(p.value * y) + "\n";
    p.value *= y;
  } else {
    const int64_t y = r.in(1, M);
    p.text += " " + a + " buys " + num(y) + " more " + item + ".";
    p.solution += num(p.value) + " + " + num(y) + " = " + num(p.value + y) + "\n";
    p.value += y;
  }
}

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
    Problem p = first_step(r, a, item, M);
    for (int64_t s = 1; s < steps; ++s) further_step(r, p, a, b, item, M);
    p.text += " How many " + item + " does " + a + " have now?";
    if (p.solution.empty()) p.solution = a + " has " + num(p.value) + " " + item + ".\n";
    out.push_back({arith_prompt(p.text), {p.solution + "#### " + num(p.value)}});
  }
  return out;
}

}  // namespace imsm::data
