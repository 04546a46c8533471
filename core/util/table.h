// Plain text tables for terminals (runs, comparisons, forgetting tables) and
// number formatting shared by reports.
#pragma once
#include <string>
#include <vector>

namespace imsm {

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

// Columns padded to their widest cell; numbers right-aligned.
std::string format_table(const Table& t);
std::string csv_field(const std::string& s);  // RFC 4180: quoted when it holds , " CR or LF
std::string format_number(double v);  // shortest text that reads back the same double ("nan" for NaN)
std::string format_fixed(double v, int decimals);   // "0.1235"
std::string format_change(double v, int decimals);  // always signed: "+0.0120", "-0.0030"
std::string format_bytes(double bytes);         // "1.25 GiB", "840 MiB"
std::string format_duration(double seconds);  // "1:05:09", "4:02"; "" when negative or not finite

}  // namespace imsm
