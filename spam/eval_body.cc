// eval_body.cc — Mail::SpamAssassin::Plugin::BodyEval's tests.
#include <cstdlib>

#include "spam/eval_internal.h"
#include "spam/eval_util.h"

namespace filterd::spam::eval {

// check_body_length(min): the pristine body (after the header) has at most
// `min` bytes. (Perl's first argument is the body array; rules pass only min.)
double check_body_length(const EvalContext& c, Args args) {
  if (args.empty()) return 0;
  const double length = static_cast<double>(pristine_body(c.message).size());
  return length <= std::atof(args.back().c_str());
}

}  // namespace filterd::spam::eval
