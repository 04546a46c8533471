#include "data/knowledge.h"

#include <algorithm>
#include <cctype>
#include <random>
#include <set>

#include "data/shuffle.h"

namespace imsm::data {

namespace {

bool plain_word(const std::string& w) {
  if (w.size() < 3) return false;
  for (unsigned char c : w)
    if (!std::islower(c)) return false;
  return true;
}

std::string with_article(const std::string& noun) {
  const bool vowel = std::string("aeiou").find(noun[0]) != std::string::npos;
  return (vowel ? "an " : "a ") + noun;
}

std::string capitalised(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

bool plain_phrase(const std::string& w) {  // "motor vehicle", "ice-cream"
  if (w.size() < 3) return false;
  for (unsigned char c : w)
    if (!std::islower(c) && c != ' ' && c != '-') return false;
  return true;
}

// Lemmas of a pointer's targets that read as plain words or phrases.
std::vector<std::string> targets(const WordNet& wn, const Synset& s, const std::string& symbol, size_t max_targets) {
  std::vector<std::string> out;
  for (const auto& p : s.pointers) {
    if (p.symbol != symbol) continue;
    const Synset* t = wn.synset(p.pos, p.offset);
    if (!t) continue;
    for (const auto& l : t->lemmas)
      if (plain_phrase(l) && std::find(out.begin(), out.end(), l) == out.end()) {
        out.push_back(l);
        break;  // one lemma per target synset: its first plain one
      }
    if (out.size() >= max_targets) break;
  }
  return out;
}

}  // namespace

std::string qa_prompt(const std::string& question) {
  return "Please provide a concise answer to the following question using one or a few words.\nQuestion: " + question + "\nAnswer:";
}

std::vector<Fact> wordnet_facts(const WordNet& wn, const KnowledgeOptions& o) {
  std::vector<const IndexEntry*> nouns;
  for (const auto& e : wn.index())
    if (e.pos == 'n' && plain_word(e.lemma) && e.tagged_senses > 0) nouns.push_back(&e);
  std::stable_sort(nouns.begin(), nouns.end(), [](const IndexEntry* a, const IndexEntry* b) {
    return a->tagged_senses != b->tagged_senses ? a->tagged_senses > b->tagged_senses : a->lemma < b->lemma;
  });
  std::vector<Fact> facts;
  int64_t taken = 0;
  for (const IndexEntry* e : nouns) {
    if (taken >= o.concepts) break;
    const Synset* s = wn.synset('n', e->offsets.front());
    if (!s) continue;
    const std::string x = e->lemma, a_x = with_article(x);
    const auto kinds = targets(wn, *s, "@", 1);
    if (kinds.empty()) continue;  // every concept states at least its kind
    ++taken;
    std::vector<std::string> kind_golds = {kinds[0]};  // the stated one first, then the other lemmas of the kinds
    for (const auto& p : s->pointers)
      if (p.symbol == "@")
        if (const Synset* t = wn.synset(p.pos, p.offset))
          for (const auto& l : t->lemmas)
            if (std::find(kind_golds.begin(), kind_golds.end(), l) == kind_golds.end()) kind_golds.push_back(l);
    facts.push_back({"kind", x, capitalised(a_x) + " is a kind of " + kinds[0] + ".", "What is " + a_x + " a kind of?", kind_golds});
    std::vector<std::string> synonyms;
    for (const auto& l : s->lemmas)
      if (l != x && plain_phrase(l)) synonyms.push_back(l);
    if (!synonyms.empty())
      facts.push_back({"synonym", x, "Another word for " + x + " is " + synonyms[0] + ".", "What is another word for " + x + "?", synonyms});
    const auto parts = targets(wn, *s, "%p", 3);
    if (!parts.empty())
      facts.push_back({"part", x, capitalised(with_article(parts[0])) + " is a part of " + a_x + ".", "What is a part of " + a_x + "?", parts});
    const auto wholes = targets(wn, *s, "#p", 1);
    if (!wholes.empty())
      facts.push_back({"whole", x, capitalised(a_x) + " is a part of " + with_article(wholes[0]) + ".", "What is " + a_x + " a part of?", wholes});
    if (!s->definition.empty())
      facts.push_back({"definition", x, capitalised(a_x) + " is " + s->definition + ".", "", {}});
    for (size_t i = 0; i < s->examples.size() && i < 2; ++i)
      facts.push_back({"example", x, capitalised(s->examples[i]) + (s->examples[i].back() == '.' ? "" : "."), "", {}});
  }
  return facts;
}

std::string yesno_prompt(const std::string& subject, const std::string& kind) {
  return "Answer the question with yes or no.\nQuestion: Is " + with_article(subject) + " a kind of " + kind + "?\nAnswer:";
}

namespace {

// Another kind fact's stated kind that is not one of `f`'s ("" when 20 draws find none).
std::string other_kind(const Fact& f, const std::vector<const Fact*>& kinds, std::mt19937_64& rng) {
  const std::set<std::string> true_kinds(f.answers.begin(), f.answers.end());
  for (int tries = 0; tries < 20; ++tries) {
    const std::string& kind = kinds[rng() % kinds.size()]->answers.front();
    if (!true_kinds.count(kind)) return kind;
  }
  return "";
}

// The yes/no documents of the kind facts (see knowledge_corpus).
void add_yes_no(const std::vector<Fact>& facts, uint64_t seed, std::vector<std::string>& docs) {
  std::vector<const Fact*> kinds;
  for (const auto& f : facts)
    if (f.relation == "kind") kinds.push_back(&f);
  if (kinds.empty()) return;
  std::mt19937_64 rng(seed + 3);
  for (const Fact* f : kinds) {
    const std::string yes = f->statement + "\n" + yesno_prompt(f->subject, f->answers.front()) + " yes";
    docs.push_back(yes);
    docs.push_back(yes);
    for (int k = 0; k < 2; ++k) {
      const std::string kind = other_kind(*f, kinds, rng);
      if (!kind.empty()) docs.push_back(f->statement + "\n" + yesno_prompt(f->subject, kind) + " no");
    }
  }
}

}  // namespace

std::vector<std::string> knowledge_corpus(const std::vector<Fact>& facts, uint64_t seed, bool in_context, bool yes_no) {
  std::vector<std::string> docs;
  for (const auto& f : facts) {
    const std::string qa = f.question.empty() ? "" : qa_prompt(f.question) + " " + f.answers.front();
    docs.push_back(in_context && !qa.empty() ? f.statement + "\n" + qa : f.statement);
    if (!qa.empty()) docs.push_back(qa);
  }
  if (yes_no) add_yes_no(facts, seed, docs);
  shuffle(docs, seed);
  return docs;
}

std::vector<Record> wordnet_qa(const std::vector<Fact>& facts, int64_t count, uint64_t seed) {
  std::vector<const Fact*> probes;
  for (const auto& f : facts)
    if (!f.question.empty()) probes.push_back(&f);
  shuffle(probes, seed);
  std::vector<Record> out;
  for (const Fact* f : probes) {
    if (static_cast<int64_t>(out.size()) >= count) break;
    out.push_back({qa_prompt(f->question), f->answers});
  }
  return out;
}

std::vector<Record> wordnet_cloze(const std::vector<Fact>& facts, int64_t count, uint64_t seed) {
  std::vector<Record> all;
  for (const auto& f : facts) {
    if (f.relation != "kind" && f.relation != "synonym" && f.relation != "whole") continue;
    const size_t at = f.statement.rfind(" " + f.answers.front() + ".");  // the stated answer ends the sentence
    if (at == std::string::npos || at + f.answers.front().size() + 2 != f.statement.size()) continue;
    all.push_back({f.statement.substr(0, at), f.answers});
  }
  shuffle(all, seed);
  if (static_cast<int64_t>(all.size()) > count) all.resize(static_cast<size_t>(count));
  return all;
}

std::vector<Record> wordnet_yesno(const std::vector<Fact>& facts, int64_t count, uint64_t seed, bool in_context) {
  std::vector<const Fact*> kinds;
  for (const auto& f : facts)
    if (f.relation == "kind") kinds.push_back(&f);
  shuffle(kinds, seed);
  std::mt19937_64 rng(seed + 1);
  std::vector<Record> out;
  for (size_t i = 0; i < kinds.size() && static_cast<int64_t>(out.size()) < count; ++i) {
    const Fact& f = *kinds[i];
    const bool yes = i % 2 == 0;
    const std::string kind = yes ? f.answers.front() : other_kind(f, kinds, rng);  // no: another concept's kind
    if (kind.empty()) continue;
    out.push_back({(in_context ? f.statement + "\n" : std::string()) + yesno_prompt(f.subject, kind), {yes ? "yes" : "no"}});
  }
  return out;
}

}  // namespace imsm::data
