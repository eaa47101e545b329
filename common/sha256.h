// SHA-256 digests, in the "sha256:<64 hex>" form Docker and OCI registries
// use for content addresses (OpenSSL's EVP interface underneath).
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace helix {

// Feeds bytes in pieces; Hex() ends it.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  // "sha256:" and 64 lower-case hex digits. Call once.
  std::string Hex();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The digest of `bytes` in one call.
std::string Sha256Hex(std::string_view bytes);

}  // namespace helix
