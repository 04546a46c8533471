// An enum's names, declared once: what a setting may be, how it is written,
// and how its text is read back (BadInput naming the key and the choices).
// A setting is compared as its enum everywhere; its text exists only where a
// file or a flag is read or written.
//
//   const Choices<LrSchedule>& lr_schedules() {
//     static const Choices<LrSchedule> c = {{"cosine", LrSchedule::Cosine}, {"linear", LrSchedule::Linear}, ...};
//     return c;
//   }
#pragma once
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "util/error.h"

namespace imsm {

template <class E>
struct Named {
  const char* name;
  E value;
  bool alias = false;  // also read as this value, never written
};

template <class E>
class Choices {
 public:
  Choices(std::initializer_list<Named<E>> names) : names_(names) {}

  // The written name of `value` (the first, non-alias entry).
  const char* name(E value) const {
    for (const auto& n : names_)
      if (n.value == value && !n.alias) return n.name;
    throw_internal("Choices: a value without a name");
  }
  std::optional<E> find(const std::string& text) const {
    for (const auto& n : names_)
      if (text == n.name) return n.value;
    return std::nullopt;
  }
  // BadInput on `where`: key "KEY": "TEXT" is not one of a, b, c.
  E parse(const std::string& text, const std::string& key, const std::string& where) const {
    if (const auto v = find(text)) return *v;
    throw_bad_input(where, "key \"" + key + "\": " + refusal(text));
  }
  std::string refusal(const std::string& text) const { return "\"" + text + "\" is not one of " + list(); }
  std::vector<std::string> names() const {  // the written names, in declaration order
    std::vector<std::string> out;
    for (const auto& n : names_)
      if (!n.alias) out.push_back(n.name);
    return out;
  }
  std::string list() const {  // "a, b, c"
    std::string out;
    for (const auto& n : names())
      out += (out.empty() ? "" : ", ") + n;
    return out;
  }

 private:
  std::vector<Named<E>> names_;
};

}  // namespace imsm
