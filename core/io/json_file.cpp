#include "io/json_file.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <fstream>
#include <sstream>

#include "util/error.h"

namespace imsm::json {

Json parse(std::string_view text, const std::string& where, size_t first_line) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // Turn the byte offset into line:column for people.
    size_t line = first_line, col = 1;
    const size_t stop = std::min(static_cast<size_t>(e.byte > 0 ? e.byte - 1 : 0), text.size());
    for (size_t i = 0; i < stop; ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    std::string what = e.what();
    const auto cut = what.find("syntax error");
    if (cut != std::string::npos) what = what.substr(cut);
    throw_bad_input(where + ":" + std::to_string(line) + ":" + std::to_string(col), "malformed JSON (" + what + ")");
  } catch (const Json::exception& e) {  // well-formed but unrepresentable: a number beyond a double (1e309)
    std::string what = e.what();
    const auto cut = what.find("] ");
    if (cut != std::string::npos) what = what.substr(cut + 2);
    throw_bad_input(where, "invalid JSON (" + what + ")");
  }
}

std::string read_text_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_bad_input(path, "cannot open " + what);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

Json read_file(const std::string& path) { return parse(read_text_file(path), path); }

void write_text_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      throw_bad_input(path, "cannot write (disk full or no permission?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw_bad_input(path, "cannot move the finished file into place");
  }
}

void write_file(const std::string& path, const Json& value, int indent) {
  write_text_atomically(path, value.dump(indent, ' ', false, Json::error_handler_t::replace) + "\n");
}

const Json& require(const Json& object, const std::string& key, const std::string& where) {
  if (!object.is_object()) throw_bad_input(where, "expected a JSON object");
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) throw_bad_input(where, "missing key \"" + key + "\"");
  return *it;
}

namespace {
[[noreturn]] void wrong_type(const std::string& where, const std::string& key, const char* want, const Json& got) {
  throw_bad_input(where, "key \"" + key + "\" must be " + want + ", got " + got.type_name());
}
}  // namespace

int64_t get_int(const Json& object, const std::string& key, const std::string& where) {
  const Json& v = require(object, key, where);
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    throw_bad_input(where, "key \"" + key + "\" is " + v.dump() + ": beyond the largest integer, 2^63 - 1");
  if (v.is_number_integer()) return v.get<int64_t>();
  // A whole float (8.0) in range; checked before the cast, which is undefined beyond int64's range (found by fuzz_model_config).
  const double d = v.is_number_float() ? v.get<double>() : 0.5;
  if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == std::trunc(d)) return static_cast<int64_t>(d);
  wrong_type(where, key, "an integer", v);
}

int64_t get_int_or(const Json& object, const std::string& key, int64_t fallback, const std::string& where) {
  if (!object.contains(key) || object.at(key).is_null()) return fallback;
  return get_int(object, key, where);
}

double get_number_or(const Json& object, const std::string& key, double fallback, const std::string& where) {
  if (!object.contains(key) || object.at(key).is_null()) return fallback;
  const Json& v = object.at(key);
  if (!v.is_number()) wrong_type(where, key, "a number", v);
  return v.get<double>();
}

bool get_bool_or(const Json& object, const std::string& key, bool fallback, const std::string& where) {
  if (!object.contains(key) || object.at(key).is_null()) return fallback;
  const Json& v = object.at(key);
  if (!v.is_boolean()) wrong_type(where, key, "true or false", v);
  return v.get<bool>();
}

std::string get_string(const Json& object, const std::string& key, const std::string& where) {
  const Json& v = require(object, key, where);
  if (!v.is_string()) wrong_type(where, key, "a string", v);
  return v.get<std::string>();
}

std::string get_string_or(const Json& object, const std::string& key, const std::string& fallback,
                          const std::string& where) {
  if (!object.contains(key) || object.at(key).is_null()) return fallback;
  return get_string(object, key, where);
}

void require_known_keys(const Json& object, const std::set<std::string>& known, const std::string& where) {
  if (!object.is_object()) throw_bad_input(where, "must be a JSON object");
  for (const auto& [key, value] : object.items())
    if (!known.count(key)) throw_bad_input(where, "unknown key \"" + key + "\"");
}

std::string text_or(const Json& object, const std::string& key, const std::string& fallback) {
  if (!object.is_object()) return fallback;
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

double number_or(const Json& object, const std::string& key, double fallback) {
  if (!object.is_object()) return fallback;
  const auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<double>() : fallback;
}

}  // namespace imsm::json
