// The bundled data generators: WordNet read against its published statistics
// and hand-read lines, knowledge facts and probes, arith problems checked
// by an independent interpreter of their text, and number facts.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "data/arith.h"
#include "data/knowledge.h"
#include "data/numeracy.h"
#include "data/wordnet.h"
#include "eval/metrics.h"
#include "test_util.h"

using imsm::testing::expect_bad_input;

namespace {
const imsm::data::WordNet& wordnet() {
  static const auto wn = imsm::data::WordNet::load("/usr/share/wordnet");
  return wn;
}
}  // namespace

TEST(WordNet, ParsesADataLineAsWndbDescribesIt) {
  // data.noun of WordNet 3.0, read by hand.
  const auto s = imsm::data::parse_data_line(
      "02814860 06 n 04 beacon 1 lighthouse 0 beacon_light 0 pharos 0 004 @ 04460130 n 0000 + 02160451 v 0101 "
      "+ 01933222 v 0101 ~i 04461148 n 0000 | a tower with a light that gives warning of shoals to passing ships  ",
      "data.noun:1");
  EXPECT_EQ(s.offset, 2814860);
  EXPECT_EQ(s.pos, 'n');
  EXPECT_EQ(s.lemmas, (std::vector<std::string>{"beacon", "lighthouse", "beacon light", "pharos"}));
  ASSERT_EQ(s.pointers.size(), 4u);
  EXPECT_EQ(s.pointers[0].symbol, "@");
  EXPECT_EQ(s.pointers[0].offset, 4460130);
  EXPECT_EQ(s.pointers[1].pos, 'v');
  EXPECT_EQ(s.definition, "a tower with a light that gives warning of shoals to passing ships");
  const auto e = imsm::data::parse_data_line(
      "00011093 00 v 01 sneeze 0 001 + 14343597 n 0101 01 + 02 00 | exhale spasmodically, as when an irritant entered one's "
      "nose; \"he sneezed into his handkerchief\"  ",
      "data.verb:1");
  EXPECT_EQ(e.definition, "exhale spasmodically, as when an irritant entered one's nose");
  EXPECT_EQ(e.examples, (std::vector<std::string>{"he sneezed into his handkerchief"}));
  const auto i = imsm::data::parse_index_line("car n 5 6 @ ~ #m #p %p - 5 2 02958343 02959942 02960501 02960352 02934451  ", "index.noun:1");
  EXPECT_EQ(i.tagged_senses, 2);
  EXPECT_EQ(i.offsets, (std::vector<int64_t>{2958343, 2959942, 2960501, 2960352, 2934451}));
  expect_bad_input([] { imsm::data::parse_data_line("02814860 06 n 04 beacon 1", "data.noun:7"); }, {"data.noun:7", "fewer words"});
  expect_bad_input([] { imsm::data::parse_data_line("0281486x 06 n 01 a 0 000 | x", "data.noun:8"); }, {"data.noun:8", "offset"});
  expect_bad_input([] { imsm::data::WordNet::load("/nonexistent"); }, {"/nonexistent/data.noun", "wordnet-base"});
}

TEST(WordNet, LoadsAllOfWordNet30) {
  // Published WordNet 3.0 statistics: 82,115 + 13,767 + 18,156 + 3,621 synsets;
  // 117,798 + 11,529 + 21,479 + 4,481 index entries.
  EXPECT_EQ(wordnet().size(), 117659u);
  EXPECT_EQ(wordnet().index().size(), 155287u);
  const auto* lighthouse = wordnet().synset('n', 2814860);
  ASSERT_NE(lighthouse, nullptr);
  const auto* kind = wordnet().synset('n', lighthouse->pointers[0].offset);
  ASSERT_NE(kind, nullptr);
  EXPECT_EQ(kind->lemmas.front(), "tower");
}

TEST(Knowledge, FactsProbesAndCorpusAreConsistentAndDeterministic) {
  imsm::data::KnowledgeOptions o;
  o.concepts = 300;
  const auto facts = imsm::data::wordnet_facts(wordnet(), o);
  std::set<std::string> subjects;
  std::map<std::string, int> relations;
  for (const auto& f : facts) {
    subjects.insert(f.subject);
    ++relations[f.relation];
    if (!f.question.empty()) {
      ASSERT_FALSE(f.answers.empty());
      // The corpus states the first answer: the statement holds it.
      EXPECT_NE(f.statement.find(f.answers.front()), std::string::npos) << f.statement << " / " << f.answers.front();
    }
  }
  EXPECT_EQ(subjects.size(), 300u);
  EXPECT_EQ(relations["kind"], 300);  // every concept states its kind
  EXPECT_GT(relations["synonym"], 30);
  EXPECT_GT(relations["definition"], 250);
  // "time" is among the most frequent nouns; its first sense is a kind of "case".
  bool time_fact = false;
  for (const auto& f : facts) time_fact = time_fact || (f.subject == "time" && f.relation == "kind" && f.statement == "A time is a kind of case.");
  EXPECT_TRUE(time_fact);

  const auto qa = imsm::data::wordnet_qa(facts, 100, 7);
  ASSERT_EQ(qa.size(), 100u);
  const auto corpus = imsm::data::knowledge_corpus(facts, 7);
  const std::set<std::string> docs(corpus.begin(), corpus.end());
  for (const auto& r : qa) {  // every probe is answered, in its own words, in the corpus
    EXPECT_TRUE(docs.count(r.input + " " + r.output.front())) << r.input;
    EXPECT_EQ(imsm::contains_answer(r.output.front(), r.output), 1.0);
  }
  // In context: as many documents; each probe's answered question also follows its statement.
  const auto in_context = imsm::data::knowledge_corpus(facts, 7, true);
  EXPECT_EQ(in_context.size(), corpus.size());
  for (const auto& r : qa) {
    const std::string asked = r.input + " " + r.output.front();
    int standalone = 0, after_statement = 0;
    for (const auto& d : in_context) {
      standalone += d == asked;
      after_statement += d.size() > asked.size() && d.compare(d.size() - asked.size(), asked.size(), asked) == 0 && d[d.size() - asked.size() - 1] == '\n';
    }
    EXPECT_EQ(standalone, 1) << asked;
    EXPECT_GE(after_statement, 1) << asked;
  }
  const auto yesno = imsm::data::wordnet_yesno(facts, 100, 7);
  int yes = 0;
  for (const auto& r : yesno) yes += r.output.front() == "yes";
  EXPECT_NEAR(yes, 50, 2);
  // Cloze: each prompt and its first gold make the corpus's statement; golds are the fact's (a kind's other lemmas too).
  const auto cloze = imsm::data::wordnet_cloze(facts, 100, 7);
  ASSERT_EQ(cloze.size(), 100u);
  for (const auto& r : cloze) {
    EXPECT_TRUE(docs.count(r.input + " " + r.output.front() + ".")) << r.input;
    EXPECT_EQ(r.input.find("Question"), std::string::npos);
  }
  std::set<std::string> starts;
  for (const auto& r : cloze) starts.insert(r.input.find(" is a kind of") != std::string::npos ? "kind" : r.input.rfind("Another word", 0) == 0 ? "synonym" : "whole");
  EXPECT_EQ(starts.size(), 3u);  // the three relations are drawn
  // In context, the same questions and answers, each after its fact's statement.
  const auto yesno_context = imsm::data::wordnet_yesno(facts, 100, 7, true);
  ASSERT_EQ(yesno_context.size(), yesno.size());
  for (size_t i = 0; i < yesno.size(); ++i) {
    EXPECT_EQ(yesno_context[i].output, yesno[i].output);
    EXPECT_TRUE(yesno_context[i].input.size() > yesno[i].input.size() &&
                yesno_context[i].input.compare(yesno_context[i].input.size() - yesno[i].input.size(), std::string::npos, yesno[i].input) == 0);
    EXPECT_NE(yesno_context[i].input.find(" is a kind of "), std::string::npos);
  }
  // With yes/no documents: every "yes" probe of the context form is answered in the corpus; each kind fact gets
  // two yes and two no documents after its statement, the "no" kinds never one of its own.
  const auto with_yes_no = imsm::data::knowledge_corpus(facts, 7, true, true);
  const std::set<std::string> yes_no_docs(with_yes_no.begin(), with_yes_no.end());
  for (const auto& r : yesno_context) {
    if (r.output.front() != "yes") continue;
    EXPECT_TRUE(yes_no_docs.count(r.input + " yes")) << r.input;
  }
  int kinds = 0, yes_docs = 0, no_docs = 0;
  for (const auto& f : facts) kinds += f.relation == "kind";
  for (const auto& d : with_yes_no) {
    if (d.find("\nAnswer the question with yes or no.") == std::string::npos) continue;
    yes_docs += d.compare(d.size() - 4, 4, " yes") == 0;
    no_docs += d.compare(d.size() - 3, 3, " no") == 0;
  }
  EXPECT_EQ(yes_docs, 2 * kinds);
  EXPECT_EQ(no_docs, 2 * kinds);
  EXPECT_EQ(with_yes_no.size(), in_context.size() + 4 * static_cast<size_t>(kinds));
  for (const auto& f : facts) {
    if (f.relation != "kind") continue;
    for (const auto& a : f.answers)
      EXPECT_FALSE(yes_no_docs.count(f.statement + "\n" + imsm::data::yesno_prompt(f.subject, a) + " no")) << f.subject << " " << a;
  }
  // Deterministic for a seed, different across seeds.
  EXPECT_EQ(imsm::data::wordnet_qa(facts, 100, 7)[42].input, qa[42].input);
  EXPECT_NE(imsm::data::knowledge_corpus(facts, 8), corpus);
}

// An interpreter of the problem text, written apart from the generator: it
// reads the sentences and computes the amount.
int64_t interpret(const std::string& problem) {
  static const std::regex has(R"((\w+) has (\d+) \w+\.)"), boxes(R"(buys (\d+) boxes with (\d+) \w+ in each box\.)"),
      finds(R"(has (\d+) \w+ and finds (\d+) more\.)"), more(R"((?:gives \w+|buys) (\d+) more \w+\.)"),
      away(R"(gives (\d+) \w+ to \w+\.)"), grows(R"(grows (\d+) times\.)");
  std::smatch m;
  int64_t v = 0;
  std::string rest = problem;
  const std::string first = rest.substr(0, rest.find('.') + 1);
  if (std::regex_search(first, m, finds)) v = std::stoll(m[1]) + std::stoll(m[2]);
  else if (std::regex_search(first, m, boxes)) v = std::stoll(m[1]) * std::stoll(m[2]);
  else if (std::regex_search(first, m, has)) v = std::stoll(m[2]);
  else ADD_FAILURE() << "first sentence: " << first;
  rest = rest.substr(first.size());
  for (size_t dot; (dot = rest.find('.')) != std::string::npos; rest = rest.substr(dot + 1)) {
    const std::string s = rest.substr(0, dot + 1);
    if (std::regex_search(s, m, more)) v += std::stoll(m[1]);
    else if (std::regex_search(s, m, away)) v -= std::stoll(m[1]);
    else if (std::regex_search(s, m, grows)) v *= std::stoll(m[1]);
  }
  return v;
}

TEST(Arith, SolutionsAgreeWithAnIndependentReadingOfTheText) {
  imsm::data::ArithOptions o;
  o.count = 500;
  o.seed = 3;
  const auto problems = imsm::data::arith_problems(o);
  ASSERT_EQ(problems.size(), 500u);
  std::map<int, int> steps;
  for (const auto& p : problems) {
    const std::string q = p.input.substr(p.input.find("Question: ") + 10, p.input.find("\nAnswer:") - p.input.find("Question: ") - 10);
    const int64_t expected = interpret(q);
    const std::string& solution = p.output.front();
    EXPECT_EQ(imsm::gsm8k_extract(solution), std::to_string(expected)) << q << "\n" << solution;
    EXPECT_EQ(imsm::last_number(solution), std::to_string(expected));
    EXPECT_GE(expected, 0);
    ++steps[static_cast<int>(std::count(solution.begin(), solution.end(), '='))];
  }
  EXPECT_GT(steps[1], 50);  // one, two and three operations all occur
  EXPECT_GT(steps[2], 50);
  EXPECT_GT(steps[3], 20);
  EXPECT_EQ(imsm::data::arith_problems(o)[99].output, problems[99].output);

  // Small numbers and one or two steps when asked: every number in a question is at most max(max_operand, 4).
  o.max_operand = 5;
  o.max_steps = 2;
  const std::regex number(R"(\d+)");
  for (const auto& p : imsm::data::arith_problems(o)) {
    const std::string q = p.input.substr(p.input.find("Question: ") + 10);
    for (auto it = std::sregex_iterator(q.begin(), q.end(), number); it != std::sregex_iterator(); ++it)
      EXPECT_LE(std::stoll(it->str()), 5) << q;
    EXPECT_LE(std::count(p.output.front().begin(), p.output.front().end(), '='), 2) << p.output.front();
    EXPECT_EQ(imsm::last_number(p.output.front()), std::to_string(interpret(q.substr(0, q.find("\nAnswer:")))));
  }
}

// Number facts: each line's arithmetic checked here, and every equation that a
// two-step arith solution with operands up to 10 writes is among them (what
// the bundled model's corpus promises, see data/numeracy.h).
TEST(Numeracy, FactsAreTrueAndCoverTwoStepArithSolutions) {
  imsm::data::NumeracyOptions o;
  const auto facts = imsm::data::numeracy_facts(o);
  const std::regex line(R"((\d+) ([-+*]) (\d+) = (\d+))");
  std::set<std::string> known;
  for (const auto& f : facts) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(f, m, line)) << f;
    const int64_t a = std::stoll(m[1]), b = std::stoll(m[3]), c = std::stoll(m[4]);
    const char op = m[2].str()[0];
    EXPECT_EQ(op == '+' ? a + b : op == '-' ? a - b : a * b, c) << f;
    EXPECT_TRUE(known.insert(f).second) << "twice: " << f;
  }
  EXPECT_TRUE(known.count("7 + 5 = 12") && known.count("5 + 7 = 12") && known.count("100 - 10 = 90") && known.count("9 * 9 = 81") &&
              known.count("50 * 4 = 200"));
  imsm::data::ArithOptions a;
  a.count = 2000;
  a.max_operand = 10;
  a.max_steps = 2;
  a.seed = 5;
  int64_t equations = 0;
  for (const auto& p : imsm::data::arith_problems(a)) {
    const std::string& s = p.output.front();
    for (auto it = std::sregex_iterator(s.begin(), s.end(), line); it != std::sregex_iterator(); ++it, ++equations)
      EXPECT_TRUE(known.count(it->str())) << "not among the number facts: " << it->str();
  }
  EXPECT_GT(equations, 2000);  // 2,000 problems of one or two steps

  // Documents: a heading and up to 8 facts each; together every fact once; seeded.
  const auto docs = imsm::data::numeracy_corpus(o);
  std::multiset<std::string> seen;
  for (const auto& d : docs) {
    ASSERT_EQ(d.rfind("# Number facts\n", 0), 0u) << d;
    std::stringstream in(d.substr(15));
    int n = 0;
    for (std::string l; std::getline(in, l); ++n) seen.insert(l);
    EXPECT_LE(n, 8);
  }
  EXPECT_EQ(seen, std::multiset<std::string>(facts.begin(), facts.end()));
  EXPECT_EQ(imsm::data::numeracy_corpus(o), docs);
  o.seed = 2;
  EXPECT_NE(imsm::data::numeracy_corpus(o), docs);
}
