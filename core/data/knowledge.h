// Knowledge from WordNet as text: plain statements and question/answer pairs
// about common nouns — kinds (hypernyms), other words (synonyms), parts and
// wholes (meronyms, holonyms), definitions and usage examples. The corpus of
// the bundled base model and the probes that test what it kept. Deterministic
// for a seed. Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/wordnet.h"

namespace imsm::data {

struct Fact {
  std::string relation;              // kind, synonym, part, whole, definition, example
  std::string subject;               // the lemma the fact is about
  std::string statement;             // a plain sentence for the corpus
  std::string question;              // "" for relations without a probe (definition, example)
  std::vector<std::string> answers;  // golds of the question; the first is the one the corpus states
};

struct KnowledgeOptions {
  int64_t concepts = 1500;  // the most frequent single-word nouns (SemCor tag counts), most frequent sense
  uint64_t seed = 1;
};

std::vector<Fact> wordnet_facts(const WordNet& wn, const KnowledgeOptions& options);

// The probe prompt in the style of the paper's WebQ/FreebaseQA inputs.
std::string qa_prompt(const std::string& question);

struct Record {
  std::string input;
  std::vector<std::string> output;  // golds (a one-item list for single answers)
};

// Pretraining text: each fact's statement, and its question answered in the
// probe format; shuffled with the seed. Each element is one document.
// in_context: the statement's document also asks its question right after it
// ("A lighthouse is a kind of tower.\n...Question: What is a lighthouse a kind
// of?\nAnswer: tower"), so the model learns to look back at what it was told
// (the in-context copying a fine-tuning task needs), while the question's own
// document still makes it remember the answer.
// yes_no: for each kind fact the corpus also asks wordnet-yesno's question
// right after the fact's statement, answered: twice with the fact's kind
// ("yes") and with two other concepts' kinds ("no") — the judgement of a
// question against a text in view that wordnet-yesno-context probes.
std::vector<std::string> knowledge_corpus(const std::vector<Fact>& facts, uint64_t seed, bool in_context = false, bool yes_no = false);
// wordnet-yesno's prompt: "Answer the question with yes or no.\nQuestion: Is a time a kind of case?\nAnswer:"
std::string yesno_prompt(const std::string& subject, const std::string& kind);
// wordnet-qa: questions of facts the corpus states; golds as WebQ (Contain, EM).
std::vector<Record> wordnet_qa(const std::vector<Fact>& facts, int64_t count, uint64_t seed);
// wordnet-cloze: the corpus's statements of kinds, other words and wholes cut
// before their answer ("A time is a kind of" -> case; "Another word for time
// is" -> clip): the model's memory as text it continues, without a question
// format; golds as the facts' (Contain).
std::vector<Record> wordnet_cloze(const std::vector<Fact>& facts, int64_t count, uint64_t seed);
// wordnet-yesno: "Is a X a kind of Y?" — yes for the fact, no for another
// fact's Y — balanced; scored as CoLA (MCC, Accuracy). in_context
// (wordnet-yesno-context): the fact's statement comes first, so the question
// is judged against a text in view — reading comprehension, as the paper's
// MultiRC — not recalled; the same questions and answers for a seed.
std::vector<Record> wordnet_yesno(const std::vector<Fact>& facts, int64_t count, uint64_t seed, bool in_context = false);

}  // namespace imsm::data
