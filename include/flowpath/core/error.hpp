// flowpath/core/error.hpp — the exception type of flowpath's boundaries.
//
// Everything that reads outside input — configuration, flow text, files,
// sockets — reports a problem by throwing flowpath::Error (or by returning
// a value that carries the same kind of message).  The message names the
// input (a file name, file:line, a token) and says what is wrong, so that
// `catch (const flowpath::Error& e) { puts(e.what()); }` is enough for a
// tool to explain itself.  The data path never throws.
//
// Thread-safety: a plain exception object.
#pragma once

#include <stdexcept>
#include <string>

namespace flowpath {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace flowpath
