#include "data/wordnet.h"

#include <fstream>
#include <sstream>

#include "util/error.h"

namespace imsm::data {

namespace {

std::string readable(std::string lemma) {
  for (char& c : lemma)
    if (c == '_') c = ' ';
  const size_t paren = lemma.find('(');  // adjective position markers: "galore(ip)"
  if (paren != std::string::npos) lemma.resize(paren);
  return lemma;
}

char pos_of(const std::string& s, const std::string& where) {
  if (s.size() == 1 && std::string("nvasr").find(s[0]) != std::string::npos) return s[0];
  throw_bad_input(where, "unknown part of speech \"" + s + "\"");
}

int64_t number(const std::string& s, int base, const std::string& where, const char* what) {
  try {
    size_t used = 0;
    const int64_t v = std::stoll(s, &used, base);
    if (used == s.size() && v >= 0) return v;
  } catch (const std::exception&) {
  }
  throw_bad_input(where, std::string("bad ") + what + " \"" + s + "\"");
}

// "definition; \"example one\"; \"example two\"" -> definition, examples.
void split_gloss(const std::string& gloss, Synset& s) {
  std::string rest = gloss;
  while (!rest.empty() && rest.back() == ' ') rest.pop_back();
  const size_t quote = rest.find('"');
  std::string def = quote == std::string::npos ? rest : rest.substr(0, quote);
  while (!def.empty() && (def.back() == ' ' || def.back() == ';')) def.pop_back();
  s.definition = def;
  for (size_t at = quote; at != std::string::npos;) {
    const size_t end = rest.find('"', at + 1);
    if (end == std::string::npos) break;
    s.examples.push_back(rest.substr(at + 1, end - at - 1));
    at = rest.find('"', end + 1);
  }
}

}  // namespace

Synset parse_data_line(const std::string& line, const std::string& where) {
  const size_t bar = line.find(" | ");
  std::istringstream in(line.substr(0, bar));
  std::string offset, lex_filenum, pos, w_cnt;
  if (!(in >> offset >> lex_filenum >> pos >> w_cnt)) throw_bad_input(where, "truncated synset line");
  Synset s;
  s.offset = number(offset, 10, where, "synset offset");
  s.pos = pos_of(pos, where);
  const int64_t words = number(w_cnt, 16, where, "word count");
  for (int64_t i = 0; i < words; ++i) {
    std::string word, lex_id;
    if (!(in >> word >> lex_id)) throw_bad_input(where, "fewer words than its count");
    s.lemmas.push_back(readable(word));
  }
  std::string p_cnt;
  if (!(in >> p_cnt)) throw_bad_input(where, "no pointer count");
  const int64_t pointers = number(p_cnt, 10, where, "pointer count");
  for (int64_t i = 0; i < pointers; ++i) {
    std::string symbol, target, target_pos, source_target;
    if (!(in >> symbol >> target >> target_pos >> source_target)) throw_bad_input(where, "fewer pointers than its count");
    s.pointers.push_back({symbol, pos_of(target_pos, where), number(target, 10, where, "pointer offset")});
  }
  if (bar != std::string::npos) split_gloss(line.substr(bar + 3), s);
  return s;
}

IndexEntry parse_index_line(const std::string& line, const std::string& where) {
  std::istringstream in(line);
  std::string lemma, pos, synset_cnt, p_cnt;
  if (!(in >> lemma >> pos >> synset_cnt >> p_cnt)) throw_bad_input(where, "truncated index line");
  IndexEntry e;
  e.lemma = readable(lemma);
  e.pos = pos_of(pos, where);
  const int64_t synsets = number(synset_cnt, 10, where, "synset count");
  const int64_t pointers = number(p_cnt, 10, where, "pointer count");
  std::string skip;
  for (int64_t i = 0; i < pointers; ++i) in >> skip;
  std::string sense_cnt, tagsense_cnt;
  if (!(in >> sense_cnt >> tagsense_cnt)) throw_bad_input(where, "no sense counts");
  e.tagged_senses = number(tagsense_cnt, 10, where, "tagged sense count");
  for (int64_t i = 0; i < synsets; ++i) {
    std::string off;
    if (!(in >> off)) throw_bad_input(where, "fewer synsets than its count");
    e.offsets.push_back(number(off, 10, where, "synset offset"));
  }
  return e;
}

WordNet WordNet::load(const std::string& dir) {
  WordNet wn;
  for (const char* part : {"noun", "verb", "adj", "adv"}) {
    for (const std::string kind : {"data.", "index."}) {
      const std::string path = dir + "/" + kind + part;
      std::ifstream in(path);
      if (!in) throw_bad_input(path, "cannot open (install the Debian package wordnet-base)");
      std::string line;
      for (size_t n = 1; std::getline(in, line); ++n) {
        if (line.empty() || line[0] == ' ') continue;  // the licence header
        const std::string where = path + ":" + std::to_string(n);
        if (kind == "data.") {
          Synset s = parse_data_line(line, where);
          const std::pair<char, int64_t> key{s.pos == 's' ? 'a' : s.pos, s.offset};  // pointers name satellites "a"
          wn.synsets_.emplace(key, std::move(s));
        } else {
          wn.index_.push_back(parse_index_line(line, where));
        }
      }
    }
  }
  if (wn.synsets_.empty()) throw_bad_input(dir, "no WordNet synsets found");
  return wn;
}

const Synset* WordNet::synset(char pos, int64_t offset) const {
  const auto it = synsets_.find({pos == 's' ? 'a' : pos, offset});
  return it == synsets_.end() ? nullptr : &it->second;
}

}  // namespace imsm::data
