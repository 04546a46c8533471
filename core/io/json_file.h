// Reading JSON files with errors that name the file, line and column, and
// typed access to keys with errors that name the key.
#pragma once
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

namespace imsm::json {

using Json = nlohmann::json;

// A whole file's bytes. BadInput naming the path, "cannot open " + what, when
// it cannot be opened.
std::string read_text_file(const std::string& path, const std::string& what = "file");

// Parses a whole file. Malformed JSON: "FILE:LINE:COL: malformed JSON: ...".
Json read_file(const std::string& path);

// Parses text that came from the file `where`, whose first line is line
// `first_line` there (JSON lines: the line's number). Errors: "FILE:LINE:COL: ...".
Json parse(std::string_view text, const std::string& where, size_t first_line = 1);

// Writes `text` to `path` whole or not at all (a temporary file, then rename).
// BadInput naming the path when it cannot be written.
void write_text_atomically(const std::string& path, const std::string& text);
// A JSON file written the same way (pretty-printed with `indent` spaces).
void write_file(const std::string& path, const Json& value, int indent = 2);

// BadInput naming `where` when `object` is not an object or holds a key
// outside `known` ("unknown key \"k\"").
void require_known_keys(const Json& object, const std::set<std::string>& known, const std::string& where);

// Typed access: a missing key or a wrong type is a BadInput error naming
// `where` and the key.
const Json& require(const Json& object, const std::string& key, const std::string& where);
int64_t get_int(const Json& object, const std::string& key, const std::string& where);
int64_t get_int_or(const Json& object, const std::string& key, int64_t fallback, const std::string& where);
double get_number_or(const Json& object, const std::string& key, double fallback, const std::string& where);
bool get_bool_or(const Json& object, const std::string& key, bool fallback, const std::string& where);
std::string get_string(const Json& object, const std::string& key, const std::string& where);
std::string get_string_or(const Json& object, const std::string& key, const std::string& fallback,
                          const std::string& where);

// Lenient access for what is shown, not obeyed (labels, report rows read back
// from a workspace's stored configurations): `fallback` when `object` is not
// an object, lacks the key or holds another type. Never throws.
std::string text_or(const Json& object, const std::string& key, const std::string& fallback);
double number_or(const Json& object, const std::string& key, double fallback);

}  // namespace imsm::json
