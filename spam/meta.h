// meta.h — SpamAssassin `meta` rules: expressions over other rules' hits.
//
//   meta FOO   (__A && !__B) || (__C + __D + __E > 1)
//
// Operands are rule names (their hit value: 0 when not hit, 1 for most
// rules, the count for `multiple` rules, the value for metas) and numbers
// ("2", "0.5"). Operators, by Perl's precedence from tightest:
//   ! and unary - +  |  * /  |  + -  |  < > <= >=  |  == !=  |  &&  |  ||
// and parentheses. As in Perl, `&&` and `||` yield an operand's value, not
// 0/1 (`A || B` is A when A is non-zero, else B); `!` and comparisons yield
// 1 or 0. A division by zero yields 0 (Perl dies; SpamAssassin then skips the
// rule). A meta hits when its value is non-zero; its value as an operand is
// then the result if positive, else 1 (SpamAssassin's got_hit()).
//
// Compiling never fails as a whole: a meta with a syntax error or on a
// dependency cycle never hits and is reported; a name that is neither a
// known rule nor a meta counts as 0 and is reported (a rule of a plugin not
// loaded, say). Metas are evaluated in dependency order, so a meta may use
// metas defined after it.
//
// Thread safety: a MetaProgram is immutable; evaluate() may run on one
// program from many threads at once.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace filterd::spam {

struct MetaDef {
  std::string name;
  std::string expression;
};

struct MetaDiagnostic {
  enum class Kind { kSyntax, kCycle, kUnknownName };
  Kind kind;
  std::string meta;     // the meta it is about
  std::string message;  // "unknown name __FOO (counts as 0)", "cycle: A -> B -> A"
};

// Bounds on what a .cf line can make the compiler do.
struct MetaLimits {
  size_t max_expression_bytes = 64 * 1024;  // stock metas are under 2 KiB
  size_t max_tokens = 8192;
};

class MetaProgram {
 public:
  // Every name the program reads or writes; slot i holds names()[i].
  const std::vector<std::string>& names() const { return names_; }
  std::optional<size_t> slot(std::string_view name) const;

  // REQUIRES: values.size() == names().size(). Reads the rules' slots and
  // writes every meta's slot (0 when it does not hit), in dependency order.
  void evaluate(std::span<double> values) const;

  // Convenience: `hits` maps rule names to hit values (absent = 0); each meta
  // that hits is added with its value.
  void evaluate(std::unordered_map<std::string, double>& hits) const;

  const std::vector<MetaDiagnostic>& diagnostics() const { return diagnostics_; }

  // One step of a compiled expression (reverse Polish).
  struct Op {
    enum class Code : unsigned char {
      kPush,
      kLoad,
      kNot,
      kNeg,
      kMul,
      kDiv,
      kAdd,
      kSub,
      kLt,
      kGt,
      kLe,
      kGe,
      kEq,
      kNe,
      kAnd,
      kOr
    };
    Code code;
    double number = 0;  // kPush
    size_t slot = 0;    // kLoad
  };

 private:
  friend MetaProgram compile_metas(std::span<const MetaDef>,
                                   const std::function<bool(std::string_view)>&, const MetaLimits&);
  struct Compiled {
    size_t slot;           // where the result goes
    std::vector<Op> code;  // empty: disabled (syntax error, cycle)
  };
  std::vector<std::string> names_;
  std::unordered_map<std::string, size_t> slots_;
  std::vector<Compiled> order_;  // dependencies first
  std::vector<MetaDiagnostic> diagnostics_;
};

// `is_known(name)` says whether a non-meta rule of that name exists.
MetaProgram compile_metas(std::span<const MetaDef> metas,
                          const std::function<bool(std::string_view)>& is_known,
                          const MetaLimits& limits = {});

}  // namespace filterd::spam
