// Princeton WordNet 3.0 in its database files (Debian's wordnet-base,
// /usr/share/wordnet): synsets with their lemmas, pointers and glosses, and
// the index's most frequent sense of each lemma (format: wndb(5WN)).
// Torch-free; the knowledge source of the bundled base model.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace imsm::data {

struct Pointer {
  std::string symbol;  // "@" hypernym, "~" hyponym, "%p" part meronym, "#p" part holonym, "!" antonym, ...
  char pos = 'n';      // of the target
  int64_t offset = 0;  // of the target synset
};

struct Synset {
  char pos = 'n';                      // n, v, a, s (satellite adjective), r
  int64_t offset = 0;
  std::vector<std::string> lemmas;     // underscores turned to spaces, adjective markers "(a)" removed
  std::vector<Pointer> pointers;
  std::string definition;              // the gloss before its quoted examples
  std::vector<std::string> examples;   // the gloss's quoted usage examples
};

struct IndexEntry {
  std::string lemma;
  char pos = 'n';
  int64_t tagged_senses = 0;           // how often the lemma was sense-tagged in SemCor: a frequency
  std::vector<int64_t> offsets;        // synsets, most frequent sense first
};

class WordNet {
 public:
  // Reads data.{noun,verb,adj,adv} and index.{noun,verb,adj,adv} from `dir`.
  // BadInput naming FILE:LINE for a malformed line.
  static WordNet load(const std::string& dir);

  const Synset* synset(char pos, int64_t offset) const;  // null when absent
  const std::vector<IndexEntry>& index() const { return index_; }
  size_t size() const { return synsets_.size(); }

 private:
  std::map<std::pair<char, int64_t>, Synset> synsets_;
  std::vector<IndexEntry> index_;
};

// One line of a data.* file (exposed for the tests).
Synset parse_data_line(const std::string& line, const std::string& where);
IndexEntry parse_index_line(const std::string& line, const std::string& where);

}  // namespace imsm::data
