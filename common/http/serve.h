// Serving a plugin until a signal: the start-up both binaries share.
//
//   SignalWaiter signals(/*hup=*/true);   // first, before any thread starts
//   PluginServer server(...); ... register handlers ...
//   return ServeUntilSignal(server, signals, start_up, on_hup);
//
// The server listens before `start_up` runs (dockerd gives a starting
// plugin only seconds to answer, and requests wait for readiness rather
// than see half the state), is made ready when `start_up` succeeds, and
// stops on SIGTERM or SIGINT; SIGHUP calls `on_hup` when one is given.
#pragma once

#include <signal.h>

#include <functional>

#include "common/http/plugin_server.h"
#include "common/result.h"

namespace helix {

// Blocks SIGTERM, SIGINT (and SIGHUP) in the calling thread and so in every
// thread started after it; Wait() takes them, one at a time.
class SignalWaiter {
 public:
  explicit SignalWaiter(bool hup);
  // Unblocks them again in the calling thread.
  ~SignalWaiter();
  SignalWaiter(const SignalWaiter&) = delete;
  SignalWaiter& operator=(const SignalWaiter&) = delete;
  int Wait() const;
  // Wakes a Wait() in another thread (it returns SIGTERM).
  void Interrupt(pthread_t thread) const;

 private:
  sigset_t set_;
};

// Returns the process's exit status: 0 after a clean stop, 1 when listening
// or `start_up` failed (logged). `start_up` may be empty.
int ServeUntilSignal(PluginServer& server, const SignalWaiter& signals,
                     const std::function<Status()>& start_up,
                     const std::function<void()>& on_hup = nullptr);

}  // namespace helix
