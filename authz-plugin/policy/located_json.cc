#include "authz-plugin/policy/located_json.h"

#include <iterator>
#include <vector>

#include "common/quote.h"

namespace helix::authz {
namespace {

using nlohmann::json;

// An input iterator that counts the newlines nlohmann's lexer has consumed.
// The lexer reads one character past a number before it reports it, so a
// number followed by a newline would count one line too many: the last
// character read is kept to correct for that.
struct LineCounter {
  int newlines = 0;
  char last = 0;
};

class CountingIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  CountingIterator(const char* p, LineCounter* counter) : p_(p), counter_(counter) {}
  reference operator*() const { return *p_; }
  CountingIterator& operator++() {
    counter_->last = *p_;
    if (*p_ == '\n') ++counter_->newlines;
    ++p_;
    return *this;
  }
  CountingIterator operator++(int) {
    CountingIterator before = *this;
    ++*this;
    return before;
  }
  bool operator==(const CountingIterator& other) const { return p_ == other.p_; }
  bool operator!=(const CountingIterator& other) const { return p_ != other.p_; }

 private:
  const char* p_;
  LineCounter* counter_;
};

// Builds the document and records where each value sits.
class LocatingSax : public nlohmann::json_sax<json> {
 public:
  LocatingSax(LocatedJson* out, const LineCounter* counter, std::string_view source)
      : out_(out), counter_(counter), source_(source) {}

  bool null() override { return Add(json(nullptr)); }
  bool boolean(bool v) override { return Add(json(v)); }
  bool number_integer(number_integer_t v) override { return Add(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return Add(json(v)); }
  bool number_float(number_float_t v, const string_t&) override { return Add(json(v)); }
  bool string(string_t& v) override { return Add(json(v)); }
  bool binary(binary_t&) override { return Fail("binary values are not JSON"); }
  bool start_object(std::size_t) override { return Open(json::object()); }
  bool start_array(std::size_t) override { return Open(json::array()); }
  bool end_object() override { return Close(); }
  bool end_array() override { return Close(); }

  bool key(string_t& k) override {
    Frame& top = stack_.back();
    if (top.value->contains(k)) {
      return Fail(Quote(MemberPath(top.path, k)) + ": duplicate key");
    }
    key_ = k;
    return true;
  }

  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    // nlohmann's text is "[json.exception.parse_error.101] parse error at
    // line 3, column 5: syntax error ..."; keep what follows the position.
    std::string what = ex.what();
    auto column = what.find("column");
    auto colon = what.find(": ", column == std::string::npos ? 0 : column);
    std::string why = colon == std::string::npos ? what : what.substr(colon + 2);
    error_ = std::string(source_) + ":" + std::to_string(Line()) + ": invalid JSON: " + why;
    return false;
  }

  const std::string& error() const { return error_; }

 private:
  struct Frame {
    json* value;
    std::string path;
  };

  int Line() const { return 1 + counter_->newlines - (counter_->last == '\n' ? 1 : 0); }

  bool Fail(const std::string& why) {
    error_ = std::string(source_) + ":" + std::to_string(Line()) + ": " + why;
    return false;
  }

  // Places `v` in the current container and returns where it went.
  json* Place(json v, std::string* path) {
    if (stack_.empty()) {
      out_->value = std::move(v);
      *path = "";
      return &out_->value;
    }
    Frame& top = stack_.back();
    if (top.value->is_object()) {
      *path = MemberPath(top.path, key_);
      json& slot = (*top.value)[key_];
      slot = std::move(v);
      return &slot;
    }
    *path = top.path + "[" + std::to_string(top.value->size()) + "]";
    top.value->push_back(std::move(v));
    return &top.value->back();
  }

  bool Add(json v) {
    std::string path;
    Place(std::move(v), &path);
    out_->lines.emplace(path, Line());
    return true;
  }

  bool Open(json v) {
    std::string path;
    json* slot = Place(std::move(v), &path);
    out_->lines.emplace(path, Line());
    stack_.push_back({slot, path});
    return true;
  }

  bool Close() {
    stack_.pop_back();
    return true;
  }

  LocatedJson* out_;
  const LineCounter* counter_;
  std::string_view source_;
  std::vector<Frame> stack_;
  std::string key_;
  std::string error_;
};

}  // namespace

std::string MemberPath(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

int LocatedJson::LineOf(const std::string& path) const {
  std::string p = path;
  while (true) {
    auto it = lines.find(p);
    if (it != lines.end()) return it->second;
    auto cut = p.find_last_of(".[");
    if (cut == std::string::npos) return p.empty() ? 1 : LineOf("");
    p.resize(cut);
  }
}

Result<LocatedJson> ParseLocatedJson(std::string_view text, std::string_view source) {
  LocatedJson out;
  LineCounter counter;
  LocatingSax sax(&out, &counter, source);
  CountingIterator first(text.data(), &counter);
  CountingIterator last(text.data() + text.size(), &counter);
  bool ok = json::sax_parse(first, last, &sax);
  if (!ok) {
    return InvalidArgument(sax.error().empty() ? std::string(source) + ": invalid JSON"
                                               : sax.error());
  }
  return out;
}

}  // namespace helix::authz
